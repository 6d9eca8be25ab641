// Package engine runs one sweep over scopes (account × region, each with
// its own API client) in three phases, so that nothing is written before
// the whole run is known:
//
//  1. discover (package discover) streams each scope's instances into the
//     plan, scopes in parallel; a scope whose listing cannot be trusted is
//     closed and releases nothing;
//  2. plan (package plan) decides each instance with package decide and
//     keeps what the caps need; the cap check works on the plan, across
//     every scope of an account, and over either cap nothing is written
//     in it; with several accounts, the organisation's caps then hold
//     the accounts within theirs together, and over them nothing is
//     written anywhere (accounts.go);
//  3. execute (package execute) runs the plan's writes through one
//     executor that is generic over an operation (package ops), scopes in
//     parallel: accounts at once, each with its own bound on its scopes.
//
// Every call goes through package call (the retry loop, the deadline
// margin, throttling), and everything the run does is recorded by a
// report.Recorder: the report is the engine's output, never its state.
// Dry run takes exactly the same path.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/leftover"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// ErrCapExceeded is returned (wrapped, with the numbers) when the eligible
// instances exceed a blast-radius cap; nothing was released.
var ErrCapExceeded = errors.New("release cap exceeded")

// Phases of a run, as the "phase" log record (DEBUG) names them: a
// progress line says which one the run is in.
const (
	PhaseListing   = "listing"
	PhaseNotices   = "notices"
	PhaseWrites    = "writes"
	PhaseLeftovers = "leftovers" // the leftover listings of the released instances finish
)

func (e *Engine) phase(name string) {
	if ctx := context.Background(); e.log.Enabled(ctx, slog.LevelDebug) {
		e.log.Log(ctx, slog.LevelDebug, "phase", "phase", name)
	}
}

// ErrInterrupted is returned (wrapped) when the operator interrupted the
// run: no call started after it, the calls in flight were let finish
// within a bound, and what they left undone is reported interrupted.
var ErrInterrupted = errors.New("interrupted")

// ErrRegionFailed is returned (wrapped) when a scope failed closed: its
// listing failed, its region does not exist, the credentials or
// permissions were refused, or the deadline arrived before it was listed.
// Nothing was released there; the run failed.
var ErrRegionFailed = errors.New("regions failed")

// ErrReleaseFailed is returned (wrapped, naming the first failures) when
// any write failed: a release, stop, mark or notice of an instance, a
// disk's, snapshot's or EIP's delete or mark, an EIP hand-over.
var ErrReleaseFailed = errors.New("releases failed")

// ErrIncomplete is returned (wrapped) when nothing failed but the deadline
// held back releases after every scope was listed: the next tick
// continues. It is the only error that does not fail the run.
var ErrIncomplete = errors.New("sweep incomplete")

// ErrNoticesUnsent is returned (wrapped, with the numbers) when the run
// owed notices it could not send in the time left and made no progress
// at all: no notice delivered and marked, nothing released or stopped.
// Every later run would do the same.
var ErrNoticesUnsent = errors.New("notices owed but not sent")

// ErrNoTime is returned when the invocation starts with less time than the
// deadline margin: the function's timeout leaves no time to sweep.
var ErrNoTime = errors.New("no time to sweep")

// ErrNoticeFailed is returned (wrapped, with the channel's answer) when a
// notice was not delivered: nothing was marked, so nothing is released on
// its grace; the next run notifies again.
var ErrNoticeFailed = errors.New("notices not delivered")

// API is what the engine needs from one scope's client for instances.
// Each kind of resource asks for its own narrow interface (package
// kinds), found by type assertion like the optional capabilities below,
// so a fake implements only the kinds its test sweeps.
type API interface {
	discover.Lister
	ops.Describer
	ops.Deleter
	ops.Stopper
	ops.Tagger
}

// Optional capabilities of a scope's client: the listings of the
// instances' leftover report (without it the report is incomplete, and
// with REAPER_RELEASE_EIPS the scope releases nothing), and the release
// of EIPs after their instances (REAPER_RELEASE_EIPS; without it the
// scope releases nothing).
type (
	LeftoverAPI = leftover.API
	HandOverAPI = ops.EIPAPI
)

// ServerClock is an API that keeps the API's own clock: the Date of its
// latest answer, advanced by the time since. Marks are written and their
// age measured by it, so that a runner whose clock is slow or fast never
// shortens a grace. known is false while no answer carried a usable Date.
type ServerClock interface {
	ServerTime() (t time.Time, known bool)
}

// CodeNoAPIClock closes a scope whose answers carried no usable Date while
// the lifecycle is on: its marks' times cannot be trusted to the API's
// clock, so nothing is marked or released there.
const CodeNoAPIClock = "ApiClock.Unknown"

// Notifier tells owners (package notify).
type Notifier interface {
	Kind() string
	Notify(ctx context.Context, n notify.Notice) error
	Report(ctx context.Context, s notify.Summary) error
}

