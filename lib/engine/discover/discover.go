// Package discover is the engine's first phase: it lists one scope's
// instances along the cheapest complete path it can tell and streams them,
// page by page, to the plan. A listing it cannot trust to be complete
// (a failed call, a malformed page, pagination that never ends, ECS's
// 1,000-result cap on tag filters) ends with a Failure, and the scope
// releases nothing.
package discover

import (
	"context"
	"fmt"
	"slices"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
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

// maxListingPages bounds one listing: 1,000,000 instances of one region at
// 100 a page, far beyond any ECS quota. ECS's TotalCount is meaningless
// under NextToken paging, so it cannot bound the listing.
const maxListingPages = 10000

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
}

// Run lists and streams every instance of the scope that the rules may
// need, along the cheapest complete path it can tell:
//
//  1. One unfiltered DescribeInstances page (100 instances). If it is the
//     last page, the scope is done. If at least half of it is opted in,
//     the scan continues: everything is read in as few calls as the scope
//     has instances / 100, and the tag filter's 1,000 cap cannot bite.
//  2. Otherwise the tag-filtered listing, complete when it ends under the
//     documented 1,000-result cap.
//  3. A tag-filtered listing that reaches the cap is not trusted to be
//     complete: if more than a third of the sample was opted in, the scan
//     resumes after the first page; otherwise ListTagResources lists every
//     tagged ID and DescribeInstances reads the ones not yet seen, by ID.
func Run(ctx context.Context, api Lister, c *call.Caller, req Request, sink Sink) Result {
	l := &listing{api: api, c: c, req: req, sink: sink}
	l.result.Path = Scan
	l.run(ctx)
	return l.result
}

type listing struct {
	api    Lister
	c      *call.Caller
	req    Request
	sink   Sink
	result Result
}

func (l *listing) fail(f *verdict.Failure) {
	if l.result.Failure == nil {
		l.result.Failure = f
	}
}

func (l *listing) run(ctx context.Context) {
	probe, ok := l.describe(ctx, ecsapi.DescribeInput{MaxResults: ecsapi.MaxPageSize})
	if !ok {
		return
	}
	optedIn := 0
	for _, inst := range probe.Instances {
		if _, tagged := inst.Tags[l.req.OptInKey]; tagged {
			optedIn++
		}
	}
	probeFresh, ok := l.give(probe.Instances)
	if !ok {
		return
	}
	if probe.NextToken == "" {
		if len(probe.Instances) == 0 {
			l.confirmEmpty(ctx)
		}
		return
	}
	share := float64(optedIn) / float64(max(1, len(probe.Instances)))
	if share >= scanShare {
		l.scan(ctx, probe.NextToken, probeFresh)
		return
	}
	if complete := l.tagFilter(ctx); complete || l.result.Failure != nil {
		return
	}
	if share > capScanShare {
		l.scan(ctx, probe.NextToken, probeFresh)
		return
	}
	l.tagIndex(ctx)
}

// give hands a page to the plan; an instance without an ID fails the
// listing: the page cannot be trusted.
func (l *listing) give(instances []cloud.Instance) (fresh int, ok bool) {
	for _, inst := range instances {
		if inst.ID == "" {
			l.fail(&verdict.Failure{Code: ecsapi.CodeBadResponse, Message: "DescribeInstances returned an instance without InstanceId"})
			return 0, false
		}
	}
	return l.sink.Take(instances), true
}

// confirmEmpty tells an empty region from a role that may not list it:
// ECS answers the latter with an empty list too. A dry run answers
// DryRunOperation only when the permission is there.
func (l *listing) confirmEmpty(ctx context.Context) {
	l.describe(ctx, ecsapi.DescribeInput{DryRun: true})
}

