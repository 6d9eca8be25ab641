package report

import (
	"maps"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// A report over an organisation's accounts built from each account's own
// report (a fanned-out run's) lists by ID only what the caps bound: each
// released or stopped instance and resource (or, in a dry run, what would
// be). Records of failed, held-back, vanished or interrupted writes are
// listed while a budget for the whole report lasts; everything else
// (skipped, notified) is counted in Unlisted, and each account's own report
// lists it. So the organisation's report grows with the writes the caps
// allow, not with the fleet.

// CappedOutcome reports whether the caps bound how many records of the
// outcome a run has.
func CappedOutcome(o Outcome) bool {
	switch o {
	case verdict.Released, verdict.WouldRelease, verdict.Stopped, verdict.WouldStop:
		return true
	}
	return false
}

// budgetedOutcome: listed while the report's budget lasts.
func budgetedOutcome(o Outcome) bool {
	switch o {
	case verdict.Failed, verdict.NotAttempted, verdict.Gone, verdict.Interrupted:
		return true
	}
	return false
}

// WritesView is a copy of r for an organisation's report: its counts,
// calls, batches, errors and leftovers whole; by ID, the records of
// outcomes the caps bound, and those of failed, held-back, vanished or
// interrupted writes while *budget lasts (each listed one spends one);
// every other record counted in Unlisted by "outcome/reason" (resources
// in their section's).
func (r *Region) WritesView(budget *int) *Region {
	v := *r
	v.Groups, v.groupIndex = []*Group{}, nil
	v.Unlisted = maps.Clone(r.Unlisted)
	for _, g := range r.Groups {
		kept, dropped := keep(g, budget)
		if kept != nil {
			v.Groups = append(v.Groups, kept)
		}
		if dropped > 0 {
			if v.Unlisted == nil {
				v.Unlisted = map[string]int{}
			}
			v.Unlisted[g.key()] += dropped
		}
	}
	if r.Sections != nil {
		v.Sections = Sections{}
		for _, name := range r.Sections.Names() {
			sec := r.Sections[name]
			if sec == nil {
				continue
			}
			sv := &Section{Counts: sec.Counts, Groups: []*Group{}, Unlisted: maps.Clone(sec.Unlisted)}
			for _, g := range sec.Groups {
				kept, dropped := keep(g, budget)
				if kept != nil {
					sv.Groups = append(sv.Groups, kept)
				}
				if dropped > 0 {
					if sv.Unlisted == nil {
						sv.Unlisted = map[string]int{}
					}
					sv.Unlisted[g.key()] += dropped
				}
			}
			v.Sections[name] = sv
		}
	}
	return &v
}

// keep is the part of g an organisation's report lists, and how many of
// its records it does not.
func keep(g *Group, budget *int) (*Group, int) {
	n := 0
	switch {
	case CappedOutcome(g.Outcome):
		n = len(g.Instances)
	case budgetedOutcome(g.Outcome):
		n = min(len(g.Instances), max(*budget, 0))
		*budget -= n
	}
	if n == 0 {
		return nil, len(g.Instances)
	}
	return &Group{Outcome: g.Outcome, Reason: g.Reason, Instances: g.Instances[:n:n], countKey: g.key()}, len(g.Instances) - n
}

// key is the group's "outcome/reason" (also for a group read back from
// JSON, which has no countKey yet).
func (g *Group) key() string {
	if g.countKey == "" {
		return string(g.Outcome) + "/" + string(g.Reason)
	}
	return g.countKey
}

// unlistedOf is how many of the section's resources with the outcome are
// counted and not listed.
func (sec *Section) unlistedOf(o Outcome) int {
	n := 0
	for k, v := range sec.Unlisted {
		if outcome, _, _ := strings.Cut(k, "/"); outcome == string(o) {
			n += v
		}
	}
	return n
}

// AddAccount adds to a totalled report an account whose regions it does
// not hold (a fanned-out run's account that was not executed: its part
// from its plan, or only its status and error): the part as given, in the
// totals' seen, opted-in, outcomes and accounts. The run is complete only
// if the account was swept to the end.
func (rep *Report) AddAccount(a *Account) {
	if a.Regions == nil {
		a.Regions = []string{}
	}
	if a.Outcomes == nil {
		a.Outcomes = map[string]int{}
	}
	rep.Accounts = append(rep.Accounts, a)
	t := &rep.Totals
	t.Seen += a.Seen
	t.OptedIn += a.OptedIn
	if t.Outcomes == nil {
		t.Outcomes = map[string]int{}
	}
	for o, n := range a.Outcomes {
		t.Outcomes[o] += n
	}
	if a.Status != AccountSwept || !a.Complete {
		rep.Complete = false
	}
	slices.SortStableFunc(rep.Accounts, func(a, b *Account) int { return strings.Compare(a.Account, b.Account) })
	t.Accounts = nil
	if len(rep.Accounts) > 1 {
		t.Accounts = map[string]int{}
		for _, x := range rep.Accounts {
			t.Accounts[x.Status]++
		}
	}
}
