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
// ResourceType, or EIP for the VPC API's TagResources.
type ResourceType string

// The resource types the reaper tags.
const (
	TypeInstance ResourceType = "instance"
	TypeDisk     ResourceType = "disk"
	TypeSnapshot ResourceType = "snapshot"
	TypeEIP      ResourceType = "eip"
)

// Tagger writes tags: ECS's TagResources, and the VPC API's for EIPs.
type Tagger interface {
	TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error)
	TagEIPs(ctx context.Context, region string, allocationIDs []string, tags map[string]string) (string, error)
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
	o := execute.Op[MarkParams, R]{
		Action: ecsapi.ActionTagResources,
		Send: func(ctx context.Context, req execute.Request[MarkParams]) (execute.Answer, error) {
			tags := map[string]string{req.Params.Key: req.Params.Value}
			if t == TypeEIP {
				id, err := api.TagEIPs(ctx, region, req.IDs, tags)
				return execute.Answer{RequestID: id}, err
			}
			in := ecsapi.TagInput{Region: region, InstanceIDs: req.IDs, Tags: tags}
			if t != TypeInstance {
				in.ResourceType = string(t)
			}
			out, err := api.TagResources(ctx, in)
			return execute.Answer{RequestID: out.RequestID}, err
		},
		Done: verdict.Notified, WouldDone: verdict.WouldNotify,
		Describe: func(b *report.Batch, p MarkParams) { b.Tags = map[string]string{p.Key: mark.Shown(p.Value)} },
	}
	if t == TypeEIP {
		o.Action = ecsapi.ActionTagEIPs
	}
	return o
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
