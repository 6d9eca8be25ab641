package benchmark

import (
	"fmt"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// FanoutFloor is a fanned-out run's calls against the fewest its design
// needs. Per account, region by region (ComputeFloor's listing L, release
// batches R and leftover listings K; E eligible instances):
//
//	Plan    = L + K                      list the account, read-only, and what its releases would leave
//	Execute = min(L, ⌈E/100⌉) + R + K   a fresh read of the plan's eligible instances (the listing,
//	                                     or DescribeInstances by ID, 100 a call), the releases, the leftovers
//
// plus one AssumeRole per worker invocation (each runs in its own
// process), and OSS: the coordinator's manifest (1 PUT), each Plan's
// manifest GET and plan PUT, Decide's manifest GET, N plan GETs and the
// decision PUT, each Execute's decision and plan GETs and result PUT, and
// Report's decision GET, N result GETs and report PUT: 7N + 5 for N
// accounts. The one-invocation mode needs L + R + K per region and one
// AssumeRole per account.
type FanoutFloor struct {
	Accounts int `json:"accounts"`
	// ECS calls measured, by phase, and their floor.
	PlanECS, PlanFloor       int
	ExecuteECS, ExecuteFloor int
	ECSCalls, ECSFloor       int
	// OneInvocationFloor is L + R + K over every region of every account.
	OneInvocationFloor   int
	Assumes, AssumeFloor int
	OSSCalls, OSSFloor   int
	// ECSByAction is every ECS call of the run by action and phase
	// ("plan DescribeInstances").
	ECSByAction map[string]int
	// DryRunBatches are Plan's DeleteInstances with DryRun=true: a
	// read-only plan does not need them.
	DryRunBatches int
}

func (f FanoutFloor) String() string {
	return fmt.Sprintf("ECS %d / floor %d (%.2f×; plan %d / %d, execute %d / %d; one-invocation floor %d); AssumeRole %d / %d; OSS %d / %d; by action %v",
		f.ECSCalls, f.ECSFloor, float64(f.ECSCalls)/float64(max(1, f.ECSFloor)), f.PlanECS, f.PlanFloor, f.ExecuteECS, f.ExecuteFloor,
		f.OneInvocationFloor, f.Assumes, f.AssumeFloor, f.OSSCalls, f.OSSFloor, f.ECSByAction)
}

// FanoutFloorOf is res's calls against the fan-out's floor.
func FanoutFloorOf(res FanoutResult) FanoutFloor {
	freshness := settings.Default().Freshness
	f := FanoutFloor{Accounts: len(res.Shapes), ECSByAction: map[string]int{}, ECSCalls: res.ECSCalls, Assumes: res.Assumes, OSSCalls: res.OSSCalls,
		OneInvocationFloor: res.OneInvocationFloor}
	for _, shapes := range res.Shapes {
		for _, s := range shapes {
			r := ComputeFloor([]RegionShape{s}, 0, freshness).Regions[0]
			f.PlanFloor += r.Listing + r.Leftovers
			f.ExecuteFloor += min(r.Listing, ceilDiv(s.EligibleTotal(), describeByID)) + r.Releases + r.Leftovers
		}
	}
	f.ECSFloor = f.PlanFloor + f.ExecuteFloor
	f.AssumeFloor = 2 * f.Accounts
	// Notify reads the decision and each executed account's plan and
	// writes its record; each Execute worker reads that record.
	f.OSSFloor = 9*f.Accounts + 7
	for _, inv := range res.Invocations {
		for action, n := range inv.ECS {
			f.ECSByAction[inv.Phase+" "+action] += n
			switch inv.Phase {
			case "plan":
				f.PlanECS += n
			case "execute":
				f.ExecuteECS += n
			}
		}
	}
	f.DryRunBatches = f.ECSByAction["plan DeleteInstances"]
	return f
}
