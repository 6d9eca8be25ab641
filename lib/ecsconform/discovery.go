package ecsconform

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
)

// sink is the plan's part discovery feeds.
type sink struct{ seen map[string]bool }

func (s *sink) Take(list []cloud.Instance) (fresh int) {
	for _, in := range list {
		if !s.seen[in.ID] {
			s.seen[in.ID] = true
			fresh++
		}
	}
	return fresh
}

func (s *sink) Seen(id string) bool { return s.seen[id] }

// counter counts calls by action.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Call(action string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[action]++
}

func (c *counter) count(action string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[action]
}

var fastRetry = call.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}

func newCaller() (*call.Caller, *counter) {
	n := &counter{n: map[string]int{}}
	return call.NewCaller(fastRetry, 0, time.Time{}, 4, n), n
}

func discoverHZ(t *testing.T, api discover.Lister) (discover.Result, map[string]bool, *counter) {
	t.Helper()
	c, n := newCaller()
	s := &sink{seen: map[string]bool{}}
	res := discover.Run(t.Context(), api, c, discover.Request{Scope: cloud.Scope{Region: hz}, OptInKey: optIn, TagKeys: []string{optIn}}, s)
	return res, s.seen, n
}

// interleaved returns tagged and untagged instances whose ID order puts
// `share` percent of every hundred tagged.
func interleaved(region string, total, share int) (all, tagged []cloud.Instance) {
	for i := range total {
		isTagged := i%100 < share
		var tags map[string]string
		if isTagged {
			tags = map[string]string{optIn: "2026-11-01"}
		}
		in := instance(region, fmt.Sprintf("i-m%05d", i), tags)
		all = append(all, in)
		if isTagged {
			tagged = append(tagged, in)
		}
	}
	return all, tagged
}

func testDiscovery(t *testing.T, newModel NewModel) {
	cases := []struct {
		name   string
		fleet  func() (all, want []cloud.Instance)
		path   string
		tagged bool // only the tagged must be seen (others may be)
	}{
		{"one page is all", func() (a, w []cloud.Instance) { a = instances(hz, "s", 30, true); return a, a }, discover.Scan, false},
		{"an empty region", func() (a, w []cloud.Instance) { return nil, nil }, discover.Scan, false},
		{"mostly opted in: scan", func() (a, w []cloud.Instance) {
			a, _ = interleaved(hz, 250, 80)
			return a, a
		}, discover.Scan, false},
		{"few opted in: tag filter", func() (a, w []cloud.Instance) {
			w = instances(hz, "t", 30, true)
			return slices.Concat(instances(hz, "0u", 200, false), w), w
		}, discover.TagFilter, true},
		{"the cap reached, sparse: tag index", func() (a, w []cloud.Instance) {
			w = instances(hz, "t", ecsapi.TagFilterCap+50, true)
			return slices.Concat(instances(hz, "0u", 300, false), w), w
		}, discover.TagIndex, true},
		{"the cap reached, 40% opted in: scan", func() (a, w []cloud.Instance) {
			a, w = interleaved(hz, 2600, 40)
			return a, w
		}, discover.Scan, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all, want := tc.fleet()
			m := newModel(t, Fleet{Instances: all, Regions: []string{hz}})
			res, seen, _ := discoverHZ(t, m.API)
			if res.Failure != nil || res.Path != tc.path {
				t.Fatalf("path %s, failure %+v; want %s and complete", res.Path, res.Failure, tc.path)
			}
			for _, in := range want {
				if !seen[in.ID] {
					t.Fatalf("%s not listed", in.ID)
				}
			}
			if !tc.tagged && len(seen) != len(all) {
				t.Fatalf("%d listed, want %d", len(seen), len(all))
			}
		})
	}
	// By page number, every instance is listed exactly once, in one call
	// per 100; an API that refuses PageNumber is read by the NextToken
	// chain, just as whole.
	for _, tc := range []struct {
		name  string
		wrap  func(discover.Lister) discover.Lister
		calls int
	}{
		{"by page number", func(l discover.Lister) discover.Lister { return l }, 5},
		{"PageNumber refused: by NextToken", func(l discover.Lister) discover.Lister { return tokenOnly{l} }, 1 + 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all, _ := interleaved(hz, 450, 80)
			m := newModel(t, Fleet{Instances: all, Regions: []string{hz}})
			rec := &recording{Lister: tc.wrap(m.API), listed: map[string]int{}}
			res, seen, n := discoverHZ(t, rec)
			if res.Failure != nil || res.Path != discover.Scan || len(seen) != len(all) {
				t.Fatalf("path %s, failure %+v, %d seen; want a complete scan of %d", res.Path, res.Failure, len(seen), len(all))
			}
			for _, in := range all {
				if rec.listed[in.ID] != 1 {
					t.Fatalf("%s listed %d times", in.ID, rec.listed[in.ID])
				}
			}
			if c := n.count(ecsapi.ActionDescribeInstances); c != tc.calls {
				t.Errorf("%d DescribeInstances calls, want %d", c, tc.calls)
			}
		})
	}
	// Pagination that would never end fails the listing closed, on
	// either model, within a few calls.
	for _, tc := range []struct {
		name, want string
		wrap       func(API) discover.Lister
	}{
		{"a NextToken handed out again", "cycles", func(api API) discover.Lister { return tokenOnly{&cycling{API: api}} }},
		{"a page that lists nothing new", "did not advance", func(api API) discover.Lister { return tokenOnly{&stalling{API: api, alias: map[string]string{}}} }},
		{"a page number answered with the page before", "did not advance", func(api API) discover.Lister { return &renumbered{API: api, from: 3, shift: -1} }},
		{"a page short of its TotalCount", "ended early", func(api API) discover.Lister { return &renumbered{API: api, from: 2, drop: 1} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all, _ := interleaved(hz, 450, 80)
			m := newModel(t, Fleet{Instances: all})
			res, _, n := discoverHZ(t, tc.wrap(m.API))
			if res.Failure == nil || !strings.Contains(res.Failure.Message, tc.want) {
				t.Fatalf("failure %+v, want one saying %q", res.Failure, tc.want)
			}
			if c := n.count(ecsapi.ActionDescribeInstances); c > 5 {
				t.Errorf("%d DescribeInstances calls before the listing stopped", c)
			}
		})
	}
}

