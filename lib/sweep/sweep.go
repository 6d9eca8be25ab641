package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// ErrCapExceeded is returned (wrapped, with the numbers) when the eligible
// instances exceed a blast-radius cap; nothing was released.
var ErrCapExceeded = errors.New("release cap exceeded")

// ErrRegionFailed is returned (wrapped) when a region failed closed: its
// listing failed, it does not exist, the credentials or permissions were
// refused, or the deadline arrived before it was listed. Nothing was
// released there; the run failed.
var ErrRegionFailed = errors.New("regions failed")

// ErrReleaseFailed is returned (wrapped) when an eligible instance ended
// failed.
var ErrReleaseFailed = errors.New("releases failed")

// ErrIncomplete is returned (wrapped) when nothing failed but the deadline
// held back releases after every region was listed: the next tick
// continues. It is the only error that does not fail the run.
var ErrIncomplete = errors.New("sweep incomplete")

// ErrNoTime is returned when the invocation starts with less time than the
// deadline margin: the function's timeout leaves no time to sweep.
var ErrNoTime = errors.New("no time to sweep")

// errDeadline is what a call that was not started for lack of time
// returns: classified as canceled, reported with reason "deadline".
var errDeadline = fmt.Errorf("less than the deadline margin left before the invocation deadline: %w", context.DeadlineExceeded)

