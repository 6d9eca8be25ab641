package e2e_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// TestPropertyRandomFleetsAndFaults: seeded random fleets, random changes
// before listing, between listing and release, and random faults. Whatever
// happens, the first run releases only instances eligible both when listed
// and at the moment of release (checkInvariants, via BeforeDelete) and
// reports every seen instance once; with the faults removed, a second run
// (new RunID) releases every instance still eligible, except those the API
// refuses, which it reports failed with the API's code.
func TestPropertyRandomFleetsAndFaults(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5, 6} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			propertyRun(t, seed)
		})
	}
}

// lockedRand is a seeded rand safe for the double's concurrent hooks.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) float() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

func (l *lockedRand) intN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

func propertyRun(t *testing.T, seed uint64) {
	rng := &lockedRand{r: rand.New(rand.NewPCG(seed, 0x5eed))}
	fleet := ecsdouble.GenerateFleet(ecsdouble.GenConfig{
		Seed: int64(seed), Instances: 60 + rng.intN(120), Regions: 1 + rng.intN(3),
		NonEligibleShare: rng.float() * 0.5, PrePaidShare: rng.float() * 0.6, Untagged: rng.intN(8),
		OptInKey: optIn, KeepKey: keep, Now: testNow,
	})
	// Random state before listing: statuses, locks, expiries, API refusals.
	refused := map[string]string{}
	for i := range fleet.Instances {
		in := &fleet.Instances[i]
		switch rng.intN(14) {
		case 0:
			in.Status = []string{"Starting", "Stopping", "Pending", "Running"}[rng.intN(4)]
		case 1:
			in.LockReasons = append(in.LockReasons, []string{"security", "recycling", "financial"}[rng.intN(3)])
		case 2:
			if in.ChargeType == "PrePaid" {
				in.ExpiredTime = testNow.Add(time.Duration(rng.intN(48)-24) * time.Hour).Format("2006-01-02T15:04Z")
			}
		case 3:
			code := []string{"InvalidOperation.EniLinked", "DependencyViolation.RouteEntry", "InvalidOperation.DeletionProtection"}[rng.intN(3)]
			in.FailWith = code
			refused[in.ID] = code
		}
	}
	h := newHarness(t, fleet, harnessConfig{srvOpts: []ecsdouble.Option{ecsdouble.WithSeed(int64(seed))}})
	eligible := eligibleIn(fleet, h.rules)

	// Random faults, drawn by the double's seeded rand.
	faults := []*ecsdouble.Fault{
		ecsdouble.Throttle(), ecsdouble.Unavailable(), ecsdouble.Internal(), ecsdouble.HTML502(),
		ecsdouble.Truncated(), ecsdouble.Reset(), ecsdouble.Reset().AfterApplying(), ecsdouble.Truncated().AfterApplying(),
	}
	for range 2 + rng.intN(4) {
		action := []string{"", ecsapi.ActionDescribeInstances, ecsapi.ActionDeleteInstances}[rng.intN(3)]
		h.srv.Inject(ecsdouble.Rule{Action: action, Probability: 0.02 + rng.float()*0.1, Fault: faults[rng.intN(len(faults))]})
	}
	// Changes the API enforces, just before a release is checked.
	h.setMutate(func(_ string, ids []string) {
		if rng.float() > 0.5 {
			return
		}
		id := ids[rng.intN(len(ids))]
		switch rng.intN(6) {
		case 0:
			h.srv.Mutate(id, func(in *ecsdouble.Instance) { in.Status = "Starting" })
		case 1:
			h.srv.Mutate(id, func(in *ecsdouble.Instance) { in.DeletionProtection = true })
		case 2:
			h.srv.Mutate(id, func(in *ecsdouble.Instance) { in.LockReasons = append(in.LockReasons, "security") })
		case 3:
			h.srv.Remove(id)
		case 4:
			h.srv.Mutate(id, func(in *ecsdouble.Instance) {
				if in.ChargeType == "PrePaid" {
					in.ExpiredTime, in.LockReasons = "2027-03-31T16:00Z", nil
				}
			})
		case 5:
			h.srv.Mutate(id, func(in *ecsdouble.Instance) { in.Status = "Running" })
		}
	})
	// Changes only the sweep can see (tags), made as a batch is re-read.
	stale := rng.intN(2) == 0
	if stale {
		h.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
			raw := c.Params["InstanceIds"]
			if c.Action != ecsapi.ActionDescribeInstances || raw == "" || rng.float() > 0.5 {
				return nil
			}
			var ids []string
			if json.Unmarshal([]byte(raw), &ids) != nil || len(ids) == 0 {
				return nil
			}
			id := ids[rng.intN(len(ids))]
			h.srv.Mutate(id, func(in *ecsdouble.Instance) {
				if rng.intN(2) == 0 {
					in.Tags[keep] = "changed-my-mind"
				} else {
					in.Tags[optIn] = "2099-01-01"
				}
			})
			return nil
		})
	}

	opts := options()
	opts.RunID = fmt.Sprintf("prop-%d-a", seed)
	opts.RegionConcurrency, opts.BatchConcurrency = 2, 2
	opts.Retry.MaxAttempts = 4
	if stale {
		start := time.Now()
		opts.Now = func() time.Time { return testNow.Add(time.Since(start)) }
		opts.Freshness = time.Nanosecond
	}
	rep1, _ := h.run(opts, fleet.Regions()...)
	h.checkInvariants(rep1, eligible)
	if stale {
		rereads := 0
		for _, c := range h.srv.Calls() {
			if c.Action == ecsapi.ActionDescribeInstances && c.Params["InstanceIds"] != "" {
				rereads++
			}
		}
		if rep1.Totals.Batches > 0 && rereads == 0 {
			t.Errorf("stale batches released without a re-read")
		}
	}

	// Second run, faults removed: everything still eligible goes, except
	// what the API refuses.
	h.srv.ClearFaults()
	h.setMutate(nil)
	h.mu.Lock()
	clear(h.atRelease)
	h.mu.Unlock()
	still := map[string]bool{}
	for _, in := range fleet.Instances {
		cur, ok := h.srv.Instance(in.ID)
		if ok && decide.Decide(toDecide(cur), h.rules, testNow).Release {
			still[in.ID] = true
		}
	}
	opts.RunID = fmt.Sprintf("prop-%d-b", seed)
	opts.Freshness = time.Hour
	rep2, err := h.run(opts, fleet.Regions()...)
	got := h.checkInvariants(rep2, still)
	released := setOf(h.srv.Released())
	for id := range still {
		e := got[id]
		if code, ok := refused[id]; ok {
			if e.outcome != report.OutcomeFailed || e.item.Code != code {
				t.Errorf("refused %s: %s/%s %s, want failed with %s", id, e.outcome, e.reason, e.item.Code, code)
			}
			continue
		}
		if !released[id] {
			t.Errorf("second run left eligible %s: %s/%s %s", id, e.outcome, e.reason, e.item.Detail)
		}
	}
	if len(refused) == 0 && err != nil {
		t.Errorf("second run: %v", err)
	}
	// Over both runs, nothing ineligible at listing was ever released.
	for id := range released {
		if !eligible[id] && !still[id] {
			t.Errorf("%s released but never eligible", id)
		}
	}
	if testing.Verbose() {
		t.Logf("seed %d: %d instances, %d eligible, run 1 %v, run 2 %v, stale=%v", seed, len(fleet.Instances), len(eligible),
			rep1.Totals.Reasons, rep2.Totals.Outcomes, stale)
	}
}
