package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/leftover"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/pause"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// How long a run waits for the EIPs of released instances to become
// Available: the release unbinds them asynchronously.
const (
	eipPolls    = 5
	eipPollWait = 2 * time.Second
)

// gatherLeftovers records what the scope's releases will leave billed,
// before releasing (after, the associations are gone), each with its
// instance's owner. A failed listing marks the section incomplete; it
// never holds a release back.
func (e *Engine) gatherLeftovers(ctx context.Context, sr *scopeRun, eligible plan.Candidates) leftover.Found {
	g := sr.leftovers
	if g == nil {
		g = &gathered{}
		g.found, g.f = sr.startLeftovers(ctx).Join(ctx, sr.leftoverAPI, sr.c, sr.Scope.Region, eligible.IDs())
	}
	sr.leftovers = nil
	found, f := g.found, g.f
	sr.rec.LeftoversListed(f)
	for i := range eligible {
		if l := found.Leftovers[eligible[i].ID]; l != nil {
			l.Owner = eligible[i].Owner
		}
	}
	for _, l := range found.Leftovers {
		sr.rec.Leftover(l)
	}
	if f != nil {
		e.log.Warn("leftover report incomplete: a listing failed; the releases go on", "region", sr.Scope.Region,
			"code", f.Code, "message", f.Message)
	}
	return found
}

// countInstanceEIPs lists the eligible instances' leftovers before the
// cap check and counts the EIPs this run would release after them (those
// no rule holds, and, in a confirmed run, those shown): the count cap
// counts every release. The listing is kept for the execute phase.
func (e *Engine) countInstanceEIPs(ctx context.Context, sr *scopeRun) {
	if sr.plan.Closed || len(sr.plan.Eligible) == 0 {
		return
	}
	ids := make([]string, len(sr.plan.Eligible))
	for i, c := range sr.plan.Eligible {
		ids[i] = c.ID
	}
	g := &gathered{}
	g.found, g.f = sr.startLeftovers(ctx).Join(ctx, sr.leftoverAPI, sr.c, sr.Scope.Region, ids)
	sr.leftovers = g
	if !g.found.EIPsListed {
		// Released without their EIPs in view, the instances would leave
		// them bound to nothing, unmarked: billed with nothing to find them
		// by. The region fails closed instead, and the run fails.
		f := &verdict.Failure{Code: ecsapi.CodeBadResponse, Message: "REAPER_RELEASE_EIPS is on, and the EIPs of the instances to release could not be listed: nothing is released here, so that no EIP is left behind untracked"}
		if g.f != nil {
			f.Code, f.RequestID = g.f.Code, g.f.RequestID
			f.Message += " (" + g.f.Message + ")"
		}
		sr.plan.Closed, sr.closed = true, f
		sr.rec.Fail(f)
		e.log.Error("region closed: the EIPs of the instances to release could not be listed", "region", sr.Scope.Region,
			"account", sr.Scope.Account, "code", f.Code)
		return
	}
	var counted []string
	for _, id := range ids {
		for _, eip := range g.found.EIPs[id] {
			if reason, _ := kinds.EIPHeld(unbound(eip), e.opts.Rules); reason != "" {
				continue
			}
			if c := e.opts.Confirmed; c != nil && !c.allows(c.Resources[kinds.EIPs.Name], eip.AllocationID) && !c.EIPMarks[eip.AllocationID] {
				continue
			}
			counted = append(counted, eip.AllocationID)
		}
	}
	sr.instanceEIPs, sr.plan.InstanceEIPs = counted, len(counted)
}

// unbound is what of an EIP bound to an instance about to be released
// decides whether it may follow it: everything but the binding.
func unbound(eip cloud.EIP) cloud.EIP {
	return cloud.EIP{Problem: eip.Problem, Tags: eip.Tags, DeletionProtection: eip.DeletionProtection, ChargeType: eip.ChargeType}
}

// eipCandidate is an EIP whose instance this run (or an earlier one)
// released.
type eipCandidate struct {
	eip      cloud.EIP
	instance string
}

