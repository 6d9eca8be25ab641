package handler_test

import (
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// An account whose only writes are marks (owners' notices, the hand-over
// mark of an EIP bound again) is executed: left out, its owners are never
// told, and the hand-over mark of an EIP the customer bound again stays,
// so that unbinding it within the week would release it.
func TestMarksOnlyAccountIsExecuted(t *testing.T) {
	rebound := handedOver("r", 1)
	rebound[0].Status, rebound[0].InstanceID, rebound[0].InstanceType = "InUse", "i-live", "EcsInstance"
	cases := []capsCase{
		{name: "a hand-over mark to remove", caps: capsDefault, opts: releaseEIPs, accounts: map[string]account{
			accX: {instances: vms("x", 1, notExpired), res: fake.Resources{EIPs: rebound}},
		}},
		{name: "an owner to tell", caps: capsDefault, opts: func(o *engine.Options) { stopLifecycle(o) }, accounts: map[string]account{
			accX: {instances: vms("x", 1)},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := fanOut(t, c)
			if len(d.Accounts) != 1 || d.Accounts[0].Status != fanout.AccountExecute {
				t.Fatalf("decision %+v: the account must be executed", d.Accounts)
			}
		})
	}
}
