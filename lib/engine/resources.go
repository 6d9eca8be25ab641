package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/leftover"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Kinds of resource swept by their own opt-in tag (REAPER_RESOURCES),
// beside instances. They name the report's sections too.
const (
	KindDisks     = report.SectionDisks
	KindSnapshots = report.SectionSnapshots
	KindEIPs      = report.SectionEIPs
)

// Kinds is every kind, in the order they are swept.
var Kinds = []string{KindDisks, KindSnapshots, KindEIPs}

// tagFilterCap: a tag filter matches at most 1,000 disks or snapshots; a
// listing that reaches it is not trusted to be complete.
const tagFilterCap = 1000

// listed is a resource as the engine plans it, whatever its kind.
type listed struct {
	id, name, created string
	tags              map[string]string
	// held says why the resource must stay whatever its tags say.
	held       verdict.Reason
	heldDetail string
}

// resource is the record the rules decide.
func (l listed) resource() decide.Resource {
	return decide.Resource{ID: l.id, Tags: l.tags, Created: l.created, Held: l.held, HeldDetail: l.heldDetail}
}

func diskListed(d cloud.Disk) listed {
	l := listed{id: d.ID, created: d.CreationTime, tags: d.Tags}
	switch problem := diskProblem(d); {
	case problem != "":
		l.held, l.heldDetail = verdict.InvalidData, problem
	case d.Type == "system":
		l.held, l.heldDetail = verdict.SystemDisk, "a system disk is never deleted on its own"
	case d.Status != "Available":
		l.held, l.heldDetail = verdict.InUse, "status "+d.Status+" (only an Available disk is deleted)"
	case d.ChargeType == "PrePaid":
		l.held, l.heldDetail = verdict.SubscriptionActive, "a subscription disk goes with its instance"
	}
	return l
}

// diskProblem says why a DescribeDisks answer cannot be trusted: a fact
// the rules read is missing (the SDK decodes a missing field as "") or is
// not a value the API documents. "" when the answer is whole.
func diskProblem(d cloud.Disk) string {
	switch {
	case d.Type != "system" && d.Type != "data":
		return fmt.Sprintf("the API's answer has no usable Type (%q; want system or data)", d.Type)
	case d.Status == "":
		return "the API's answer has no Status"
	case d.Category == "":
		return "the API's answer has no Category"
	case d.ChargeType != decide.ChargePrePaid && d.ChargeType != decide.ChargePostPaid:
		return fmt.Sprintf("the API's answer has no usable DiskChargeType (%q; want PrePaid or PostPaid)", d.ChargeType)
	}
	return ""
}

func snapshotListed(s cloud.Snapshot) listed {
	l := listed{id: s.ID, created: s.CreationTime, tags: s.Tags}
	switch {
	case s.Usage == "":
		l.held, l.heldDetail = verdict.InvalidData, "the API's answer has no Usage"
	case s.Status == "":
		l.held, l.heldDetail = verdict.InvalidData, "the API's answer has no Status"
	case s.Usage != "none":
		l.held, l.heldDetail = verdict.InUse, fmt.Sprintf("used by an image or a disk (Usage=%q): never deleted while used", s.Usage)
	case s.Status != "accomplished":
		l.held, l.heldDetail = verdict.Transitional, "status "+s.Status
	}
	return l
}

func eipListed(e cloud.EIP, rules decide.Rules) listed {
	l := listed{id: e.AllocationID, name: e.Address, created: e.AllocationTime, tags: e.Tags}
	tags := map[string]string{}
	for k, v := range e.Tags {
		if k != rules.KeepKey { // the keep tag is the rules' own check
			tags[k] = v
		}
	}
	if reason, detail := ops.EIPHeld(cloud.EIP{Problem: e.Problem, Tags: tags, DeletionProtection: e.DeletionProtection,
		ChargeType: e.ChargeType, InstanceID: e.InstanceID}, rules); reason != "" {
		if reason == verdict.DecisionChanged {
			reason, detail = verdict.InUse, "bound to "+e.InstanceID
		}
		l.held, l.heldDetail = reason, detail
	} else if e.Status != "Available" {
		l.held, l.heldDetail = verdict.InUse, "status "+e.Status+" (only an Available EIP is released)"
	}
	return l
}