// RegionAPI lists the regions of an account (resolving REAPER_REGIONS=all).
type RegionAPI interface {
	DescribeRegions(ctx context.Context) (ecsapi.Regions, error)
}

// Target is one scope and the client that reaches it.
type Target struct {
	Scope cloud.Scope
	API   API
}

// RetryPolicy is the backoff of retried calls.
type RetryPolicy = call.RetryPolicy

// DefaultRetryPolicy suits the ECS API's per-account throttling.
func DefaultRetryPolicy() RetryPolicy { return call.DefaultRetryPolicy() }

// Options configure a run.
type Options struct {
	Rules  decide.Rules
	DryRun bool
	// PlanOnly, with DryRun, sends no native dry-run write either (no
	// DeleteInstances DryRun=true): the fan-out's Plan, which a later
	// invocation executes, reads and decides only.
	PlanOnly  bool
	ForceStop bool // DeleteInstances ForceStop, sent with Force=true batches
	// MaxRelease caps the instances one run may release; over it, nothing
	// is released anywhere. When the run sweeps several accounts it caps
	// each account, and over it nothing is written in that account.
	MaxRelease int
	// MaxReleasePercent caps the eligible share of the opted-in instances
	// seen; over it, nothing is released anywhere (in that account, when
	// the run sweeps several). 0 disables this cap.
	MaxReleasePercent float64
	// OrgCaps cap the whole run when it sweeps several accounts
	// (REAPER_ORG_MAX_RELEASE, REAPER_ORG_MAX_RELEASE_PERCENT): over them
	// nothing is written anywhere. nil: no organisation cap; a negative
	// MaxRelease: no count cap.
	OrgCaps *Caps
	// AccountConcurrency is how many accounts are swept at once; each
	// sweeps RegionConcurrency of its scopes at once, so an account whose
	// calls are throttled holds only its own.
	AccountConcurrency int
	// PercentCapFrom: the percent cap applies only when at least this many
	// instances are eligible.
	PercentCapFrom int
	// Freshness is how old a batch's data may be at any attempt before it
	// is re-read.
	Freshness time.Duration
	// DeadlineMargin: no API call starts when less time than this is left
	// before the invocation deadline; in-flight calls end half of it (at
	// most 5 s, at least call.ReserveFloor) before the deadline, so the
	// report can still be logged and returned.
	DeadlineMargin time.Duration
	// RegionConcurrency is how many scopes of an account are swept at
	// once.
	RegionConcurrency int
	// BatchConcurrency is how many write batches run at once per scope.
	BatchConcurrency int
	// RunID identifies the run in ClientTokens: a repeat of the same run
	// (an FC retry of the same timer tick) sends the same tokens.
	RunID string
	Retry RetryPolicy
	// Now is the clock of decisions and data ages; nil means time.Now.
	Now func() time.Time
	// Lifecycle is mark → notify → (stop) → release; its zero value
	// releases as soon as an instance is eligible.
	Lifecycle decide.Lifecycle
	// Notifier tells owners; nil with the lifecycle on writes the marks
	// without a notice (REAPER_GRACE without a channel).
	Notifier Notifier
	// ReleaseEIPs releases the EIPs of the instances this run released,
	// once Available; one not yet Available is tagged EIPMarkKey=<its
	// instance> for a later run.
	ReleaseEIPs bool
	EIPMarkKey  string
	// EIPPollWait is the wait between looks at EIPs that are not yet
	// Available (default 2 s, five looks).
	EIPPollWait time.Duration
	// Resources are the names of the kinds swept by their own opt-in tag
	// beside instances (package kinds); SkipInstances leaves
	// the instances out (REAPER_RESOURCES without instances).
	Resources     []string
	SkipInstances bool
	// Delivered, when set, replaces sending: the owners' digests were
	// sent before this run (the fan-out's Notify step, once per owner
	// across accounts), and the run marks only the notices it says were
	// delivered, with the answer a failed one got. It never sends a
	// notice itself.
	Delivered func(Notice) (Delivery, string)
	// Confirmed, when set, is what the operator was shown and confirmed:
	// the run writes only to those resources (see Confirmation).
	Confirmed *Confirmation
	// Planned, when set, is given every scope's plan as the caps count
	// it, once listed and before the cap check (see Planned).
	Planned func([]Planned)
}

// Engine runs one sweep. It is used once: New, optionally Regions, then
// Run (or Abort when the run cannot start).
type Engine struct {
	opts     Options
	log      *slog.Logger
	rec      *report.Recorder
	notSwept []notSwept // accounts unreachable, or whose regions could not be listed
}

