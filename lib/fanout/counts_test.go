package fanout_test

import (
	"math"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// A plan's counts are bounded: summed over the organisation, counts near
// the int range wrap negative, and the organisation's percent cap (the
// eligible share of a negative total) could never trip.
func TestDecideRefusesCountsPastAnyFleet(t *testing.T) {
	huge := func(a string) *fanout.Plan {
		p := planOf(a, 4, 10)
		p.Regions[0].OptedIn = math.MaxInt/2 + 1
		return p
	}
	kind := planOf(accC, 0, 1)
	kind.Regions[0].Kinds = map[string]fanout.KindPlan{"disks": {OptedIn: math.MaxInt, Eligible: []string{"d-1"}}}
	notices := planOf(accD, 0, 1)
	notices.Regions[0].Notices = math.MaxInt
	plans := map[string]*fanout.Plan{accA: huge(accA), accB: huge(accB), accC: kind, accD: notices}
	d := fanout.Decide(manifest(accA, accB, accC, accD), plans, nil, caps)
	for _, a := range d.Accounts {
		if a.Status != fanout.AccountPlanFailed || !strings.Contains(a.Reason, "more than any fleet") {
			t.Errorf("%s: %s %q", a.Account, a.Status, a.Reason)
		}
	}
	if len(d.Execute) != 0 {
		t.Errorf("executed %v", d.Execute)
	}
}
