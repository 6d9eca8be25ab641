// Package discover is the engine's first phase: it lists one scope's
// instances along the cheapest complete path it can tell and streams them,
// page by page, to the plan. A listing it cannot trust to be complete
// (a failed call, a malformed page, pagination that never ends, ECS's
// 1,000-result cap on tag filters) ends with a Failure, and the scope
// releases nothing.
package discover

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Lister is what discovery needs from a scope's ECS API.
type Lister interface {
	DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error)
	ListTagResources(ctx context.Context, in ecsapi.ListTagInput) (ecsapi.TagPage, error)
}

// Paths, as named in the report.
const (
	Scan      = "scan"       // unfiltered DescribeInstances pages
	TagFilter = "tag-filter" // DescribeInstances filtered by the opt-in tag key
	TagIndex  = "tag-index"  // ListTagResources, then DescribeInstances by ID
)

// Thresholds of the path rule, as the share of the first unfiltered page
// that carries the opt-in tag.
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

// Request says what to list in a scope.
type Request struct {
	Scope    cloud.Scope
	OptInKey string
	// TagKeys are the only tags kept on each instance: the rules read
	// two, and instances may carry dozens.
	TagKeys []string
}

// Sink receives the listed instances (the plan).
type Sink interface {
	// Take receives one page's instances and returns how many of them it
	// had not seen before.
	Take(instances []cloud.Instance) (fresh int)
	// Seen reports whether an instance was already taken.
	Seen(id string) bool
}

// Result is how a scope was listed.
type Result struct {
	Path string
	// Failure is nil when the listing ran to its end and is trusted.
	Failure *verdict.Failure
	// Concurrency is the listing's bound on pages at once when it ended,
	// and Cuts how often throttling halved it.
	Concurrency, Cuts int
}

// The listing's concurrency per scope: pages read by number at once.
// At 100 ms a page, listingStart pages at once read 8,000 instances a
// second (1,000,000 in about two minutes, inside the 600 s timeout); it
// halves on every burst of throttled answers and grows back by one after
// a run of successes, never past listingMax (a region reading 32 pages at
// once holds about 3 MB of answers) nor below one page at a time.
const (
	listingStart = 8
	listingMin   = 1
	listingMax   = 32
)

// Run lists and streams every instance of the scope that the rules may
// need, along the cheapest complete path it can tell:
//
//  1. One unfiltered DescribeInstances page by number (PageNumber 1,
//     PageSize 100), whose TotalCount says how many pages the region
//     has. If it is the only page, the scope is done. If at least half of
//     it is opted in, the scan reads the other pages, several at once: as
//     few calls as the scope has instances / 100, and the tag filter's
//     1,000 cap cannot bite.
//  2. Otherwise the tag-filtered listing, by number too, complete when its
//     TotalCount is under the documented 1,000-result cap.
//  3. A tag-filtered listing that reaches the cap is not trusted to be
//     complete: if more than a third of the sample was opted in, the scan
//     reads the other unfiltered pages; otherwise ListTagResources lists
//     every tagged ID and DescribeInstances reads the ones not yet seen,
//     by ID, several at once.
//
// PageNumber is documented as deprecated: an API that refuses it (a fatal
// error on the first page) is listed by the NextToken chain, one page
// after another, unfiltered.
func Run(ctx context.Context, api Lister, c *call.Caller, req Request, sink Sink) Result {
	l := &listing{api: api, c: c, req: req, sink: sink, lim: call.NewAdaptive(listingStart, listingMin, listingMax), start: time.Now()}
	l.result.Path = Scan
	l.run(ctx)
	l.result.Concurrency, l.result.Cuts = l.lim.Limit(), l.lim.Cuts()
	return l.result
}

type listing struct {
	api    Lister
	c      *call.Caller
	req    Request
	sink   Sink
	result Result
	lim    *call.Adaptive
	start  time.Time

	mu    sync.Mutex // the sink is fed one page at a time
	pages int        // DescribeInstances pages answered
	need  int        // pages the latest TotalCount needs; 0 when unknown
}