// New returns an engine for one run. A nil logger discards logs.
func New(opts Options, logger *slog.Logger) *Engine {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retry.MaxAttempts < 1 {
		opts.Retry = call.DefaultRetryPolicy()
	}
	opts.RegionConcurrency = max(1, opts.RegionConcurrency)
	if opts.AccountConcurrency < 1 {
		opts.AccountConcurrency = DefaultAccountConcurrency
	}
	opts.BatchConcurrency = max(1, opts.BatchConcurrency)
	if opts.Freshness <= 0 {
		opts.Freshness = 60 * time.Second
	}
	if opts.RunID == "" {
		opts.RunID = "run-" + opts.Now().UTC().Format("20060102T150405Z")
	}
	return &Engine{opts: opts, log: logger, rec: report.NewRecorder(opts.RunID, opts.DryRun, opts.Now, logger)}
}

// Regions lists every region of the account, with retries; its calls are
// counted in the run's report.
func (e *Engine) Regions(ctx context.Context, api RegionAPI) ([]string, error) {
	deadline, _ := ctx.Deadline()
	c := call.NewCaller(e.opts.Retry, e.opts.DeadlineMargin, deadline, 1, e.rec)
	ctx, cancel := call.Work(ctx, e.opts.DeadlineMargin)
	defer cancel()
	var regions ecsapi.Regions
	err := c.Do(ctx, ecsapi.ActionDescribeRegions, nil, func() error {
		var err error
		regions, err = api.DescribeRegions(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	return regions.RegionIDs, nil
}

// Abort ends a run that could not start (the regions could not be listed):
// the report says why, with the calls made.
func (e *Engine) Abort(err error) *report.Report {
	return e.rec.Finish(nil, err.Error())
}

// RunRegions sweeps regions of one account through one client.
func (e *Engine) RunRegions(ctx context.Context, api API, account string, regions []string) (*report.Report, error) {
	targets := make([]Target, 0, len(regions))
	for _, r := range regions {
		targets = append(targets, Target{Scope: cloud.Scope{Account: account, Region: r}, API: api})
	}
	return e.Run(ctx, targets)
}

// scopeRun is one scope's part of the run.
type scopeRun struct {
	Target
	c      *call.Caller
	rec    *report.ScopeRecorder
	plan   *plan.Scope
	closed *verdict.Failure // the listing's failure: nothing is released here
	// lc is the run's lifecycle on the scope's API clock.
	lc decide.Lifecycle
	// handOvers are the EIPs earlier runs handed over (verified marks,
	// their instances gone): releases this run makes, within the caps.
	handOvers []eipCandidate
	// rebound are handed-over EIPs bound to another instance again: their
	// hand-over marks are removed in the execute phase.
	rebound []reboundEIP
	// leftovers are the eligible instances' leftovers, listed before the
	// cap check when their EIPs are released after them (the count cap
	// counts those releases); nil: listed in the execute phase.
	leftovers *gathered
	// instanceEIPs are the EIPs plan.InstanceEIPs counts.
	instanceEIPs []string
	// listing is the region's EIP and disk listings, started when the
	// instance listing finds a first instance to release.
	listing     *leftover.Listing
	listingOnce sync.Once
	// leaves is what the delete of a listed resource leaves behind, by
	// ID (package kinds: Resource.Leaves).
	leaves map[string]string
	// The client's optional capabilities; nil when it lacks one.
	leftoverAPI LeftoverAPI
	eips        HandOverAPI
}

// gathered is one leftover listing and its failure.
type gathered struct {
	found leftover.Found
	f     *verdict.Failure
}

// startLeftovers starts the region's leftover listings once.
func (sr *scopeRun) startLeftovers(ctx context.Context) *leftover.Listing {
	sr.listingOnce.Do(func() {
		if sr.leftoverAPI == nil {
			sr.listing = leftover.Failed(&verdict.Failure{Code: kinds.CodeUnsupported, Message: "this client cannot list disks, snapshots and EIPs"})
			return
		}
		sr.listing = leftover.Start(ctx, sr.leftoverAPI, sr.c, sr.Scope.Region)
	})
	return sr.listing
}

// Run sweeps the targets and returns the report. The error is nil when the
// run did its job; ErrIncomplete alone when only the deadline held back
// releases after every scope was listed; otherwise it says how the run
// failed. The report is returned in every case.
func (e *Engine) Run(ctx context.Context, targets []Target) (*report.Report, error) {
	deadline, _ := ctx.Deadline()
	for _, n := range e.notSwept {
		e.rec.Account(n.account, n.status, n.failure, nil)
	}
	runs := e.scopes(targets, deadline)
	e.log.Info("sweep start", "regions", regionsOf(runs), "dry_run", e.opts.DryRun)
	if !deadline.IsZero() {
		if left := time.Until(deadline); left < e.opts.DeadlineMargin {
			err := fmt.Errorf("%w: the function's timeout leaves no time to sweep: %v left at the start, and no call starts with less than the deadline margin (%v) left; raise the function's timeout well above the margin",
				ErrNoTime, left.Round(time.Millisecond), e.opts.DeadlineMargin)
			for _, sr := range runs {
				sr.rec.Fail(&verdict.Failure{Code: string(verdict.Deadline), Message: "not listed: the function's timeout is shorter than the deadline margin"})
			}
			rep := e.rec.Finish(nil, err.Error())
			e.summarise(ctx, rep, false) // a failed run is never quiet
			return rep, err
		}
	}
	ctx, cancel := call.Work(ctx, e.opts.DeadlineMargin)
	defer cancel()

	e.phase(PhaseListing)
	e.forEach(runs, func(sr *scopeRun) { e.discover(ctx, sr) })

	for _, sr := range runs {
		e.confirmPlan(sr)
	}
	if e.opts.ReleaseEIPs {
		e.forEach(runs, func(sr *scopeRun) { e.countInstanceEIPs(ctx, sr) })
	}
	e.planned(runs)
	caps := e.checkCaps(runs)
	var noticeErr error
	var notices *report.Notices
	if len(caps.live) > 0 {
		e.phase(PhaseNotices)
		notices, noticeErr = e.notify(ctx, caps.live, deadline)
		e.phase(PhaseWrites)
		e.forEach(caps.live, func(sr *scopeRun) { e.execute(ctx, sr) })
	}
	e.phase(PhaseLeftovers)
	for _, sr := range runs {
		if sr.listing != nil {
			sr.listing.Wait() // no call outlives the run
		}
		sr.rec.Done()
	}
	var rep *report.Report
	runErr := caps.err
	if caps.err != nil && len(caps.live) == 0 && len(e.notSwept) == 0 {
		// Held everywhere: the caps are the whole story.
		rep = e.rec.Finish(caps.check, caps.err.Error())
	} else {
		rep = e.rec.Finish(caps.check, "")
		rep.Notices = notices
		runErr = runError(rep)
		if noticeErr != nil {
			runErr = errors.Join(noticeErr, withoutIncomplete(runErr))
		}
		if starved := noticesStarved(rep); starved != nil {
			runErr = errors.Join(starved, withoutIncomplete(runErr))
		}
		if accountsErr := e.notSweptError(); accountsErr != nil {
			runErr = errors.Join(accountsErr, withoutIncomplete(runErr))
		}
		if caps.err != nil {
			runErr = errors.Join(caps.err, withoutIncomplete(runErr))
		}
		if runErr != nil && !errors.Is(runErr, ErrIncomplete) {
			rep.Error = runErr.Error()
		}
	}
	if ids := notConfirmed(rep); len(ids) > 0 {
		if rep.Warning != "" {
			rep.Warning += "; "
		}
		shown := ids
		if len(shown) > 10 {
			shown = append(shown[:10:10], "…")
		}
		rep.Warning += fmt.Sprintf("%d not shown when the run was confirmed were left alone (skipped/not-confirmed: %s); confirm a new run to act on them",
			len(ids), strings.Join(shown, ", "))
	}
	if rep.Leftovers != nil && !rep.Leftovers.Complete {
		if rep.Warning != "" {
			rep.Warning += "; "
		}
		rep.Warning += "the leftover report is incomplete: a disk, snapshot or EIP listing failed (see each region's leftoverSummary)"
	}
	e.summarise(ctx, rep, caps.tripped)
	level := slog.LevelInfo
	if runErr != nil {
		level = slog.LevelWarn
	}
	e.log.Log(context.Background(), level, "sweep end", "outcomes", rep.Totals.Outcomes, "calls", rep.Totals.Calls, "complete", rep.Complete)
	return rep, runErr
}

// scopes prepares one scopeRun per distinct scope, in the order given.
func (e *Engine) scopes(targets []Target, deadline time.Time) []*scopeRun {
	seen := map[cloud.Scope]bool{}
	var runs []*scopeRun
	for _, t := range targets {
		if seen[t.Scope] {
			continue
		}
		seen[t.Scope] = true
		rec := e.rec.Scope(t.Scope)
		lc := e.opts.Lifecycle
		if sc, ok := t.API.(ServerClock); ok {
			lc.Clock = func() time.Time {
				if at, known := sc.ServerTime(); known {
					return at
				}
				return e.opts.Now() // only until the listing ends: then the scope closes
			}
		}
		leftoverAPI, _ := t.API.(LeftoverAPI)
		eips, _ := t.API.(HandOverAPI)
		runs = append(runs, &scopeRun{
			Target: t, leftoverAPI: leftoverAPI, eips: eips,
			c:    call.NewCaller(e.opts.Retry, e.opts.DeadlineMargin, deadline, e.opts.BatchConcurrency, rec),
			rec:  rec,
			plan: plan.NewScope(t.Scope, e.opts.Rules, lc),
			lc:   lc,
		})
	}
	return runs
}

// forEach runs f on every scope: AccountConcurrency accounts at once,
// and RegionConcurrency scopes of each, so that an account whose calls
// are slow (throttled, retried) never holds another's.
func (e *Engine) forEach(runs []*scopeRun, f func(*scopeRun)) {
	groups := accountRuns(runs)
	if len(groups) <= 1 {
		e.forEachScope(runs, f)
		return
	}
	sem := make(chan struct{}, e.opts.AccountConcurrency)
	var wg sync.WaitGroup
	for _, group := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			e.forEachScope(group, f)
		}()
	}
	wg.Wait()
}

func (e *Engine) forEachScope(runs []*scopeRun, f func(*scopeRun)) {
	sem := make(chan struct{}, e.opts.RegionConcurrency)
	var wg sync.WaitGroup
	for _, sr := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			f(sr)
		}()
	}
	wg.Wait()
}

