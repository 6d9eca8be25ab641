package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// A runner whose clock is days fast or slow tells the owner exactly once,
// when the notice window opens by the API's clock (the clock the marks are
// written in): fast, it would tell every hour until then, each mark
// written before the window and never counting; slow, it would tell late.
func TestBinaryRunnerClockSkewTellsOnce(t *testing.T) {
	const id = "i-bp1skew00000001"
	// Expires 36 h after lifeDay0: the 24 h notice window opens at +12 h.
	fleet := `{"instances": [{"id": "` + id + `", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-12-03", "owner": "13800138000"}}]}`
	for _, skew := range []time.Duration{72 * time.Hour, -72 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			l := startLifecycleFleet(t, fleet)
			for _, h := range []int{0, 1, 2, 11, 12, 13, 14, 35} {
				api := lifeDay0.Add(time.Duration(h) * time.Hour)
				l.mu.Lock()
				l.clock = api // the ECS double's Date
				l.mu.Unlock()
				ev, _ := json.Marshal(map[string]string{"triggerTime": api.Add(skew).Format(time.RFC3339), "triggerName": "hourly", "payload": ""})
				decodeReport(t, l.invoke(t, fmt.Sprintf("skew-%d", h), ev)) // the runner's clock
				want := 0
				if h >= 12 {
					want = 1
				}
				if got := len(l.hook.Messages()); got != want {
					t.Fatalf("+%d h by the API's clock (runner %s): %d notices, want %d", h, api.Add(skew).Format(time.RFC3339), got, want)
				}
				if _, ok := l.ecs.Instance(id); !ok {
					t.Fatalf("released at +%d h, before its expiry by the API's clock", h)
				}
			}
			in, _ := l.ecs.Instance(id)
			if !markNear(id, "reaper-notified", in.Tags, lifeDay0.Add(12*time.Hour)) {
				t.Errorf("mark %q: want the API's time when the window opened", in.Tags["reaper-notified"])
			}
		})
	}
}