// releaseEIPs releases the EIPs of released instances once Available:
// never one kept by tag, deletion-protected, on a subscription, or bound to
// something else again. One that does not become Available while this run
// waits gets its hand-over mark (EIPMarkKey=<instance>@<time>, signed),
// and a later run releases it. Both writes go through the executor.
func (e *Engine) releaseEIPs(ctx context.Context, sr *scopeRun, cands []eipCandidate) {
	rec := sr.rec.Section(kinds.EIPs.Name)
	instanceOf := map[string]string{}
	markedAt := map[string]time.Time{} // handed over by an earlier run, for this instance
	var pending []string
	for _, c := range cands {
		instanceOf[c.eip.AllocationID] = c.instance
		if instance, at, st := e.opts.Lifecycle.Marks.ReadHandOver(c.eip.AllocationID, e.opts.EIPMarkKey, c.eip.Tags); st == mark.Valid && instance == c.instance {
			markedAt[c.eip.AllocationID] = at
		}
		if reason, detail := kinds.EIPHeld(unbound(c.eip), e.opts.Rules); reason != "" {
			rec.Outcome(verdict.Skipped, reason, report.Item{ID: c.eip.AllocationID, Detail: detail + " (bound to " + c.instance + ", which was released)"})
			continue
		}
		pending = append(pending, c.eip.AllocationID)
	}
	slices.Sort(pending)
	var ready []execute.Item[struct{}]
	var rebound []reboundEIP
	readAt := map[string]time.Time{}        // when each pending EIP was last seen
	unread := map[string]*verdict.Failure{} // pending because the last read failed
	unconfirmed := map[string]bool{}        // Available, but not in the run's confirmation
	for poll := 0; len(pending) > 0 && poll < eipPolls; poll++ {
		if poll > 0 {
			wait := e.opts.EIPPollWait
			if wait <= 0 {
				wait = eipPollWait
			}
			if !sr.c.TimeLeft(ctx) || pause.For(ctx, wait) != nil {
				break
			}
		}
		var still []string
		for _, chunk := range chunks(pending, 50) {
			var page ecsapi.EIPPage
			err := sr.c.Do(ctx, ecsapi.ActionDescribeEipAddresses, nil, func() error {
				var err error
				page, err = sr.eips.DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: sr.Scope.Region, AllocationIDs: chunk})
				return err
			})
			if err != nil {
				still = append(still, chunk...) // tagged below for a later run
				for _, id := range chunk {
					unread[id] = callFailure(err)
				}
				continue
			}
			at := e.opts.Now()
			listed := map[string]cloud.EIP{}
			for _, eip := range page.EIPs {
				listed[eip.AllocationID] = eip
			}
			for _, id := range chunk {
				delete(unread, id)
				eip, ok := listed[id]
				switch {
				case !ok:
					rec.Outcome(verdict.Gone, "", report.Item{ID: id, Detail: "no longer listed: released elsewhere"})
				case eip.InstanceID != "" && eip.InstanceID != instanceOf[id]:
					if _, marked := eip.Tags[e.opts.EIPMarkKey]; marked {
						rebound = append(rebound, reboundEIP{id: id, instance: instanceOf[id], boundTo: eip.InstanceID})
						continue
					}
					rec.Outcome(verdict.Skipped, verdict.DecisionChanged, report.Item{ID: id, Detail: "bound to " + eip.InstanceID + " again: kept"})
				case eip.Status == "Available" && eip.InstanceID == "":
					// This read is the release's last: what it shows must
					// still allow it (a keep tag added since the listing).
					if reason, detail := kinds.EIPHeld(eip, e.opts.Rules); reason != "" {
						rec.Outcome(verdict.Skipped, reason, report.Item{ID: id, Detail: "changed since listing: " + detail + " (the EIP of " + instanceOf[id] + ")"})
						continue
					}
					if c := e.opts.Confirmed; c != nil && !c.Resources[kinds.EIPs.Name][id] {
						// Bound to it after the plan or the confirmation: not
						// released uncounted, nor left unbound and unfound.
						unconfirmed[id] = true
						readAt[id] = at
						continue
					}
					ready = append(ready, execute.Item[struct{}]{ID: id, ReadAt: e.opts.Now(),
						Detail: "the EIP of " + instanceOf[id] + ", released this run or before"})
				default:
					still = append(still, id)
					readAt[id] = at
				}
			}
		}
		pending = still
	}
	if len(ready) > 0 {
		op := ops.ReleaseEIP(sr.eips, sr.Scope, e.opts.Rules)
		execute.New(op, sr.c, rec, e.executeOptions(func(c *Confirmation) map[string]bool { return c.Resources[kinds.EIPs.Name] })).Run(ctx, ready)
	}
	e.dropHandOvers(ctx, sr, rebound)
	// An EIP handed over by an earlier run keeps its mark: rewritten, the
	// mark's age would no longer say how long the EIP has waited, and
	// HandOverMaxAge could never end the hand-over.
	unmarked := pending[:0:0]
	for id := range unconfirmed {
		unmarked = append(unmarked, id)
	}
	slices.Sort(unmarked)
	for _, id := range pending {
		at, ok := markedAt[id]
		if !ok {
			unmarked = append(unmarked, id)
			continue
		}
		if f := unread[id]; f != nil {
			// Not known to be still unbinding: the read failed, and the
			// run says so rather than "not Available yet".
			rec.Outcome(verdict.Failed, verdict.Reason(f.Code), report.Item{ID: id, Code: f.Code,
				Detail:  "hand-over check (" + ecsapi.ActionDescribeEipAddresses + ") failed",
				Message: "could not read whether the EIP handed over by " + instanceOf[id] + " is Available: " + f.Message + "; not released, its mark stays, the next run checks again"})
			continue
		}
		rec.Outcome(verdict.NotAttempted, reasonEIPNotAvailable, report.Item{ID: id,
			Detail: "not Available yet; handed over by " + instanceOf[id] + " at " + mark.FormatTime(at) + ": its mark stays, and a later run releases it once Available"})
	}
	if len(unmarked) > 0 {
		e.handOver(ctx, sr, rec, unmarked, instanceOf, readAt, unconfirmed)
	}
}

