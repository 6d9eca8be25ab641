// Package plan is the engine's second phase: it decides each listed
// instance with package decide, keeps the eligible ones with what their
// release needs, and accumulates what the blast-radius caps need. It makes
// no calls; the cap check works on the plan alone, before anything is
// released.
package plan

import (
	"slices"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// Caps are the blast-radius rails, checked across every scope.
type Caps struct {
	// MaxRelease caps the instances one run may release; negative: no
	// count cap (an organisation cap of a percent only).
	MaxRelease int
	// MaxReleasePercent caps the eligible share of the opted-in instances
	// seen; 0 disables it.
	MaxReleasePercent float64
	// PercentCapFrom: the percent cap applies only from this many eligible
	// instances, so a small fleet's ordinary run is not a "mass event".
	PercentCapFrom int
}

// Candidate is an instance decided eligible (for release or stop) from
// data read at ReadAt.
type Candidate struct {
	ID     string
	Flags  decide.Flags
	Detail string
	ReadAt time.Time
	// Owner, and when the owner was told (zero without a mark).
	Owner      string
	NotifiedAt time.Time
	Facts      *report.Facts // what the listing said, for the report
}

// Candidates are a list of candidates (the plan's only copy of them).
type Candidates []Candidate

// IDs returns the candidates' IDs, sorted.
func (cs Candidates) IDs() []string {
	ids := make([]string, len(cs))
	for i := range cs {
		ids[i] = cs[i].ID
	}
	slices.Sort(ids)
	return ids
}

// Notice is an instance (or, with Kind, a resource of that kind) whose
// owner is told this run.
type Notice struct {
	Kind      string // "" for an instance
	ID, Name  string
	Owner     string
	ExpiresAt time.Time
	Facts     *report.Facts // instances only
	Action    string        // a decide.Action...
	When      time.Time     // no earlier than
	Again     bool          // the owner was told before; that notice no longer counts
	ReadAt    time.Time
	// Unverified: a mark was present but did not verify; it counted as
	// none (the report says unverified-mark).
	Unverified bool
}

// Scope is the plan of one scope. Only one goroutine adds to it.
type Scope struct {
	Scope    cloud.Scope
	Seen     int         // instances listed
	OptedIn  int         // of them, opted in and trusted: what the percent cap divides by
	Eligible Candidates  // to release
	Stops    []Candidate // to stop (REAPER_RUNNING=stop)
	Notices  []Notice    // to tell the owner about, and mark
	// StopMarks are stopped instances whose stop mark did not verify: a
	// fresh stop mark is written, and the stop grace starts again.
	StopMarks []Candidate
	// Resources are the resources of each kind (package kinds) swept by
	// their own tag, by kind.
	Resources map[string]*Resources
	// HandOvers are the EIPs an earlier run handed over (tagged
	// <mark>-released-with) that this run would release: within the count
	// cap like every other release.
	HandOvers int
	// InstanceEIPs are the EIPs of the eligible instances that this run
	// would release after them: within the count cap too.
	InstanceEIPs int
	// Closed: the listing failed; nothing is released here, and the scope
	// neither counts toward the caps nor dilutes the share of the others.
	Closed bool
	rules  decide.Rules
	lc     decide.Lifecycle
	seen   *idSet
}

// NewScope starts the plan of one scope.
func NewScope(s cloud.Scope, rules decide.Rules, lc decide.Lifecycle) *Scope {
	return &Scope{Scope: s, rules: rules, lc: lc, seen: newIDSet()}
}

// Add decides one listed instance at now: the rules, then the lifecycle.
// fresh is false for an instance already added (a listing may return it
// twice); it is then ignored.
func (p *Scope) Add(inst cloud.Instance, now time.Time) (lp decide.Plan, facts *report.Facts, fresh bool) {
	if !p.seen.add(inst.ID) {
		return lp, nil, false
	}
	p.Seen++
	d, trusted := decide.DecideIn(inst, p.Scope.Region, p.rules, p.lc.DecideNow(now), "listed")
	if _, ok := inst.Tags[p.rules.OptInKey]; ok && trusted {
		p.OptedIn++
	}
	lp = decide.PlanLifecycle(d, inst, p.lc, now)
	facts = report.NewFacts(inst.Name, inst.Status, inst.ChargeType, d.ExpiresAt)
	c := Candidate{ID: inst.ID, Flags: d.Flags, Detail: d.Detail, ReadAt: now, Owner: lp.Owner, NotifiedAt: lp.NotifiedAt, Facts: facts}
	switch lp.Step {
	case decide.StepRelease:
		p.Eligible = append(p.Eligible, c)
	case decide.StepStop:
		c.Detail = d.Detail + "; stopped, and released once it has stayed stopped for the grace"
		p.Stops = append(p.Stops, c)
	case decide.StepMarkStopped:
		c.Detail = lp.Detail
		p.StopMarks = append(p.StopMarks, c)
	case decide.StepNotify:
		p.Notices = append(p.Notices, Notice{ID: inst.ID, Name: inst.Name, Owner: lp.Owner, ExpiresAt: d.ExpiresAt,
			Facts: facts, Action: lp.Action, When: lp.When, Again: lp.Again, ReadAt: now, Unverified: lp.Unverified})
	}
	return lp, facts, true
}

// Resources is one kind's part of a scope's plan.
type Resources struct {
	OptedIn  int
	Eligible []Candidate
}

// AddResource plans one resource of kind listed by its own opt-in
// tag: the rules' decision d, then the lifecycle (never a stop).
func (p *Scope) AddResource(kind string, id, name string, tags map[string]string, d decide.Decision, now time.Time) decide.Plan {
	if p.Resources == nil {
		p.Resources = map[string]*Resources{}
	}
	r := p.Resources[kind]
	if r == nil {
		r = &Resources{}
		p.Resources[kind] = r
	}
	r.OptedIn++
	lc := p.lc
	lc.Stop = false
	lp := decide.PlanLifecycle(d, cloud.Instance{ID: id, Tags: tags, Status: decide.StatusStopped}, lc, now)
	switch lp.Step {
	case decide.StepRelease:
		r.Eligible = append(r.Eligible, Candidate{ID: id, Detail: d.Detail, ReadAt: now, Owner: lp.Owner, NotifiedAt: lp.NotifiedAt})
	case decide.StepNotify:
		p.Notices = append(p.Notices, Notice{Kind: kind, ID: id, Name: name, Owner: lp.Owner, ExpiresAt: d.ExpiresAt,
			Action: decide.ActionRelease, When: lp.When, Again: lp.Again, ReadAt: now, Unverified: lp.Unverified})
	}
	return lp
}

// Saw reports whether the instance was added.
func (p *Scope) Saw(id string) bool {
	return p.seen != nil && p.seen.has(id)
}

// Listed ends the listing: the de-duplication set is no longer needed.
func (p *Scope) Listed() { p.seen = nil }

// Check is the cap check over the scopes, before anything is released.
func Check(scopes []*Scope, caps Caps) *report.CapCheck {
	c := &report.CapCheck{MaxRelease: caps.MaxRelease, MaxReleasePercent: caps.MaxReleasePercent, PercentCapFrom: caps.PercentCapFrom}
	instances := 0
	for _, p := range scopes {
		if p.Closed {
			continue
		}
		c.OptedIn += p.OptedIn
		instances += len(p.Eligible) + len(p.Stops) // the caps count releases and stops
		c.HandOvers += p.HandOvers                  // the count cap every release
		c.InstanceEIPs += p.InstanceEIPs
		for kind, r := range p.Resources {
			if c.Kinds == nil {
				c.Kinds = map[string]*report.KindCheck{}
			}
			k := c.Kinds[kind]
			if k == nil {
				k = &report.KindCheck{}
				c.Kinds[kind] = k
			}
			k.OptedIn += r.OptedIn
			k.Eligible += len(r.Eligible)
		}
	}
	// The count cap holds every write together; the percent cap each type
	// on its own share (instances of the instances, disks of the disks).
	c.Instances = instances
	c.Eligible += instances + c.HandOvers + c.InstanceEIPs
	if c.OptedIn > 0 {
		c.Percent = float64(instances) * 100 / float64(c.OptedIn)
	}
	c.PercentExceeded = c.MaxReleasePercent > 0 && instances >= c.PercentCapFrom && c.Percent > c.MaxReleasePercent
	for _, k := range c.Kinds {
		c.Eligible += k.Eligible
		if k.OptedIn > 0 {
			k.Percent = float64(k.Eligible) * 100 / float64(k.OptedIn)
		}
		k.Exceeded = c.MaxReleasePercent > 0 && k.Eligible >= c.PercentCapFrom && k.Percent > c.MaxReleasePercent
		c.PercentExceeded = c.PercentExceeded || k.Exceeded
	}
	c.CountExceeded = c.MaxRelease >= 0 && c.Eligible > c.MaxRelease
	c.Exceeded = c.CountExceeded || c.PercentExceeded
	return c
}