func (l *listing) fail(f *verdict.Failure) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.result.Failure == nil {
		l.result.Failure = f
	}
}

func (l *listing) run(ctx context.Context) {
	probe, err := l.read(ctx, ecsapi.DescribeInput{PageNumber: 1, PageSize: ecsapi.MaxPageSize})
	if err != nil {
		if ecsapi.Classify(err) == ecsapi.ClassFatal {
			l.result.Failure = nil
			l.byToken(ctx)
			return
		}
		l.fail(l.listingFailure(err))
		return
	}
	optedIn := 0
	for _, inst := range probe.Instances {
		if _, tagged := inst.Tags[l.req.OptInKey]; tagged {
			optedIn++
		}
	}
	first := l.firstPage(probe)
	if _, err := l.give(probe.Instances, nil); err != nil {
		return
	}
	if probe.TotalCount <= ecsapi.MaxPageSize {
		// One page: the pager checks it against its total, reads no other.
		if err := l.instancePages().Parallel(ctx, listingMax, first, nil); err != nil {
			l.fail(l.listingFailure(err))
			return
		}
		if len(probe.Instances) == 0 {
			l.confirmEmpty(ctx)
		}
		return
	}
	share := float64(optedIn) / float64(max(1, len(probe.Instances)))
	if share >= scanShare {
		l.scan(ctx, first, nil)
		return
	}
	prior, complete := l.tagFilter(ctx)
	if complete || l.failed() {
		return
	}
	if share > capScanShare {
		l.scan(ctx, first, prior)
		return
	}
	l.tagIndex(ctx)
}

func (l *listing) failed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.result.Failure != nil
}

// firstPage is the probe as the pager's first page of the scan.
func (l *listing) firstPage(probe ecsapi.DescribePage) page.Page {
	return page.Page{Total: probe.TotalCount, Items: len(probe.Instances), Fresh: len(probe.Instances)}
}

// scan reads the unfiltered pages after the first, several at once.
// prior holds the IDs another path gave the plan: a page of them still
// advances this listing.
func (l *listing) scan(ctx context.Context, first page.Page, prior page.Seen) {
	l.result.Path = Scan
	err := l.instancePages().Parallel(ctx, listingMax, first, func(ctx context.Context, n int) (page.Page, error) {
		p, err := l.read(ctx, ecsapi.DescribeInput{PageNumber: n, PageSize: ecsapi.MaxPageSize})
		if err != nil {
			return page.Page{}, err
		}
		fresh, err := l.give(p.Instances, prior)
		return page.Page{Total: p.TotalCount, Items: len(p.Instances), Fresh: fresh}, err
	})
	if err != nil {
		l.fail(l.listingFailure(err))
	}
}

// errFailed is returned once the listing's failure is recorded.
var errFailed = errors.New("the listing failed")