// listKind lists a scope's resources of kind that carry the opt-in tag.
func (e *Engine) listKind(ctx context.Context, sr *scopeRun, kind string) ([]listed, *verdict.Failure) {
	region, key := sr.Scope.Region, e.opts.Rules.OptInKey
	var out []listed
	switch kind {
	case KindEIPs:
		eips, f := leftover.ListEIPs(ctx, sr.API, sr.c, region, key)
		for _, x := range eips {
			out = append(out, eipListed(x, e.opts.Rules))
		}
		return out, f
	case KindDisks:
		disks, f := leftover.ListDisks(ctx, sr.API, sr.c, region, key)
		for _, d := range disks {
			out = append(out, diskListed(d))
		}
		return out, capped(kind, out, f)
	case KindSnapshots:
		snaps, f := leftover.ListSnapshots(ctx, sr.API, sr.c, region, key)
		for _, sn := range snaps {
			out = append(out, snapshotListed(sn))
		}
		return out, capped(kind, out, f)
	}
	return nil, nil
}

// capped fails a tag-filtered listing that reached ECS's cap: it may have
// been cut there, whether or not it says it ended.
func capped(kind string, out []listed, f *verdict.Failure) *verdict.Failure {
	if f == nil && len(out) >= tagFilterCap {
		return &verdict.Failure{Code: ecsapi.CodeBadResponse, Message: fmt.Sprintf("the tag-filtered %s listing reached %d, where ECS may cut it: not trusted to be complete", kind, tagFilterCap)}
	}
	return f
}

func readAction(kind string) string {
	switch kind {
	case KindDisks:
		return ecsapi.ActionDescribeDisks
	case KindSnapshots:
		return ecsapi.ActionDescribeSnapshots
	}
	return ecsapi.ActionDescribeEipAddresses
}

// discoverResources plans the scope's resources of every kind swept. A
// listing that fails closes the scope: nothing is released there.
func (e *Engine) discoverResources(ctx context.Context, sr *scopeRun) {
	for _, kind := range e.opts.Resources {
		items, f := e.listKind(ctx, sr, kind)
		if f != nil {
			f.Message = kind + ": " + f.Message
			sr.plan.Closed, sr.closed = true, f
			sr.rec.Fail(f)
			e.log.Error("region closed: a resource listing is incomplete, nothing will be released here", "region", sr.Scope.Region,
				"kind", kind, "code", f.Code, "message", f.Message)
			return
		}
		rec := sr.rec.Section(kind)
		now := e.opts.Now()
		for _, it := range items {
			d := decide.DecideResource(it.resource(), e.opts.Rules, sr.lc.DecideNow(now))
			p := sr.plan.AddResource(kind, it.id, it.name, it.tags, d, now)
			if p.Step == decide.StepSkip || p.Step == decide.StepWait {
				item := report.Item{ID: it.id, Detail: p.Detail, Owner: p.Owner}
				if !p.NotifiedAt.IsZero() {
					item.NotifiedAt = report.Time(p.NotifiedAt)
				}
				rec.Outcome(verdict.Skipped, p.Reason, item)
			}
		}
	}
}

// executeResources writes the scope's resource plan (the notices wrote
// their own marks): the deletes, each kind through the one executor.
func (e *Engine) executeResources(ctx context.Context, sr *scopeRun) {
	for _, kind := range e.opts.Resources {
		rec := sr.rec.Section(kind)
		r := sr.plan.Resources[kind]
		if r == nil || len(r.Eligible) == 0 {
			continue
		}
		items := make([]execute.Item[struct{}], len(r.Eligible))
		for i, c := range r.Eligible {
			items[i] = execute.Item[struct{}]{ID: c.ID, Detail: c.Detail, ReadAt: c.ReadAt, Base: base(c)}
		}
		r.Eligible = nil
		execute.New(e.deleteOp(sr, kind), sr.c, rec, e.executeOptions(func(c *Confirmation) map[string]bool { return c.Resources[kind] })).Run(ctx, items)
	}
}

// recheck re-decides a re-read resource: still due, nothing holding it.
func (e *Engine) recheckResource(it listed, now time.Time) execute.Verdict {
	return e.recheckResourceIn(e.opts.Lifecycle, it, now)
}

