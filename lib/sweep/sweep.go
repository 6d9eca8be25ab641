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

// ErrIncomplete is returned (wrapped) when some region could not be swept to
// the end; the report says which and why.
var ErrIncomplete = errors.New("sweep incomplete")

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
	// Freshness is how old a batch's listing data may be at release time
	// before it is re-read.
	Freshness time.Duration
	// DeadlineMargin: no new batch starts when less time than this is left.
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

// ResolveRegions returns every region from DescribeRegions, with retries.
func (s *Sweeper) ResolveRegions(ctx context.Context) ([]string, error) {
	rr := s.newRegionRun("")
	var regions ecsapi.Regions
	err := rr.retry(ctx, ecsapi.ActionDescribeRegions, func() error {
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
	s.log.Info("sweep start", "run_id", s.opts.RunID, "regions", regions, "dry_run", s.opts.DryRun)

	s.forEachRegion(runs, func(rr *regionRun) {
		rr.discover(ctx)
		rr.seen = nil // only discovery needs it; free it before releasing
	})

	capCheck := s.checkCap(runs)
	rep.Cap = capCheck
	var runErr error
	if capCheck.Exceeded {
		runErr = fmt.Errorf("%w: %d instances eligible (%.1f%% of %d opted in), caps are %d instances and %.1f%%; nothing was released",
			ErrCapExceeded, capCheck.Eligible, capCheck.Percent, capCheck.OptedIn, capCheck.MaxRelease, capCheck.MaxReleasePercent)
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
	if runErr == nil && !rep.Complete {
		var incomplete []string
		for _, r := range rep.Regions {
			if !r.Complete {
				why := "incomplete"
				if r.Error != nil {
					why = r.Error.Code
				}
				incomplete = append(incomplete, r.Region+" ("+why+")")
			}
		}
		runErr = fmt.Errorf("%w: regions %s", ErrIncomplete, strings.Join(incomplete, ", "))
	}
	s.log.Info("sweep end", "run_id", s.opts.RunID, "outcomes", rep.Totals.Outcomes, "calls", rep.Totals.Calls, "complete", rep.Complete)
	return rep, runErr
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
	c := &report.CapCheck{MaxRelease: s.opts.MaxRelease, MaxReleasePercent: s.opts.MaxReleasePercent}
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
	c.Exceeded = c.Eligible > c.MaxRelease ||
		(c.MaxReleasePercent > 0 && c.Percent > c.MaxReleasePercent)
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
	if rr.s.logsInfo {
		rr.s.log.Info("decision", "region", rr.region, "instance_id", item.ID, "outcome", string(outcome),
			"reason", reason, "detail", item.Detail, "code", item.Code)
	}
}

// timeLeft reports whether a new unit of work may start.
func (rr *regionRun) timeLeft(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= rr.s.opts.DeadlineMargin
}

func failureOf(err error) *report.Failure {
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
	rr.take(probe.Instances)
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
		rr.scan(ctx, probe.NextToken)
		return
	}
	rr.rep.Discovery = DiscoveryTagFilter
	listed := 0
	token := ""
	for {
		page, ok := rr.describePage(ctx, ecsapi.DescribeInput{Region: rr.region, TagKey: rr.s.opts.Rules.OptInKey, NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return
		}
		listed += len(page.Instances)
		rr.take(page.Instances)
		if listed >= ecsapi.TagFilterCap {
			// A listing that reached the cap may have been cut there,
			// whether or not it says it ended.
			break
		}
		if page.NextToken == "" {
			rr.finishDiscovery()
			return
		}
		if !rr.advances(token, page) {
			return
		}
		token = page.NextToken
	}
	if share > capScanShare {
		rr.scan(ctx, probe.NextToken)
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

// scan reads the rest of the region's instances, unfiltered, from token.
func (rr *regionRun) scan(ctx context.Context, token string) {
	rr.rep.Discovery = DiscoveryScan
	for token != "" {
		page, ok := rr.describePage(ctx, ecsapi.DescribeInput{Region: rr.region, NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return
		}
		rr.take(page.Instances)
		if page.NextToken != "" && !rr.advances(token, page) {
			return
		}
		token = page.NextToken
	}
	rr.finishDiscovery()
}

// advances closes the region when a listing hands back the token it was
// given or an empty page with a token: a listing that does not advance
// would never end.
func (rr *regionRun) advances(token string, page ecsapi.DescribePage) bool {
	if page.NextToken == token || len(page.Instances) == 0 {
		rr.closeRegion(&report.Failure{Code: ecsapi.CodeBadResponse, Message: "DescribeInstances pagination did not advance"})
		return false
	}
	return true
}

// describePage reads one page with retries; on failure it closes the region.
func (rr *regionRun) describePage(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, bool) {
	if !rr.timeLeft(ctx) {
		rr.closeRegion(&report.Failure{Code: report.ReasonDeadline, Message: "the invocation deadline arrived before the listing finished"})
		return ecsapi.DescribePage{}, false
	}
	in.TagKeys = rr.tagKeys()
	var page ecsapi.DescribePage
	err := rr.retry(ctx, ecsapi.ActionDescribeInstances, func() error {
		var err error
		page, err = rr.s.api.DescribeInstances(ctx, in)
		return err
	})
	if err != nil {
		rr.closeRegion(failureOf(err))
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
	for {
		if !rr.timeLeft(ctx) {
			rr.closeRegion(&report.Failure{Code: report.ReasonDeadline, Message: "the invocation deadline arrived before the listing finished"})
			return nil, false
		}
		var page ecsapi.TagPage
		in := ecsapi.ListTagInput{Region: rr.region, TagKey: rr.s.opts.Rules.OptInKey, NextToken: token}
		err := rr.retry(ctx, ecsapi.ActionListTagResources, func() error {
			var err error
			page, err = rr.s.api.ListTagResources(ctx, in)
			return err
		})
		if err != nil {
			rr.closeRegion(failureOf(err))
			return nil, false
		}
		ids = append(ids, page.InstanceIDs...)
		if page.NextToken == "" {
			return dedupe(ids), true
		}
		if page.NextToken == token {
			rr.closeRegion(&report.Failure{Code: ecsapi.CodeBadResponse, Message: "ListTagResources pagination did not advance"})
			return nil, false
		}
		token = page.NextToken
	}
}

func (rr *regionRun) describeIDs(ctx context.Context, ids []string) (ecsapi.DescribePage, error) {
	var page ecsapi.DescribePage
	in := ecsapi.DescribeInput{Region: rr.region, InstanceIDs: ids, MaxResults: ecsapi.MaxPageSize, TagKeys: rr.tagKeys()}
	err := rr.retry(ctx, ecsapi.ActionDescribeInstances, func() error {
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

// take decides each listed instance once.
func (rr *regionRun) take(instances []decide.Instance) {
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
		rr.rep.Seen++
		if _, ok := inst.Tags[opts.Rules.OptInKey]; ok {
			rr.rep.OptedIn++
		}
		var d decide.Decision
		if inst.Region != rr.region {
			d = decide.Decision{InstanceID: inst.ID, Reason: decide.ReasonInvalidData,
				Detail: fmt.Sprintf("listed in %s but reports region %q", rr.region, inst.Region)}
		} else {
			d = decide.Decide(inst, opts.Rules, now)
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
	// In-flight calls stop a little before the deadline, so the report can
	// still be returned before FC ends the invocation.
	workCtx := ctx
	if deadline, ok := ctx.Deadline(); ok {
		reserve := min(rr.s.opts.DeadlineMargin/2, 5*time.Second)
		var cancel context.CancelFunc
		workCtx, cancel = context.WithDeadline(ctx, deadline.Add(-reserve))
		defer cancel()
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
			rr.hold(b.ids, report.ReasonDeadline, "too little time left before the invocation deadline; the next run continues")
			rr.markIncomplete()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rr.limit.release()
			rr.runBatch(workCtx, b)
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

func (rr *regionRun) markIncomplete() {
	rr.mu.Lock()
	rr.rep.Complete = false
	rr.mu.Unlock()
}

func (rr *regionRun) runBatch(ctx context.Context, b batch) {
	rr.deleteIsolated(ctx, b.ids, b.flags, b.listedAt)
}

// deleteIsolated releases ids, keeping one bad instance from holding back
// the others: after any failure it re-reads the batch (every failed call,
// halves included, so nothing is retried on data older than the failure)
// and retries without the instances that changed; when the re-read
// explains nothing it splits the batch in halves. Each step retries fewer
// IDs, so the recursion ends.
//
// readAt is when the data behind ids was read: data older than the
// freshness window is read again first, so a long bisection never sends its
// later halves on what an earlier read said.
func (rr *regionRun) deleteIsolated(ctx context.Context, ids []string, flags decide.Flags, readAt time.Time) {
	if len(ids) == 0 {
		return
	}
	if age := rr.s.opts.Now().Sub(readAt); age > rr.s.opts.Freshness {
		rr.s.log.Info("re-reading stale batch", "region", rr.region, "instances", len(ids), "age", age.String())
		var ok bool
		if ids, ok = rr.reread(ctx, ids, flags, "data older than the freshness window"); !ok || len(ids) == 0 {
			return
		}
	}
	out, err := rr.deleteBatch(ctx, ids, flags)
	if err == nil {
		outcome := report.OutcomeReleased
		if out.DryRunPassed {
			outcome = report.OutcomeWouldRelease
		}
		for _, id := range ids {
			rr.add(outcome, "", report.Item{ID: id, Detail: rr.detail(id)}) // the request ID is on the batch
		}
		rr.limit.succeeded()
		return
	}
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
	keep, ok := rr.reread(ctx, ids, flags, "after "+failure.Code)
	if !ok {
		return
	}
	readAt = rr.s.opts.Now()
	if len(keep) < len(ids) {
		rr.deleteIsolated(ctx, keep, flags, readAt)
		return
	}
	class := ecsapi.Classify(err)
	if class != ecsapi.ClassInstance && class != ecsapi.ClassNotFound {
		rr.fail(ids, failure)
		return
	}
	if len(ids) == 1 {
		if class == ecsapi.ClassNotFound {
			rr.add(report.OutcomeGone, "", report.Item{ID: ids[0], Detail: "not found at release: already released", Code: failure.Code})
			return
		}
		rr.fail(ids, failure)
		return
	}
	half := len(ids) / 2
	rr.deleteIsolated(ctx, ids[:half], flags, readAt)
	rr.deleteIsolated(ctx, ids[half:], flags, readAt)
}

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
// ClientToken) and records it in the report.
func (rr *regionRun) deleteBatch(ctx context.Context, ids []string, flags decide.Flags) (ecsapi.DeleteOutput, error) {
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
	var out ecsapi.DeleteOutput
	err := rr.retry(ctx, ecsapi.ActionDeleteInstances, func() error {
		rec.Attempts++
		var err error
		out, err = rr.s.api.DeleteInstances(ctx, in)
		if id := requestIDOf(out, err); id != "" {
			rec.RequestIDs = append(rec.RequestIDs, id)
		}
		return err
	})
	switch {
	case err == nil && out.DryRunPassed:
		rec.Result = string(report.OutcomeWouldRelease)
	case err == nil:
		rec.Result = string(report.OutcomeReleased)
	default:
		rec.Result, rec.Code = "failed", ecsapi.Code(err)
	}
	rr.mu.Lock()
	rr.rep.Batches = append(rr.rep.Batches, rec)
	rr.mu.Unlock()
	rr.s.log.Info("batch", "region", rr.region, "instances", len(ids), "terminate_subscription", flags.TerminateSubscription,
		"force", flags.Force, "dry_run", opts.DryRun, "client_token", in.ClientToken, "attempts", rec.Attempts,
		"request_ids", rec.RequestIDs, "result", rec.Result, "code", rec.Code)
	return out, err
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
// failed: then nothing is released and every ID is reported failed.
func (rr *regionRun) reread(ctx context.Context, ids []string, flags decide.Flags, why string) (keep []string, ok bool) {
	fresh := map[string]decide.Instance{}
	for chunk := range slices.Chunk(ids, ecsapi.MaxDescribeIDs) {
		page, err := rr.describeIDs(ctx, chunk)
		if err != nil {
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
		d := decide.Decide(inst, rr.s.opts.Rules, now)
		if inst.Region != rr.region {
			d = decide.Decision{InstanceID: id, Reason: decide.ReasonInvalidData,
				Detail: fmt.Sprintf("re-read in %s but reports region %q", rr.region, inst.Region)}
		}
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
