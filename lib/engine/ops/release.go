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

// Deleter is what the release needs beyond the re-read.
type Deleter interface {
	DeleteInstances(ctx context.Context, in ecsapi.DeleteInput) (ecsapi.DeleteOutput, error)
}

// Release releases instances with DeleteInstances, in batches of up to 100
// that share their flags (TerminateSubscription, Force), with its native
// dry run. runID identifies the run in ClientTokens; forceStop is sent
// with Force=true batches.
func Release(in Instances, api Deleter, runID string, forceStop bool) execute.Op[decide.Flags, cloud.Instance] {
	o := op[decide.Flags](in, ecsapi.ActionDeleteInstances)
	o.BatchLimit, o.NativeDryRun = ecsapi.MaxDeleteIDs, true
	o.Done, o.WouldDone = verdict.Released, verdict.WouldRelease
	o.Token = func(flags decide.Flags, ids []string, dryRun bool) string {
		return ClientToken(runID, in.Scope.Region, flags, forceStop, dryRun, ids)
	}
	o.Send = func(ctx context.Context, req execute.Request[decide.Flags]) (execute.Answer, error) {
		out, err := api.DeleteInstances(ctx, ecsapi.DeleteInput{Region: in.Scope.Region, InstanceIDs: req.IDs,
			TerminateSubscription: req.Params.TerminateSubscription, Force: req.Params.Force, ForceStop: forceStop,
			DryRun: req.DryRun, ClientToken: req.Token})
		return execute.Answer{RequestID: out.RequestID, DryRunPassed: out.DryRunPassed}, err
	}
	// Only an instance still eligible, with the same flags, in the region
	// asked, is released.
	o.Recheck = func(inst cloud.Instance, flags decide.Flags, now time.Time) execute.Verdict {
		d, _ := decide.DecideIn(inst, in.Scope.Region, in.Rules, in.Lifecycle.DecideNow(now), "re-read")
		if d.Release && d.Flags != flags {
			return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged,
				Detail: "now needs flags " + flagKey(d.Flags) + "; the next run releases it"}
		}
		if !d.Release {
			return execute.Verdict{Outcome: verdict.Skipped, Reason: d.Reason, Detail: "changed since listing: " + d.Detail}
		}
		return in.recheck(inst, now, decide.StepRelease)
	}
	o.Describe = func(b *report.Batch, flags decide.Flags) {
		b.Flags = &flags
		if flags.Force {
			b.ForceStop = &forceStop
		}
	}
	return o
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
