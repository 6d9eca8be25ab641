// Package report defines the run report: the product's main output. It is
// JSON-serialisable and stays compact at 100,000 instances: instances are
// grouped by outcome and reason and listed once each, by ID, with a detail
// only where it says something the group does not.
package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Outcome is what happened to one instance (lib/verdict's vocabulary).
type Outcome = verdict.Outcome

// Reason explains an outcome (lib/verdict's vocabulary).
type Reason = verdict.Reason

// Outcomes of an instance in a run.
const (
	OutcomeReleased     = verdict.Released
	OutcomeWouldRelease = verdict.WouldRelease // dry run: DeleteInstances answered DRYRUN.SUCCESS
	OutcomeSkipped      = verdict.Skipped
	OutcomeFailed       = verdict.Failed
	OutcomeGone         = verdict.Gone         // vanished between listing and release
	OutcomeNotAttempted = verdict.NotAttempted // eligible, but a safety rail held it back
)

// Reasons for not-attempted instances, beside the rules' skip reasons.
const (
	ReasonCapExceeded         = verdict.CapExceeded
	ReasonDeadline            = verdict.Deadline
	ReasonInventoryIncomplete = verdict.InventoryIncomplete
	ReasonRegionStopped       = verdict.ScopeStopped
	ReasonDecisionChanged     = verdict.DecisionChanged
)

// SchemaVersion is the JSON report's version (docs/report.schema.json):
// 2 lists the instances as one flat array of records; 3 gives each
// account a status (an account that could not be reached has no
// regions), its own cap check and leftovers. Reports of version 2 read
// as version 3 reports whose accounts have no status.
const SchemaVersion = 3

// Report is one run.
type Report struct {
	SchemaVersion int            `json:"schemaVersion"`
	RunID         string         `json:"runId"`
	DryRun        bool           `json:"dryRun"`
	StartedAt     time.Time      `json:"startedAt"`
	FinishedAt    time.Time      `json:"finishedAt"`
	DurationMS    int64          `json:"durationMs"`
	Settings      map[string]any `json:"settings,omitempty"`
	// Credentials names where the credentials came from (never the values).
	Credentials string `json:"credentials,omitempty"`
	// Complete is false when any region could not be swept to the end: a
	// failed listing, a stopped region, or the invocation deadline.
	Complete bool      `json:"complete"`
	Cap      *CapCheck `json:"cap,omitempty"`
	// Error is the run-level failure, if any (e.g. the cap was exceeded):
	// set exactly when the invocation failed.
	Error string `json:"error,omitempty"`
	// Warning says why a run that did not fail is incomplete (the
	// deadline held back releases; the next run continues).
	Warning string `json:"warning,omitempty"`
	Totals  Totals `json:"totals"`
	// Calls are the API calls made outside any region's sweep (resolving
	// the regions), by action; Totals.Calls includes them.
	Calls map[string]int `json:"calls,omitempty"`
	// Accounts sums the regions of each account swept.
	Accounts []*Account `json:"accounts,omitempty"`
	// AccountsSkipped are the accounts the selection left out (excluded,
	// not joined, untagged, the function's own under rd), and why.
	AccountsSkipped []SkippedAccount `json:"accountsSkipped,omitempty"`
	// Leftovers sums what the released instances leave billed.
	Leftovers *LeftoverSummary `json:"leftovers,omitempty"`
	// Partial says what the report counts and does not list by ID (an
	// organisation's report past its budget), and where that is listed.
	Partial *Partial `json:"partial,omitempty"`
	// Notices says how the run served the notices it owed.
	Notices *Notices  `json:"notices,omitempty"`
	Regions []*Region `json:"regions"`
	// Instances is every instance with its outcome, one flat record each,
	// written from the regions' groups (not kept twice in memory).
	Instances Records `json:"instances"`
}

// Notices is how a run served the notices it owed (the lifecycle on):
// owners are served earliest due first, each told and then marked, while
// the time left covers both; the rest wait for the next run.
type Notices struct {
	// Owed counts the instances and resources owed a notice; Owners,
	// their owners.
	Owed   int `json:"owed"`
	Owners int `json:"owners"`
	// Delivered counts the owners told (or marked without a channel) and
	// marked this run.
	Delivered int `json:"delivered"`
	// UnsentItems and UnsentOwners count what was owed and not sent (the
	// channel's notice without an owner tag counts as one owner);
	// Unsent names the first owners, never "": UnsentNoOwner says the
	// channel's notice was left unsent too. Reasons counts the unsent
	// items by why.
	UnsentItems   int            `json:"unsentItems"`
	UnsentOwners  int            `json:"unsentOwners"`
	Unsent        []string       `json:"unsent,omitempty"`
	UnsentNoOwner bool           `json:"unsentNoOwner,omitempty"`
	Reasons       map[string]int `json:"reasons,omitempty"`
	seen          map[string]bool
}

// namedUnsent bounds the owners Notices names.
const namedUnsent = 20

// AddUnsent records one item owed a notice that was not sent.
func (n *Notices) AddUnsent(owner, reason string) {
	n.UnsentItems++
	if n.Reasons == nil {
		n.Reasons, n.seen = map[string]int{}, map[string]bool{}
	}
	n.Reasons[reason]++
	if !n.seen[owner] {
		n.seen[owner] = true
		n.UnsentOwners++
		switch {
		case owner == "":
			n.UnsentNoOwner = true
		case len(n.Unsent) < namedUnsent:
			n.Unsent = append(n.Unsent, owner)
		}
	}
}

// Explain says what was left unsent, and why.
func (n *Notices) Explain() string {
	names := slices.Clone(n.Unsent)
	if n.UnsentNoOwner {
		names = append(names, "(no owner tag)")
	}
	if more := n.UnsentOwners - len(names); more > 0 {
		names = append(names, fmt.Sprintf("and %d more", more))
	}
	var why []string
	for _, r := range slices.Sorted(maps.Keys(n.Reasons)) {
		why = append(why, fmt.Sprintf("%d %s", n.Reasons[r], r))
	}
	return fmt.Sprintf("%d of %d notices owed were not sent (%s), to %d of %d owners: %s",
		n.UnsentItems, n.Owed, strings.Join(why, ", "), n.UnsentOwners, n.Owners, strings.Join(names, ", "))
}

// Account is the part of the run in one account: its status and its
// regions' totals.
type Account struct {
	Account string `json:"account"` // "" when unknown (a CLI run)
	// Status is AccountSwept, AccountUnreachable, AccountHeldByCap or
	// AccountFailed.
	Status string `json:"status"`
	// Error says why an account is unreachable or failed before any of
	// its regions was listed (its role could not be assumed, its regions
	// could not be listed).
	Error    *verdict.Failure `json:"error,omitempty"`
	Regions  []string         `json:"regions"`
	Seen     int              `json:"seen"`
	OptedIn  int              `json:"optedIn"`
	Complete bool             `json:"complete"`
	Outcomes map[string]int   `json:"outcomes"`
	// Cap is the account's own cap check when the run swept several
	// accounts (REAPER_MAX_RELEASE and REAPER_MAX_RELEASE_PERCENT apply
	// per account); the report's Cap is then the organisation's.
	Cap       *CapCheck        `json:"cap,omitempty"`
	Leftovers *LeftoverSummary `json:"leftovers,omitempty"`
}

// SkippedAccount is an account left out of the run, and why.
type SkippedAccount struct {
	Account string `json:"account"`
	Name    string `json:"name,omitempty"`
	Reason  string `json:"reason"`           // excluded, not-joined, untagged, self
	Status  string `json:"status,omitempty"` // the directory's status, for not-joined
}

// Statuses of an account.
const (
	AccountSwept       = "swept"
	AccountUnreachable = "unreachable" // its role could not be assumed: nothing was written there
	AccountHeldByCap   = "held-by-cap" // over its cap or the organisation's: nothing was written there
	AccountFailed      = "failed"      // a region failed closed or a write failed
)

// CapCheck is the blast-radius check made before anything is released.
type CapCheck struct {
	// Eligible is every write the count cap counts: Instances, HandOvers,
	// InstanceEIPs and each kind's Eligible.
	Eligible int `json:"eligible"`
	// Instances are the instances to release or stop (what OptedIn and
	// Percent are about).
	Instances int `json:"instances"`
	// HandOvers are EIPs earlier runs handed over that this run releases;
	// InstanceEIPs the EIPs released after their instances this run.
	HandOvers         int     `json:"handOvers,omitempty"`
	InstanceEIPs      int     `json:"instanceEips,omitempty"`
	OptedIn           int     `json:"optedIn"`
	MaxRelease        int     `json:"maxRelease"`
	MaxReleasePercent float64 `json:"maxReleasePercent"`
	// PercentCapFrom: the percent cap applies only from this many eligible.
	PercentCapFrom  int     `json:"percentCapMinEligible"`
	Percent         float64 `json:"percent"`
	CountExceeded   bool    `json:"countExceeded,omitempty"`
	PercentExceeded bool    `json:"percentExceeded,omitempty"`
	Exceeded        bool    `json:"exceeded"`
	// Kinds are the kinds swept by their own tag (package kinds): the
	// count cap holds them together with the instances (Eligible is the
	// sum); the percent cap holds each kind on its own share.
	Kinds map[string]*KindCheck `json:"kinds,omitempty"`
}

// KindCheck is one resource kind's share in the cap check.
type KindCheck struct {
	Eligible int     `json:"eligible"`
	OptedIn  int     `json:"optedIn"`
	Percent  float64 `json:"percent"`
	Exceeded bool    `json:"exceeded"`
}

// Explain says which cap this run exceeded, with the numbers.
func (c *CapCheck) Explain() string {
	var over []string
	if c.CountExceeded {
		over = append(over, fmt.Sprintf("the count cap of %d", c.MaxRelease))
	}
	if c.PercentExceeded {
		what := ""
		for _, kind := range slices.Sorted(maps.Keys(c.Kinds)) {
			if k := c.Kinds[kind]; k.Exceeded {
				what += fmt.Sprintf(" by %s (%d of %d, %.1f%%)", kind, k.Eligible, k.OptedIn, k.Percent)
			}
		}
		over = append(over, fmt.Sprintf("the percent cap of %.4g%% (which applies from %d eligible)%s", c.MaxReleasePercent, c.PercentCapFrom, what))
	}
	// The instances' numbers, then every write the count cap counts by
	// kind when there are others.
	counted := ""
	if c.Eligible != c.Instances {
		parts := []string{fmt.Sprintf("%d instances", c.Instances)}
		if c.InstanceEIPs > 0 {
			parts = append(parts, fmt.Sprintf("%d EIPs of those instances", c.InstanceEIPs))
		}
		if c.HandOvers > 0 {
			parts = append(parts, fmt.Sprintf("%d EIPs handed over by earlier runs", c.HandOvers))
		}
		for _, kind := range slices.Sorted(maps.Keys(c.Kinds)) {
			if k := c.Kinds[kind]; k.Eligible > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", k.Eligible, kind))
			}
		}
		counted = fmt.Sprintf("; %d writes counted by the count cap (%s)", c.Eligible, strings.Join(parts, ", "))
	}
	return fmt.Sprintf("%d instances eligible (%.1f%% of %d opted in)%s, over %s", c.Instances, c.Percent, c.OptedIn, counted, strings.Join(over, " and "))
}

