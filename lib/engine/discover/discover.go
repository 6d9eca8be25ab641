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
	"slices"

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
	probe, err := l.describe(ctx, ecsapi.DescribeInput{MaxResults: ecsapi.MaxPageSize})
	if err != nil {
		return
	}
	optedIn := 0
	for _, inst := range probe.Instances {
		if _, tagged := inst.Tags[l.req.OptInKey]; tagged {
			optedIn++
		}
	}
	if err := l.give(probe.Instances); err != nil {
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
		l.scan(ctx, probe)
		return
	}
	if complete := l.tagFilter(ctx); complete || l.result.Failure != nil {
		return
	}
	if share > capScanShare {
		l.scan(ctx, probe)
		return
	}
	l.tagIndex(ctx)
}

// errFailed is returned once the listing's failure is recorded.
var errFailed = errors.New("the listing failed")

// give hands a page to the plan; an instance without an ID fails the
// listing: the page cannot be trusted.
func (l *listing) give(instances []cloud.Instance) error {
	for _, inst := range instances {
		if inst.ID == "" {
			l.fail(&verdict.Failure{Code: ecsapi.CodeBadResponse, Message: "DescribeInstances returned an instance without InstanceId"})
			return errFailed
		}
	}
	l.sink.Take(instances)
	return nil
}

// confirmEmpty tells an empty region from a role that may not list it:
// ECS answers the latter with an empty list too. A dry run answers
// DryRunOperation only when the permission is there.
func (l *listing) confirmEmpty(ctx context.Context) {
	_, _ = l.describe(ctx, ecsapi.DescribeInput{DryRun: true}) // a refusal fails the listing
}

// scan reads the rest of the scope's instances, unfiltered, after the
// probe page (whose instances are given).
func (l *listing) scan(ctx context.Context, probe ecsapi.DescribePage) {
	l.result.Path = Scan
	seen := page.Seen{}
	pages := l.instancePages()
	if err := pages.Take(page.Page{Next: probe.NextToken, Items: len(probe.Instances), Fresh: newTo(seen, probe.Instances)}); err != nil {
		l.fail(listingFailure(err))
		return
	}
	err := pages.Run(ctx, func(ctx context.Context, token string) (page.Page, error) {
		p, err := l.describe(ctx, ecsapi.DescribeInput{NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if err != nil {
			return page.Page{}, err
		}
		if err := l.give(p.Instances); err != nil {
			return page.Page{}, err
		}
		return page.Page{Next: p.NextToken, Items: len(p.Instances), Fresh: newTo(seen, p.Instances)}, nil
	})
	if err != nil {
		l.fail(listingFailure(err))
	}
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

// instancePages pages a DescribeInstances listing.
func (l *listing) instancePages() *page.Tokens {
	return page.Listing{Name: ecsapi.ActionDescribeInstances, PageSize: ecsapi.MaxPageSize}.Tokens()
}

// tagFilter lists by the opt-in tag key; complete is false when the
// listing reached the 1,000-result cap (or failed).
func (l *listing) tagFilter(ctx context.Context) (complete bool) {
	l.result.Path = TagFilter
	capped := false
	listed := 0
	seen := page.Seen{}
	err := l.instancePages().Run(ctx, func(ctx context.Context, token string) (page.Page, error) {
		p, err := l.describe(ctx, ecsapi.DescribeInput{TagKey: l.req.OptInKey, NextToken: token, MaxResults: ecsapi.MaxPageSize})
		if err != nil {
			return page.Page{}, err
		}
		listed += len(p.Instances)
		if err := l.give(p.Instances); err != nil {
			return page.Page{}, err
		}
		fresh := newTo(seen, p.Instances)
		if listed >= ecsapi.TagFilterCap {
			// A listing that reached the cap may have been cut there,
			// whether or not it says it ended.
			capped = true
			return page.Page{Items: len(p.Instances), Fresh: fresh}, nil
		}
		return page.Page{Next: p.NextToken, Items: len(p.Instances), Fresh: fresh}, nil
	})
	if err != nil {
		l.fail(listingFailure(err))
		return false
	}
	return !capped
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
		p, err := l.describe(ctx, ecsapi.DescribeInput{InstanceIDs: chunk, MaxResults: ecsapi.MaxPageSize})
		if err == nil {
			err = l.give(p.Instances)
		}
		if err != nil {
			l.fail(listingFailure(err))
			return
		}
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
		l.fail(listingFailure(err))
		return nil, false
	}
	return ids, true
}

// describe reads one page with retries; on failure it fails the listing.
func (l *listing) describe(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	in.Region = l.req.Scope.Region
	in.TagKeys = l.req.TagKeys
	var p ecsapi.DescribePage
	err := l.c.Do(ctx, ecsapi.ActionDescribeInstances, nil, func() error {
		var err error
		p, err = l.api.DescribeInstances(ctx, in)
		return err
	})
	if err != nil {
		l.fail(listingFailure(err))
		return ecsapi.DescribePage{}, err
	}
	return p, nil
}

// listingFailure reports why a listing stopped; only the first failure
// of a listing is kept.
func listingFailure(err error) *verdict.Failure {
	f := page.Failure(err)
	if f.Code == string(report.ReasonDeadline) {
		f.Message = "the invocation deadline arrived before the listing finished"
	}
	return f
}
