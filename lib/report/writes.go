package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// A report over an organisation's accounts built from each account's own
// report (a fanned-out run's) lists by ID only what a budget for the whole
// report allows (ListBudget): records of writes the caps bound (released,
// stopped, or in a dry run what would be), records of failed, held-back,
// vanished or interrupted writes, batches with their instance IDs, and the
// released instances' leftovers. Everything past the budget, and every
// other record (skipped, notified), is counted (Unlisted, UnlistedBatches,
// LeftoverSummary.Unlisted, Partial), and each account's own report lists
// it. So the organisation's report stays bounded whatever the caps allow.

// CappedOutcome reports whether the caps bound how many records of the
// outcome a run has.
func CappedOutcome(o Outcome) bool {
	switch o {
	case verdict.Released, verdict.WouldRelease, verdict.Stopped, verdict.WouldStop:
		return true
	}
	return false
}

// budgetedOutcome: a failed or held-back write's record.
func budgetedOutcome(o Outcome) bool {
	switch o {
	case verdict.Failed, verdict.NotAttempted, verdict.Gone, verdict.Interrupted:
		return true
	}
	return false
}

// ListBudget is what an organisation's report may still list by ID, for
// the whole report; WritesView spends it and counts in Cut what it left
// unlisted.
type ListBudget struct {
	Writes        int // records of outcomes the caps bound
	Others        int // records of failed, held-back, vanished or interrupted writes
	Batches       int // successful batches, with their instance IDs
	FailedBatches int // failed batches, with their instance IDs
	Leftovers     int // released instances' leftovers
	Cut           Partial
}

// Partial says what a report does not list by ID although it counts it
// (an organisation's report past its ListBudget), and where it is listed.
type Partial struct {
	// Note says it in words, naming where each account's whole report is.
	Note string `json:"note"`
	// Writes counts the released or stopped records (would-, in a dry
	// run) and Others the failed, held-back, vanished or interrupted ones
	// counted in the regions' unlisted; Batches the write calls counted
	// in their unlistedBatches; Leftovers the released instances whose
	// leftovers are counted in their leftoverSummary's unlisted.
	Writes    int `json:"writes"`
	Others    int `json:"others"`
	Batches   int `json:"batches"`
	Leftovers int `json:"leftovers"`
}

// Any reports whether the budget left anything unlisted.
func (p Partial) Any() bool { return p.Writes+p.Others+p.Batches+p.Leftovers > 0 }

// Explain says what is not listed and where it is: reports is where each
// account's own report lists it.
func (p Partial) Explain(reports string) string {
	var parts []string
	for _, x := range []struct {
		n    int
		what string
	}{{p.Writes, "released or stopped records"}, {p.Others, "failed or held-back records"},
		{p.Batches, "batches"}, {p.Leftovers, "released instances' leftovers"}} {
		if x.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", x.n, x.what))
		}
	}
	return fmt.Sprintf("this report lists by ID only part of the run: %s are counted and not listed (regions' unlisted, unlistedBatches, leftoverSummary.unlisted); each account's own report lists them all: %s",
		strings.Join(parts, ", "), reports)
}

// WritesView is a copy of r for an organisation's report: its counts,
// calls, errors and leftover summary whole; by ID, the records of outcomes
// the caps bound and those of failed, held-back, vanished or interrupted
// writes, the batches and the leftovers, each while its part of b lasts;
// every other record counted in Unlisted by "outcome/reason" (resources
// in their section's), every other batch in UnlistedBatches and leftover
// in LeftoverSummary.Unlisted. The view shares no list with r, so r can
// be dropped.
func (r *Region) WritesView(b *ListBudget) *Region {
	v := *r
	v.Groups, v.groupIndex, v.leftovers = []*Group{}, nil, nil
	v.Unlisted = maps.Clone(r.Unlisted)
	for _, g := range r.Groups {
		kept, dropped := b.keep(g)
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
				kept, dropped := b.keep(g)
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
	// Counts an account's own report never has (a forged one's) are not
	// carried over negative.
	v.UnlistedBatches = max(r.UnlistedBatches, 0)
	v.Batches = []*Batch{}
	for _, bt := range r.Batches {
		left := &b.Batches
		if bt.Result == "failed" {
			left = &b.FailedBatches
		}
		if *left <= 0 {
			v.UnlistedBatches++
			b.Cut.Batches++
			continue
		}
		*left--
		c := *bt
		c.InstanceIDs, c.RequestIDs = slices.Clone(bt.InstanceIDs), slices.Clone(bt.RequestIDs)
		v.Batches = append(v.Batches, &c)
	}
	v.Leftovers = nil
	if r.LeftoverSummary != nil {
		s := *r.LeftoverSummary
		s.Unlisted = max(s.Unlisted, 0)
		v.LeftoverSummary = &s
	}
	for _, l := range r.Leftovers {
		if b.Leftovers <= 0 || v.LeftoverSummary == nil {
			if v.LeftoverSummary != nil {
				v.LeftoverSummary.Unlisted++
			}
			b.Cut.Leftovers++
			continue
		}
		b.Leftovers--
		c := *l
		c.EIPs, c.Disks, c.Snapshots = slices.Clone(l.EIPs), slices.Clone(l.Disks), slices.Clone(l.Snapshots)
		v.Leftovers = append(v.Leftovers, &c)
	}
	return &v
}

// keep is the part of g an organisation's report lists (a copy), and how
// many of its records it does not.
func (b *ListBudget) keep(g *Group) (*Group, int) {
	var left, cut *int
	switch {
	case CappedOutcome(g.Outcome):
		left, cut = &b.Writes, &b.Cut.Writes
	case budgetedOutcome(g.Outcome):
		left, cut = &b.Others, &b.Cut.Others
	default:
		return nil, len(g.Instances)
	}
	n := min(len(g.Instances), max(*left, 0))
	*left -= n
	*cut += len(g.Instances) - n
	if n == 0 {
		return nil, len(g.Instances)
	}
	return &Group{Outcome: g.Outcome, Reason: g.Reason, Instances: slices.Clone(g.Instances[:n]), countKey: g.key()}, len(g.Instances) - n
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