// Options configure a sweep.
type Options struct {
	Rules     decide.Rules
	DryRun    bool
	ForceStop bool // DeleteInstances ForceStop, sent with Force=true batches
	// MaxRelease caps the instances one run may release; over it, nothing
	// is released anywhere.
	MaxRelease int
	// MaxReleasePercent caps the eligible share of the opted-in instances
	// seen; over it, nothing is released anywhere. 0 disables this cap.
	MaxReleasePercent float64
	// PercentCapFrom: the percent cap applies only when at least this many
	// instances are eligible, so a small fleet's ordinary run (one expired
	// of one) is not a "mass event".
	PercentCapFrom int
	// Freshness is how old a batch's listing data may be at release time
	// before it is re-read.
	Freshness time.Duration
	// DeadlineMargin: no API call starts when less time than this is left
	// before the invocation deadline; in-flight calls end half of it (at
	// most 5 s, at least reserveFloor) before the deadline, so the report
	// can still be logged and returned.
	DeadlineMargin    time.Duration
	RegionConcurrency int
	BatchConcurrency  int
	// RunID identifies the run in ClientTokens: a repeat of the same run
	// (an FC retry of the same timer tick) sends the same tokens.
	RunID string
	Retry RetryPolicy
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Sweeper runs sweeps against one ECS API.
type Sweeper struct {
	api  ecsapi.API
	opts Options
	log  *slog.Logger
	// logsInfo skips building per-instance log records nobody reads.
	logsInfo bool
}

// New returns a Sweeper. A nil logger discards logs.
func New(api ecsapi.API, opts Options, logger *slog.Logger) *Sweeper {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retry.MaxAttempts < 1 {
		opts.Retry = DefaultRetryPolicy()
	}
	if opts.RegionConcurrency < 1 {
		opts.RegionConcurrency = 1
	}
	if opts.BatchConcurrency < 1 {
		opts.BatchConcurrency = 1
	}
	if opts.Freshness <= 0 {
		opts.Freshness = 60 * time.Second
	}
	if opts.RunID == "" {
		opts.RunID = "run-" + opts.Now().UTC().Format("20060102T150405Z")
	}
	return &Sweeper{api: api, opts: opts, log: logger, logsInfo: logger.Enabled(context.Background(), slog.LevelInfo)}
}

// reserveFloor is the least time kept after the last call for logging and
// returning the report.
const reserveFloor = 250 * time.Millisecond

// workContext bounds every call of a run: in-flight calls end a reserve
// before the invocation deadline, so that a call hanging past the
// deadline still leaves time to log and return the report.
func (s *Sweeper) workContext(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := max(min(s.opts.DeadlineMargin/2, 5*time.Second), reserveFloor)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// ResolveRegions returns every region from DescribeRegions, with retries.
func (s *Sweeper) ResolveRegions(ctx context.Context) ([]string, error) {
	rr := s.newRegionRun("")
	rr.deadline, rr.hasDeadline = ctx.Deadline()
	ctx, cancel := s.workContext(ctx)
	defer cancel()
	var regions ecsapi.Regions
	err := rr.retry(ctx, ecsapi.ActionDescribeRegions, nil, func() error {
		var err error
		regions, err = s.api.DescribeRegions(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	return regions.RegionIDs, nil
}

// Run sweeps the regions and returns the report. The error is non-nil when
// the caps were exceeded (nothing released) or the sweep is incomplete; the
// report is returned in every case.
func (s *Sweeper) Run(ctx context.Context, regions []string) (*report.Report, error) {
	start := s.opts.Now()
	rep := &report.Report{RunID: s.opts.RunID, DryRun: s.opts.DryRun, StartedAt: start.UTC()}
	regions = dedupe(regions)
	runs := make([]*regionRun, len(regions))
	for i, region := range regions {
		runs[i] = s.newRegionRun(region)
	}
	s.log.Info("sweep start", "regions", regions, "dry_run", s.opts.DryRun)
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		if left := time.Until(deadline); left < s.opts.DeadlineMargin {
			err := fmt.Errorf("%w: the function's timeout leaves no time to sweep: %v left at the start, and no call starts with less than the deadline margin (%v) left; raise the function's timeout well above the margin",
				ErrNoTime, left.Round(time.Millisecond), s.opts.DeadlineMargin)
			rep.Error = err.Error()
			for _, rr := range runs {
				rr.closeRegion(&report.Failure{Code: report.ReasonDeadline, Message: "not listed: the function's timeout is shorter than the deadline margin"})
				rep.Regions = append(rep.Regions, rr.rep)
			}
			rep.FinishedAt = s.opts.Now().UTC()
			rep.Total()
			return rep, err
		}
	}
	for _, rr := range runs {
		rr.deadline, rr.hasDeadline = deadline, hasDeadline
	}
	ctx, cancel := s.workContext(ctx)
	defer cancel()

	s.forEachRegion(runs, func(rr *regionRun) {
		rr.discover(ctx)
		rr.seen = nil // only discovery needs it; free it before releasing
	})

	capCheck := s.checkCap(runs)
	rep.Cap = capCheck
	var runErr error
	if capCheck.Exceeded {
		runErr = fmt.Errorf("%w: %s; nothing was released", ErrCapExceeded, capCheck.Explain())
		rep.Error = runErr.Error()
		s.log.Error("cap exceeded", "eligible", capCheck.Eligible, "opted_in", capCheck.OptedIn,
			"max_release", capCheck.MaxRelease, "max_release_percent", capCheck.MaxReleasePercent)
		for _, rr := range runs {
			rr.holdAll(report.ReasonCapExceeded, runErr.Error())
		}
	} else {
		s.forEachRegion(runs, func(rr *regionRun) { rr.release(ctx) })
	}

	for _, rr := range runs {
		rr.rep.DurationMS = rr.duration.Milliseconds()
		rr.rep.Finish()
		rep.Regions = append(rep.Regions, rr.rep)
	}
	rep.FinishedAt = s.opts.Now().UTC()
	rep.DurationMS = rep.FinishedAt.Sub(rep.StartedAt).Milliseconds()
	rep.Total()
	if runErr == nil {
		runErr = runError(rep)
		if runErr != nil && !errors.Is(runErr, ErrIncomplete) {
			rep.Error = runErr.Error()
		}
	}
	level := slog.LevelInfo
	if runErr != nil {
		level = slog.LevelWarn
	}
	s.log.Log(context.Background(), level, "sweep end", "outcomes", rep.Totals.Outcomes, "calls", rep.Totals.Calls, "complete", rep.Complete)
	return rep, runErr
}

// runError says how a finished run failed: regions that failed closed and
// instances that failed make the run fail; a run held back only by the
// deadline after every region was listed is incomplete, not failed.
func runError(rep *report.Report) error {
	var closed, incomplete []string
	for _, r := range rep.Regions {
		switch {
		case r.Error != nil:
			closed = append(closed, r.Region+" ("+r.Error.Code+")")
		case !r.Complete:
			incomplete = append(incomplete, r.Region)
		}
	}
	var errs []error
	if len(closed) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s: nothing was released there", ErrRegionFailed, strings.Join(closed, ", ")))
	}
	if n := rep.Totals.Outcomes[string(report.OutcomeFailed)]; n > 0 {
		errs = append(errs, fmt.Errorf("%w: %d instances failed to release; see the report's failed instances", ErrReleaseFailed, n))
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if len(incomplete) > 0 {
		return fmt.Errorf("%w: the deadline held back releases in %s; the next run continues", ErrIncomplete, strings.Join(incomplete, ", "))
	}
	return nil
}

func (s *Sweeper) forEachRegion(runs []*regionRun, f func(*regionRun)) {
	sem := make(chan struct{}, s.opts.RegionConcurrency)
	var wg sync.WaitGroup
	for _, rr := range runs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			began := time.Now()
			f(rr)
			rr.duration += time.Since(began)
		}()
	}
	wg.Wait()
}

func (s *Sweeper) checkCap(runs []*regionRun) *report.CapCheck {
	c := &report.CapCheck{MaxRelease: s.opts.MaxRelease, MaxReleasePercent: s.opts.MaxReleasePercent, PercentCapFrom: s.opts.PercentCapFrom}
	for _, rr := range runs {
		// A closed region releases nothing, so it neither counts toward
		// the cap nor dilutes the share of the others.
		if rr.closed == nil {
			c.OptedIn += rr.rep.OptedIn
			c.Eligible += len(rr.eligible)
		}
	}
	if c.OptedIn > 0 {
		c.Percent = float64(c.Eligible) * 100 / float64(c.OptedIn)
	}
	c.CountExceeded = c.Eligible > c.MaxRelease
	c.PercentExceeded = c.MaxReleasePercent > 0 && c.Eligible >= c.PercentCapFrom && c.Percent > c.MaxReleasePercent
	c.Exceeded = c.CountExceeded || c.PercentExceeded
	return c
}

// candidate is an instance decided eligible from data listed at listedAt.
type candidate struct {
	id       string
	flags    decide.Flags
	detail   string
	listedAt time.Time
}

// regionRun is the state of one region's sweep.
type regionRun struct {
	s         *Sweeper
	region    string
	limit     *limiter
	throttled atomic.Int64
	duration  time.Duration
	// deadline is the invocation's own deadline (not the work context's):
	// the margin is counted from it.
	deadline    time.Time
	hasDeadline bool

	mu       sync.Mutex // guards rep, stopped and incomplete during release
	rep      *report.Region
	eligible []candidate // sorted by ID once release starts, for detail lookups
	seen     map[string]struct{}
	closed   *report.Failure // discovery failed: release nothing here
	stopped  *report.Failure // a credential error stopped the region
}

func (s *Sweeper) newRegionRun(region string) *regionRun {
	return &regionRun{
		s:      s,
		region: region,
		limit:  newLimiter(s.opts.BatchConcurrency),
		rep:    report.NewRegion(region),
		seen:   map[string]struct{}{},
	}
}

func (rr *regionRun) countCall(action string) {
	rr.mu.Lock()
	rr.rep.Calls[action]++
	rr.mu.Unlock()
}

func (rr *regionRun) add(outcome report.Outcome, reason string, item report.Item) {
	rr.mu.Lock()
	rr.rep.Add(outcome, reason, item)
	rr.mu.Unlock()
	if level := report.OutcomeLevel(outcome); rr.s.logsInfo || level > slog.LevelInfo {
		rr.s.log.Log(context.Background(), level, "decision", "region", rr.region, "instance_id", item.ID, "outcome", string(outcome),
			"reason", reason, "detail", item.Detail, "code", item.Code, "message", item.Message)
	}
}

// timeLeft reports whether a new call may start: at least the margin is
// left before the invocation deadline.
func (rr *regionRun) timeLeft(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	return !rr.hasDeadline || time.Until(rr.deadline) >= rr.s.opts.DeadlineMargin
}

func failureOf(err error) *report.Failure {
	if errors.Is(err, errDeadline) {
		return &report.Failure{Code: report.ReasonDeadline, Message: "not started: " + errDeadline.Error()}
	}
	var apiErr *ecsapi.Error
	if errors.As(err, &apiErr) {
		return &report.Failure{Code: apiErr.Code, Message: apiErr.Error(), RequestID: apiErr.RequestID}
	}
	code := ecsapi.Code(err)
	if code == "" {
		code = "Internal"
	}
	return &report.Failure{Code: code, Message: err.Error()}
}

// Discovery paths, as named in the report.
const (
	DiscoveryScan      = "scan"       // unfiltered DescribeInstances pages
	DiscoveryTagFilter = "tag-filter" // DescribeInstances filtered by the opt-in tag key
	DiscoveryTagIndex  = "tag-index"  // ListTagResources, then DescribeInstances by ID
)

// Thresholds of the discovery rule, as the share of the first unfiltered
// page that carries the opt-in tag.
const (
	// scanShare: at or above it, scanning everything costs no more calls
	// than filtering by tag.
	scanShare = 0.5
	// capScanShare: once the tag filter reaches its 1,000 cap, the tag index
	// costs about 3 calls per 100 tagged instances (50 IDs per
	// ListTagResources page, then 100 per DescribeInstances) against 1 per
	// 100 instances of any kind for a scan: scan above a third.
	capScanShare = 1.0 / 3
)

// discover lists and decides every opted-in instance of the region along
// the cheapest complete path it can tell:
//
//  1. One unfiltered DescribeInstances page (100 instances). If it is the
//     last page, the region is done. If at least half of it is opted in,
//     the scan continues: everything is read in as few calls as the region
//     has instances / 100, and the tag filter's 1,000 cap cannot bite.
//  2. Otherwise the tag-filtered listing, complete when it ends under the
//     documented 1,000-result cap.
//  3. A tag-filtered listing that reaches the cap is not trusted to be
//     complete: if more than a third of the sample was opted in, the scan
//     resumes after the first page; otherwise ListTagResources lists every
//     tagged ID and DescribeInstances reads the ones not yet seen, by ID.
func (rr *regionRun) discover(ctx context.Context) {
	probe, ok := rr.describePage(ctx, ecsapi.DescribeInput{Region: rr.region, MaxResults: ecsapi.MaxPageSize})
	if !ok {
		return
	}
	optedIn := 0
	for _, inst := range probe.Instances {
		if _, tagged := inst.Tags[rr.s.opts.Rules.OptInKey]; tagged {
			optedIn++
		}
	}
	probeFresh := rr.take(probe.Instances)
	if probe.NextToken == "" {
		rr.rep.Discovery = DiscoveryScan
		if len(probe.Instances) == 0 && !rr.confirmEmpty(ctx) {
			return
		}
		rr.finishDiscovery()
		return
	}
	share := float64(optedIn) / float64(max(1, len(probe.Instances)))
	if share >= scanShare {
		rr.scan(ctx, probe.NextToken, probeFresh)
		return
	}
	rr.rep.Discovery = DiscoveryTagFilter
	listed := 0
	token := ""
	pages := newPager(ecsapi.ActionDescribeInstances)
	for {
		page, ok := rr.describePage(ctx, ecsapi.DescribeInput{Region: rr.region, TagKey: rr.s.opts.Rules.OptInKey, NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return
		}
		listed += len(page.Instances)
		fresh := rr.take(page.Instances)
		if listed >= ecsapi.TagFilterCap {
			// A listing that reached the cap may have been cut there,
			// whether or not it says it ended.
			break
		}
		if page.NextToken == "" {
			rr.finishDiscovery()
			return
		}
		if !rr.advances(pages, token, page.NextToken, fresh) {
			return
		}
		token = page.NextToken
	}
	if share > capScanShare {
		rr.scan(ctx, probe.NextToken, probeFresh)
		return
	}
	rr.rep.Discovery = DiscoveryTagIndex
	ids, ok := rr.listTagged(ctx)
	if !ok {
		return
	}
	var unseen []string
	for _, id := range ids {
		if _, seen := rr.seen[id]; !seen {
			unseen = append(unseen, id)
		}
	}
	for chunk := range slices.Chunk(unseen, ecsapi.MaxDescribeIDs) {
		page, ok := rr.describePage(ctx, ecsapi.DescribeInput{Region: rr.region, InstanceIDs: chunk, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return
		}
		rr.take(page.Instances)
	}
	rr.finishDiscovery()
}

// confirmEmpty tells an empty region from a role that may not list it:
// ECS answers the latter with an empty list too. A dry run answers
// DryRunOperation only when the permission is there.
func (rr *regionRun) confirmEmpty(ctx context.Context) bool {
	_, ok := rr.describePage(ctx, ecsapi.DescribeInput{Region: rr.region, DryRun: true})
	return ok
}

// scan reads the rest of the region's instances, unfiltered, from token
// (the probe page, whose instances are seen, handed it out).
func (rr *regionRun) scan(ctx context.Context, token string, probeFresh int) {
	rr.rep.Discovery = DiscoveryScan
	pages := newPager(ecsapi.ActionDescribeInstances)
	if !rr.advances(pages, "", token, probeFresh) {
		return
	}
	for token != "" {
		page, ok := rr.describePage(ctx, ecsapi.DescribeInput{Region: rr.region, NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return
		}
		fresh := rr.take(page.Instances)
		if page.NextToken != "" && !rr.advances(pages, token, page.NextToken, fresh) {
			return
		}
		token = page.NextToken
	}
	rr.finishDiscovery()
}

// maxListingPages bounds one listing: 1,000,000 instances of one region at
// 100 a page, far beyond any ECS quota. ECS's TotalCount is meaningless
// under NextToken paging, so it cannot bound the listing.
const maxListingPages = 10000

// pager watches one paginated listing for pages that never end: a
// NextToken handed out twice (a cycle of any period), a page with a token
// that adds nothing new to the listing, or more pages than maxListingPages.
type pager struct {
	action string
	tokens map[string]bool
	pages  int
}

func newPager(action string) *pager {
	return &pager{action: action, tokens: map[string]bool{}}
}

// problem returns why the listing must stop, or "" when next may be read.
// fresh is how many IDs the page added that the region had not seen.
func (p *pager) problem(token, next string, fresh int) string {
	p.pages++
	switch {
	case next == token || p.tokens[next]:
		return fmt.Sprintf("%s pagination cycles: NextToken %q was handed out before", p.action, shorten(next))
	case fresh == 0:
		return fmt.Sprintf("%s pagination did not advance: a page with a NextToken listed nothing new", p.action)
	case p.pages >= maxListingPages:
		return fmt.Sprintf("%s pagination runs past %d pages", p.action, maxListingPages)
	}
	p.tokens[next] = true
	if token != "" {
		p.tokens[token] = true
	}
	return ""
}

// advances closes the region when the listing would never end.
func (rr *regionRun) advances(p *pager, token, next string, fresh int) bool {
	if problem := p.problem(token, next, fresh); problem != "" {
		rr.closeRegion(&report.Failure{Code: ecsapi.CodeBadResponse, Message: problem})
		return false
	}
	return true
}

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// describePage reads one page with retries; on failure it closes the region.
func (rr *regionRun) describePage(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, bool) {
	in.TagKeys = rr.tagKeys()
	var page ecsapi.DescribePage
	err := rr.retry(ctx, ecsapi.ActionDescribeInstances, nil, func() error {
		var err error
		page, err = rr.s.api.DescribeInstances(ctx, in)
		return err
	})
	if err != nil {
		f := failureOf(err)
		if f.Code == report.ReasonDeadline {
			f.Message = "the invocation deadline arrived before the listing finished"
		}
		rr.closeRegion(f)
		return ecsapi.DescribePage{}, false
	}
	return page, true
}

func (rr *regionRun) finishDiscovery() {
	// A page that closed the region (an instance without an ID) leaves the
	// listing untrusted even though it ran to the end.
	rr.rep.Complete = rr.closed == nil
	rr.s.log.Info("region listed", "region", rr.region, "discovery", rr.rep.Discovery, "seen", rr.rep.Seen,
		"opted_in", rr.rep.OptedIn, "eligible", len(rr.eligible))
}

func (rr *regionRun) listTagged(ctx context.Context) ([]string, bool) {
	var ids []string
	token := ""
	pages := newPager(ecsapi.ActionListTagResources)
	for {
		var page ecsapi.TagPage
		in := ecsapi.ListTagInput{Region: rr.region, TagKey: rr.s.opts.Rules.OptInKey, NextToken: token}
		err := rr.retry(ctx, ecsapi.ActionListTagResources, nil, func() error {
			var err error
			page, err = rr.s.api.ListTagResources(ctx, in)
			return err
		})
		if err != nil {
			f := failureOf(err)
			if f.Code == report.ReasonDeadline {
				f.Message = "the invocation deadline arrived before the listing finished"
			}
			rr.closeRegion(f)
			return nil, false
		}
		ids = append(ids, page.InstanceIDs...)
		if page.NextToken == "" {
			return dedupe(ids), true
		}
		if !rr.advances(pages, token, page.NextToken, len(page.InstanceIDs)) {
			return nil, false
		}
		token = page.NextToken
	}
}

func (rr *regionRun) describeIDs(ctx context.Context, ids []string) (ecsapi.DescribePage, error) {
	var page ecsapi.DescribePage
	in := ecsapi.DescribeInput{Region: rr.region, InstanceIDs: ids, MaxResults: ecsapi.MaxPageSize, TagKeys: rr.tagKeys()}
	err := rr.retry(ctx, ecsapi.ActionDescribeInstances, nil, func() error {
		var err error
		page, err = rr.s.api.DescribeInstances(ctx, in)
		return err
	})
	return page, err
}

// tagKeys are the only tags the rules read; the others are not kept.
func (rr *regionRun) tagKeys() []string {
	return []string{rr.s.opts.Rules.OptInKey, rr.s.opts.Rules.KeepKey}
}

// take decides each listed instance once and returns how many it had not
// seen before.
func (rr *regionRun) take(instances []decide.Instance) (fresh int) {
	opts := rr.s.opts
	now := opts.Now()
	for _, inst := range instances {
		if inst.ID == "" {
			rr.closeRegion(&report.Failure{Code: ecsapi.CodeBadResponse, Message: "DescribeInstances returned an instance without InstanceId"})
			continue
		}
		if _, dup := rr.seen[inst.ID]; dup {
			continue
		}
		rr.seen[inst.ID] = struct{}{}
		fresh++
		rr.rep.Seen++
		d, trusted := rr.decide(inst, now, "listed")
		if _, ok := inst.Tags[opts.Rules.OptInKey]; ok && trusted {
			// An answer that does not say its region does not count
			// toward the total the percent cap divides by.
			rr.rep.OptedIn++
		}
		if !d.Release {
			rr.add(report.OutcomeSkipped, string(d.Reason), report.Item{ID: inst.ID, Detail: d.Detail})
			continue
		}
		rr.eligible = append(rr.eligible, candidate{id: inst.ID, flags: d.Flags, detail: d.Detail, listedAt: now})
		if rr.s.logsInfo {
			rr.s.log.Info("decision", "region", rr.region, "instance_id", inst.ID, "outcome", "eligible",
				"detail", d.Detail, "terminate_subscription", d.Flags.TerminateSubscription, "force", d.Flags.Force)
		}
	}
	return fresh
}

// decide applies the rules to an instance as this region's API described
// it. An answer that does not name this region (no RegionId, or another)
// is not trusted: invalid-data, whatever its tags say.
func (rr *regionRun) decide(inst decide.Instance, now time.Time, how string) (d decide.Decision, trusted bool) {
	switch inst.Region {
	case rr.region:
		return decide.Decide(inst, rr.s.opts.Rules, now), true
	case "":
		return decide.Decision{InstanceID: inst.ID, Reason: decide.ReasonInvalidData,
			Detail: fmt.Sprintf("%s in %s, but the API's answer has no RegionId", how, rr.region)}, false
	}
	return decide.Decision{InstanceID: inst.ID, Reason: decide.ReasonInvalidData,
		Detail: fmt.Sprintf("%s in %s but reports region %q", how, rr.region, inst.Region)}, false
}

// closeRegion fails the region closed: whatever was found eligible is held.
func (rr *regionRun) closeRegion(f *report.Failure) {
	if rr.closed != nil {
		return
	}
	rr.closed = f
	rr.rep.Error = f
	rr.rep.Complete = false
	rr.s.log.Error("region closed: listing incomplete, nothing will be released here", "region", rr.region,
		"code", f.Code, "message", f.Message)
}

// holdAll reports every eligible instance as not attempted.
func (rr *regionRun) holdAll(reason, detail string) {
	for _, c := range rr.eligible {
		rr.add(report.OutcomeNotAttempted, reason, report.Item{ID: c.id, Detail: detail})
	}
	rr.eligible = nil
}

// batch is a set of IDs released together.
type batch struct {
	ids      []string
	flags    decide.Flags
	listedAt time.Time
}

func (rr *regionRun) batches() []batch {
	byFlags := map[decide.Flags][]candidate{}
	for _, c := range rr.eligible {
		byFlags[c.flags] = append(byFlags[c.flags], c)
	}
	flagSets := make([]decide.Flags, 0, len(byFlags))
	for f := range byFlags {
		flagSets = append(flagSets, f)
	}
	sort.Slice(flagSets, func(i, j int) bool { return flagKey(flagSets[i]) < flagKey(flagSets[j]) })
	var out []batch
	for _, f := range flagSets {
		cands := byFlags[f]
		sort.Slice(cands, func(i, j int) bool { return cands[i].id < cands[j].id })
		for chunk := range slices.Chunk(cands, ecsapi.MaxDeleteIDs) {
			b := batch{flags: f, listedAt: chunk[0].listedAt}
			for _, c := range chunk {
				b.ids = append(b.ids, c.id)
				if c.listedAt.Before(b.listedAt) {
					b.listedAt = c.listedAt
				}
			}
			out = append(out, b)
		}
	}
	return out
}

func flagKey(f decide.Flags) string { return fmt.Sprintf("%t/%t", f.TerminateSubscription, f.Force) }

func (rr *regionRun) release(ctx context.Context) {
	if rr.closed != nil {
		rr.holdAll(report.ReasonInventoryIncomplete, "the region's listing failed ("+rr.closed.Code+"); nothing is released in it")
		return
	}
	slices.SortFunc(rr.eligible, func(a, b candidate) int { return strings.Compare(a.id, b.id) })
	var wg sync.WaitGroup
	for _, b := range rr.batches() {
		// Wait for a slot first: the checks must hold when the batch
		// starts, not when it was queued behind the batches in flight.
		rr.limit.acquire()
		rr.mu.Lock()
		stopped := rr.stopped
		rr.mu.Unlock()
		if stopped != nil {
			rr.limit.release()
			rr.hold(b.ids, report.ReasonRegionStopped, "the region was stopped by "+stopped.Code)
			continue
		}
		if !rr.timeLeft(ctx) {
			rr.limit.release()
			rr.holdForDeadline(b.ids)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rr.limit.release()
			rr.deleteIsolated(ctx, b.ids, b.flags, b.listedAt, false)
		}()
	}
	wg.Wait()
	rr.eligible = nil
}

func (rr *regionRun) hold(ids []string, reason, detail string) {
	for _, id := range ids {
		rr.add(report.OutcomeNotAttempted, reason, report.Item{ID: id, Detail: detail})
	}
}

func (rr *regionRun) holdForDeadline(ids []string) {
	rr.hold(ids, report.ReasonDeadline, "too little time left before the invocation deadline; the next run continues")
	rr.markIncomplete()
}

func (rr *regionRun) markIncomplete() {
	rr.mu.Lock()
	rr.rep.Complete = false
	rr.mu.Unlock()
}

// deleteIsolated releases ids, keeping one bad instance from holding back
// the others: after any failure it re-reads the batch (every failed call,
// halves included, so nothing is retried on data older than the failure)
// and retries without the instances that changed; when the re-read
// explains nothing it splits the batch in halves. Each step retries fewer
// IDs, so the recursion ends.
//
// readAt is when the data behind ids was read. Before every attempt,
// retries included, data older than the freshness window is read again
// and re-decided (deleteBatch), so nothing is sent on what an old read said.
// justRead skips that check for the first attempt: a re-read has just
// decided these IDs.
func (rr *regionRun) deleteIsolated(ctx context.Context, ids []string, flags decide.Flags, readAt time.Time, justRead bool) {
	if len(ids) == 0 {
		return
	}
	out, sent, err := rr.deleteBatch(ctx, ids, flags, readAt, justRead)
	var changed *changedError
	switch {
	case err == nil:
		outcome := report.OutcomeReleased
		if out.DryRunPassed {
			outcome = report.OutcomeWouldRelease
		}
		for _, id := range sent {
			rr.add(outcome, "", report.Item{ID: id, Detail: rr.detail(id)}) // the request ID is on the batch
		}
		rr.limit.succeeded()
		return
	case errors.Is(err, errRereadFailed):
		return // reread reported every ID
	case errors.As(err, &changed):
		// A re-read before an attempt dropped some IDs; the rest are a
		// new batch (new ClientToken) on data read just now.
		rr.deleteIsolated(ctx, changed.keep, flags, changed.readAt, true)
		return
	case errors.Is(err, errDeadline):
		rr.holdForDeadline(sent)
		return
	}
	ids = sent
	failure := failureOf(err)
	switch ecsapi.Classify(err) {
	case ecsapi.ClassCredential:
		rr.stop(failure)
		rr.fail(ids, failure)
		return
	case ecsapi.ClassCanceled:
		rr.markIncomplete()
		rr.fail(ids, &report.Failure{Code: failure.Code, Message: "the invocation deadline ended the call; whether it took effect is unknown until the next run"})
		return
	}
	if !rr.timeLeft(ctx) {
		// The batch was sent and failed; there is no time left to find out
		// which member caused it.
		rr.markIncomplete()
		failure.Message += " (no time left before the deadline to re-read and isolate the cause; the next run retries)"
		rr.fail(ids, failure)
		return
	}
	readAt = rr.s.opts.Now()
	keep, ok := rr.reread(ctx, ids, flags, "after "+failure.Code)
	if !ok {
		return
	}
	if len(keep) < len(ids) {
		rr.deleteIsolated(ctx, keep, flags, readAt, true)
		return
	}
	class := ecsapi.Classify(err)
	if class != ecsapi.ClassInstance && class != ecsapi.ClassNotFound {
		rr.fail(ids, failure)
		return
	}
	if len(ids) == 1 {
		if class == ecsapi.ClassNotFound {
			// The re-read just found the instance, unchanged: the NotFound
			// is not believed, and nothing says it was released.
			failure.Message = "ECS answered " + failure.Code + " but a re-read right after found the instance: " + failure.Message
		}
		rr.fail(ids, failure)
		return
	}
	// The second half waits for the first: its data may have aged.
	half := len(ids) / 2
	rr.deleteIsolated(ctx, ids[:half], flags, readAt, true)
	rr.deleteIsolated(ctx, ids[half:], flags, readAt, false)
}

// errRereadFailed: a re-read before an attempt failed, and reported its IDs.
var errRereadFailed = errors.New("re-read failed")

// changedError: a re-read before an attempt changed the batch.
type changedError struct {
	keep   []string
	readAt time.Time
}

func (e *changedError) Error() string { return "the batch changed on re-read" }

// detail says why an eligible instance was chosen. rr.eligible is sorted
// and read-only while batches run.
func (rr *regionRun) detail(id string) string {
	i, found := slices.BinarySearchFunc(rr.eligible, id, func(c candidate, id string) int { return strings.Compare(c.id, id) })
	if !found {
		return ""
	}
	return rr.eligible[i].detail
}

// stop ends the region's releases after a credential or permission error:
// every further call would fail the same way.
func (rr *regionRun) stop(f *report.Failure) {
	rr.mu.Lock()
	if rr.stopped == nil {
		rr.stopped = f
		rr.rep.Error = f
		rr.rep.Complete = false
	}
	rr.mu.Unlock()
	rr.s.log.Error("region stopped: credentials or permissions refused", "region", rr.region, "code", f.Code)
}

func (rr *regionRun) fail(ids []string, f *report.Failure) {
	for _, id := range ids {
		rr.add(report.OutcomeFailed, f.Code, report.Item{ID: id, Code: f.Code, Message: f.Message, RequestID: f.RequestID})
	}
}

// deleteBatch sends one DeleteInstances (with retries under the same
// ClientToken) and records it in the report. Before each attempt it checks
// the age of the batch's data: data older than the freshness window is
// re-read and re-decided first. When the re-read keeps every ID, the
// attempt goes on under the same token; when it drops some, deleteBatch
// returns a *changedError with the rest. sent is the IDs of the last
// attempt.
func (rr *regionRun) deleteBatch(ctx context.Context, ids []string, flags decide.Flags, readAt time.Time, justRead bool) (out ecsapi.DeleteOutput, sent []string, err error) {
	opts := rr.s.opts
	in := ecsapi.DeleteInput{
		Region:      rr.region,
		InstanceIDs: ids,
		Flags:       flags,
		ForceStop:   opts.ForceStop,
		DryRun:      opts.DryRun,
		ClientToken: ClientToken(opts.RunID, rr.region, flags, opts.ForceStop, opts.DryRun, ids),
	}
	rec := &report.Batch{InstanceIDs: ids, Flags: flags, DryRun: opts.DryRun, ClientToken: in.ClientToken}
	if flags.Force {
		forceStop := opts.ForceStop
		rec.ForceStop = &forceStop
	}
	fresh := func(attempt int) error {
		age := opts.Now().Sub(readAt)
		if age <= opts.Freshness || (attempt == 1 && justRead) {
			return nil
		}
		rr.s.log.Info("re-reading stale batch before an attempt", "region", rr.region, "instances", len(ids),
			"age_ms", age.Milliseconds(), "attempts", rec.Attempts)
		at := opts.Now()
		keep, ok := rr.reread(ctx, ids, flags, "data older than the freshness window")
		switch {
		case !ok:
			return errRereadFailed
		case len(keep) < len(ids):
			return &changedError{keep: keep, readAt: at}
		}
		readAt = at
		return nil
	}
	err = rr.retry(ctx, ecsapi.ActionDeleteInstances, fresh, func() error {
		rec.Attempts++
		var err error
		out, err = rr.s.api.DeleteInstances(ctx, in)
		if id := requestIDOf(out, err); id != "" {
			rec.RequestIDs = append(rec.RequestIDs, id)
		}
		return err
	})
	if rec.Attempts == 0 {
		// Nothing was sent: no batch to record.
		return out, ids, err
	}
	level := slog.LevelInfo
	switch {
	case err == nil && out.DryRunPassed:
		rec.Result = string(report.OutcomeWouldRelease)
	case err == nil:
		rec.Result = string(report.OutcomeReleased)
	default:
		rec.Result, rec.Code = "failed", ecsapi.Code(err)
		if rec.Code == "" {
			rec.Code = failureOf(err).Code
		}
		level = slog.LevelWarn
	}
	rr.mu.Lock()
	rr.rep.Batches = append(rr.rep.Batches, rec)
	rr.mu.Unlock()
	rr.s.log.Log(context.Background(), level, "batch", "region", rr.region, "instances", len(ids), "terminate_subscription", flags.TerminateSubscription,
		"force", flags.Force, "dry_run", opts.DryRun, "client_token", in.ClientToken, "attempts", rec.Attempts,
		"request_ids", rec.RequestIDs, "result", rec.Result, "code", rec.Code)
	return out, ids, err
}

func requestIDOf(out ecsapi.DeleteOutput, err error) string {
	var apiErr *ecsapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.RequestID
	}
	return out.RequestID
}

// reread describes ids again and re-decides them on the fresh data. It
// returns the IDs whose decision is unchanged (still eligible, same flags);
// the others are reported with what changed. ok is false when the re-read
// failed: then nothing is released and every ID is reported (failed, or
// not attempted when there was no time left to re-read).
func (rr *regionRun) reread(ctx context.Context, ids []string, flags decide.Flags, why string) (keep []string, ok bool) {
	fresh := map[string]decide.Instance{}
	for chunk := range slices.Chunk(ids, ecsapi.MaxDescribeIDs) {
		page, err := rr.describeIDs(ctx, chunk)
		if err != nil {
			if errors.Is(err, errDeadline) {
				rr.holdForDeadline(ids)
				return nil, false
			}
			f := failureOf(err)
			f.Message = "could not re-read the batch before release (" + why + "): " + f.Message
			switch ecsapi.Classify(err) {
			case ecsapi.ClassCanceled:
				rr.markIncomplete()
			case ecsapi.ClassCredential:
				rr.stop(f)
			}
			rr.fail(ids, f)
			return nil, false
		}
		for _, inst := range page.Instances {
			fresh[inst.ID] = inst
		}
	}
	now := rr.s.opts.Now()
	for _, id := range ids {
		inst, found := fresh[id]
		if !found {
			rr.add(report.OutcomeGone, "", report.Item{ID: id, Detail: "no longer listed when re-read (" + why + ")"})
			continue
		}
		d, _ := rr.decide(inst, now, "re-read")
		switch {
		case !d.Release:
			rr.add(report.OutcomeSkipped, string(d.Reason), report.Item{ID: id, Detail: "changed since listing: " + d.Detail})
		case d.Flags != flags:
			rr.add(report.OutcomeNotAttempted, report.ReasonDecisionChanged, report.Item{ID: id,
				Detail: "now needs flags " + flagKey(d.Flags) + "; the next run releases it"})
		default:
			keep = append(keep, id)
		}
	}
	return keep, true
}

// ClientToken derives the DeleteInstances idempotency token from the run's
// identity and the batch: the same run sending the same batch sends the same
// token, so FC's retries and overlapping invocations of one tick are
// harmless. 64 ASCII characters at most, as the API requires.
func ClientToken(runID, region string, flags decide.Flags, forceStop, dryRun bool, ids []string) string {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n%t\n%t\n%t\n%t\n", runID, region, flags.TerminateSubscription, flags.Force, forceStop && flags.Force, dryRun)
	for _, id := range sorted {
		h.Write([]byte(id))
		h.Write([]byte{'\n'})
	}
	return "ecs-reaper-" + hex.EncodeToString(h.Sum(nil))[:48]
}

func dedupe(in []string) []string {
	seen := make(map[string]bool, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
