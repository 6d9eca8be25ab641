package main

import (
	"fmt"
	"regexp"
	"testing"
	"time"
)

// One owner with many instances is told, in one run, only about those
// whose marks the run can still write (each mark is its own call): every
// instance a delivered digest names is marked, and no other.
func TestBinaryBigOwnerToldOnlyWhatIsMarked(t *testing.T) {
	out := `{"instances": [`
	for i := range 40 {
		if i > 0 {
			out += ","
		}
		out += fmt.Sprintf(`{"id":"i-bp1big%09d","region":"cn-hangzhou","status":"Stopped","creationTime":"2026-01-01T00:00Z","tags":{"reaper-expires":"2026-11-01","owner":"13800000009"}}`, i)
	}
	l := startLifecycleFleet(t, out+"]}", "REAPER_DEADLINE_MARGIN=5s", "REAPER_BATCH_CONCURRENCY=1")
	l.ecs.SetLatency(250 * time.Millisecond)
	res := l.tickWithin(t, lifeDay0, "big-1", 12*time.Second)
	named := map[string]bool{}
	for _, m := range l.hook.Messages() {
		for _, id := range bigID.FindAllString(m.Text(), -1) {
			named[id] = true
		}
	}
	if len(named) == 0 {
		t.Fatalf("no digest named an instance (error %+v): some marks fit", res.Err)
	}
	for i := range 40 {
		id := fmt.Sprintf("i-bp1big%09d", i)
		in, _ := l.ecs.Instance(id)
		if marked := in.Tags["reaper-notified"] != ""; marked != named[id] {
			t.Errorf("%s: named in a digest %v, marked %v", id, named[id], marked)
		}
	}
	t.Logf("told about and marked %d of 40", len(named))
	if len(named) < 40 {
		rep := decodeReport(t, res)
		if rep.Notices == nil || rep.Notices.UnsentItems != 40-len(named) {
			t.Errorf("notices %+v: want the %d left owed", rep.Notices, 40-len(named))
		}
	}
}

var bigID = regexp.MustCompile(`i-bp1big\d{9}`)