// NeededPercent is the smallest whole percent cap this run passes.
func (c *CapCheck) NeededPercent() float64 { return min(100, math.Ceil(c.Percent)) }

// Totals add up the regions.
type Totals struct {
	Seen     int            `json:"seen"`
	OptedIn  int            `json:"optedIn"`
	Outcomes map[string]int `json:"outcomes"` // by outcome
	Reasons  map[string]int `json:"reasons"`  // "outcome/reason"
	Calls    map[string]int `json:"calls"`    // API calls by action, retries included
	Batches  int            `json:"batches"`
	// Kinds are the resource sections' counts by kind (in JSON, a field
	// each: sections.go).
	Kinds map[string]map[string]int `json:"-"`
	// Accounts counts the accounts by status when the run swept several.
	Accounts map[string]int `json:"accounts,omitempty"`
}

// Region is the part of the run in one region of one account.
type Region struct {
	Account string `json:"account,omitempty"`
	Region  string `json:"region"`
	// Discovery names the listing path taken: "tag-filter" when the tag
	// filtered listing was complete, "tag-index" when the 1,000 cap forced
	// ListTagResources plus DescribeInstances by ID.
	Discovery string           `json:"discovery,omitempty"`
	Seen      int              `json:"seen"`
	OptedIn   int              `json:"optedIn"`
	Complete  bool             `json:"complete"`
	Error     *verdict.Failure `json:"error,omitempty"`
	Counts    map[string]int   `json:"counts"` // "outcome" and "outcome/reason"
	// Unlisted counts, by "outcome/reason", the instances counted in
	// Counts that the report does not list by ID (past ListedSkips): their
	// decisions are in the log.
	Unlisted map[string]int `json:"unlisted,omitempty"`
	Groups   []*Group       `json:"-"` // in JSON: the report's flat Instances
	Batches  []*Batch       `json:"batches"`
	// UnlistedBatches counts the write calls made and not listed in
	// Batches (an organisation's report past its budget: WritesView).
	UnlistedBatches int            `json:"unlistedBatches,omitempty"`
	Calls           map[string]int `json:"calls"`
	DurationMS      int64          `json:"durationMs"`
	// Leftovers: what each released instance leaves billed, and the sum.
	LeftoverSummary *LeftoverSummary `json:"leftoverSummary,omitempty"`
	Leftovers       []*Leftover      `json:"leftovers,omitempty"`
	// Sections are the resources swept by their own tag
	// (REAPER_RESOURCES), by kind, and the EIPs released after their
	// instances (REAPER_RELEASE_EIPS) in the EIP kind's (in JSON, a field
	// each: sections.go).
	Sections   Sections `json:"-"`
	groupIndex map[groupKey]*Group
	started    time.Time
	leftovers  map[string]*Leftover
}