// recording counts how often each instance was listed.
type recording struct {
	discover.Lister
	mu     sync.Mutex
	listed map[string]int
}

func (r *recording) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	page, err := r.Lister.DescribeInstances(ctx, in)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, inst := range page.Instances {
		r.listed[inst.ID]++
	}
	return page, err
}

// tokenOnly refuses PageNumber, as an API that dropped it might: the
// listing falls back to the NextToken chain.
type tokenOnly struct{ discover.Lister }

func (o tokenOnly) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	if in.PageNumber > 0 {
		return ecsapi.DescribePage{}, &ecsapi.Error{Action: ecsapi.ActionDescribeInstances, Region: in.Region, Code: "InvalidParameter",
			HTTPStatus: 400, Message: "PageNumber is offline", Class: ecsapi.ClassifyCode("InvalidParameter", 400)}
	}
	return o.Lister.DescribeInstances(ctx, in)
}

// renumbered damages the PageNumber pages from `from` on: it serves page
// n+shift for page n, or drops `drop` entries from it.
type renumbered struct {
	API
	from, shift, drop int
}

func (r *renumbered) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	if in.PageNumber < r.from {
		return r.API.DescribeInstances(ctx, in)
	}
	in.PageNumber += r.shift
	page, err := r.API.DescribeInstances(ctx, in)
	if err == nil && len(page.Instances) >= r.drop {
		page.Instances = page.Instances[:len(page.Instances)-r.drop]
	}
	return page, err
}

// cycling hands the first page's NextToken out again on the third page.
type cycling struct {
	API
	mu    sync.Mutex
	pages int
	first string
}

func (c *cycling) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	page, err := c.API.DescribeInstances(ctx, in)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pages++
	switch c.pages {
	case 1:
		c.first = page.NextToken
	case 3:
		page.NextToken = c.first
	}
	return page, err
}

// stalling hands out fresh tokens that lead back to the page just read.
type stalling struct {
	API
	mu    sync.Mutex
	alias map[string]string
}

func (s *stalling) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	s.mu.Lock()
	asked := in.NextToken
	if real, ok := s.alias[asked]; ok {
		in.NextToken = real
	}
	s.mu.Unlock()
	page, err := s.API.DescribeInstances(ctx, in)
	if err != nil || page.NextToken == "" {
		return page, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh := fmt.Sprintf("alias-%d", len(s.alias))
	s.alias[fresh] = in.NextToken // the page just read, again
	page.NextToken = fresh
	return page, nil
}
