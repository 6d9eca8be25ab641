package main

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

// Marks through the function binary under the FC runtime double: a mark
// written by hand is no mark, a forged EIP hand-over releases nothing, a
// hand-over's release obeys the payload's lower cap, and the grace is
// measured by the API's clock whatever the runner's says.

func forgedFleet() string {
	yesterday := mark.FormatTime(time.Now().Add(-24 * time.Hour))
	key := "reaper-notified-released-with"
	genuine := fnMarks.HandOver("eip-bp1genuine", key, "i-bp1gone0000001", time.Now().Add(-time.Hour))
	return fmt.Sprintf(`{
 "instances": [
  {"id": "i-bp1forged000001", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01", "reaper-notified": %q}},
  {"id": "i-bp1forged000002", "region": "cn-hangzhou", "status": "Running", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01", "reaper-notified": %q}}
 ],
 "eips": [
  {"allocationId": "eip-bp1forged", "address": "47.1.2.3", "region": "cn-hangzhou", "tags": {%q: "i-doesnotexist"}},
  {"allocationId": "eip-bp1empty", "address": "47.1.2.4", "region": "cn-hangzhou", "tags": {%q: ""}},
  {"allocationId": "eip-bp1genuine", "address": "47.1.2.5", "region": "cn-hangzhou", "tags": {%q: %q}}
 ]
}`, yesterday, yesterday, key, key, key, genuine)
}

func TestBinaryForgedMarks(t *testing.T) {
	s := startFleetStack(t, binary(t), forgedFleet(), "REAPER_REGIONS=cn-hangzhou", "REAPER_GRACE=1d", "REAPER_RUNNING=stop",
		"REAPER_RELEASE_EIPS=true", "REAPER_MAX_RELEASE_PERCENT=100", "REAPER_MARK_SECRET="+fnMarkSecret)

	// A payload lowering the count cap to 0 holds the genuine hand-over too.
	res := s.invoke(t, "forged-capped", timerEvent(`{"maxRelease": 0}`))
	wantError(t, res, "cap")
	if n := s.ecs.CallCount("ReleaseEipAddress"); n != 0 {
		t.Fatalf("%d EIP releases with maxRelease 0", n)
	}

	rep := decodeReport(t, s.invoke(t, "forged", timerEvent("")))
	if s.ecs.CallCount("DeleteInstances") != 0 || s.ecs.CallCount("StopInstances") != 0 {
		t.Fatalf("%d releases, %d stops on forged notice marks", s.ecs.CallCount("DeleteInstances"), s.ecs.CallCount("StopInstances"))
	}
	for _, id := range []string{"i-bp1forged000001", "i-bp1forged000002"} {
		if got := outcomeOf(rep, id); got != "notified/unverified-mark" {
			t.Errorf("%s: %s, want notified/unverified-mark", id, got)
		}
		in, _ := s.ecs.Instance(id)
		if _, st := fnMarks.ReadTime(id, "reaper-notified", in.Tags); st != mark.Valid {
			t.Errorf("%s: mark %q after the notice does not verify", id, in.Tags["reaper-notified"])
		}
	}
	for _, id := range []string{"eip-bp1forged", "eip-bp1empty"} {
		if _, _, ok := s.ecs.EIP(id); !ok {
			t.Errorf("%s was released on a forged hand-over", id)
		}
	}
	if _, _, ok := s.ecs.EIP("eip-bp1genuine"); ok {
		t.Error("the reaper's own hand-over was not released")
	}
	if sec := rep.Regions[0].Section("eips"); sec == nil || sec.Counts["skipped/unverified-mark"] != 2 || sec.Counts["released"] != 1 {
		t.Errorf("EIP section %+v", sec)
	}
}

// The test build's clock is the trigger time: the runner's clock here is
// a day off the ECS double's, whose answers carry its own Date. The mark
// carries the API's time and the stop waits the whole grace by it.
func TestBinarySkewedClockShortensNoGrace(t *testing.T) {
	for _, skew := range []time.Duration{-24 * time.Hour, 24 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			l := startLifecycle(t, "REAPER_RUNNING=stop")
			tick := func(api time.Time) {
				t.Helper()
				l.mu.Lock()
				l.clock = api
				l.mu.Unlock()
				b, _ := json.Marshal(map[string]string{"triggerTime": api.Add(skew).Format(time.RFC3339), "triggerName": "hourly", "payload": ""})
				decodeReport(t, l.invoke(t, "skew-"+api.Format("0102T1504"), b))
			}
			const running = "i-bp1life000000002" // Running, expired long ago
			tick(lifeDay0)
			in, _ := l.ecs.Instance(running)
			if !markNear(running, "reaper-notified", in.Tags, lifeDay0) {
				t.Fatalf("mark %q: want the API's time %s", in.Tags["reaper-notified"], lifeDay0)
			}
			tick(lifeDay0.Add(23 * time.Hour))
			if in, _ := l.ecs.Instance(running); in.Status != "Running" {
				t.Fatalf("stopped 23 h after the notice by the API's clock (runner %s)", skew)
			}
			tick(lifeDay0.Add(24*time.Hour + time.Minute))
			if in, _ := l.ecs.Instance(running); in.Status != "Stopped" {
				t.Fatalf("not stopped once the grace passed by the API's clock: %s", in.Status)
			}
		})
	}
}
