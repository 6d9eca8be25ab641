package fanout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// Plan statuses: what a Plan worker found in its account.
const (
	PlanPlanned     = "planned"     // listed; the plan says what would be written
	PlanUnreachable = "unreachable" // the account's role could not be assumed: nothing is written there
)

// Plan is one account's plan (the Plan worker writes it; Decide and
// Execute read it): per region, what was opted in and which IDs are
// eligible, by flag group.
type Plan struct {
	Run     RunID        `json:"run"`
	Account string       `json:"account"`
	Status  string       `json:"status"`
	Problem string       `json:"problem,omitempty"` // why unreachable
	Regions []RegionPlan `json:"regions"`
	// Part is the account's part of the plan's read-only run (its
	// regions, seen, opted-in, outcomes; an unreachable account's error):
	// the organisation's report shows it for an account not executed.
	Part *report.Account `json:"part,omitempty"`
}

// RegionPlan is one region's part of an account's plan.
type RegionPlan struct {
	Region string `json:"region"`
	// Closed: the region's listing failed closed; nothing is written
	// there, and it neither counts toward the caps nor dilutes them.
	Closed  bool     `json:"closed,omitempty"`
	OptedIn int      `json:"optedIn"`           // opted-in instances seen: what the percent cap divides by
	Release []Group  `json:"release,omitempty"` // eligible instances, by flag group
	Stop    []string `json:"stop,omitempty"`    // instances to stop (REAPER_RUNNING=stop)
	Notices int      `json:"notices,omitempty"` // marks to write: the owners' notices (Owed), stop marks, ended hand-overs
	// Owed are those notices: what each owner's digest names and the mark
	// its delivery implies (Notify tells the owners, Execute marks).
	Owed []Notice `json:"owed,omitempty"`
	// HandOvers are the EIPs earlier runs handed over (their instances
	// gone) and InstanceEIPs those of the instances in Release, released
	// after them: allocation IDs, each within the count cap as in one
	// invocation (the engine's Planned).
	HandOvers    []string `json:"handOvers,omitempty"`
	InstanceEIPs []string `json:"instanceEips,omitempty"`
	// Kinds are the other resources swept by their own tag (lib/kinds:
	// disks, snapshots, EIPs, images), by kind name.
	Kinds map[string]KindPlan `json:"kinds,omitempty"`
}

// Group is the eligible instances of one flag group: one DeleteInstances
// call's flags.
type Group struct {
	Flags decide.Flags `json:"flags"`
	IDs   []string     `json:"ids"`
}

// KindPlan is one resource kind's part of a region's plan.
type KindPlan struct {
	OptedIn  int      `json:"optedIn"`
	Eligible []string `json:"eligible,omitempty"`
}

// Validate checks a plan read back for run and account: a plan that
// breaks these is not trusted, and its account is plan-failed.
func (p *Plan) Validate(run RunID, account string) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Run != run || p.Account != account {
		bad("the plan is run %s account %s, not run %s account %s", quote(string(p.Run)), quote(p.Account), run, account)
	}
	if p.Part != nil && p.Part.Account != account {
		bad("the plan's report part is account %s, not %s", quote(p.Part.Account), account)
	}
	switch p.Status {
	case PlanPlanned:
	case PlanUnreachable:
		if len(p.Regions) > 0 {
			bad("an unreachable account has no regions")
		}
	default:
		bad("status %s must be %s or %s", quote(p.Status), PlanPlanned, PlanUnreachable)
	}
	seen := map[string]bool{}
	id := func(where, v string) {
		switch {
		case v == "" || len(v) > 128 || strings.ContainsAny(v, " \t\r\n,"):
			bad("%s: %s is not a resource ID", where, quote(v))
		case seen[v]:
			bad("%s: %s is listed twice", where, quote(v))
		}
		seen[v] = true
	}
	withInstances := map[string]bool{} // the EIPs released with instances
	regions := map[string]bool{}
	for _, r := range p.Regions {
		at := "region " + quote(r.Region)
		if !validRegion(r.Region) || regions[r.Region] {
			bad("%s: not a region ID, or listed twice", at)
		}
		regions[r.Region] = true
		if r.OptedIn < 0 || r.Notices < 0 {
			bad("%s: a negative count", at)
		}
		if r.OptedIn > MaxCount || r.Notices > MaxCount {
			bad("%s: a count of more than any fleet (%d)", at, MaxCount)
		}
		instances := len(r.Stop)
		groups := map[decide.Flags]bool{}
		for _, g := range r.Release {
			instances += len(g.IDs)
			if len(g.IDs) == 0 || groups[g.Flags] {
				bad("%s: a release group is empty, or its flags are another group's", at)
			}
			groups[g.Flags] = true
			for _, v := range g.IDs {
				id(at, v)
			}
		}
		for _, v := range r.Stop {
			id(at, v)
		}
		if instances > r.OptedIn {
			bad("%s: %d instances to write but %d opted in (every eligible instance is opted in)", at, instances, r.OptedIn)
		}
		// The EIPs released with instances are a list of their own: an EIP
		// the kind sweeps by its own tag may also be a hand-over, and one
		// invocation counts it twice too.
		for _, list := range [][]string{r.HandOvers, r.InstanceEIPs} {
			for _, v := range list {
				switch {
				case v == "" || len(v) > 128 || strings.ContainsAny(v, " \t\r\n,"):
					bad("%s: EIP %s is not an allocation ID", at, quote(v))
				case withInstances[v] || seen[v]:
					bad("%s: EIP %s is listed twice", at, quote(v))
				}
				withInstances[v] = true
			}
		}
		if len(r.InstanceEIPs) > 0 && len(r.Release) == 0 {
			bad("%s: EIPs to release after their instances, but no instance to release", at)
		}
		checkNotices(at, r, id, bad)
		if r.Closed && (instances > 0 || r.Notices > 0 || len(r.HandOvers) > 0 || len(r.InstanceEIPs) > 0 || len(r.Kinds) > 0) {
			bad("%s: failed closed, yet plans writes", at)
		}
		for kind, k := range r.Kinds {
			if !slices.Contains(kinds.Names(), kind) || k.OptedIn < len(k.Eligible) {
				bad("%s: kind %s: unknown, or more eligible than opted in", at, quote(kind))
			}
			if k.OptedIn > MaxCount {
				bad("%s: kind %s: a count of more than any fleet (%d)", at, quote(kind), MaxCount)
			}
			for _, v := range k.Eligible {
				id(at, v)
			}
		}
	}
	return errors.Join(errs...)
}

