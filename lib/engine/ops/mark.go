package ops

import (
	"context"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// TagAPI is what writing a mark needs from a scope's ECS API.
type TagAPI interface {
	DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error)
	TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error)
}

// MarkParams is one mark: the tag key and its value (the notice time,
// signed for one resource: package mark).
type MarkParams struct{ Key, Value string }

// Mark writes the notice mark with TagResources right after the owner's
// notice was delivered. A mark is signed for its instance, so no two
// instances share a value: one instance a call. Tagging overwrites the key, so a
// retry is harmless without a token; TagResources has no dry run, so a dry
// run writes nothing and reports the mark it would write.
type Mark struct {
	API       TagAPI
	Scope     cloud.Scope
	Rules     decide.Rules
	Lifecycle decide.Lifecycle
	// StopMark: the mark is a fresh stop mark replacing one that did not
	// verify (decide.StepMarkStopped); the instance is kept (skipped)
	// while its stop grace starts again, and written only while its fresh
	// plan is still that step.
	StopMark bool
}

var _ execute.Operation[MarkParams, cloud.Instance] = (*Mark)(nil)

// Action implements execute.Operation.
func (m *Mark) Action() string { return ecsapi.ActionTagResources }

// BatchLimit implements execute.Operation.
func (m *Mark) BatchLimit() int { return 1 }

// NativeDryRun implements execute.Operation.
func (m *Mark) NativeDryRun() bool { return false }

// Token implements execute.Operation: TagResources takes none.
func (m *Mark) Token(MarkParams, []string, bool) string { return "" }

// Send implements execute.Operation.
func (m *Mark) Send(ctx context.Context, req execute.Request[MarkParams]) (execute.Answer, error) {
	out, err := m.API.TagResources(ctx, ecsapi.TagInput{Region: m.Scope.Region, InstanceIDs: req.IDs,
		Tags: map[string]string{req.Params.Key: req.Params.Value}})
	return execute.Answer{RequestID: out.RequestID}, err
}

// RereadAction implements execute.Operation.
func (m *Mark) RereadAction() string { return ecsapi.ActionDescribeInstances }

// RereadLimit implements execute.Operation.
func (m *Mark) RereadLimit() int { return ecsapi.MaxDescribeIDs }

// Reread implements execute.Operation.
func (m *Mark) Reread(ctx context.Context, ids []string) ([]cloud.Instance, error) {
	page, err := m.API.DescribeInstances(ctx, ecsapi.DescribeInput{Region: m.Scope.Region, InstanceIDs: ids,
		MaxResults: ecsapi.MaxPageSize, TagKeys: TagKeys(m.Rules, m.Lifecycle)})
	return page.Instances, err
}

// Recheck implements execute.Operation: a delivered notice is recorded on
// every instance that still exists in the region; a mark is harmless.
func (m *Mark) Recheck(inst cloud.Instance, _ MarkParams, now time.Time) execute.Verdict {
	if m.StopMark {
		return recheck(inst, m.Scope.Region, m.Rules, m.Lifecycle, now, decide.StepMarkStopped, func(decide.Plan) bool { return true })
	}
	if inst.Region != m.Scope.Region {
		return execute.Verdict{Outcome: verdict.Skipped, Reason: verdict.InvalidData, Detail: "re-read in " + m.Scope.Region + " but reports region " + inst.Region}
	}
	return execute.Verdict{Keep: true}
}

// Done implements execute.Operation.
func (m *Mark) Done(dryRun bool) verdict.Outcome {
	if m.StopMark {
		return verdict.Skipped // kept: the stop grace starts again
	}
	if dryRun {
		return verdict.WouldNotify
	}
	return verdict.Notified
}

// Describe implements execute.Operation.
func (m *Mark) Describe(b *report.Batch, p MarkParams) {
	b.Tags = map[string]string{p.Key: mark.Shown(p.Value)}
}
