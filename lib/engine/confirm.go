package engine

import (
	"fmt"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Confirmation is what an operator was shown and confirmed, by ID and kind
// of write. A run given one writes only to these, and only to those that
// still qualify on its own fresh read; anything else it would write to is
// reported skipped/not-confirmed and waits for the next confirmation.
// Notices are not covered: they release nothing.
type Confirmation struct {
	Release, Stop map[string]bool // instances
	// Resources are the resources of each kind (package kinds) deleted by
	// their own tag, by kind; the EIPs also those released after their
	// instance.
	Resources map[string]map[string]bool
	// EIPMarks are EIPs that were shown tagged for a later release (the
	// hand-over), without a release of their own.
	EIPMarks map[string]bool
	// Flags, when set, are the flags each release was confirmed with: an
	// instance the fresh read finds needing others (it was started, its
	// subscription converted) is not released this run.
	Flags map[string]decide.Flags
}

// ConfirmationOf is what a dry run's report showed: the instances it would
// release (with the flags of their DeleteInstances batch) or stop, the
// resources of each kind it would delete, and the EIPs it would tag for a
// later release.
func ConfirmationOf(rep *report.Report) *Confirmation {
	c := &Confirmation{Release: map[string]bool{}, Flags: map[string]decide.Flags{}, Stop: map[string]bool{}, EIPMarks: map[string]bool{},
		Resources: map[string]map[string]bool{}}
	for _, k := range kinds.All {
		c.Resources[k.Name] = map[string]bool{}
	}
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			var set map[string]bool
			switch g.Outcome {
			case verdict.WouldRelease:
				set = c.Release
			case verdict.WouldStop:
				set = c.Stop
			default:
				continue
			}
			for _, it := range g.Instances {
				set[it.ID] = true
			}
		}
		// A release shown plain is not confirmed forced (an instance
		// started since would be force-stopped), nor one shown forced plain.
		for _, b := range r.Batches {
			if b.Flags == nil {
				continue // not a DeleteInstances batch
			}
			for _, id := range b.InstanceIDs {
				c.Flags[id] = *b.Flags
			}
		}
		for _, k := range kinds.All {
			sec := r.Section(k.Name)
			if sec == nil {
				continue
			}
			kind := k.Name
			for _, g := range sec.Groups {
				for _, it := range g.Instances {
					switch {
					case g.Outcome == verdict.WouldRelease:
						c.Resources[kind][it.ID] = true
					case kind == kinds.EIPs.Name && g.Outcome == verdict.NotAttempted && g.Reason == reasonEIPNotAvailable:
						c.EIPMarks[it.ID] = true
					}
				}
			}
		}
	}
	return c
}

// Count is how many writes the confirmation allows (releases, stops and
// deletes; the hand-over marks are part of the EIPs' release).
func (c *Confirmation) Count() int {
	n := len(c.Release) + len(c.Stop)
	for _, set := range c.Resources {
		n += len(set)
	}
	return n
}

// reasonEIPNotAvailable: an EIP tagged for a later release.
const reasonEIPNotAvailable = verdict.Reason("eip-not-available")

const notConfirmedDetail = "not shown when the run was confirmed: it waits for the next confirmation"

// allows reports whether the confirmation (nil: none asked) covers id in
// set.
func (c *Confirmation) allows(set map[string]bool, id string) bool { return c == nil || set[id] }

// allowed is the executor's last check for one kind of write.
func (e *Engine) allowed(set func(*Confirmation) map[string]bool) func(string) bool {
	c := e.opts.Confirmed
	if c == nil {
		return nil
	}
	s := set(c)
	return func(id string) bool { return s[id] }
}

// confirmPlan takes out of the plan what the confirmation does not cover,
// before the caps count it: each reported skipped/not-confirmed.
func (e *Engine) confirmPlan(sr *scopeRun) {
	c := e.opts.Confirmed
	if c == nil {
		return
	}
	keep := func(list []plan.Candidate, set map[string]bool, rec *report.ScopeRecorder) []plan.Candidate {
		out := list[:0]
		for _, cand := range list {
			if c.allows(set, cand.ID) {
				out = append(out, cand)
				continue
			}
			it := base(cand)
			it.ID, it.Detail = cand.ID, notConfirmedDetail
			rec.Outcome(verdict.Skipped, verdict.NotConfirmed, it)
			e.log.Warn("not confirmed: left for the next confirmation", "id", cand.ID, "region", sr.Scope.Region)
		}
		return out
	}
	sr.plan.Eligible = keep(sr.plan.Eligible, c.Release, sr.rec)
	if c.Flags != nil {
		sr.plan.Eligible = e.sameFlags(sr, sr.plan.Eligible)
	}
	sr.plan.Stops = keep(sr.plan.Stops, c.Stop, sr.rec)
	for kind, r := range sr.plan.Resources {
		r.Eligible = keep(r.Eligible, c.Resources[kind], sr.rec.Section(kind))
	}
	// The EIPs earlier runs handed over: released only when shown.
	handOvers := sr.handOvers[:0]
	for _, h := range sr.handOvers {
		if c.allows(c.Resources[kinds.EIPs.Name], h.eip.AllocationID) {
			handOvers = append(handOvers, h)
			continue
		}
		sr.rec.Section(kinds.EIPs.Name).Outcome(verdict.Skipped, verdict.NotConfirmed, report.Item{ID: h.eip.AllocationID, Detail: notConfirmedDetail + " (handed over by " + h.instance + ")"})
	}
	sr.handOvers, sr.plan.HandOvers = handOvers, len(handOvers)
}

// sameFlags keeps the candidates whose flags are those confirmed; the
// others are reported not-attempted/decision-changed, as when a re-read
// before the write finds other flags.
func (e *Engine) sameFlags(sr *scopeRun, list []plan.Candidate) []plan.Candidate {
	out := list[:0]
	for _, cand := range list {
		if was := e.opts.Confirmed.Flags[cand.ID]; was != cand.Flags {
			it := base(cand)
			it.ID = cand.ID
			it.Detail = fmt.Sprintf("confirmed with flags %s, now needs %s: the next run decides it again", flagNames(was), flagNames(cand.Flags))
			sr.rec.Outcome(verdict.NotAttempted, verdict.DecisionChanged, it)
			e.log.Warn("flags changed since confirmed: left for the next run", "id", cand.ID, "region", sr.Scope.Region)
			continue
		}
		out = append(out, cand)
	}
	return out
}

func flagNames(f decide.Flags) string {
	return fmt.Sprintf("TerminateSubscription=%t Force=%t", f.TerminateSubscription, f.Force)
}

// executeOptions are the executor's options for one kind of write.
func (e *Engine) executeOptions(set func(*Confirmation) map[string]bool) execute.Options {
	return execute.Options{DryRun: e.opts.DryRun, NoNativeDryRun: e.opts.PlanOnly, Freshness: e.opts.Freshness, Now: e.opts.Now, Allowed: e.allowed(set),
		NotAllowedDetail: notConfirmedDetail}
}

// notConfirmed lists what a finished run left for the next confirmation.
func notConfirmed(rep *report.Report) []string {
	var ids []string
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			if g.Reason == verdict.NotConfirmed {
				for _, it := range g.Instances {
					ids = append(ids, it.ID)
				}
			}
		}
		for _, k := range kinds.All {
			sec := r.Section(k.Name)
			if sec == nil {
				continue
			}
			for _, g := range sec.Groups {
				if g.Reason == verdict.NotConfirmed {
					for _, it := range g.Instances {
						ids = append(ids, it.ID)
					}
				}
			}
		}
	}
	return ids
}