// MaxCount bounds each count of a region's plan: far above any region's
// fleet, and low enough that the organisation's sums never wrap (a
// negative total would keep its percent cap from ever tripping).
const MaxCount = 1 << 24

func validRegion(r string) bool {
	// The settings' rule, without importing the settings into the worker's
	// decision: lowercase letters, digits, single hyphens, at least one.
	if len(r) < 3 || len(r) > 64 || r[0] < 'a' || r[0] > 'z' || !strings.Contains(r, "-") || strings.Contains(r, "--") || strings.HasSuffix(r, "-") {
		return false
	}
	for i := 0; i < len(r); i++ {
		if c := r[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// writes reports whether the account's plan writes anything.
func (p *Plan) writes() bool {
	for _, r := range p.Regions {
		if len(r.Release) > 0 || len(r.Stop) > 0 || r.Notices > 0 || len(r.HandOvers) > 0 || len(r.InstanceEIPs) > 0 {
			return true
		}
		for _, k := range r.Kinds {
			if len(k.Eligible) > 0 {
				return true
			}
		}
	}
	return false
}

// scopes turns the plan into the engine's plan scopes, so that the caps
// are checked by the one-invocation mode's own code (plan.Check).
func (p *Plan) scopes() []*plan.Scope {
	out := make([]*plan.Scope, 0, len(p.Regions))
	for _, r := range p.Regions {
		s := plan.NewScope(cloud.Scope{Account: p.Account, Region: r.Region}, decide.Rules{}, decide.Lifecycle{})
		s.OptedIn, s.HandOvers, s.InstanceEIPs, s.Closed = r.OptedIn, len(r.HandOvers), len(r.InstanceEIPs), r.Closed
		for _, g := range r.Release {
			for _, id := range g.IDs {
				s.Eligible = append(s.Eligible, plan.Candidate{ID: id, Flags: g.Flags})
			}
		}
		for _, id := range r.Stop {
			s.Stops = append(s.Stops, plan.Candidate{ID: id})
		}
		for kind, k := range r.Kinds {
			if s.Resources == nil {
				s.Resources = map[string]*plan.Resources{}
			}
			res := &plan.Resources{OptedIn: k.OptedIn}
			for _, id := range k.Eligible {
				res.Eligible = append(res.Eligible, plan.Candidate{ID: id})
			}
			s.Resources[kind] = res
		}
		out = append(out, s)
	}
	return out
}

// Caps are the blast-radius rails of a fanned-out run: each account's
// (REAPER_MAX_RELEASE, REAPER_MAX_RELEASE_PERCENT) and the
// organisation's (REAPER_ORG_MAX_RELEASE, REAPER_ORG_MAX_RELEASE_PERCENT),
// with the engine's meaning.
type Caps struct {
	Account plan.Caps
	Org     plan.Caps
}

// PlanFailureLimit is how many accounts may fail planning (their worker
// crashed or timed out after its retries, or wrote a plan that is not
// trusted) while the others are still executed: one in 20, and at least
// one. One failed worker is usually passing (its account waits for the
// next tick); more mean the worker or the platform is broken, and then the
// plans that did arrive are not trusted either: nothing is written
// anywhere.
func PlanFailureLimit(accounts int) int { return max(1, accounts/20) }

// Account decisions.
const (
	AccountExecute     = "execute"       // Execute runs here
	AccountNothing     = "nothing-to-do" // planned, nothing to write
	AccountHeldByCap   = "held-by-cap"   // over its own cap: nothing written here
	AccountUnreachable = "unreachable"   // its role could not be assumed
	AccountPlanFailed  = "plan-failed"   // no trusted plan
	AccountHeld        = "held"          // the whole run is held
)

// Decision statuses.
const (
	DecisionProceed = "proceed" // the accounts in Execute are executed
	DecisionHeld    = "held"    // nothing is written anywhere
)

// Decision is Decide's result, written to OSS and read by Execute and
// Report.
type Decision struct {
	Run              RunID             `json:"run"`
	Status           string            `json:"status"`
	Reason           string            `json:"reason,omitempty"` // why held
	PlanFailures     int               `json:"planFailures"`
	PlanFailureLimit int               `json:"planFailureLimit"`
	Org              *report.CapCheck  `json:"org"`
	Accounts         []AccountDecision `json:"accounts"`
	Execute          []string          `json:"execute"`
	// Failures name everything that fails the run: each fails the flow's
	// execution and is in the report.
	Failures []string `json:"failures,omitempty"`
}

// AccountDecision is one account's part of the decision.
type AccountDecision struct {
	Account string           `json:"account"`
	Status  string           `json:"status"`
	Reason  string           `json:"reason,omitempty"`
	Cap     *report.CapCheck `json:"cap,omitempty"`
	// PlanDigest is the digest of the plan the caps were applied to
	// (Plan.Digest): Execute writes only that plan.
	PlanDigest string `json:"planDigest,omitempty"`
}

// Digest is the SHA-256 of the plan's JSON (encoding/json writes a
// struct's fields in order and a map's keys sorted: the same plan, the
// same digest).
func (p *Plan) Digest() string {
	b, err := json.Marshal(p)
	if err != nil {
		return "" // never matches: a plan that cannot be encoded is not executed
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Counted checks that p is the plan Decide applied the caps to for the
// account: a plan rewritten since (a late Plan worker, a write to the
// bucket) could hold what no cap counted.
func (d *Decision) Counted(account string, p *Plan) error {
	for _, a := range d.Accounts {
		if a.Account != account {
			continue
		}
		if a.Status != AccountExecute {
			return fmt.Errorf("account %s is %s in the decision, not %s: nothing is written there", account, a.Status, AccountExecute)
		}
		if got := p.Digest(); a.PlanDigest == "" || got == "" || got != a.PlanDigest {
			return fmt.Errorf("account %s's plan is not the plan Decide counted (digest %s, decided %s): it changed since, and nothing is written there", account, quote(got), quote(a.PlanDigest))
		}
		return nil
	}
	return fmt.Errorf("account %s is not in the decision", account)
}

// Assessed is one account's plan as Decide keeps it: its decision and the
// failures it brings, without its IDs, so that Decide holds one plan at a
// time however large the organisation.
type Assessed struct {
	AccountDecision
	failures   []string
	planFailed bool
}

// Assess decides one account on its own: plan-failed (no plan, a plan
// that could not be read, readErr, or one that breaks its rules),
// unreachable, held by its own cap, nothing to do, or to execute.
func Assess(run RunID, account string, p *Plan, readErr error, caps Caps) Assessed {
	x := Assessed{AccountDecision: AccountDecision{Account: account}}
	var problem error
	switch {
	case readErr != nil:
		problem = readErr
	case p == nil:
		problem = errors.New("no plan: the worker failed after its retries")
	default:
		problem = p.Validate(run, account)
	}
	switch {
	case problem != nil:
		x.Status, x.Reason, x.planFailed = AccountPlanFailed, oneLine(problem), true
		x.failures = append(x.failures, fmt.Sprintf("account %s plan-failed: %s", account, x.Reason))
	case p.Status == PlanUnreachable:
		x.Status, x.Reason = AccountUnreachable, p.Problem
		x.failures = append(x.failures, fmt.Sprintf("account %s unreachable: %s", account, p.Problem))
	default:
		x.Cap = plan.Check(p.scopes(), caps.Account)
		x.PlanDigest = p.Digest()
		for _, r := range p.Regions {
			if r.Closed {
				x.failures = append(x.failures, fmt.Sprintf("account %s region %s failed closed: nothing is written there", account, r.Region))
			}
		}
		switch {
		case x.Cap.Exceeded:
			x.Status, x.Reason = AccountHeldByCap, x.Cap.Explain()
			x.failures = append(x.failures, fmt.Sprintf("account %s held by its cap: %s", account, x.Reason))
		case p.writes():
			x.Status = AccountExecute
		default:
			x.Status = AccountNothing
		}
	}
	return x
}

// accounts returns the manifest's accounts, sorted, each once.
func (m Manifest) accounts() []string {
	accounts := slices.Clone(m.Accounts)
	slices.Sort(accounts)
	return slices.Compact(accounts)
}

// Combine decides the run from every account's assessment (in the
// manifest's sorted order): the failure limit, then the organisation's
// caps over the accounts within their own caps.
func Combine(run RunID, assessed []Assessed, caps Caps) Decision {
	d := Decision{Run: run, Status: DecisionProceed, PlanFailureLimit: PlanFailureLimit(len(assessed)), Execute: []string{}}
	var within []*report.CapCheck
	for _, x := range assessed {
		d.Accounts = append(d.Accounts, x.AccountDecision)
		d.Failures = append(d.Failures, x.failures...)
		if x.planFailed {
			d.PlanFailures++
		}
		// As in one invocation: every account swept within its own caps,
		// those with nothing to write too (their opted-in instances are
		// part of the organisation's share).
		if x.Status == AccountExecute || x.Status == AccountNothing {
			within = append(within, x.Cap)
		}
	}
	d.Org = OrgCheck(within, caps.Org)
	switch {
	case d.PlanFailures > d.PlanFailureLimit:
		d.Reason = fmt.Sprintf("%d of %d accounts failed planning, more than the %d allowed: nothing is written anywhere", d.PlanFailures, len(assessed), d.PlanFailureLimit)
	case d.Org.Exceeded:
		d.Reason = "the organisation: " + d.Org.Explain() + ": nothing is written anywhere"
	}
	if d.Reason != "" {
		d.Status = DecisionHeld
		d.Failures = append(d.Failures, d.Reason)
		for i := range d.Accounts {
			if d.Accounts[i].Status == AccountExecute {
				d.Accounts[i].Status, d.Accounts[i].Reason = AccountHeld, "the run is held"
			}
		}
		return d
	}
	for _, ad := range d.Accounts {
		if ad.Status == AccountExecute {
			d.Execute = append(d.Execute, ad.Account)
		}
	}
	return d
}

// Decide applies the caps to the plans of the manifest's accounts; plans
// holds what Plan wrote (a missing account has no plan, or an error reading
// it in bad). It is a pure function of its arguments: Decide can be
// retried and gives the same decision. (RunDecide reads one plan at a time
// and does the same through Assess and Combine.)
func Decide(m Manifest, plans map[string]*Plan, bad map[string]error, caps Caps) Decision {
	var assessed []Assessed
	for _, a := range m.accounts() {
		assessed = append(assessed, Assess(m.Run, a, plans[a], bad[a], caps))
	}
	return Combine(m.Run, assessed, caps)
}

// OrgCheck is the organisation's cap check over the accounts' own checks:
// plan.Check's arithmetic on their sums (a test holds the two equal), so
// that Decide needs no account's IDs for it.
func OrgCheck(accounts []*report.CapCheck, caps plan.Caps) *report.CapCheck {
	c := &report.CapCheck{MaxRelease: caps.MaxRelease, MaxReleasePercent: caps.MaxReleasePercent, PercentCapFrom: caps.PercentCapFrom}
	for _, a := range accounts {
		c.OptedIn += a.OptedIn
		c.Instances += a.Instances
		c.HandOvers += a.HandOvers
		c.InstanceEIPs += a.InstanceEIPs
		for kind, k := range a.Kinds {
			if c.Kinds == nil {
				c.Kinds = map[string]*report.KindCheck{}
			}
			if c.Kinds[kind] == nil {
				c.Kinds[kind] = &report.KindCheck{}
			}
			c.Kinds[kind].OptedIn += k.OptedIn
			c.Kinds[kind].Eligible += k.Eligible
		}
	}
	c.Eligible = c.Instances + c.HandOvers + c.InstanceEIPs
	if c.OptedIn > 0 {
		c.Percent = float64(c.Instances) * 100 / float64(c.OptedIn)
	}
	c.PercentExceeded = c.MaxReleasePercent > 0 && c.Instances >= c.PercentCapFrom && c.Percent > c.MaxReleasePercent
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

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
