// Package ops holds the engine's writes as values (execute.Op): each says
// its API call, its batch limit, its re-read and how a re-read resource
// still warrants it; retries, freshness, isolation, halving, the deadline
// and the dry run live in the executor, once.
package ops

import (
	"context"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Describer re-reads instances by ID.
type Describer interface {
	DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error)
}

// Instances is what every instance write shares: the scope's API and the
// rules and lifecycle that re-decide a re-read instance.
type Instances struct {
	API       Describer
	Scope     cloud.Scope
	Rules     decide.Rules
	Lifecycle decide.Lifecycle
}

// op starts an instance write: its re-read is DescribeInstances by ID.
func op[P comparable](in Instances, action string) execute.Op[P, cloud.Instance] {
	return execute.Op[P, cloud.Instance]{
		Action:       action,
		RereadAction: ecsapi.ActionDescribeInstances,
		RereadLimit:  ecsapi.MaxDescribeIDs,
		Reread: func(ctx context.Context, ids []string) ([]cloud.Instance, error) {
			page, err := in.API.DescribeInstances(ctx, ecsapi.DescribeInput{Region: in.Scope.Region, InstanceIDs: ids,
				MaxResults: ecsapi.MaxPageSize, TagKeys: TagKeys(in.Rules, in.Lifecycle)})
			return page.Instances, err
		},
	}
}

// recheck re-plans a re-read instance: it still warrants the write when
// its fresh plan is step.
func (in Instances) recheck(inst cloud.Instance, now time.Time, step decide.Step) execute.Verdict {
	d, _ := decide.DecideIn(inst, in.Scope.Region, in.Rules, in.Lifecycle.DecideNow(now), "re-read")
	p := decide.PlanLifecycle(d, inst, in.Lifecycle, now)
	switch {
	case p.Step == step:
		return execute.Verdict{Keep: true}
	case p.Step == decide.StepSkip || p.Step == decide.StepWait:
		return execute.Verdict{Outcome: verdict.Skipped, Reason: p.Reason, Detail: "changed since listing: " + p.Detail}
	}
	return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged,
		Detail: "changed since listing: " + stepName(p.Step) + " now; the next run does it"}
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

// One sends a one-ID call (DeleteDisk, DeleteSnapshot, ReleaseEipAddress):
// for an Op whose BatchLimit is 1.
func One[P comparable](call func(ctx context.Context, id string) (requestID string, err error)) func(context.Context, execute.Request[P]) (execute.Answer, error) {
	return func(ctx context.Context, req execute.Request[P]) (execute.Answer, error) {
		id, err := call(ctx, req.IDs[0])
		return execute.Answer{RequestID: id}, err
	}
}
