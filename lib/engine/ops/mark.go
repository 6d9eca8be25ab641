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

// TagAPI is what writing a mark on an instance needs.
type TagAPI interface {
	TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error)
}

// MarkParams is one mark: the tag key and its value (the notice time,
// signed for one resource: package mark).
type MarkParams struct{ Key, Value string }

// Mark writes the notice mark with TagResources right after the owner's
// notice was delivered. A mark is signed for its instance, so no two
// instances share a value: one instance a call. Tagging overwrites the
// key, so a retry is harmless without a token; TagResources has no dry
// run, so a dry run writes nothing and reports the mark it would write.
// A delivered notice is recorded on every instance that still exists in
// the region; a mark is harmless.
func Mark(in Instances, api TagAPI) execute.Op[MarkParams, cloud.Instance] {
	o := op[MarkParams](in, ecsapi.ActionTagResources)
	o.Done, o.WouldDone = verdict.Notified, verdict.WouldNotify
	o.Send = func(ctx context.Context, req execute.Request[MarkParams]) (execute.Answer, error) {
		out, err := api.TagResources(ctx, ecsapi.TagInput{Region: in.Scope.Region, InstanceIDs: req.IDs,
			Tags: map[string]string{req.Params.Key: req.Params.Value}})
		return execute.Answer{RequestID: out.RequestID}, err
	}
	o.Recheck = func(inst cloud.Instance, _ MarkParams, _ time.Time) execute.Verdict {
		if inst.Region != in.Scope.Region {
			return execute.Verdict{Outcome: verdict.Skipped, Reason: verdict.InvalidData, Detail: "re-read in " + in.Scope.Region + " but reports region " + inst.Region}
		}
		return execute.Verdict{Keep: true}
	}
	o.Describe = describeMark
	return o
}

func describeMark(b *report.Batch, p MarkParams) { b.Tags = map[string]string{p.Key: p.Value} }

// RestampStop writes a fresh stop mark replacing one that did not verify
// (decide.StepMarkStopped): the instance is kept (skipped) while its stop
// grace starts again, and written only while its fresh plan is still that
// step.
func RestampStop(in Instances, api TagAPI) execute.Op[MarkParams, cloud.Instance] {
	o := Mark(in, api)
	o.Done, o.WouldDone = verdict.Skipped, verdict.Skipped
	o.Recheck = func(inst cloud.Instance, _ MarkParams, now time.Time) execute.Verdict {
		return in.recheck(inst, now, decide.StepMarkStopped)
	}
	return o
}