// discover lists the scope into its plan.
func (e *Engine) discover(ctx context.Context, sr *scopeRun) {
	res := discover.Result{Path: "none"}
	if !e.opts.SkipInstances {
		res = discover.Run(ctx, sr.API, sr.c, discover.Request{Scope: sr.Scope, OptInKey: e.opts.Rules.OptInKey, TagKeys: ops.TagKeys(e.opts.Rules, e.opts.Lifecycle)},
			&sink{plan: sr.plan, rec: sr.rec, now: e.opts.Now, releasing: func() { sr.startLeftovers(ctx) }})
	}
	sr.plan.Listed()
	if res.Failure != nil {
		sr.plan.Closed, sr.closed = true, res.Failure
		sr.rec.Fail(res.Failure)
		e.log.Error("region closed: listing incomplete, nothing will be released here", "region", sr.Scope.Region,
			"account", sr.Scope.Account, "code", res.Failure.Code, "message", res.Failure.Message)
	}
	if res.Failure == nil {
		e.discoverResources(ctx, sr)
	}
	if sr.closed == nil && e.opts.ReleaseEIPs && sr.eips == nil {
		e.closeScope(sr, kinds.EIPs.Name, &verdict.Failure{Code: kinds.CodeUnsupported,
			Message: "REAPER_RELEASE_EIPS is on, and this client cannot list, release and tag EIPs: nothing is released here"})
	}
	if sr.closed == nil && e.opts.ReleaseEIPs {
		sr.handOvers = e.markedEIPs(ctx, sr) // left Unavailable by an earlier run
		sr.plan.HandOvers = len(sr.handOvers)
	}
	if sr.closed == nil && sr.lc.On && !apiClockKnown(sr.API) {
		f := &verdict.Failure{Code: CodeNoAPIClock, Message: "the API's answers carried no usable Date header: marks are written and graces measured by the API's clock, never this host's, so nothing is marked, stopped or released here"}
		sr.plan.Closed, sr.closed = true, f
		sr.rec.Fail(f)
		e.log.Error("region closed: the API's clock is unknown", "region", sr.Scope.Region, "account", sr.Scope.Account)
	}
	if res.Concurrency > 0 {
		// The writes start at the pages at once the listing ended with:
		// near the rate the API allows, below REAPER_BATCH_CONCURRENCY.
		sr.c.Limit.Start(res.Concurrency)
	}
	sr.rec.Listed(res.Path, sr.plan.Seen, sr.plan.OptedIn, sr.closed == nil)
	e.log.Info("region listed", "region", sr.Scope.Region, "account", sr.Scope.Account, "discovery", res.Path,
		"seen", sr.plan.Seen, "opted_in", sr.plan.OptedIn, "eligible", len(sr.plan.Eligible),
		"listing_concurrency", res.Concurrency, "listing_cuts", res.Cuts, "write_concurrency", sr.c.Limit.Limit())
}

