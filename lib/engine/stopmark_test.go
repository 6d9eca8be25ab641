package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// stoppedByReaper is a stopped instance, told 48 h before day0 and
// stopped by the reaper 10 minutes before it, whose stop mark was altered.
func stoppedByReaper(id, stopMark string) cloud.Instance {
	in := instance(id, "Stopped", "2026-11-01", "amy")
	in.Tags["reaper-notified"] = testMarks.Time(id, "reaper-notified", day0.Add(-48*time.Hour))
	in.Tags["reaper-notified-stopped"] = stopMark
	return in
}

// A stop mark that is present but does not verify never shortens the stop
// grace: the instance is treated as stopped now, gets a fresh signed stop
// mark, and waits the whole grace; the report says unverified-mark.
func TestAlteredStopMarkRestartsTheStopGrace(t *testing.T) {
	const id = "i-altered"
	c := fake.New([]cloud.Instance{stoppedByReaper(id, "x"+testMarks.Time(id, "reaper-notified-stopped", day0.Add(-10*time.Minute)))})
	opts := options()
	opts.Lifecycle = lifecycle
	opts.Lifecycle.Stop = true
	d := &days{t: t, c: c, n: &notifier{}, opts: opts}

	dry := *d
	dry.opts.DryRun = true
	rep, err := dry.at(day0)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(rep)[id]; got != "skipped/unverified-mark" || c.Count(ecsapi.ActionTagResources) != 0 {
		t.Fatalf("dry run: %q, %d TagResources", got, c.Count(ecsapi.ActionTagResources))
	}

	rep, err = d.at(day0)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Released()) != 0 {
		t.Fatal("released 10 minutes after the reaper's stop: the altered stop mark skipped the stop grace")
	}
	if got := outcomes(rep)[id]; got != "skipped/unverified-mark" {
		t.Errorf("outcome %q, want skipped/unverified-mark", got)
	}
	inst, _ := c.Instance(id)
	if at, st := testMarks.ReadTime(id, "reaper-notified-stopped", inst.Tags); st != mark.Valid || !at.Equal(day0) {
		t.Errorf("stop mark %q: want a fresh signed one at %s", inst.Tags["reaper-notified-stopped"], day0)
	}
	var text strings.Builder
	if err := report.WriteText(&text, rep); err != nil || !strings.Contains(text.String(), "unverified-mark") {
		t.Errorf("the text report does not show the tampering:\n%s", text.String())
	}
	if _, err := d.at(day0.Add(23 * time.Hour)); err != nil || len(c.Released()) != 0 {
		t.Fatalf("inside the restarted stop grace: %v, released %v", err, c.Released())
	}
	if _, err := d.at(day0.Add(24*time.Hour + time.Minute)); err != nil || len(c.Released()) != 1 {
		t.Fatalf("after the restarted stop grace: %v, released %v", err, c.Released())
	}
}

// The fresh stop mark is a write: when it fails, the run fails.
func TestStopMarkRewriteFailureFailsTheRun(t *testing.T) {
	const id = "i-altered"
	c := fake.New([]cloud.Instance{stoppedByReaper(id, "2026-11-30T12:00:00Z")})
	c.Fault = func(action string, _ any) error {
		if action == ecsapi.ActionTagResources {
			return fake.Err(action, "r-1", "OperationDenied.QuotaExceed", 400)
		}
		return nil
	}
	opts := options()
	opts.Lifecycle = lifecycle
	opts.Lifecycle.Stop = true
	rep, err := (&days{t: t, c: c, n: &notifier{}, opts: opts}).at(day0)
	if !errors.Is(err, engine.ErrReleaseFailed) || len(c.Released()) != 0 {
		t.Fatalf("err %v, released %v", err, c.Released())
	}
	if got := outcomes(rep)[id]; got != "failed/OperationDenied.QuotaExceed" {
		t.Errorf("outcome %q", got)
	}
}