// handOver writes the hand-over mark of each EIP not yet Available: the
// instance it was released with, so that a later run releases it.
// Without it no later run can tell the EIP was released with its
// instance, so a hand-over not written, for any reason (the deadline
// included), is a failed write, and the run fails naming the EIP.
func (e *Engine) handOver(ctx context.Context, sr *scopeRun, rec *report.ScopeRecorder, ids []string, instanceOf map[string]string, readAt map[string]time.Time, unconfirmed map[string]bool) {
	key := e.opts.EIPMarkKey
	items := make([]execute.Item[ops.MarkParams], len(ids))
	for i, id := range ids {
		value, _ := e.markValue(sr, id, key, instanceOf[id]+"@")
		detail := "not Available yet; tagged " + key + "=" + mark.Shown(value) + ": a later run releases it once Available"
		reason := reasonEIPNotAvailable
		if unconfirmed[id] {
			detail = "bound to " + instanceOf[id] + " after the run was planned or confirmed; tagged " + key + "=" + mark.Shown(value) +
				": the next run releases it, counted under its caps"
			reason = verdict.NotConfirmed
		}
		if e.opts.DryRun {
			detail = "would be " + detail
		}
		items[i] = execute.Item[ops.MarkParams]{ID: id, Params: ops.MarkParams{Key: key, Value: value}, ReadAt: readAt[id],
			Detail: detail, DoneReason: reason}
	}
	// Re-read as the EIP kind re-reads (one instantiation of the executor
	// less in the binary).
	op := e.tagOp(sr, kinds.EIPs)
	op.Name, op.MustWrite = "hand-over mark", true
	op.Done, op.WouldDone = verdict.NotAttempted, verdict.NotAttempted
	op.Failed = func(it *report.Item) {
		instance := instanceOf[it.ID]
		it.Message = "the EIP of " + instance + " is not Available yet, and its hand-over mark could not be written: " + it.Message +
			"; no later run can find it: release it by hand once it is Available"
	}
	// A hand-over mark releases nothing, and without it the EIP of an
	// instance this run released is left billed where no run finds it: it
	// is written whatever was confirmed; its release is then counted and
	// confirmed as any other.
	opts := e.executeOptions(func(*Confirmation) map[string]bool { return nil })
	opts.Allowed = nil
	execute.New(op, sr.c, rec, opts).Run(ctx, items)
}

// HandOverMaxAge bounds how old a hand-over mark may be and still release
// its EIP. A hand-over is written when the EIP of a released instance was
// not Available after the run's polls (seconds); the unbinding ends within
// minutes, so an hourly run finds it within hours. A week covers days of
// failed runs (a region outage, broken credentials over a long weekend);
// an older mark no longer says the EIP is still the released instance's
// leftover (it may have been bound and unbound since), so it releases
// nothing and is reported skipped/stale-mark for the operator to decide.
const HandOverMaxAge = 7 * 24 * time.Hour