// execute writes the scope's plan after the notices (which wrote their
// own marks): the stops, then the releases, each through the one
// executor.
func (e *Engine) execute(ctx context.Context, sr *scopeRun) {
	if sr.plan.Closed {
		hold(sr, verdict.InventoryIncomplete, "the region's listing failed ("+sr.closed.Code+"); nothing is released in it")
		return
	}
	lc := sr.lc
	if len(sr.plan.Stops) > 0 {
		// The stop mark is its own step before the stop: an instance is
		// stopped only once its mark is written.
		marks := make([]execute.Item[ops.MarkParams], len(sr.plan.Stops))
		stops := map[string]execute.Item[struct{}]{}
		for i, c := range sr.plan.Stops {
			value, _ := e.markValue(sr, c.ID, lc.StopMarkKey, "")
			marks[i] = execute.Item[ops.MarkParams]{ID: c.ID, Params: ops.MarkParams{Key: lc.StopMarkKey, Value: value},
				Detail: c.Detail, ReadAt: c.ReadAt, Base: base(c)}
			stops[c.ID] = execute.Item[struct{}]{ID: c.ID, Detail: c.Detail, ReadAt: c.ReadAt, Base: base(c)}
		}
		sr.plan.Stops = nil
		opts := e.executeOptions(func(c *Confirmation) map[string]bool { return c.Stop })
		marked := execute.New(ops.StopMark(sr.instances(e), sr.API), sr.c, sr.rec, opts).Run(ctx, marks)
		items := make([]execute.Item[struct{}], len(marked))
		for i, id := range marked {
			items[i] = stops[id]
		}
		execute.New(ops.Stop(sr.instances(e), sr.API), sr.c, sr.rec, opts).Run(ctx, items)
	}
	if len(sr.plan.StopMarks) > 0 {
		e.rewriteStopMarks(ctx, sr)
	}
	e.dropHandOvers(ctx, sr, sr.rebound)
	sr.rebound = nil
	cands := sr.handOvers
	sr.handOvers = nil
	if eligible := sr.plan.Eligible; len(eligible) > 0 {
		found := e.gatherLeftovers(ctx, sr, eligible)
		op := ops.Release(sr.instances(e), sr.API, e.opts.RunID, e.opts.ForceStop)
		// The executor works on the plan's list, not a copy of it.
		released := execute.New(op, sr.c, sr.rec, e.executeOptions(func(c *Confirmation) map[string]bool { return c.Release })).
			RunOn(ctx, len(eligible), func(i int) execute.Item[decide.Flags] {
				c := &eligible[i]
				return execute.Item[decide.Flags]{ID: c.ID, Params: c.Flags, Detail: c.Detail, ReadAt: c.ReadAt, Base: base(*c)}
			})
		sr.plan.Eligible = nil
		for _, id := range released {
			for _, eip := range found.EIPs[id] {
				switch {
				case !e.opts.ReleaseEIPs:
				case e.opts.DryRun:
					// Still bound to an instance the dry run did not release.
					if reason, detail := kinds.EIPHeld(unbound(eip), e.opts.Rules); reason != "" {
						sr.rec.Section(kinds.EIPs.Name).Outcome(verdict.Skipped, reason, report.Item{ID: eip.AllocationID, Detail: detail})
					} else {
						sr.rec.Section(kinds.EIPs.Name).Outcome(verdict.WouldRelease, "", report.Item{ID: eip.AllocationID,
							Detail: "would be released once Available, after " + id})
					}
				default:
					cands = append(cands, eipCandidate{eip: eip, instance: id})
				}
			}
		}
	}
	if len(cands) > 0 {
		e.releaseEIPs(ctx, sr, cands)
	}
	e.executeResources(ctx, sr)
}