// Facts are what the listing said of an instance, for its record.
type Facts struct {
	Name, Status, ChargeType string
	ExpiresAt                int64 // Unix seconds; 0 when it has no readable expiry
}

// NewFacts is the facts of a listed instance. A charge type ECS does not
// document is recorded as "" (unknown), as the report's schema says: the
// rules hold such an instance as invalid-data, with the raw value in the
// detail, and a strict reader must not drop the whole report for it.
func NewFacts(name, status, chargeType string, expiresAt time.Time) *Facts {
	if chargeType != "PrePaid" && chargeType != "PostPaid" {
		chargeType = ""
	}
	f := &Facts{Name: name, Status: intern(status), ChargeType: intern(chargeType)}
	if !expiresAt.IsZero() {
		f.ExpiresAt = expiresAt.Unix()
	}
	return f
}

// common are the few values of Status and ChargeType: keeping these
// constants, not each answer's copy, saves two strings per instance.
var common = map[string]string{}

func init() {
	for _, v := range []string{"Pending", "Running", "Starting", "Stopping", "Stopped", "PrePaid", "PostPaid"} {
		common[v] = v
	}
}

func intern(s string) string {
	if c, ok := common[s]; ok {
		return c
	}
	return s
}

// Expires formats the expiry (RFC 3339, UTC), "" when unknown.
func (f *Facts) Expires() string {
	if f == nil || f.ExpiresAt == 0 {
		return ""
	}
	return Time(time.Unix(f.ExpiresAt, 0))
}

