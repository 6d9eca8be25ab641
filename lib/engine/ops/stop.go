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

// Stopper is what stopping needs beyond the re-read.
type Stopper interface {
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
// first. Only instances whose stop mark was written (StopMark) are given
// to it.
func Stop(in Instances, api Stopper) execute.Op[struct{}, cloud.Instance] {
	o := op[struct{}](in, ecsapi.ActionStopInstances)
	o.BatchLimit, o.NativeDryRun = ecsapi.MaxStopIDs, true
	o.Done, o.WouldDone = verdict.Stopped, verdict.WouldStop
	o.Send = func(ctx context.Context, req execute.Request[struct{}]) (execute.Answer, error) {
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