// rewriteStopMarks writes a fresh signed stop mark on each stopped
// instance whose stop mark did not verify (a mark-only write through the
// notice marks' TagResources operation): the stop grace starts again from
// it, and the instance is reported skipped/unverified-mark. A failed write
// fails the run. Like a notice's mark it releases nothing, so no
// confirmation covers it.
func (e *Engine) rewriteStopMarks(ctx context.Context, sr *scopeRun) {
	lc := sr.lc
	items := make([]execute.Item[ops.MarkParams], len(sr.plan.StopMarks))
	for i, c := range sr.plan.StopMarks {
		value, _ := e.markValue(sr, c.ID, lc.StopMarkKey, "")
		detail := c.Detail
		if e.opts.DryRun {
			detail = "dry run, no mark written: " + detail
		}
		items[i] = execute.Item[ops.MarkParams]{ID: c.ID, Params: ops.MarkParams{Key: lc.StopMarkKey, Value: value}, Detail: detail,
			ReadAt: c.ReadAt, Base: base(c), DoneReason: verdict.UnverifiedMark}
	}
	sr.plan.StopMarks = nil
	op := ops.RestampStop(sr.instances(e), sr.API)
	execute.New(op, sr.c, sr.rec, execute.Options{DryRun: e.opts.DryRun, Freshness: e.opts.Freshness, Now: e.opts.Now}).Run(ctx, items)
}

// instances is what the scope's instance writes share.
func (sr *scopeRun) instances(e *Engine) ops.Instances {
	return ops.Instances{API: sr.API, Scope: sr.Scope, Rules: e.opts.Rules, Lifecycle: sr.lc}
}

func callFailure(err error) *verdict.Failure { return call.Failure(err) }

// markValue is the value of every mark the run writes (the notice, the
// stop, an EIP's hand-over): prefix and the time by the scope's API clock,
// signed for the resource under key (package mark). It returns the time.
func (e *Engine) markValue(sr *scopeRun, id, key, prefix string) (string, time.Time) {
	at := sr.lc.MarkNow(e.opts.Now()).UTC().Truncate(time.Second)
	return e.opts.Lifecycle.Marks.Sign(id, key, prefix+mark.FormatTime(at)), at
}

// apiClockKnown: the API keeps no clock of its own (an in-memory test
// double), or one of its answers carried a usable Date.
func apiClockKnown(api API) bool {
	sc, ok := api.(ServerClock)
	if !ok {
		return true
	}
	_, known := sc.ServerTime()
	return known
}

// base is the report fields the plan knows of a candidate.
func base(c plan.Candidate) report.Item {
	it := report.Item{Owner: c.Owner, Facts: c.Facts}
	if !c.NotifiedAt.IsZero() {
		it.NotifiedAt = report.Time(c.NotifiedAt)
	}
	return it
}