// Time formats a time for the report as its schema says: RFC 3339 in UTC
// to the second, "2026-12-01T08:00:00Z". A time outside the years 0001 to
// 9999 (only a forged or odd tag can carry one) has no such form and is
// written as "" (unknown); the item's detail still quotes the raw value.
func Time(t time.Time) string {
	t = t.UTC()
	if t.IsZero() || t.Year() < 1 || t.Year() > 9999 {
		return ""
	}
	return t.Format(time.RFC3339)
}

func (f *Facts) get() Facts {
	if f == nil {
		return Facts{}
	}
	return *f
}

// section returns (creating) a resource section.
func (r *Region) section(name string) *Section {
	if r.Sections == nil {
		r.Sections = Sections{}
	}
	sec := r.Sections[name]
	if sec == nil {
		sec = &Section{}
		r.Sections[name] = sec
	}
	return sec
}

// Section is a kind of resource's own outcomes (package kinds),
// in the instances' vocabulary.
type Section struct {
	Counts map[string]int `json:"counts"`
	Groups []*Group       `json:"items"`
	// Unlisted counts, by "outcome/reason", the resources counted in
	// Counts that the report does not list by ID (an organisation's
	// report: WritesView).
	Unlisted   map[string]int `json:"unlisted,omitempty"`
	groupIndex map[groupKey]*Group
}