// markedEIPs finds the EIPs an earlier run tagged: those whose instance is
// gone are candidates again. Only a hand-over mark that verifies counts: a
// forged, altered or copied one releases nothing and is reported
// skipped/unverified-mark. A marked EIP bound to another instance is kept
// and its mark removed in the execute phase (sr.rebound); a mark older
// than HandOverMaxAge is skipped/stale-mark; one whose instance still
// exists is skipped/hand-over-pending.
func (e *Engine) markedEIPs(ctx context.Context, sr *scopeRun) []eipCandidate {
	rec := sr.rec.Section(kinds.EIPs.Name)
	tagged, f := kinds.ListEIPs(ctx, sr.eips, sr.c, sr.Scope.Region, e.opts.EIPMarkKey)
	if f != nil {
		// Left unsaid, they would stay billed and unseen: the region fails
		// closed, as when its instances' EIPs cannot be listed.
		closed := *f
		closed.Message = "REAPER_RELEASE_EIPS is on, and the EIPs handed over by an earlier run could not be listed: nothing is released here; the next run tries again (" + f.Message + ")"
		e.closeScope(sr, kinds.EIPs.Name, &closed)
		return nil
	}
	var out []eipCandidate
	byInstance := map[string][]cloud.EIP{}
	markNow := sr.lc.MarkNow(e.opts.Now())
	for _, eip := range tagged {
		instance, at, st := e.opts.Lifecycle.Marks.ReadHandOver(eip.AllocationID, e.opts.EIPMarkKey, eip.Tags)
		switch {
		case st != mark.Valid:
			rec.Outcome(verdict.Skipped, verdict.UnverifiedMark, report.Item{ID: eip.AllocationID,
				Detail: fmt.Sprintf("%s=%q does not verify (not written by this reaper, or altered): no hand-over, never released on it", e.opts.EIPMarkKey, mark.Shown(eip.Tags[e.opts.EIPMarkKey]))})
			continue
		case eip.InstanceID != "" && eip.InstanceID != instance:
			// Bound again: the hand-over is over, whatever the mark's age.
			sr.rebound = append(sr.rebound, reboundEIP{id: eip.AllocationID, instance: instance, boundTo: eip.InstanceID})
			continue
		case markNow.Sub(at) > HandOverMaxAge:
			rec.Outcome(verdict.Skipped, verdict.StaleMark, report.Item{ID: eip.AllocationID,
				Detail: fmt.Sprintf("handed over by %s at %s, more than %v ago: too old to say the EIP is still that instance's leftover; never released on it: check it, then release it by hand or remove %s",
					instance, mark.FormatTime(at), HandOverMaxAge, e.opts.EIPMarkKey)})
			continue
		}
		byInstance[instance] = append(byInstance[instance], eip)
	}
	ids := make([]string, 0, len(byInstance))
	for id := range byInstance {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, chunk := range chunks(ids, ecsapi.MaxDescribeIDs) {
		var page ecsapi.DescribePage
		err := sr.c.Do(ctx, ecsapi.ActionDescribeInstances, nil, func() error {
			var err error
			page, err = sr.API.DescribeInstances(ctx, ecsapi.DescribeInput{Region: sr.Scope.Region, InstanceIDs: chunk, MaxResults: ecsapi.MaxPageSize})
			return err
		})
		if err != nil {
			// A failed read that holds a release back is a failure the
			// operator must see: each EIP it held fails the run.
			f := callFailure(err)
			for _, id := range chunk {
				for _, eip := range byInstance[id] {
					rec.Outcome(verdict.Failed, verdict.Reason(f.Code), report.Item{ID: eip.AllocationID, Code: f.Code,
						Detail:  "hand-over check (" + ecsapi.ActionDescribeInstances + ") failed",
						Message: "could not check whether " + id + ", which the EIP was handed over by, is gone: " + f.Message + "; not released, the next run checks again"})
				}
			}
			continue
		}
		alive := map[string]bool{}
		for _, in := range page.Instances {
			alive[in.ID] = true
		}
		for _, id := range chunk {
			for _, eip := range byInstance[id] {
				if alive[id] {
					rec.Outcome(verdict.Skipped, verdict.HandOverPending, report.Item{ID: eip.AllocationID,
						Detail: "handed over by " + id + ", which still exists: not released while it does"})
					continue
				}
				out = append(out, eipCandidate{eip: eip, instance: id})
			}
		}
	}
	return out
}

// reboundEIP is a handed-over EIP found bound to another instance: its
// hand-over mark is removed.
type reboundEIP struct {
	id, instance, boundTo string
}

// dropHandOvers removes the hand-over mark of EIPs bound again to another
// instance (ops.DropHandOver), through the executor: a removal that fails
// fails the run. Each is reported skipped/decision-changed: kept.
func (e *Engine) dropHandOvers(ctx context.Context, sr *scopeRun, rebound []reboundEIP) {
	if len(rebound) == 0 {
		return
	}
	bound := map[string]string{}
	items := make([]execute.Item[struct{}], 0, len(rebound))
	verb := "removed"
	if e.opts.DryRun {
		verb = "would be removed"
	}
	for _, r := range rebound {
		bound[r.id] = r.instance
		items = append(items, execute.Item[struct{}]{ID: r.id, ReadAt: e.opts.Now(), DoneReason: verdict.DecisionChanged,
			Detail: "handed over by " + r.instance + ", now bound to " + r.boundTo + ": kept; its hand-over mark " + e.opts.EIPMarkKey + " " + verb + ", so a later unbinding releases nothing"})
	}
	// Removing a mark releases nothing: no confirmation covers it.
	op := ops.DropHandOver(sr.eips, sr.Scope, e.opts.EIPMarkKey, bound)
	execute.New(op, sr.c, sr.rec.Section(kinds.EIPs.Name), execute.Options{DryRun: e.opts.DryRun, Freshness: e.opts.Freshness, Now: e.opts.Now}).Run(ctx, items)
}

func chunks(ids []string, n int) [][]string {
	var out [][]string
	for c := range slices.Chunk(ids, n) {
		out = append(out, c)
	}
	return out
}
