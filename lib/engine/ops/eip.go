package ops

import (
	"context"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// EIPAPI is what releasing EIPs after their instances needs: the EIP
// kind's client with its hand-over capability.
type EIPAPI = kinds.HandOverAPI

// ReleaseEIP releases an EIP with the VPC API's ReleaseEipAddress, one per
// call, under the scope's throttling-adaptive concurrency. It takes no
// token (a release of a gone EIP answers NotFound) and has no dry run: a
// dry run sends nothing and reports the release it would make.
func ReleaseEIP(api EIPAPI, scope cloud.Scope, rules decide.Rules) execute.Op[struct{}, cloud.EIP] {
	return execute.Op[struct{}, cloud.EIP]{
		Action: ecsapi.ActionReleaseEipAddress,
		Send: One[struct{}](func(ctx context.Context, id string) (string, error) {
			return api.ReleaseEipAddress(ctx, scope.Region, id)
		}),
		RereadAction: ecsapi.ActionDescribeEipAddresses, RereadLimit: 50,
		Reread: func(ctx context.Context, ids []string) ([]cloud.EIP, error) {
			page, err := api.DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: scope.Region, AllocationIDs: ids})
			return page.EIPs, err
		},
		Recheck: func(e cloud.EIP, _ struct{}, _ time.Time) execute.Verdict {
			if reason, detail := kinds.EIPHeld(e, rules); reason != "" {
				return execute.Verdict{Outcome: verdict.Skipped, Reason: reason, Detail: "changed since listing: " + detail}
			}
			if e.Status != "Available" {
				return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged, Detail: "the EIP is " + e.Status + ", not Available"}
			}
			return execute.Verdict{Keep: true}
		},
		Done: verdict.Released, WouldDone: verdict.WouldRelease,
	}
}

// DropHandOver removes the hand-over mark (key) from EIPs bound again to
// an instance other than the one they were released with (bound: the
// instance each EIP's mark names): the hand-over ended with the new
// binding, and a mark left behind would release the EIP whenever it is
// next unbound, with no notice or opt-in. Removing a mark releases
// nothing; UnTagResources takes no token (a repeat removes nothing more)
// and has no dry run: a dry run sends nothing and reports the removal it
// would make. The outcome is skipped/decision-changed: the EIP is kept.
func DropHandOver(api EIPAPI, scope cloud.Scope, key string, bound map[string]string) execute.Op[struct{}, cloud.EIP] {
	return execute.Op[struct{}, cloud.EIP]{
		Action: ecsapi.ActionUnTagEIPs, BatchLimit: ecsapi.MaxTagIDs,
		Send: func(ctx context.Context, req execute.Request[struct{}]) (execute.Answer, error) {
			id, err := api.UnTagEIPs(ctx, scope.Region, req.IDs, []string{key})
			return execute.Answer{RequestID: id}, err
		},
		RereadAction: ecsapi.ActionDescribeEipAddresses, RereadLimit: 50,
		Reread: func(ctx context.Context, ids []string) ([]cloud.EIP, error) {
			page, err := api.DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: scope.Region, AllocationIDs: ids})
			return page.EIPs, err
		},
		// The mark is removed while the EIP still carries it and is bound
		// to another instance.
		Recheck: func(e cloud.EIP, _ struct{}, _ time.Time) execute.Verdict {
			switch _, marked := e.Tags[key]; {
			case !marked:
				return execute.Verdict{Outcome: verdict.Skipped, Reason: verdict.DecisionChanged, Detail: "changed since listing: no hand-over mark left to remove"}
			case !Rebound(e, bound):
				return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged,
					Detail: "changed since listing: no longer bound to another instance; the next run decides"}
			}
			return execute.Verdict{Keep: true}
		},
		Done: verdict.Skipped, WouldDone: verdict.Skipped, // the EIP is kept either way
	}
}

// Rebound reports whether e is bound to something other than the instance
// its mark names (bound).
func Rebound(e cloud.EIP, bound map[string]string) bool {
	return e.InstanceID != "" && e.InstanceID != bound[e.AllocationID]
}