// Add records one resource's outcome.
func (sec *Section) Add(outcome Outcome, reason Reason, item Item) {
	if sec.groupIndex == nil {
		sec.groupIndex, sec.Counts = map[groupKey]*Group{}, map[string]int{}
	}
	g := sec.group(outcome, reason, item)
	sec.Counts[string(outcome)]++
	if reason != "" {
		sec.Counts[g.countKey]++
	}
}

// group appends item to its outcome's group.
func (sec *Section) group(outcome Outcome, reason Reason, item Item) *Group {
	if sec.groupIndex == nil {
		sec.groupIndex = map[groupKey]*Group{}
	}
	key := groupKey{outcome, reason}
	g := sec.groupIndex[key]
	if g == nil {
		g = &Group{Outcome: outcome, Reason: reason, countKey: string(outcome) + "/" + string(reason)}
		sec.groupIndex[key] = g
		sec.Groups = append(sec.Groups, g)
	}
	g.Instances = append(g.Instances, item)
	return g
}

// Group lists the instances that share an outcome and reason.
type Group struct {
	Outcome   Outcome `json:"outcome"`
	Reason    Reason  `json:"reason,omitempty"`
	Instances []Item  `json:"items"`
	countKey  string  // "outcome/reason", built once per group
}

// Item is one instance in a group.
type Item struct {
	ID string `json:"id"`
	// Facts is what the listing said of an instance (shared, one per
	// instance: a pointer keeps 100,000 items small).
	Facts     *Facts `json:"-"`
	Detail    string `json:"detail,omitempty"`
	Code      string `json:"code,omitempty"`
	Message   string `json:"message,omitempty"`
	RequestID string `json:"requestId,omitempty"`
	// When the owner was told (the mark's time; RFC 3339, UTC), where it
	// applies.
	Owner      string `json:"owner,omitempty"`
	NotifiedAt string `json:"notifiedAt,omitempty"`
	// WrittenAt is when this run wrote the mark, stopped or released the
	// resource (Unix seconds; 0 for none): the outcome says which, and the
	// report's records write it as markedAt, stoppedAt or releasedAt.
	WrittenAt int64 `json:"-"`
}

// Stamp records when a successful write happened.
func (it *Item) Stamp(o Outcome, at time.Time) {
	switch o {
	case verdict.Released, verdict.Stopped, verdict.Notified:
		it.WrittenAt = at.Unix()
	}
}

// writtenAt is the time of the item's write, in the field of its
// outcome.
func (it *Item) writtenAt(o Outcome) (marked, stopped, released string) {
	if it.WrittenAt == 0 {
		return "", "", ""
	}
	ts := Time(time.Unix(it.WrittenAt, 0))
	switch o {
	case verdict.Released:
		return "", "", ts
	case verdict.Stopped:
		return "", ts, ""
	case verdict.Notified:
		return ts, "", ""
	}
	return "", "", ""
}

// Batch is one write call (DeleteInstances, ...), with its retries.
type Batch struct {
	// Action is the API action; "" reads as DeleteInstances.
	Action      string   `json:"action,omitempty"`
	InstanceIDs []string `json:"instanceIds"`
	// Flags are DeleteInstances' release flags; nil for other actions.
	Flags *cloud.ReleaseFlags `json:"flags,omitempty"`
	// Tags are TagResources' tags (the mark, shown with its MAC elided:
	// mark.Shown); StoppedMode StopInstances'.
	Tags        map[string]string `json:"tags,omitempty"`
	StoppedMode string            `json:"stoppedMode,omitempty"`
	ForceStop   *bool             `json:"forceStop,omitempty"`
	DryRun      bool              `json:"dryRun"`
	ClientToken string            `json:"clientToken"`
	Attempts    int               `json:"attempts"`
	RequestIDs  []string          `json:"requestIds,omitempty"`
	// Result is the outcome of a successful call ("written" or
	// "would-write" for a step before another: the stop mark), or failed.
	Result string `json:"result"`
	Code   string `json:"code,omitempty"`
}

