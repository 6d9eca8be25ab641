package engine_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// interruptingNotifier interrupts the run while it sends the first notice.
type interruptingNotifier struct {
	notifier
	once      sync.Once
	interrupt func()
}

func (n *interruptingNotifier) Notify(ctx context.Context, x notify.Notice) error {
	n.once.Do(n.interrupt)
	return n.notifier.Notify(ctx, x)
}

// An interrupted run sends no notice after the one in flight, writes
// nothing more, and reports what it left interrupted/not-started: not
// failed, not held by the deadline; its error is ErrInterrupted.
func TestInterruptStopsNoticesAndWrites(t *testing.T) {
	c := fake.New([]cloud.Instance{
		instance("i-a", "Stopped", "2026-12-02", "alice"), // a notice due
		instance("i-b", "Stopped", "2026-12-02", "bob"),   // a notice due
		instance("i-old", "Stopped", "2026-11-01", "carol"),
	})
	stop := make(chan struct{})
	n := &interruptingNotifier{interrupt: func() { close(stop) }}
	opts := options()
	opts.Lifecycle = lifecycle
	opts.Notifier = n
	opts.Now = func() time.Time { return day0 }
	ctx := call.WithInterrupt(t.Context(), stop)
	rep, err := engine.New(opts, nil).RunRegions(ctx, c, "", []string{"r-1"})
	if !errors.Is(err, engine.ErrInterrupted) || errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("err %v", err)
	}
	if len(n.notices) != 1 {
		t.Fatalf("%d notices sent: none may start after the interruption", len(n.notices))
	}
	o := rep.Totals.Outcomes
	if o["failed"] != 0 || o["not-attempted"] != 0 || rep.Totals.Reasons["interrupted/not-started"] == 0 {
		t.Fatalf("outcomes %v, reasons %v", o, rep.Totals.Reasons)
	}
	if c.Count(ecsapi.ActionDeleteInstances) != 0 {
		t.Fatal("a release started after the interruption")
	}
}
