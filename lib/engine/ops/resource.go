package ops

import (
	"context"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// DeleteOne deletes resources whose API takes one ID per call (DeleteDisk,
// DeleteSnapshot, ReleaseEipAddress for EIPs swept by their own tag): the
// executor runs them under the scope's throttling-adaptive concurrency,
// with a re-read before every attempt whose data outgrew the window. None
// of these APIs has a dry run: a dry run sends nothing.
type DeleteOne[R execute.Resource] struct {
	ActionName, ReadAction string
	ReadLimit              int
	Delete                 func(ctx context.Context, id string) (requestID string, err error)
	Read                   func(ctx context.Context, ids []string) ([]R, error)
	// Check re-decides a re-read resource.
	Check func(r R, now time.Time) execute.Verdict
}

// Action implements execute.Operation.
func (d *DeleteOne[R]) Action() string { return d.ActionName }

// BatchLimit implements execute.Operation.
func (d *DeleteOne[R]) BatchLimit() int { return 1 }

// NativeDryRun implements execute.Operation.
func (d *DeleteOne[R]) NativeDryRun() bool { return false }

// Token implements execute.Operation: these APIs take none.
func (d *DeleteOne[R]) Token(struct{}, []string, bool) string { return "" }

// Send implements execute.Operation.
func (d *DeleteOne[R]) Send(ctx context.Context, req execute.Request[struct{}]) (execute.Answer, error) {
	id, err := d.Delete(ctx, req.IDs[0])
	return execute.Answer{RequestID: id}, err
}

// RereadAction implements execute.Operation.
func (d *DeleteOne[R]) RereadAction() string { return d.ReadAction }

// RereadLimit implements execute.Operation.
func (d *DeleteOne[R]) RereadLimit() int { return d.ReadLimit }

// Reread implements execute.Operation.
func (d *DeleteOne[R]) Reread(ctx context.Context, ids []string) ([]R, error) {
	return d.Read(ctx, ids)
}

// Recheck implements execute.Operation.
func (d *DeleteOne[R]) Recheck(r R, _ struct{}, now time.Time) execute.Verdict {
	return d.Check(r, now)
}

// Done implements execute.Operation.
func (d *DeleteOne[R]) Done(dryRun bool) verdict.Outcome {
	if dryRun {
		return verdict.WouldRelease
	}
	return verdict.Released
}

// Describe implements execute.Operation.
func (d *DeleteOne[R]) Describe(*report.Batch, struct{}) {}

// TagMany writes the notice mark on resources (ECS TagResources with a
// disk or snapshot ResourceType, the VPC API's for EIPs); like Mark, one
// resource a call (each mark is signed for its resource), with the
// engine's own dry run.
type TagMany[R execute.Resource] struct {
	ActionName, ReadAction string
	ReadLimit              int
	Tag                    func(ctx context.Context, ids []string, tags map[string]string) (requestID string, err error)
	Read                   func(ctx context.Context, ids []string) ([]R, error)
}

// Action implements execute.Operation.
func (t *TagMany[R]) Action() string { return t.ActionName }

// BatchLimit implements execute.Operation.
func (t *TagMany[R]) BatchLimit() int { return 1 }

// NativeDryRun implements execute.Operation.
func (t *TagMany[R]) NativeDryRun() bool { return false }

// Token implements execute.Operation.
func (t *TagMany[R]) Token(MarkParams, []string, bool) string { return "" }

// Send implements execute.Operation.
func (t *TagMany[R]) Send(ctx context.Context, req execute.Request[MarkParams]) (execute.Answer, error) {
	id, err := t.Tag(ctx, req.IDs, map[string]string{req.Params.Key: req.Params.Value})
	return execute.Answer{RequestID: id}, err
}

// RereadAction implements execute.Operation.
func (t *TagMany[R]) RereadAction() string { return t.ReadAction }

// RereadLimit implements execute.Operation.
func (t *TagMany[R]) RereadLimit() int { return t.ReadLimit }

// Reread implements execute.Operation.
func (t *TagMany[R]) Reread(ctx context.Context, ids []string) ([]R, error) { return t.Read(ctx, ids) }

// Recheck implements execute.Operation: a delivered notice is recorded on
// every resource that still exists.
func (t *TagMany[R]) Recheck(R, MarkParams, time.Time) execute.Verdict {
	return execute.Verdict{Keep: true}
}

// Done implements execute.Operation.
func (t *TagMany[R]) Done(dryRun bool) verdict.Outcome {
	if dryRun {
		return verdict.WouldNotify
	}
	return verdict.Notified
}

// Describe implements execute.Operation.
func (t *TagMany[R]) Describe(b *report.Batch, p MarkParams) {
	b.Tags = map[string]string{p.Key: mark.Shown(p.Value)}
}
