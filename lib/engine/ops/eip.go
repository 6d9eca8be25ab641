package ops

import (
	"context"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// EIPAPI is what releasing EIPs needs from a scope's VPC API.
type EIPAPI interface {
	DescribeEipAddresses(ctx context.Context, in ecsapi.EIPInput) (ecsapi.EIPPage, error)
	ReleaseEipAddress(ctx context.Context, region, allocationID string) (string, error)
	TagEIPs(ctx context.Context, region string, allocationIDs []string, tags map[string]string) (string, error)
	UnTagEIPs(ctx context.Context, region string, allocationIDs, keys []string) (string, error)
}

// ReleaseEIP releases an EIP with the VPC API's ReleaseEipAddress, one per
// call, under the scope's throttling-adaptive concurrency. It has no dry
// run: a dry run sends nothing and reports the release it would make.
type ReleaseEIP struct {
	API   EIPAPI
	Scope cloud.Scope
	Rules decide.Rules
}

var _ execute.Operation[struct{}, cloud.EIP] = (*ReleaseEIP)(nil)

// Action implements execute.Operation.
func (r *ReleaseEIP) Action() string { return ecsapi.ActionReleaseEipAddress }

// BatchLimit implements execute.Operation: one EIP per call.
func (r *ReleaseEIP) BatchLimit() int { return 1 }

// NativeDryRun implements execute.Operation.
func (r *ReleaseEIP) NativeDryRun() bool { return false }

// Token implements execute.Operation: ReleaseEipAddress takes none; a
// release of a gone EIP answers NotFound.
func (r *ReleaseEIP) Token(struct{}, []string, bool) string { return "" }

// Send implements execute.Operation.
func (r *ReleaseEIP) Send(ctx context.Context, req execute.Request[struct{}]) (execute.Answer, error) {
	id, err := r.API.ReleaseEipAddress(ctx, r.Scope.Region, req.IDs[0])
	return execute.Answer{RequestID: id}, err
}

// RereadAction implements execute.Operation.
func (r *ReleaseEIP) RereadAction() string { return ecsapi.ActionDescribeEipAddresses }

// RereadLimit implements execute.Operation.
func (r *ReleaseEIP) RereadLimit() int { return 50 }

// Reread implements execute.Operation.
func (r *ReleaseEIP) Reread(ctx context.Context, ids []string) ([]cloud.EIP, error) {
	page, err := r.API.DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: r.Scope.Region, AllocationIDs: ids})
	return page.EIPs, err
}

// Recheck implements execute.Operation.
func (r *ReleaseEIP) Recheck(e cloud.EIP, _ struct{}, _ time.Time) execute.Verdict {
	if reason, detail := EIPHeld(e, r.Rules); reason != "" {
		return execute.Verdict{Outcome: verdict.Skipped, Reason: reason, Detail: "changed since listing: " + detail}
	}
	if e.Status != "Available" {
		return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged, Detail: "the EIP is " + e.Status + ", not Available"}
	}
	return execute.Verdict{Keep: true}
}

// Done implements execute.Operation.
func (r *ReleaseEIP) Done(dryRun bool) verdict.Outcome {
	if dryRun {
		return verdict.WouldRelease
	}
	return verdict.Released
}

// Describe implements execute.Operation.
func (r *ReleaseEIP) Describe(*report.Batch, struct{}) {}

// DropHandOver removes the hand-over mark (Key) from EIPs bound again to
// an instance other than the one they were released with: the hand-over
// ended with the new binding, and a mark left behind would release the
// EIP whenever it is next unbound, with no notice or opt-in. Removing a
// mark releases nothing. UnTagResources has no dry run: a dry run sends
// nothing and reports the removal it would make. The outcome is
// skipped/decision-changed: the EIP is kept.
type DropHandOver struct {
	API   EIPAPI
	Scope cloud.Scope
	Key   string
	// Bound is the instance each EIP's mark names: a binding to it is the
	// hand-over still in progress, not a new binding.
	Bound map[string]string
}

var _ execute.Operation[struct{}, cloud.EIP] = (*DropHandOver)(nil)

// Action implements execute.Operation.
func (d *DropHandOver) Action() string { return ecsapi.ActionUnTagEIPs }

// BatchLimit implements execute.Operation.
func (d *DropHandOver) BatchLimit() int { return ecsapi.MaxTagIDs }

// NativeDryRun implements execute.Operation.
func (d *DropHandOver) NativeDryRun() bool { return false }

// Token implements execute.Operation: UnTagResources takes none, and a
// repeat removes nothing more.
func (d *DropHandOver) Token(struct{}, []string, bool) string { return "" }

// Send implements execute.Operation.
func (d *DropHandOver) Send(ctx context.Context, req execute.Request[struct{}]) (execute.Answer, error) {
	id, err := d.API.UnTagEIPs(ctx, d.Scope.Region, req.IDs, []string{d.Key})
	return execute.Answer{RequestID: id}, err
}

// RereadAction implements execute.Operation.
func (d *DropHandOver) RereadAction() string { return ecsapi.ActionDescribeEipAddresses }

// RereadLimit implements execute.Operation.
func (d *DropHandOver) RereadLimit() int { return 50 }

// Reread implements execute.Operation.
func (d *DropHandOver) Reread(ctx context.Context, ids []string) ([]cloud.EIP, error) {
	page, err := d.API.DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: d.Scope.Region, AllocationIDs: ids})
	return page.EIPs, err
}

// Recheck implements execute.Operation: the mark is removed while the EIP
// still carries it and is bound to another instance.
func (d *DropHandOver) Recheck(e cloud.EIP, _ struct{}, _ time.Time) execute.Verdict {
	switch _, marked := e.Tags[d.Key]; {
	case !marked:
		return execute.Verdict{Outcome: verdict.Skipped, Reason: verdict.DecisionChanged, Detail: "changed since listing: no hand-over mark left to remove"}
	case !d.Rebound(e):
		return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged,
			Detail: "changed since listing: no longer bound to another instance; the next run decides"}
	}
	return execute.Verdict{Keep: true}
}

// Rebound reports whether e is bound to something other than the instance
// its mark names.
func (d *DropHandOver) Rebound(e cloud.EIP) bool {
	return e.InstanceID != "" && e.InstanceID != d.Bound[e.AllocationID]
}

// Done implements execute.Operation: the EIP is kept either way.
func (d *DropHandOver) Done(bool) verdict.Outcome { return verdict.Skipped }

// Describe implements execute.Operation.
func (d *DropHandOver) Describe(*report.Batch, struct{}) {}

// EIPHeld says why an EIP must stay whatever its status: the keep tag,
// deletion protection, a subscription, an answer that cannot be trusted,
// or a binding to something else; "" when none applies.
func EIPHeld(e cloud.EIP, rules decide.Rules) (verdict.Reason, string) {
	switch _, kept := e.Tags[rules.KeepKey]; {
	case e.Problem != "":
		return verdict.InvalidData, e.Problem
	case kept:
		return verdict.Excluded, "has the " + rules.KeepKey + " tag"
	case e.DeletionProtection:
		return verdict.DeletionProtected, "deletion protection is on"
	case e.ChargeType == "PrePaid":
		return verdict.SubscriptionActive, "a subscription EIP cannot be released"
	case e.InstanceID != "":
		return verdict.DecisionChanged, "bound to " + e.InstanceID + " again"
	}
	return "", ""
}