// hold reports every instance the scope would write to as not attempted.
func hold(sr *scopeRun, reason verdict.Reason, detail string) {
	for _, list := range [][]plan.Candidate{sr.plan.Eligible, sr.plan.Stops, sr.plan.StopMarks} {
		for _, c := range list {
			it := base(c)
			it.ID, it.Detail = c.ID, detail
			sr.rec.Outcome(verdict.NotAttempted, reason, it)
		}
	}
	for _, n := range sr.plan.Notices {
		rec := sr.rec
		if n.Kind != "" {
			rec = sr.rec.Section(n.Kind)
		}
		rec.Outcome(verdict.NotAttempted, reason, report.Item{ID: n.ID, Owner: n.Owner, Facts: n.Facts, Detail: detail + " (notice not sent)"})
	}
	for _, c := range sr.handOvers {
		sr.rec.Section(kinds.EIPs.Name).Outcome(verdict.NotAttempted, reason, report.Item{ID: c.eip.AllocationID, Detail: detail + " (handed over by " + c.instance + ")"})
	}
	sr.handOvers = nil
	for _, r := range sr.rebound {
		sr.rec.Section(kinds.EIPs.Name).Outcome(verdict.NotAttempted, reason, report.Item{ID: r.id, Detail: detail + " (handed over by " + r.instance + ", bound to " + r.boundTo + " now: its hand-over mark is not removed)"})
	}
	sr.rebound = nil
	for kind, r := range sr.plan.Resources {
		for _, c := range r.Eligible {
			it := base(c)
			it.ID, it.Detail = c.ID, detail
			sr.rec.Section(kind).Outcome(verdict.NotAttempted, reason, it)
		}
		r.Eligible = nil
	}
	sr.plan.Eligible, sr.plan.Stops, sr.plan.Notices, sr.plan.StopMarks = nil, nil, nil, nil
}

// sink takes listed pages into a scope's plan and records each skip.
type sink struct {
	plan *plan.Scope
	rec  *report.ScopeRecorder
	now  func() time.Time
	// releasing runs for each instance to release (the leftover
	// listings start at the first).
	releasing func()
}

func (s *sink) Take(instances []cloud.Instance) (fresh int) {
	s.rec.Page(len(instances))
	now := s.now()
	var skipped map[verdict.Reason][]string
	var eligible map[string][]string
	for _, inst := range instances {
		p, facts, isNew := s.plan.Add(inst, now)
		if !isNew {
			continue
		}
		fresh++
		// The page's record names the instances to write to by step; each
		// one's own record is its outcome's.
		step := ""
		switch p.Step {
		case decide.StepRelease, decide.StepStop:
			if p.Step == decide.StepRelease && s.releasing != nil {
				s.releasing()
			}
			step = stepName(p.Step)
		case decide.StepNotify:
			step = "notify"
		case decide.StepMarkStopped:
			step = "rewrite stop mark"
		}
		switch {
		case step != "":
			if eligible == nil {
				eligible = map[string][]string{}
			}
			eligible[step] = append(eligible[step], inst.ID)
		default:
			it := report.Item{ID: inst.ID, Detail: p.Detail, Owner: p.Owner, Facts: facts}
			if !p.NotifiedAt.IsZero() {
				it.NotifiedAt = report.Time(p.NotifiedAt)
			}
			// Counted, listed up to a bound, logged with the page: the
			// many instances a run leaves alone cost no memory per
			// instance.
			s.rec.Skipped(p.Reason, it)
			if !report.AlwaysListed(p.Reason) {
				if skipped == nil {
					skipped = map[verdict.Reason][]string{}
				}
				skipped[p.Reason] = append(skipped[p.Reason], inst.ID)
			}
		}
	}
	s.rec.PageDecisions(eligible, skipped)
	return fresh
}

func stepName(s decide.Step) string {
	if s == decide.StepStop {
		return "stop"
	}
	return "release"
}

func (s *sink) Seen(id string) bool { return s.plan.Saw(id) }

func regionsOf(runs []*scopeRun) []string {
	out := make([]string, len(runs))
	for i, sr := range runs {
		out[i] = sr.Scope.String()
	}
	return out
}