// NewRegion starts the report of one region.
func NewRegion(region string) *Region {
	return &Region{
		Region:     region,
		Groups:     []*Group{},
		Batches:    []*Batch{},
		Counts:     map[string]int{},
		Calls:      map[string]int{},
		groupIndex: map[groupKey]*Group{},
	}
}

// Add records one instance's outcome. Callers record each instance once.
func (r *Region) Add(outcome Outcome, reason Reason, item Item) {
	g := r.group(outcome, reason, item)
	r.Counts[string(outcome)]++
	if reason != "" {
		r.Counts[g.countKey]++
	}
}

// skip records an instance the listing left alone: counted, and listed
// while its reason's group has fewer than ListedSkips.
func (r *Region) skip(reason Reason, item Item) {
	key := groupKey{verdict.Skipped, reason}
	if g := r.groupIndex[key]; g != nil && len(g.Instances) >= ListedSkips {
		r.Counts[string(verdict.Skipped)]++
		r.Counts[g.countKey]++
		if r.Unlisted == nil {
			r.Unlisted = map[string]int{}
		}
		r.Unlisted[g.countKey]++
		return
	}
	r.Add(verdict.Skipped, reason, item)
}

// unlistedOf is how many instances with the outcome are counted and not
// listed.
func (r *Region) unlistedOf(o Outcome) int {
	n := 0
	for k, v := range r.Unlisted {
		if outcome, _, _ := strings.Cut(k, "/"); outcome == string(o) {
			n += v
		}
	}
	return n
}

// group appends item to its outcome's group.
func (r *Region) group(outcome Outcome, reason Reason, item Item) *Group {
	if r.groupIndex == nil {
		r.groupIndex = map[groupKey]*Group{}
	}
	key := groupKey{outcome, reason}
	g := r.groupIndex[key]
	if g == nil {
		g = &Group{Outcome: outcome, Reason: reason}
		r.groupIndex[key] = g
		r.Groups = append(r.Groups, g)
		g.countKey = string(outcome) + "/" + string(reason)
	}
	g.Instances = append(g.Instances, item)
	return g
}

// groupKey finds a group without building a string per instance.
type groupKey struct {
	outcome Outcome
	reason  Reason
}

// Count returns how many instances ended with the outcome.
func (r *Region) Count(outcome Outcome) int { return r.Counts[string(outcome)] }

