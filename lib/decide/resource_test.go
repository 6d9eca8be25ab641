package decide

import (
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

func TestDecideResource(t *testing.T) {
	rules := Rules{OptInKey: "reaper-expires", KeepKey: "reaper-keep"}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	due := map[string]string{"reaper-expires": "2026-11-01"}
	for _, tc := range []struct {
		name    string
		r       Resource
		release bool
		reason  Reason
		detail  string
	}{
		{"due", Resource{ID: "d-1", Tags: due}, true, "", "expired 2026-11-01T00:00:00Z"},
		{"no opt-in", Resource{ID: "d-1", Tags: map[string]string{"x": "y"}}, false, ReasonNoOptIn, "no reaper-expires tag"},
		{"kept", Resource{ID: "d-1", Tags: map[string]string{"reaper-expires": "2026-11-01", "reaper-keep": ""}}, false, ReasonExcluded, "reaper-keep"},
		{"held, with why", Resource{ID: "d-1", Tags: due, Held: verdict.InUse, HeldDetail: "status In_use"}, false, verdict.InUse, "status In_use"},
		{"a bad ID", Resource{ID: "d 1", Tags: due}, false, ReasonInvalidData, "ID"},
		{"a TTL from its creation, not yet", Resource{ID: "s-1", Tags: map[string]string{"reaper-expires": "7d"}, Created: "2026-11-28T00:00:00Z"}, false, ReasonNotExpired, "expires 2026-12-05T00:00:00Z"},
		{"a TTL from its creation, due", Resource{ID: "s-1", Tags: map[string]string{"reaper-expires": "7d"}, Created: "2026-11-20T00:00:00Z"}, true, "", "expired 2026-11-27T00:00:00Z"},
		{"a bad expiry", Resource{ID: "d-1", Tags: map[string]string{"reaper-expires": "soon"}}, false, ReasonInvalidExpiry, "soon"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DecideResource(tc.r, rules, now)
			if d.Release != tc.release || d.Reason != tc.reason || d.InstanceID != tc.r.ID || !strings.Contains(d.Detail, tc.detail) {
				t.Fatalf("DecideResource(%+v) = %+v; want release %t, reason %q, detail with %q", tc.r, d, tc.release, tc.reason, tc.detail)
			}
		})
	}
}
