package fanout_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// Decide keeps each account's counts, never its IDs: after assessing 100
// accounts × 20 regions × 500 eligible instances (a million IDs, about 30
// MB of plans read one at a time), what it holds is a few hundred KB.
func TestDecideHoldsNoPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a million IDs")
	}
	big := fanout.Caps{Account: plan.Caps{MaxRelease: 1 << 30, MaxReleasePercent: 100, PercentCapFrom: 10}, Org: plan.Caps{MaxRelease: 1 << 30, MaxReleasePercent: 100}}
	planFor := func(account string) *fanout.Plan {
		p := &fanout.Plan{Run: run, Account: account, Status: fanout.PlanPlanned}
		for r := range 20 {
			ids := make([]string, 500)
			for i := range ids {
				ids[i] = fmt.Sprintf("i-%s%02d%05d", account[8:], r, i)
			}
			p.Regions = append(p.Regions, fanout.RegionPlan{Region: fmt.Sprintf("cn-region-%d", r), OptedIn: 500, Release: []fanout.Group{{IDs: ids}}})
		}
		return p
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var assessed []fanout.Assessed
	for a := range 100 {
		account := fmt.Sprintf("%016d", 1000000000000000+a)
		assessed = append(assessed, fanout.Assess(run, account, planFor(account), nil, big))
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	d := fanout.Combine(run, assessed, big)
	if d.Org.Instances != 1_000_000 || len(d.Execute) != 100 {
		t.Fatalf("org %+v, %d executed", d.Org, len(d.Execute))
	}
	if held := int64(after.HeapAlloc) - int64(before.HeapAlloc); held > 4<<20 {
		t.Errorf("Decide holds %d KB after 100 accounts: it kept plans or their IDs", held>>10)
	}
	runtime.KeepAlive(assessed)
}
