// Package ops holds the engine's write operations, one file each. An
// operation implements execute.Operation: how to send a batch, its batch
// limit, how a re-read resource still warrants it, how its idempotency
// token is derived, and whether its API has a native dry run. Retries,
// freshness, isolation, halving, the deadline and the dry run live in the
// executor, once.
package ops

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// InstanceAPI is what the release needs from a scope's ECS API.
type InstanceAPI interface {
	DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error)
	DeleteInstances(ctx context.Context, in ecsapi.DeleteInput) (ecsapi.DeleteOutput, error)
}

// Release releases instances with DeleteInstances, in batches of up to 100
// that share their flags (TerminateSubscription, Force).
type Release struct {
	API   InstanceAPI
	Scope cloud.Scope
	// RunID identifies the run in ClientTokens.
	RunID string
	// ForceStop is sent with Force=true batches.
	ForceStop bool
	// Rules and Lifecycle re-decide a re-read instance.
	Rules     decide.Rules
	Lifecycle decide.Lifecycle
}

var _ execute.Operation[decide.Flags, cloud.Instance] = (*Release)(nil)

// Action implements execute.Operation.
func (r *Release) Action() string { return ecsapi.ActionDeleteInstances }

// BatchLimit implements execute.Operation.
func (r *Release) BatchLimit() int { return ecsapi.MaxDeleteIDs }

// NativeDryRun implements execute.Operation: DeleteInstances takes DryRun
// and answers DRYRUN.SUCCESS.
func (r *Release) NativeDryRun() bool { return true }

// Token implements execute.Operation.
func (r *Release) Token(flags decide.Flags, ids []string, dryRun bool) string {
	return ClientToken(r.RunID, r.Scope.Region, flags, r.ForceStop, dryRun, ids)
}

// Send implements execute.Operation.
func (r *Release) Send(ctx context.Context, req execute.Request[decide.Flags]) (execute.Answer, error) {
	out, err := r.API.DeleteInstances(ctx, ecsapi.DeleteInput{
		Region:                r.Scope.Region,
		InstanceIDs:           req.IDs,
		TerminateSubscription: req.Params.TerminateSubscription,
		Force:                 req.Params.Force,
		ForceStop:             r.ForceStop,
		DryRun:                req.DryRun,
		ClientToken:           req.Token,
	})
	return execute.Answer{RequestID: out.RequestID, DryRunPassed: out.DryRunPassed}, err
}

// RereadAction implements execute.Operation.
func (r *Release) RereadAction() string { return ecsapi.ActionDescribeInstances }

// RereadLimit implements execute.Operation.
func (r *Release) RereadLimit() int { return ecsapi.MaxDescribeIDs }

// Reread implements execute.Operation.
func (r *Release) Reread(ctx context.Context, ids []string) ([]cloud.Instance, error) {
	page, err := r.API.DescribeInstances(ctx, ecsapi.DescribeInput{Region: r.Scope.Region, InstanceIDs: ids,
		MaxResults: ecsapi.MaxPageSize, TagKeys: TagKeys(r.Rules, r.Lifecycle)})
	return page.Instances, err
}

// Recheck implements execute.Operation: only an instance still eligible,
// with the same flags, in the region asked, is released.
func (r *Release) Recheck(inst cloud.Instance, flags decide.Flags, now time.Time) execute.Verdict {
	d, _ := decide.DecideIn(inst, r.Scope.Region, r.Rules, r.Lifecycle.DecideNow(now), "re-read")
	if d.Release && d.Flags != flags {
		return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged,
			Detail: "now needs flags " + flagKey(d.Flags) + "; the next run releases it"}
	}
	if !d.Release {
		return execute.Verdict{Outcome: verdict.Skipped, Reason: d.Reason, Detail: "changed since listing: " + d.Detail}
	}
	return recheck(inst, r.Scope.Region, r.Rules, r.Lifecycle, now, decide.StepRelease, func(decide.Plan) bool { return true })
}

// Done implements execute.Operation.
func (r *Release) Done(dryRun bool) verdict.Outcome {
	if dryRun {
		return verdict.WouldRelease
	}
	return verdict.Released
}

// Describe implements execute.Operation.
func (r *Release) Describe(b *report.Batch, flags decide.Flags) {
	b.Flags = &flags
	if flags.Force {
		forceStop := r.ForceStop
		b.ForceStop = &forceStop
	}
}

// TagKeys are the only tags the rules and the lifecycle read; the others
// are not kept.
func TagKeys(rules decide.Rules, lc decide.Lifecycle) []string {
	keys := []string{rules.OptInKey, rules.KeepKey}
	for _, k := range []string{lc.OwnerKey, lc.MarkKey, lc.StopMarkKey} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

func flagKey(f decide.Flags) string { return fmt.Sprintf("%t/%t", f.TerminateSubscription, f.Force) }

// ClientToken derives the DeleteInstances idempotency token from the run's
// identity and the batch: the same run sending the same batch sends the same
// token, so FC's retries and overlapping invocations of one tick are
// harmless. 64 ASCII characters at most, as the API requires.
func ClientToken(runID, region string, flags decide.Flags, forceStop, dryRun bool, ids []string) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%t\n%t\n%t\n%t\n", runID, region, flags.TerminateSubscription, flags.Force, forceStop && flags.Force, dryRun)
	for _, id := range sorted {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return "ecs-reaper-" + hex.EncodeToString(h.Sum(nil))[:48]
}
