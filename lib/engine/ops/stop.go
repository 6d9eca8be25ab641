package ops

import (
	"context"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// StopAPI is what stopping needs from a scope's ECS API.
type StopAPI interface {
	TagAPI
	StopInstances(ctx context.Context, in ecsapi.StopInput) (ecsapi.StopOutput, error)
}

// StoppedMode is the stop mode: KeepCharging (the standard mode) keeps the
// instance's resources, so that an owner who starts it again during the
// grace always can; StopCharging could fail to start for lack of stock.
const StoppedMode = "KeepCharging"

// Stop stops due Running instances (REAPER_RUNNING=stop) with StopInstances
// in batches of up to 100: a graceful stop (ForceStop=false) in
// StoppedMode, all together. Before each stop it writes the stop mark
// (the time), so that a stop that happened is never without one: the
// release waits until the instance has stayed stopped for the grace. Each
// instance's mark is signed for it, so each takes its own TagResources.
type Stop struct {
	API       StopAPI
	Scope     cloud.Scope
	Rules     decide.Rules
	Lifecycle decide.Lifecycle
	// Count counts the TagResources calls Send makes before the stop.
	Count call.Counter
	// Mark is the stop mark's value on an instance (signed: package mark).
	Mark func(id string) string
}

var _ execute.Operation[struct{}, cloud.Instance] = (*Stop)(nil)

// Action implements execute.Operation.
func (s *Stop) Action() string { return ecsapi.ActionStopInstances }

// BatchLimit implements execute.Operation.
func (s *Stop) BatchLimit() int { return ecsapi.MaxStopIDs }

// NativeDryRun implements execute.Operation: StopInstances takes DryRun.
func (s *Stop) NativeDryRun() bool { return true }

// Token implements execute.Operation: StopInstances takes none; stopping a
// stopped instance is refused, and a re-read comes first.
func (s *Stop) Token(struct{}, []string, bool) string { return "" }

// Send implements execute.Operation.
func (s *Stop) Send(ctx context.Context, req execute.Request[struct{}]) (execute.Answer, error) {
	if !req.DryRun {
		for _, id := range req.IDs {
			s.Count.Call(ecsapi.ActionTagResources)
			mark := map[string]string{s.Lifecycle.StopMarkKey: s.Mark(id)}
			if _, err := s.API.TagResources(ctx, ecsapi.TagInput{Region: s.Scope.Region, InstanceIDs: []string{id}, Tags: mark}); err != nil {
				return execute.Answer{}, err
			}
		}
	}
	out, err := s.API.StopInstances(ctx, ecsapi.StopInput{Region: s.Scope.Region, InstanceIDs: req.IDs,
		StoppedMode: StoppedMode, DryRun: req.DryRun})
	return execute.Answer{RequestID: out.RequestID, DryRunPassed: out.DryRunPassed}, err
}

// RereadAction implements execute.Operation.
func (s *Stop) RereadAction() string { return ecsapi.ActionDescribeInstances }

// RereadLimit implements execute.Operation.
func (s *Stop) RereadLimit() int { return ecsapi.MaxDescribeIDs }

// Reread implements execute.Operation.
func (s *Stop) Reread(ctx context.Context, ids []string) ([]cloud.Instance, error) {
	page, err := s.API.DescribeInstances(ctx, ecsapi.DescribeInput{Region: s.Scope.Region, InstanceIDs: ids,
		MaxResults: ecsapi.MaxPageSize, TagKeys: TagKeys(s.Rules, s.Lifecycle)})
	return page.Instances, err
}

// Recheck implements execute.Operation: only an instance whose fresh plan
// is still a stop is stopped.
func (s *Stop) Recheck(inst cloud.Instance, _ struct{}, now time.Time) execute.Verdict {
	return recheck(inst, s.Scope.Region, s.Rules, s.Lifecycle, now, decide.StepStop, func(decide.Plan) bool { return true })
}

// Done implements execute.Operation.
func (s *Stop) Done(dryRun bool) verdict.Outcome {
	if dryRun {
		return verdict.WouldStop
	}
	return verdict.Stopped
}

// Describe implements execute.Operation.
func (s *Stop) Describe(b *report.Batch, _ struct{}) { b.StoppedMode = StoppedMode }

// recheck re-plans a re-read instance: it still warrants the write when
// its fresh plan is the same step and same says so.
func recheck(inst cloud.Instance, region string, rules decide.Rules, lc decide.Lifecycle, now time.Time, step decide.Step, same func(decide.Plan) bool) execute.Verdict {
	d, _ := decide.DecideIn(inst, region, rules, lc.DecideNow(now), "re-read")
	p := decide.PlanLifecycle(d, inst, lc, now)
	switch {
	case p.Step == step && same(p):
		return execute.Verdict{Keep: true}
	case p.Step == decide.StepSkip || p.Step == decide.StepWait:
		return execute.Verdict{Outcome: verdict.Skipped, Reason: p.Reason, Detail: "changed since listing: " + p.Detail}
	}
	return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged,
		Detail: "changed since listing: " + stepName(p.Step) + " now; the next run does it"}
}

func stepName(s decide.Step) string {
	switch s {
	case decide.StepNotify:
		return "a notice is due"
	case decide.StepStop:
		return "a stop is due"
	case decide.StepRelease:
		return "a release is due"
	case decide.StepMarkStopped:
		return "its stop mark does not verify"
	}
	return "nothing is due"
}