// recheckResourceIn is recheckResource under a scope's lifecycle (its API
// clock).
func (e *Engine) recheckResourceIn(lc decide.Lifecycle, it listed, now time.Time) execute.Verdict {
	d := decide.DecideResource(it.resource(), e.opts.Rules, lc.DecideNow(now))
	lc.Stop = false
	p := decide.PlanLifecycle(d, cloud.Instance{ID: it.id, Tags: it.tags, Status: decide.StatusStopped}, lc, now)
	switch {
	case p.Step == decide.StepRelease:
		return execute.Verdict{Keep: true}
	case p.Step == decide.StepSkip || p.Step == decide.StepWait:
		return execute.Verdict{Outcome: verdict.Skipped, Reason: p.Reason, Detail: "changed since listing: " + p.Detail}
	}
	return execute.Verdict{Outcome: verdict.NotAttempted, Reason: verdict.DecisionChanged, Detail: "changed since listing: a notice is due"}
}

func (e *Engine) deleteOp(sr *scopeRun, kind string) execute.Op[struct{}, listedResource] {
	region := sr.Scope.Region
	op := execute.Op[struct{}, listedResource]{RereadAction: readAction(kind), RereadLimit: 100,
		Reread: func(ctx context.Context, ids []string) ([]listedResource, error) {
			return e.readKind(ctx, sr, kind, ids)
		},
		Recheck: func(r listedResource, _ struct{}, now time.Time) execute.Verdict {
			return e.recheckResourceIn(sr.lc, r.listed, now)
		},
		Done: verdict.Released, WouldDone: verdict.WouldRelease,
	}
	var del func(ctx context.Context, region, id string) (string, error)
	switch kind {
	case KindDisks:
		op.Action, del = ecsapi.ActionDeleteDisk, sr.API.DeleteDisk
	case KindSnapshots:
		op.Action, del = ecsapi.ActionDeleteSnapshot, sr.API.DeleteSnapshot
	default:
		op.Action, op.RereadLimit, del = ecsapi.ActionReleaseEipAddress, 50, sr.API.ReleaseEipAddress
	}
	op.Send = ops.One[struct{}](func(ctx context.Context, id string) (string, error) { return del(ctx, region, id) })
	return op
}

// tagOp is the notice mark's write on a kind of resource.
func (e *Engine) tagOp(sr *scopeRun, kind string) execute.Op[ops.MarkParams, listedResource] {
	t := map[string]ops.ResourceType{KindDisks: ops.TypeDisk, KindSnapshots: ops.TypeSnapshot, KindEIPs: ops.TypeEIP}[kind]
	op := ops.Tag[listedResource](sr.API, sr.Scope.Region, t)
	op.RereadAction, op.RereadLimit = readAction(kind), 100
	if kind == KindEIPs {
		op.RereadLimit = 50
	}
	op.Reread = func(ctx context.Context, ids []string) ([]listedResource, error) {
		return e.readKind(ctx, sr, kind, ids)
	}
	return op
}

// listedResource is a re-read resource, for the executor.
type listedResource struct {
	listed
	region string
}

func (l listedResource) ResourceID() string     { return l.id }
func (l listedResource) ResourceRegion() string { return l.region }

// readKind reads resources of kind by ID.
func (e *Engine) readKind(ctx context.Context, sr *scopeRun, kind string, ids []string) ([]listedResource, error) {
	region := sr.Scope.Region
	var out []listedResource
	switch kind {
	case KindDisks:
		page, err := sr.API.DescribeDisks(ctx, ecsapi.ListInput{Region: region, IDs: ids})
		for _, d := range page.Disks {
			out = append(out, listedResource{diskListed(d), d.Region})
		}
		return out, err
	case KindSnapshots:
		page, err := sr.API.DescribeSnapshots(ctx, ecsapi.ListInput{Region: region, IDs: ids})
		for _, s := range page.Snapshots {
			out = append(out, listedResource{snapshotListed(s), s.Region})
		}
		return out, err
	}
	page, err := sr.API.DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: region, AllocationIDs: ids})
	for _, x := range page.EIPs {
		out = append(out, listedResource{eipListed(x, e.opts.Rules), x.Region})
	}
	return out, err
}