// IDs returns the IDs with the outcome, sorted.
func (r *Region) IDs(outcome Outcome) []string {
	var ids []string
	for _, g := range r.Groups {
		if g.Outcome == outcome {
			for _, it := range g.Instances {
				ids = append(ids, it.ID)
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// Finish sorts groups and items for stable output.
func (r *Region) Finish() {
	order := map[Outcome]int{}
	for i, o := range verdict.Outcomes {
		order[o] = i
	}
	sort.SliceStable(r.Groups, func(i, j int) bool {
		a, b := r.Groups[i], r.Groups[j]
		if order[a.Outcome] != order[b.Outcome] {
			return order[a.Outcome] < order[b.Outcome]
		}
		return a.Reason < b.Reason
	})
	for _, g := range r.Groups {
		sort.Slice(g.Instances, func(i, j int) bool { return g.Instances[i].ID < g.Instances[j].ID })
	}
	for _, sec := range r.Sections {
		for _, g := range sec.Groups {
			sort.Slice(g.Instances, func(i, j int) bool { return g.Instances[i].ID < g.Instances[j].ID })
		}
	}
	r.finishLeftovers()
}

// IDs returns the IDs with the outcome across regions, sorted.
func (rep *Report) IDs(outcome Outcome) []string {
	var ids []string
	for _, r := range rep.Regions {
		ids = append(ids, r.IDs(outcome)...)
	}
	sort.Strings(ids)
	return ids
}

// Total sums the regions into Totals and Accounts. An account already
// in Accounts keeps what only the run knew of it (its status when it is
// not derived from its regions, its error and cap check), so that an
// account without regions (unreachable) stays in the report.
func (rep *Report) Total() {
	t := Totals{Outcomes: map[string]int{}, Reasons: map[string]int{}, Calls: map[string]int{}}
	for k, v := range rep.Calls {
		t.Calls[k] += v
	}
	rep.Complete = rep.Error == ""
	given := rep.Accounts
	rep.Accounts = nil
	accounts := map[string]*Account{}
	account := func(id string) *Account {
		a := accounts[id]
		if a == nil {
			a = &Account{Account: id, Regions: []string{}, Complete: true, Outcomes: map[string]int{}}
			accounts[id] = a
			rep.Accounts = append(rep.Accounts, a)
		}
		return a
	}
	var regionsOf = map[string][]*Region{}
	for _, r := range rep.Regions {
		a := account(r.Account)
		regionsOf[r.Account] = append(regionsOf[r.Account], r)
		a.Regions = append(a.Regions, r.Region)
		a.Seen += r.Seen
		a.OptedIn += r.OptedIn
		a.Complete = a.Complete && r.Complete
		for _, o := range verdict.Outcomes {
			if n := r.Counts[string(o)]; n > 0 {
				a.Outcomes[string(o)] += n
			}
		}
		t.Seen += r.Seen
		t.OptedIn += r.OptedIn
		t.Batches += len(r.Batches) + r.UnlistedBatches
		for k, v := range r.Counts {
			if _, isOutcome := outcomeNames[k]; isOutcome {
				t.Outcomes[k] += v
			} else {
				t.Reasons[k] += v
			}
		}
		for k, v := range r.Calls {
			t.Calls[k] += v
		}
		if !r.Complete {
			rep.Complete = false
		}
	}
	for _, g := range given {
		// A status the regions cannot say: kept; one they say: derived
		// again (Total may run twice).
		told := g.Status == AccountUnreachable || g.Status == AccountHeldByCap || g.Error != nil
		if regionsOf[g.Account] == nil && !told {
			continue
		}
		a := account(g.Account)
		a.Error, a.Cap = g.Error, g.Cap
		if told {
			a.Status = g.Status
		}
	}
	for _, a := range rep.Accounts {
		a.Leftovers = sumLeftovers(regionsOf[a.Account])
		if a.Status == "" {
			a.Status = derivedStatus(regionsOf[a.Account])
		}
		if a.Status == AccountUnreachable || a.Status == AccountHeldByCap || a.Error != nil {
			a.Complete = false // not swept to the end; a failed write alone leaves it complete
			rep.Complete = false
		}
	}
	if len(rep.Accounts) > 1 {
		slices.SortStableFunc(rep.Accounts, func(a, b *Account) int { return strings.Compare(a.Account, b.Account) })
		t.Accounts = map[string]int{}
		for _, a := range rep.Accounts {
			t.Accounts[a.Status]++
		}
	}
	rep.Totals = t
	rep.Instances = Records{regions: rep.Regions}
	rep.totalLeftovers()
	for _, r := range rep.Regions {
		for name, sec := range r.Sections {
			if rep.Totals.Kinds == nil {
				rep.Totals.Kinds = map[string]map[string]int{}
			}
			if rep.Totals.Kinds[name] == nil {
				rep.Totals.Kinds[name] = map[string]int{}
			}
			for k, v := range sec.Counts {
				rep.Totals.Kinds[name][k] += v
			}
		}
	}
}

// derivedStatus is an account's status from its regions: failed when a
// region failed closed or a write of any kind failed there.
func derivedStatus(regions []*Region) string {
	for _, r := range regions {
		if _, failed := firstFailedWrite(r); failed || r.Error != nil {
			return AccountFailed
		}
	}
	return AccountSwept
}

var outcomeNames = func() map[string]bool {
	m := map[string]bool{}
	for _, o := range verdict.Outcomes {
		m[string(o)] = true
	}
	return m
}()
