package engine

import (
	"context"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// sweptKinds are the kinds the run sweeps, in the list's order; an
// unknown name is a kind no client supports.
func (e *Engine) sweptKinds() []kinds.Kind {
	var out []kinds.Kind
	for _, k := range kinds.All {
		for _, name := range e.opts.Resources {
			if name == k.Name {
				out = append(out, k)
			}
		}
	}
	return out
}

// unknownKind is a REAPER_RESOURCES word no kind has (settings refuse it;
// a caller of the engine may not).
func (e *Engine) unknownKind() string {
	for _, name := range e.opts.Resources {
		if _, ok := kinds.Named(name); !ok {
			return name
		}
	}
	return ""
}

// discoverResources plans the scope's resources of every kind swept. A
// listing that fails, or a client that lacks a kind, closes the scope:
// nothing is released there.
func (e *Engine) discoverResources(ctx context.Context, sr *scopeRun) {
	if name := e.unknownKind(); name != "" {
		e.closeScope(sr, name, &verdict.Failure{Code: kinds.CodeUnsupported, Message: "no kind of resource is called " + name})
		return
	}
	for _, kind := range e.sweptKinds() {
		if !kind.Supports(sr.API) {
			e.closeScope(sr, kind.Name, kinds.Unsupported(kind))
			return
		}
		items, f := kind.Listing(ctx, sr.API, sr.c, sr.Scope.Region, e.opts.Rules.OptInKey, e.opts.Rules)
		if f != nil {
			f.Message = kind.Name + ": " + f.Message
			e.closeScope(sr, kind.Name, f)
			return
		}
		rec := sr.rec.Section(kind.Name)
		now := e.opts.Now()
		for _, it := range items {
			d := decide.DecideResource(it.Decision(), e.opts.Rules, sr.lc.DecideNow(now))
			p := sr.plan.AddResource(kind.Name, it.ID, it.Name, it.Tags, d, now)
			if it.Leaves != "" {
				if sr.leaves == nil {
					sr.leaves = map[string]string{}
				}
				sr.leaves[it.ID] = it.Leaves
			}
			if p.Step == decide.StepSkip || p.Step == decide.StepWait {
				item := report.Item{ID: it.ID, Detail: p.Detail, Owner: p.Owner}
				if !p.NotifiedAt.IsZero() {
					item.NotifiedAt = report.Time(p.NotifiedAt)
				}
				rec.Outcome(verdict.Skipped, p.Reason, item)
			}
		}
	}
}

// closeScope closes a scope whose resource listing of kind cannot be
// trusted.
func (e *Engine) closeScope(sr *scopeRun, kind string, f *verdict.Failure) {
	sr.plan.Closed, sr.closed = true, f
	sr.rec.Fail(f)
	e.log.Error("region closed: a resource listing is incomplete, nothing will be released here", "region", sr.Scope.Region,
		"kind", kind, "code", f.Code, "message", f.Message)
}

// executeResources writes the scope's resource plan (the notices wrote
// their own marks): the deletes, each kind through the one executor.
func (e *Engine) executeResources(ctx context.Context, sr *scopeRun) {
	for _, kind := range e.sweptKinds() {
		rec := sr.rec.Section(kind.Name)
		r := sr.plan.Resources[kind.Name]
		if r == nil || len(r.Eligible) == 0 {
			continue
		}
		items := make([]execute.Item[struct{}], len(r.Eligible))
		for i, c := range r.Eligible {
			detail := c.Detail
			if leaves := sr.leaves[c.ID]; leaves != "" {
				detail += "; " + leaves
			}
			items[i] = execute.Item[struct{}]{ID: c.ID, Detail: detail, ReadAt: c.ReadAt, Base: base(c)}
		}
		r.Eligible = nil
		execute.New(e.deleteOp(sr, kind), sr.c, rec, e.executeOptions(func(c *Confirmation) map[string]bool { return c.Resources[kind.Name] })).Run(ctx, items)
	}
}

// recheckResource re-decides a re-read resource: still due, nothing
// holding it.
func (e *Engine) recheckResource(it kinds.Resource, now time.Time) execute.Verdict {
	return e.recheckResourceIn(e.opts.Lifecycle, it, now)
}

// recheckResourceIn is recheckResource under a scope's lifecycle (its API
// clock).
func (e *Engine) recheckResourceIn(lc decide.Lifecycle, it kinds.Resource, now time.Time) execute.Verdict {
	d := decide.DecideResource(it.Decision(), e.opts.Rules, lc.DecideNow(now))
	lc.Stop = false
	p := decide.PlanLifecycle(d, cloud.Instance{ID: it.ID, Tags: it.Tags, Status: decide.StatusStopped}, lc, now)
	switch {
	case p.Step == decide.StepRelease:
		return execute.Verdict{Keep: true}
	case p.Step == decide.StepSkip || p.Step == decide.StepWait:
		return execute.Verdict{Outcome: verdict.Skipped, Reason: p.Reason, Detail: "changed since listing: " + p.Detail}
	}
	return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged, Detail: "changed since listing: a notice is due"}
}

// deleteOp is a kind's delete, one resource a call.
func (e *Engine) deleteOp(sr *scopeRun, kind kinds.Kind) execute.Op[struct{}, kinds.Resource] {
	region := sr.Scope.Region
	return execute.Op[struct{}, kinds.Resource]{Action: kind.DeleteAction,
		RereadAction: kind.ReadAction, RereadLimit: kind.ReadLimit,
		Reread: e.reread(sr, kind),
		Recheck: func(r kinds.Resource, _ struct{}, now time.Time) execute.Verdict {
			return e.recheckResourceIn(sr.lc, r, now)
		},
		Send: ops.One[struct{}](func(ctx context.Context, id string) (string, error) {
			return kind.Delete(ctx, sr.API, region, id)
		}),
		Done: verdict.Released, WouldDone: verdict.WouldRelease,
	}
}

// tagOp is the notice mark's write on a kind of resource.
func (e *Engine) tagOp(sr *scopeRun, kind kinds.Kind) execute.Op[ops.MarkParams, kinds.Resource] {
	region := sr.Scope.Region
	op := ops.TagWith[kinds.Resource](kind.TagAction, func(ctx context.Context, ids []string, tags map[string]string) (string, error) {
		return kind.Mark(ctx, sr.API, region, ids, tags)
	})
	op.RereadAction, op.RereadLimit, op.Reread = kind.ReadAction, kind.ReadLimit, e.reread(sr, kind)
	return op
}

// reread is a kind's re-read by ID in the scope.
func (e *Engine) reread(sr *scopeRun, kind kinds.Kind) func(ctx context.Context, ids []string) ([]kinds.Resource, error) {
	return func(ctx context.Context, ids []string) ([]kinds.Resource, error) {
		return kind.Read(ctx, sr.API, sr.Scope.Region, ids, e.opts.Rules)
	}
}
