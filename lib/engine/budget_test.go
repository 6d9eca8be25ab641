package engine_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// digests records the instances each delivered digest named.
type digests struct {
	mu    sync.Mutex
	named [][]string
}

func (d *digests) Kind() string                                 { return "test" }
func (d *digests) Report(context.Context, notify.Summary) error { return nil }
func (d *digests) Notify(_ context.Context, n notify.Notice) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ids []string
	for _, it := range n.Items {
		ids = append(ids, it.InstanceID)
	}
	d.named = append(d.named, ids)
	return nil
}

func (d *digests) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Concat(d.named...)
}

// bigOwner: one owner with n expired instances, never told, due one day
// apart (i-big000 earliest).
func bigOwner(n int) []cloud.Instance {
	var fleet []cloud.Instance
	for i := range n {
		fleet = append(fleet, instance(fmt.Sprintf("i-big%03d", i), "Stopped", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("2006-01-02"), "big"))
	}
	return fleet
}

// An owner with many instances is told only about those whose marks fit
// in the time left: each mark is its own call, so the estimate grows with
// their number (divided by the concurrency they run at). The rest stay
// owed, earliest due first, and the next run tells the owner about them.
// Nobody is told about an instance that is then not marked.
func TestBigOwnerIsToldOnlyWhatCanBeMarked(t *testing.T) {
	for conc, n := range map[int]int{1: 40, 4: 100} {
		t.Run(fmt.Sprintf("concurrency %d", conc), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				fleet := bigOwner(n)
				c := fake.New(fleet)
				c.Latency = 250 * time.Millisecond
				marked := map[string]bool{}
				var order []string
				for run := 0; len(order) < n; run++ {
					if run == 15 {
						t.Fatalf("after %d runs told and marked %d of %d", run, len(order), n)
					}
					d := &digests{}
					opts := options()
					opts.Lifecycle, opts.Notifier, opts.DeadlineMargin, opts.BatchConcurrency = lifecycle, d, 3*time.Second, conc
					opts.RunID = fmt.Sprintf("run-%d", run)
					opts.Now = func() time.Time { return day0.Add(time.Duration(run) * time.Hour) }
					rep, _, err := runFor(t, c, opts, 9*time.Second)
					told := d.all()
					if len(told) == 0 {
						t.Fatalf("run %d: err %v: told nobody, though some marks fit", run, err)
					}
					// Exactly the instances a digest named are marked this run.
					var now []string
					for _, in := range fleet {
						inst, _ := c.Instance(in.ID)
						if inst.Tags["reaper-notified"] != "" && !marked[in.ID] {
							marked[in.ID] = true
							now = append(now, in.ID)
						}
					}
					slices.Sort(told)
					if !slices.Equal(told, now) {
						t.Fatalf("run %d: the digests named %v, the run marked %v", run, told, now)
					}
					order = append(order, told...)
					if left := n - len(order); left > 0 {
						if rep.Notices == nil || rep.Notices.UnsentItems != left || rep.Notices.Delivered != 1 {
							t.Errorf("run %d: notices %+v: want %d owed and unsent", run, rep.Notices, left)
						}
						if out := outcomes(rep)[fleet[n-1].ID]; out != "not-attempted/deadline" {
							t.Errorf("run %d: the latest due: %s, want not-attempted/deadline (owed)", run, out)
						}
					}
					if run == 0 {
						t.Logf("concurrency %d: the first run told and marked %d of %d", conc, len(told), n)
					}
				}
				// Earliest due first, run after run.
				for i, in := range fleet {
					if order[i] != in.ID {
						t.Fatalf("told in the order %v: want the earliest due first", order)
					}
				}
			})
		})
	}
}