// runError says how a finished run failed: scopes that failed closed and
// writes of any kind that failed make the run fail; a run held back only
// by the deadline after every scope was listed is incomplete, not failed.
func runError(rep *report.Report) error {
	var closed, incomplete, cut []string
	for _, r := range rep.Regions {
		name := r.Region
		if r.Account != "" {
			name = r.Account + "/" + r.Region
		}
		switch {
		case r.Error != nil && r.Error.Code == string(verdict.Interrupted):
			cut = append(cut, name)
		case r.Error != nil:
			closed = append(closed, name+" ("+r.Error.Code+")")
		case !r.Complete:
			incomplete = append(incomplete, name)
		}
	}
	var errs []error
	if len(closed) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s: nothing was released there", ErrRegionFailed, strings.Join(closed, ", ")))
	}
	if n, byKind, named := failedWrites(rep); n > 0 {
		more := ""
		if n > len(named) {
			more = fmt.Sprintf("; and %d more", n-len(named))
		}
		errs = append(errs, fmt.Errorf("%w: %d writes failed (%s): %s%s; see the report's failed items", ErrReleaseFailed, n, strings.Join(byKind, ", "), strings.Join(named, "; "), more))
	}
	if n := interruptedCount(rep); n > 0 || len(cut) > 0 {
		errs = append(errs, interruptedError(rep, n, cut))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(incomplete) > 0 {
		owed := ""
		if n := rep.Notices; n != nil && n.UnsentItems > 0 {
			owed = "; " + n.Explain()
		}
		return fmt.Errorf("%w: the deadline held back releases in %s%s; the next run continues", ErrIncomplete, strings.Join(incomplete, ", "), owed)
	}
	return nil
}

// interruptedCount counts the writes and notices of every kind the
// operator's interruption left undone or unknown.
func interruptedCount(rep *report.Report) int {
	n := rep.Totals.Outcomes[string(verdict.Interrupted)]
	for _, sec := range rep.Totals.Kinds {
		n += sec[string(verdict.Interrupted)]
	}
	return n
}

// interruptedError says what an interrupted run knows: how many writes
// were in flight with their effect unknown, how many never started, which
// regions were not listed to the end, and that the next run re-reads
// everything.
func interruptedError(rep *report.Report, n int, cut []string) error {
	unknown := rep.Totals.Reasons[string(verdict.Interrupted)+"/"+string(verdict.EffectUnknown)]
	for _, sec := range rep.Totals.Kinds {
		unknown += sec[string(verdict.Interrupted)+"/"+string(verdict.EffectUnknown)]
	}
	msg := fmt.Sprintf("%d writes or notices interrupted (%d not started, %d in flight past the wait whose effect is unknown)", n, n-unknown, unknown)
	if len(cut) > 0 {
		msg += "; not listed to the end, so nothing was written there: " + strings.Join(cut, ", ")
	}
	return fmt.Errorf("%w: %s; everything else in the report happened as it says, and the next run re-reads everything", ErrInterrupted, msg)
}

// namedFailures bounds how many failed writes the run's error names; the
// report lists them all.
const namedFailures = 10

// failedWrites counts the failed writes of every kind (instances: marks,
// stops, releases, notices; each kind's: deletes, marks, the EIPs'
// hand-overs) and names the first few: kind, ID, the write and its code.
func failedWrites(rep *report.Report) (n int, byKind, named []string) {
	count := map[string]int{}
	add := func(kind string, groups []*report.Group) {
		for _, g := range groups {
			if g.Outcome != verdict.Failed {
				continue
			}
			for _, it := range g.Instances {
				n++
				count[kind]++
				if len(named) < namedFailures {
					named = append(named, fmt.Sprintf("%s %s (%s: %s)", kind, it.ID, orWrite(it.Detail), g.Reason))
				}
			}
		}
	}
	for _, r := range rep.Regions {
		add("instance", r.Groups)
		for _, k := range kinds.All {
			if sec := r.Section(k.Name); sec != nil {
				add(k.Noun, sec.Groups)
			}
		}
	}
	nouns := []string{"instance"}
	for _, k := range kinds.All {
		nouns = append(nouns, k.Noun)
	}
	for _, kind := range nouns {
		if count[kind] > 0 {
			byKind = append(byKind, fmt.Sprintf("%d %ss failed", count[kind], kind))
		}
	}
	return n, byKind, named
}

func orWrite(detail string) string {
	if detail == "" {
		return "write failed"
	}
	return detail
}

// failedCount is how many writes of every kind failed.
func failedCount(rep *report.Report) int {
	n := rep.Totals.Outcomes[string(verdict.Failed)]
	for _, k := range kinds.All {
		n += rep.Totals.Kinds[k.Name][string(verdict.Failed)]
	}
	return n
}

// noticesStarved fails a run that owed notices it did not send and made
// no progress: nothing delivered and marked, nothing released or stopped.
// With progress, the notices left are the next run's, and the run is
// incomplete.
func noticesStarved(rep *report.Report) error {
	n := rep.Notices
	if n == nil || n.UnsentItems == 0 || n.Delivered > 0 {
		return nil
	}
	o := rep.Totals.Outcomes
	done := o[string(verdict.Released)] + o[string(verdict.Stopped)]
	for _, k := range kinds.All {
		done += rep.Totals.Kinds[k.Name][string(verdict.Released)]
	}
	if done > 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; this run delivered none and released or stopped nothing, and the next would do the same: raise the function's timeout or lower the deadline margin (REAPER_DEADLINE_MARGIN)",
		ErrNoticesUnsent, n.Explain())
}
