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

// StopAPI is what stopping needs beyond the re-read.
type StopAPI interface {
	TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error)
	StopInstances(ctx context.Context, in ecsapi.StopInput) (ecsapi.StopOutput, error)
}

// StoppedMode is the stop mode: KeepCharging (the standard mode) keeps the
// instance's resources, so that an owner who starts it again during the
// grace always can; StopCharging could fail to start for lack of stock.
const StoppedMode = "KeepCharging"

// Stop stops due Running instances (REAPER_RUNNING=stop) with StopInstances
// in batches of up to 100: a graceful stop (ForceStop=false) in
// StoppedMode, all together, with its native dry run. StopInstances takes
// no token; stopping a stopped instance is refused, and a re-read comes
// first. Before each stop it writes the stop mark (mark(id), signed for
// the instance: one TagResources each, counted on count), so that a stop
// that happened is never without one.
func Stop(in Instances, api StopAPI, count call.Counter, mark func(id string) string) execute.Op[struct{}, cloud.Instance] {
	o := op[struct{}](in, ecsapi.ActionStopInstances)
	o.BatchLimit, o.NativeDryRun = ecsapi.MaxStopIDs, true
	o.Done, o.WouldDone = verdict.Stopped, verdict.WouldStop
	o.Send = func(ctx context.Context, req execute.Request[struct{}]) (execute.Answer, error) {
		if !req.DryRun {
			for _, id := range req.IDs {
				count.Call(ecsapi.ActionTagResources)
				tags := map[string]string{in.Lifecycle.StopMarkKey: mark(id)}
				if _, err := api.TagResources(ctx, ecsapi.TagInput{Region: in.Scope.Region, InstanceIDs: []string{id}, Tags: tags}); err != nil {
					return execute.Answer{}, err
				}
			}
		}
		out, err := api.StopInstances(ctx, ecsapi.StopInput{Region: in.Scope.Region, InstanceIDs: req.IDs,
			StoppedMode: StoppedMode, DryRun: req.DryRun})
		return execute.Answer{RequestID: out.RequestID, DryRunPassed: out.DryRunPassed}, err
	}
	// Only an instance whose fresh plan is still a stop is stopped.
	o.Recheck = func(inst cloud.Instance, _ struct{}, now time.Time) execute.Verdict {
		return in.recheck(inst, now, decide.StepStop)
	}
	o.Describe = func(b *report.Batch, _ struct{}) { b.StoppedMode = StoppedMode }
	return o
}
