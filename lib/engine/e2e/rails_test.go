package e2e_test

import (
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// A bisection can outlast the freshness window: each half is re-read when
// its data is older than the window, so an instance that gained the keep tag
// while the first half was being isolated is not released with the second.
func TestLaterHalfOfABisectionIsReReadWhenStale(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "h", 4)}
	f.Instances[0].FailWith = "InvalidOperation.EniLinked" // unexplained by any re-read: forces the split
	ids := ids(f.Instances)
	h := newHarness(t, f, harnessConfig{})
	var elapsed atomic.Int64
	var once sync.Once
	h.setMutate(func(_ string, batch []string) {
		if len(batch) == 2 && batch[0] == ids[0] {
			once.Do(func() {
				elapsed.Add(int64(2 * time.Minute)) // the first half took long
				h.srv.Mutate(ids[3], func(in *ecsdouble.Instance) { in.Tags[keep] = "" })
			})
		}
	})
	opts := options()
	opts.Freshness = time.Minute
	opts.Now = func() time.Time { return testNow.Add(time.Duration(elapsed.Load())) }
	rep, err := h.run(opts, "cn-hangzhou")
	if !errors.Is(err, engine.ErrReleaseFailed) || errors.Is(err, engine.ErrRegionFailed) { // the bad instance fails the run
		t.Fatalf("run: %v", err)
	}
	if released := h.srv.Released(); !slices.Equal(released, ids[1:3]) {
		t.Fatalf("released %v, want %v (the instance kept meanwhile stays)", released, ids[1:3])
	}
	if got := rep.Regions[0].Counts["skipped/"+string(decide.ReasonExcluded)]; got != 1 {
		t.Errorf("the newly kept instance is not reported excluded: %v", rep.Regions[0].Counts)
	}
}

// An instance whose re-read answer names another region is not trusted.
func TestReReadFromAnotherRegionIsNotReleased(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "r", 3)}
	f.Instances[0].FailWith = "InvalidOperation.EniLinked" // a failed batch is re-read
	ids := ids(f.Instances)
	var moved atomic.Bool
	rw := rewriter{edit: editInstances(func(id string, in map[string]any) {
		if moved.Load() && id == ids[2] {
			in["RegionId"] = "cn-beijing"
		}
	})}
	h := newHarness(t, f, harnessConfig{transport: func(base http.RoundTripper) http.RoundTripper { rw.base = base; return rw }})
	h.setMutate(func(string, []string) { moved.Store(true) })
	rep, err := h.run(options(), "cn-hangzhou")
	if !errors.Is(err, engine.ErrReleaseFailed) || errors.Is(err, engine.ErrRegionFailed) { // the bad instance fails the run
		t.Fatalf("run: %v", err)
	}
	if slices.Contains(h.srv.Released(), ids[2]) {
		t.Fatal("released an instance whose re-read reported another region")
	}
	if got := rep.Regions[0].Counts["skipped/"+string(decide.ReasonInvalidData)]; got != 1 {
		t.Errorf("counts %v: want the moved instance skipped as invalid data", rep.Regions[0].Counts)
	}
}

// A closed region releases nothing, so its opted-in instances must not
// dilute the share the percent cap measures in the other regions.
func TestPercentCapIgnoresClosedRegions(t *testing.T) {
	open := stopped("cn-hangzhou", "o", 10)
	for i := range open[6:] {
		open[6+i].Tags[optIn] = "2099-01-01" // 6 of 10 eligible: 60 %
	}
	closed := stopped("cn-shanghai", "c", 300)
	for i := range closed {
		closed[i].Tags[optIn] = "2099-01-01"
	}
	h := newHarness(t, ecsdouble.Fleet{Instances: slices.Concat(open, closed)}, harnessConfig{})
	h.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDescribeInstances && c.Region == "cn-shanghai" && laterPage(c) {
			return ecsdouble.Internal() // the second page never comes
		}
		return nil
	})
	opts := options()
	opts.MaxReleasePercent = 50
	rep, err := h.run(opts, "cn-hangzhou", "cn-shanghai")
	if !errors.Is(err, engine.ErrCapExceeded) {
		t.Fatalf("err %v, want the percent cap: 6 of the 10 opted-in instances that could be released", err)
	}
	if n := h.srv.CallCount(ecsapi.ActionDeleteInstances); n != 0 {
		t.Errorf("%d DeleteInstances calls over the cap", n)
	}
	if rep.Cap.OptedIn != 10 || rep.Cap.Eligible != 6 {
		t.Errorf("cap check %+v: want 6 of 10", rep.Cap)
	}
	if got := rep.IDs(report.OutcomeNotAttempted); len(got) != 6 {
		t.Errorf("not attempted %d, want the 6 eligible", len(got))
	}
}
