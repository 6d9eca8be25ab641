package fanout_test

import (
	"encoding/json"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// Execute writes only the plan Decide counted: the same plan read back
// passes; one with an instance more, one whose IDs were swapped, and any
// plan under a decision that recorded no digest (written before digests)
// or does not say execute, do not.
func TestDecisionCountedIsThePlanDecided(t *testing.T) {
	d := fanout.Decide(manifest(accA), map[string]*fanout.Plan{accA: planOf(accA, 4, 10)}, nil, caps)
	if statuses(d)[accA] != fanout.AccountExecute {
		t.Fatalf("decision %+v", d.Accounts)
	}
	b, _ := json.Marshal(planOf(accA, 4, 10))
	var same fanout.Plan
	if err := json.Unmarshal(b, &same); err != nil {
		t.Fatal(err)
	}
	if err := d.Counted(accA, &same); err != nil {
		t.Errorf("the plan read back: %v", err)
	}
	more := planOf(accA, 5, 10)
	swapped := planOf(accA, 4, 10)
	swapped.Regions[0].Release[0].IDs[0] = "i-other"
	for name, p := range map[string]*fanout.Plan{"one more": more, "swapped": swapped} {
		if err := d.Counted(accA, p); err == nil {
			t.Errorf("%s: passed", name)
		}
	}
	if err := d.Counted(accB, &same); err == nil {
		t.Error("an account not in the decision passed")
	}
	d.Accounts[0].Status = fanout.AccountHeldByCap
	if err := d.Counted(accA, &same); err == nil {
		t.Error("an account held by its cap passed")
	}
	d.Accounts[0].Status = fanout.AccountExecute
	d.Accounts[0].PlanDigest = ""
	if err := d.Counted(accA, &same); err == nil {
		t.Error("a decision without a digest passed")
	}
}
