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

// ResourceType is what a tag write names: the ECS TagResources
// ResourceType (each kind names its own: package kinds).
type ResourceType string

// TypeInstance is the instances' resource type.
const TypeInstance ResourceType = "instance"

// Tagger writes tags with ECS's TagResources.
type Tagger interface {
	TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error)
}

// MarkParams is one mark: the tag key and its value (a time, signed for
// one resource: package mark).
type MarkParams struct{ Key, Value string }

// Tag is the one tag write, over a resource type: every mark the reaper
// writes (the notice, the stop, an EIP's hand-over) is a Tag. A mark is
// signed for its resource, so no two share a value: one resource a call.
// Tagging overwrites the key, so a retry is harmless without a token;
// TagResources has no dry run, so a dry run writes nothing and reports the
// mark it would write. Its outcomes are the notice mark's; the caller
// sets the re-read, and whatever else differs.
func Tag[R execute.Resource](api Tagger, region string, t ResourceType) execute.Op[MarkParams, R] {
	return TagWith[R](ecsapi.ActionTagResources, func(ctx context.Context, ids []string, tags map[string]string) (string, error) {
		in := ecsapi.TagInput{Region: region, InstanceIDs: ids, Tags: tags}
		if t != TypeInstance {
			in.ResourceType = string(t)
		}
		out, err := api.TagResources(ctx, in)
		return out.RequestID, err
	})
}

// TagWith is Tag through any API's tag call (a kind's own: ECS's
// TagResources with its resource type, the VPC API's for EIPs), named
// action in the report.
func TagWith[R execute.Resource](action string, tag func(ctx context.Context, ids []string, tags map[string]string) (string, error)) execute.Op[MarkParams, R] {
	return execute.Op[MarkParams, R]{
		Action: action,
		Send: func(ctx context.Context, req execute.Request[MarkParams]) (execute.Answer, error) {
			id, err := tag(ctx, req.IDs, map[string]string{req.Params.Key: req.Params.Value})
			return execute.Answer{RequestID: id}, err
		},
		Done: verdict.Notified, WouldDone: verdict.WouldNotify,
		Describe: func(b *report.Batch, p MarkParams) { b.Tags = map[string]string{p.Key: mark.Shown(p.Value)} },
	}
}

// instanceTag is the tag write on instances, re-read by DescribeInstances.
func instanceTag(in Instances, api Tagger) execute.Op[MarkParams, cloud.Instance] {
	o := Tag[cloud.Instance](api, in.Scope.Region, TypeInstance)
	read := op[MarkParams](in, "")
	o.RereadAction, o.RereadLimit, o.Reread = read.RereadAction, read.RereadLimit, read.Reread
	return o
}

// Mark writes the notice mark right after the owner's notice was
// delivered. A delivered notice is recorded on every instance that still
// exists in the region; a mark is harmless.
func Mark(in Instances, api Tagger) execute.Op[MarkParams, cloud.Instance] {
	o := instanceTag(in, api)
	o.Recheck = func(inst cloud.Instance, _ MarkParams, _ time.Time) execute.Verdict {
		if inst.Region != in.Scope.Region {
			return execute.Verdict{Outcome: verdict.Skipped, Reason: verdict.InvalidData, Detail: "re-read in " + in.Scope.Region + " but reports region " + inst.Region}
		}
		return execute.Verdict{Keep: true}
	}
	return o
}

// StopMark writes the stop mark (the time) as its own step before the
// stop, so that a stop that happened is never without one: the release
// waits until the instance has stayed stopped for the grace. Only an
// instance whose fresh plan is still a stop is marked; the stop that
// follows records the instances.
func StopMark(in Instances, api Tagger) execute.Op[MarkParams, cloud.Instance] {
	o := instanceTag(in, api)
	o.Name, o.Done, o.WouldDone = "stop mark", "", ""
	o.Recheck = func(inst cloud.Instance, _ MarkParams, now time.Time) execute.Verdict {
		return in.recheck(inst, now, decide.StepStop)
	}
	return o
}

// RestampStop writes a fresh stop mark replacing one that did not verify
// (decide.StepMarkStopped): the instance is kept (skipped) while its stop
// grace starts again, and written only while its fresh plan is still that
// step.
func RestampStop(in Instances, api Tagger) execute.Op[MarkParams, cloud.Instance] {
	o := instanceTag(in, api)
	o.Done, o.WouldDone = verdict.Skipped, verdict.Skipped
	o.Recheck = func(inst cloud.Instance, _ MarkParams, now time.Time) execute.Verdict {
		return in.recheck(inst, now, decide.StepMarkStopped)
	}
	return o
}
