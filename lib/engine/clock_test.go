package engine_test

import (
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
)

// The whole lifecycle decision — the expiry, the notice window, the grace
// — is measured by the API's clock, the one the marks are written in. A
// runner days fast would otherwise tell the owner before the window by
// the API's clock, write a mark that does not count yet, and tell again
// every hour; one days slow would tell nobody and release late.
func TestLifecycleDecidesByTheAPIClock(t *testing.T) {
	// Expires 36 h after day0 by the API's clock: the notice window (24 h)
	// opens 12 h after day0.
	expiry := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, skew := range []time.Duration{72 * time.Hour, -72 * time.Hour, 0} {
		t.Run(skew.String(), func(t *testing.T) {
			c := fake.New([]cloud.Instance{instance("i-a", "Stopped", "2026-12-03", "amy")})
			n := &notifier{}
			var apiNow time.Time
			api := skewed{Cloud: c, api: func() time.Time { return apiNow }, known: true}
			tick := func(at time.Time) {
				t.Helper()
				apiNow = at
				opts := options()
				opts.Lifecycle = lifecycle
				opts.Notifier = n
				start := time.Now()
				// The runner's clock, running: with a freshness window this
				// short every write re-reads and re-decides first.
				opts.Now = func() time.Time { return at.Add(skew).Add(time.Since(start)) }
				opts.Freshness = time.Nanosecond
				if _, err := engine.New(opts, nil).RunRegions(t.Context(), api, "", []string{"r-1"}); err != nil {
					t.Fatalf("at %s: %v", at, err)
				}
			}
			for at := day0; !at.After(expiry.Add(-time.Hour)); at = at.Add(time.Hour) {
				tick(at)
				wantTold := 0
				if !at.Before(expiry.Add(-lifecycle.Notice)) {
					wantTold = 1
				}
				if got := len(n.told()); got != wantTold {
					t.Fatalf("at %s (API clock; runner %s): told %d times, want %d", at, at.Add(skew), got, wantTold)
				}
				if len(c.Released()) != 0 {
					t.Fatalf("released at %s, before the expiry by the API's clock", at)
				}
			}
			tick(expiry.Add(time.Hour))
			if len(c.Released()) != 1 || len(n.told()) != 1 {
				t.Fatalf("an hour after the expiry (and the grace) by the API's clock: released %v, told %d times", c.Released(), len(n.told()))
			}
		})
	}
}