// scan reads the rest of the scope's instances, unfiltered, from token
// (the probe page, whose instances are given, handed it out).
func (l *listing) scan(ctx context.Context, token string, probeFresh int) {
	l.result.Path = Scan
	pages := newPager(ecsapi.ActionDescribeInstances)
	if !l.advances(pages, "", token, probeFresh) {
		return
	}
	for token != "" {
		page, ok := l.describe(ctx, ecsapi.DescribeInput{NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return
		}
		fresh, ok := l.give(page.Instances)
		if !ok {
			return
		}
		if page.NextToken != "" && !l.advances(pages, token, page.NextToken, fresh) {
			return
		}
		token = page.NextToken
	}
}

// tagFilter lists by the opt-in tag key; complete is false when the
// listing reached the 1,000-result cap (or failed).
func (l *listing) tagFilter(ctx context.Context) (complete bool) {
	l.result.Path = TagFilter
	listed := 0
	token := ""
	pages := newPager(ecsapi.ActionDescribeInstances)
	for {
		page, ok := l.describe(ctx, ecsapi.DescribeInput{TagKey: l.req.OptInKey, NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return false
		}
		listed += len(page.Instances)
		fresh, ok := l.give(page.Instances)
		if !ok {
			return false
		}
		if listed >= ecsapi.TagFilterCap {
			// A listing that reached the cap may have been cut there,
			// whether or not it says it ended.
			return false
		}
		if page.NextToken == "" {
			return true
		}
		if !l.advances(pages, token, page.NextToken, fresh) {
			return false
		}
		token = page.NextToken
	}
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
	for chunk := range slices.Chunk(unseen, ecsapi.MaxDescribeIDs) {
		page, ok := l.describe(ctx, ecsapi.DescribeInput{InstanceIDs: chunk, MaxResults: ecsapi.MaxPageSize})
		if !ok {
			return
		}
		if _, ok := l.give(page.Instances); !ok {
			return
		}
	}
}

func (l *listing) listTagged(ctx context.Context) ([]string, bool) {
	var ids []string
	seen := map[string]bool{}
	token := ""
	pages := newPager(ecsapi.ActionListTagResources)
	for {
		var page ecsapi.TagPage
		in := ecsapi.ListTagInput{Region: l.req.Scope.Region, TagKey: l.req.OptInKey, NextToken: token}
		err := l.c.Do(ctx, ecsapi.ActionListTagResources, nil, func() error {
			var err error
			page, err = l.api.ListTagResources(ctx, in)
			return err
		})
		if err != nil {
			l.fail(listingFailure(err))
			return nil, false
		}
		fresh := 0
		for _, id := range page.InstanceIDs {
			if !seen[id] { // one entry per tag of an instance: de-duplicate
				seen[id] = true
				ids = append(ids, id)
				fresh++
			}
		}
		if page.NextToken == "" {
			return ids, true
		}
		if !l.advances(pages, token, page.NextToken, fresh) {
			return nil, false
		}
		token = page.NextToken
	}
}

// describe reads one page with retries; on failure it fails the listing.
func (l *listing) describe(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, bool) {
	in.Region = l.req.Scope.Region
	in.TagKeys = l.req.TagKeys
	var page ecsapi.DescribePage
	err := l.c.Do(ctx, ecsapi.ActionDescribeInstances, nil, func() error {
		var err error
		page, err = l.api.DescribeInstances(ctx, in)
		return err
	})
	if err != nil {
		l.fail(listingFailure(err))
		return ecsapi.DescribePage{}, false
	}
	return page, true
}

func listingFailure(err error) *verdict.Failure {
	f := call.Failure(err)
	if f.Code == string(report.ReasonDeadline) {
		f.Message = "the invocation deadline arrived before the listing finished"
	}
	return f
}

// advances fails the listing when it would never end.
func (l *listing) advances(p *pager, token, next string, fresh int) bool {
	if problem := p.problem(token, next, fresh); problem != "" {
		l.fail(&verdict.Failure{Code: ecsapi.CodeBadResponse, Message: problem})
		return false
	}
	return true
}

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
// fresh is how many IDs the page added that had not been seen.
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

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
