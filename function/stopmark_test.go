package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

// Through the function binary: a stop mark altered by hand never shortens
// the stop grace (grace 1h, the reaper's stop 10 minutes ago); the
// instance gets a fresh signed stop mark and the report says
// unverified-mark. The intact mark waits as before.
func TestBinaryAlteredStopMarkKeepsTheStopGrace(t *testing.T) {
	const id = "i-bp1astop0000001"
	nm := fnMarks.Time(id, "reaper-notified", time.Now().Add(-3*time.Hour))
	sm := fnMarks.Time(id, "reaper-notified-stopped", time.Now().Add(-10*time.Minute))
	for _, tc := range []struct{ name, stopMark, want string }{
		{"intact", sm, "skipped/in-grace"},
		{"altered", "x" + sm, "skipped/unverified-mark"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fleet := fmt.Sprintf(`{"instances":[{"id":%q,"region":"cn-hangzhou","status":"Stopped","creationTime":"2026-01-01T00:00Z","tags":{"reaper-expires":"2026-11-01","reaper-notified":%q,"reaper-notified-stopped":%q}}]}`, id, nm, tc.stopMark)
			s := startFleetStack(t, binary(t), fleet, "REAPER_REGIONS=cn-hangzhou", "REAPER_GRACE=1h", "REAPER_RUNNING=stop", "REAPER_MAX_RELEASE_PERCENT=100", "REAPER_MARK_SECRET="+fnMarkSecret)
			rep := decodeReport(t, s.invoke(t, "astop", timerEvent("")))
			in, ok := s.ecs.Instance(id)
			if !ok {
				t.Fatal("released 10 min after the reaper's stop (stop grace 1h)")
			}
			if got := outcomeOf(rep, id); got != tc.want {
				t.Errorf("outcome %q, want %q", got, tc.want)
			}
			if _, st := fnMarks.ReadTime(id, "reaper-notified-stopped", in.Tags); st != mark.Valid {
				t.Errorf("stop mark %q after the run does not verify", in.Tags["reaper-notified-stopped"])
			}
		})
	}
}