// give hands a page to the plan and returns how many of its instances
// are new to this listing: new to the plan, or given before by another
// path (prior; each counts once). An instance without an ID fails the
// listing: the page cannot be trusted.
func (l *listing) give(instances []cloud.Instance, prior page.Seen) (fresh int, err error) {
	for _, inst := range instances {
		if inst.ID == "" {
			f := &verdict.Failure{Code: ecsapi.CodeBadResponse, Message: "DescribeInstances returned an instance without InstanceId"}
			l.fail(f)
			return 0, errFailed
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, inst := range instances {
		if prior[inst.ID] {
			delete(prior, inst.ID)
			fresh++
		}
	}
	return fresh + l.sink.Take(instances), nil
}

// confirmEmpty tells an empty region from a role that may not list it:
// ECS answers the latter with an empty list too. A dry run answers
// DryRunOperation only when the permission is there.
func (l *listing) confirmEmpty(ctx context.Context) {
	if _, err := l.read(ctx, ecsapi.DescribeInput{DryRun: true}); err != nil {
		l.fail(l.listingFailure(err))
	}
}

// byToken lists the scope unfiltered by the NextToken chain, one page
// after another: for an API that refuses PageNumber.
func (l *listing) byToken(ctx context.Context) {
	l.result.Path = Scan
	err := l.instancePages().Tokens().Run(ctx, func(ctx context.Context, token string) (page.Page, error) {
		p, err := l.read(ctx, ecsapi.DescribeInput{NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if err != nil {
			return page.Page{}, err
		}
		fresh, err := l.give(p.Instances, nil)
		if err != nil {
			return page.Page{}, err
		}
		if p.NextToken == "" && len(p.Instances) == 0 && l.pagesRead() == 1 {
			l.confirmEmpty(ctx)
		}
		return page.Page{Next: p.NextToken, Items: len(p.Instances), Fresh: fresh}, nil
	})
	if err != nil {
		l.fail(l.listingFailure(err))
	}
}

func (l *listing) pagesRead() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pages
}

// newTo counts the instances new to one listing: a page of instances
// another path already gave the plan still advances this listing.
func newTo(seen page.Seen, instances []cloud.Instance) (fresh int) {
	for _, inst := range instances {
		if seen.Add(inst.ID) {
			fresh++
		}
	}
	return fresh
}

// instancePages names a DescribeInstances listing for the pager.
func (l *listing) instancePages() page.Listing {
	return page.Listing{Name: ecsapi.ActionDescribeInstances, PageSize: ecsapi.MaxPageSize}
}

// errCapped ends a tag-filtered listing that reached the 1,000 cap.
var errCapped = errors.New("the tag filter reached its cap")

// tagFilter lists by the opt-in tag key, by number; complete is false
// when the listing reached the 1,000-result cap (or failed). prior is
// what it gave the plan.
func (l *listing) tagFilter(ctx context.Context) (prior page.Seen, complete bool) {
	l.result.Path = TagFilter
	prior = page.Seen{}
	var mu sync.Mutex
	capped := false
	read := func(ctx context.Context, n int) (page.Page, error) {
		p, err := l.read(ctx, ecsapi.DescribeInput{TagKey: l.req.OptInKey, PageNumber: n, PageSize: ecsapi.MaxPageSize})
		if err != nil {
			return page.Page{}, err
		}
		if _, err := l.give(p.Instances, nil); err != nil {
			return page.Page{}, err
		}
		mu.Lock()
		defer mu.Unlock()
		fresh := newTo(prior, p.Instances)
		if p.TotalCount >= ecsapi.TagFilterCap || len(prior) >= ecsapi.TagFilterCap {
			// A listing that reaches the cap may have been cut there,
			// whatever its total says.
			capped = true
			return page.Page{}, errCapped
		}
		return page.Page{Total: p.TotalCount, Items: len(p.Instances), Fresh: fresh}, nil
	}
	first, err := read(ctx, 1)
	if err == nil {
		err = l.instancePages().Parallel(ctx, listingMax, first, read)
	}
	switch {
	case capped:
		return prior, false
	case err != nil:
		l.fail(l.listingFailure(err))
		return prior, false
	}
	return prior, true
}

// tagIndex lists every tagged ID and reads the ones not yet seen.
func (l *listing) tagIndex(ctx context.Context) {
	l.result.Path = TagIndex
	ids, ok := l.listTagged(ctx)
	if !ok {
		return
	}
	var unseen []string
	for _, id := range ids {
		if !l.sink.Seen(id) {
			unseen = append(unseen, id)
		}
	}
	var wg sync.WaitGroup
	workers := make(chan struct{}, listingMax) // l.read bounds the calls
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for chunk := range slices.Chunk(unseen, ecsapi.MaxDescribeIDs) {
		if ctx.Err() != nil {
			break // a read failed, or the time ended (below)
		}
		workers <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-workers }()
			p, err := l.read(ctx, ecsapi.DescribeInput{InstanceIDs: chunk, MaxResults: ecsapi.MaxPageSize})
			if err == nil {
				_, err = l.give(p.Instances, nil)
			}
			if err != nil {
				l.fail(l.listingFailure(err))
				cancel()
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil && !l.failed() {
		l.fail(l.listingFailure(err))
	}
}

// listTagged lists the IDs that carry the opt-in tag key. ListTagResources
// takes no page size in this SDK: the server chooses it.
func (l *listing) listTagged(ctx context.Context) ([]string, bool) {
	var ids []string
	seen := page.Seen{}
	pages := page.Listing{Name: ecsapi.ActionListTagResources}.Tokens()
	err := pages.Run(ctx, func(ctx context.Context, token string) (page.Page, error) {
		var p ecsapi.TagPage
		in := ecsapi.ListTagInput{Region: l.req.Scope.Region, TagKey: l.req.OptInKey, NextToken: token}
		err := l.c.Do(ctx, ecsapi.ActionListTagResources, nil, func() error {
			var err error
			p, err = l.api.ListTagResources(ctx, in)
			return err
		})
		if err != nil {
			return page.Page{}, err
		}
		fresh := 0
		for _, id := range p.InstanceIDs {
			if seen.Add(id) { // one entry per tag of an instance: de-duplicate
				ids = append(ids, id)
				fresh++
			}
		}
		return page.Page{Next: p.NextToken, Items: len(p.InstanceIDs), Fresh: fresh}, nil
	})
	if err != nil {
		l.fail(l.listingFailure(err))
		return nil, false
	}
	return ids, true
}

// read reads one page with retries; the caller records a failure. Each
// attempt takes a slot of the listing's bound, so a throttled call waits
// for its retry like any other: the bound counts calls on the wire.
func (l *listing) read(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	in.Region = l.req.Scope.Region
	in.TagKeys = l.req.TagKeys
	var p ecsapi.DescribePage
	var ticket call.Ticket
	held := false
	defer func() {
		if held { // a slot taken for an attempt never sent
			l.lim.Release(ticket, false)
		}
	}()
	err := l.c.Do(ctx, ecsapi.ActionDescribeInstances, func(int) error {
		if held {
			return nil
		}
		var err error
		ticket, err = l.lim.Acquire(ctx)
		held = err == nil
		return err
	}, func() error {
		var err error
		p, err = l.api.DescribeInstances(ctx, in)
		l.lim.Release(ticket, ecsapi.Classify(err) == ecsapi.ClassThrottled)
		held = false
		return err
	})
	if err != nil {
		return ecsapi.DescribePage{}, err
	}
	l.mu.Lock()
	l.pages++
	if in.PageNumber > 0 && in.TagKey == "" {
		l.need = max(l.need, (p.TotalCount+ecsapi.MaxPageSize-1)/ecsapi.MaxPageSize)
	}
	l.mu.Unlock()
	return p, nil
}

// listingFailure reports why a listing stopped; only the first failure
// of a listing is kept. A listing the deadline stopped says how long it
// would have needed, from its pace and the region's TotalCount.
func (l *listing) listingFailure(err error) *verdict.Failure {
	f := page.Failure(err)
	if f.Code == string(report.ReasonDeadline) || errors.Is(err, context.DeadlineExceeded) {
		f.Code = string(report.ReasonDeadline)
		f.Message = "the invocation deadline arrived before the listing finished; " + l.pace()
	}
	return f
}

// pace is how far the listing got and how long the whole would take.
func (l *listing) pace() string {
	l.mu.Lock()
	read, need := l.pages, l.need
	l.mu.Unlock()
	elapsed := time.Since(l.start)
	if read == 0 || elapsed <= 0 {
		return fmt.Sprintf("no page was read in %s", elapsed.Round(time.Second))
	}
	rate := float64(read) / elapsed.Seconds()
	if need <= read {
		return fmt.Sprintf("%d pages read in %s (%.1f a second)", read, elapsed.Round(time.Second), rate)
	}
	needed := time.Duration(float64(need) / rate * float64(time.Second))
	return fmt.Sprintf("%d of the %d pages its TotalCount needs read in %s (%.1f a second): the region needs about %s to list",
		read, need, elapsed.Round(time.Second), rate, needed.Round(time.Second))
}
