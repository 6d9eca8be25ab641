package fanout_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// OrgCheck on the accounts' own checks equals the engine's plan.Check over
// all their scopes at once: the organisation's cap means what a cap means
// in one invocation (a negative MaxRelease: no count cap).
func TestOrgCheckIsTheEnginesCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 500 {
		caps := plan.Caps{MaxRelease: rng.IntN(61) - 1, MaxReleasePercent: []float64{0, 10, 50, 100}[rng.IntN(4)], PercentCapFrom: rng.IntN(15)}
		var all []*plan.Scope
		var checks []*report.CapCheck
		for a := range 1 + rng.IntN(5) {
			var scopes []*plan.Scope
			for r := range 1 + rng.IntN(3) {
				s := plan.NewScope(cloud.Scope{Account: fmt.Sprint(a), Region: fmt.Sprintf("cn-r%d", r)}, decide.Rules{}, decide.Lifecycle{})
				n := rng.IntN(12)
				s.OptedIn = n + rng.IntN(20)
				for i := range n {
					s.Eligible = append(s.Eligible, plan.Candidate{ID: fmt.Sprintf("i-%d-%d-%d", a, r, i)})
				}
				for i := range rng.IntN(3) {
					s.Stops = append(s.Stops, plan.Candidate{ID: fmt.Sprintf("s-%d-%d-%d", a, r, i)})
				}
				s.HandOvers, s.InstanceEIPs, s.Closed = rng.IntN(3), rng.IntN(3), rng.IntN(6) == 0
				if rng.IntN(2) == 0 {
					k := &plan.Resources{OptedIn: rng.IntN(10)}
					for i := range rng.IntN(k.OptedIn + 1) {
						k.Eligible = append(k.Eligible, plan.Candidate{ID: fmt.Sprintf("d-%d-%d-%d", a, r, i)})
					}
					s.Resources = map[string]*plan.Resources{[]string{"disks", "snapshots", "eips"}[rng.IntN(3)]: k}
				}
				scopes = append(scopes, s)
			}
			checks = append(checks, plan.Check(scopes, caps))
			all = append(all, scopes...)
		}
		want := plan.Check(all, caps)
		got := fanout.OrgCheck(checks, caps)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round %d:\n got %+v\nwant %+v", round, got, want)
		}
	}
}
