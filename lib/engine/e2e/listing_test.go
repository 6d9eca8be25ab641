package e2e_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// laterPage: a DescribeInstances call for any page but the first, by
// token or by number.
func laterPage(c *ecsdouble.Call) bool {
	n := c.Params["PageNumber"]
	return c.Params["NextToken"] != "" || n != "" && n != "1"
}

// refusePageNumber answers DescribeInstances by number as an API that
// dropped the deprecated parameter might: the listing reads the NextToken
// chain instead.
func refusePageNumber(srv *ecsdouble.Server) {
	srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDescribeInstances && c.Params["PageNumber"] != "" {
			return ecsdouble.Error(400, "InvalidParameter")
		}
		return nil
	})
}

// pageSink is the plan's part discovery feeds, counting what it was given.
type pageSink struct {
	mu    sync.Mutex
	given map[string]int
}

func (s *pageSink) Take(list []cloud.Instance) (fresh int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, in := range list {
		if s.given[in.ID] == 0 {
			fresh++
		}
		s.given[in.ID]++
	}
	return fresh
}

func (s *pageSink) Seen(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.given[id] > 0
}

type callCount struct{ n atomic.Int64 }

func (c *callCount) Call(string) { c.n.Add(1) }

// listHZ runs discovery alone over cn-hangzhou through the SDK.
func listHZ(t *testing.T, e *env) (discover.Result, *pageSink) {
	t.Helper()
	return listHZWith(t, e, options().Retry)
}

// listHZWith is listHZ with a retry policy of the test's own.
func listHZWith(t *testing.T, e *env, retry call.RetryPolicy) (discover.Result, *pageSink) {
	t.Helper()
	c := call.NewCaller(retry, 0, time.Time{}, 4, &callCount{})
	s := &pageSink{given: map[string]int{}}
	res := discover.Run(t.Context(), e.api, c, discover.Request{Scope: cloud.Scope{Region: "cn-hangzhou"}, OptInKey: optIn, TagKeys: []string{optIn}}, s)
	return res, s
}

// inFlight counts DescribeInstances answered at once: each is held for
// hold, so that the listing's concurrency shows.
type inFlight struct {
	mu       sync.Mutex
	now, max int
}

func (f *inFlight) hook(hold time.Duration, next func(c *ecsdouble.Call) *ecsdouble.Fault) func(c *ecsdouble.Call) *ecsdouble.Fault {
	return func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action != ecsapi.ActionDescribeInstances {
			return nil
		}
		f.mu.Lock()
		f.now++
		f.max = max(f.max, f.now)
		f.mu.Unlock()
		time.Sleep(hold)
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
		if next != nil {
			return next(c)
		}
		return nil
	}
}

func pageNumbers(srv *ecsdouble.Server) []int {
	var out []int
	for _, c := range describeCalls(srv) {
		n, _ := strconv.Atoi(c.Params["PageNumber"])
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// On a fleet that does not change, the listing reads every page once, by
// number, several at once, in ⌈total/100⌉ calls, and gives every instance
// once; the whole sweep releases each once.
func TestPageNumberListingListsEveryInstanceOnce(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 1050)}
	e := newEnv(t, fleet)
	var f inFlight
	e.srv.OnRequest(f.hook(20*time.Millisecond, nil))
	res, s := listHZ(t, e)
	if res.Failure != nil || res.Path != discover.Scan || len(s.given) != 1050 {
		t.Fatalf("path %s, failure %+v, %d given; want a complete scan of 1050", res.Path, res.Failure, len(s.given))
	}
	for id, n := range s.given {
		if n != 1 {
			t.Fatalf("%s given %d times", id, n)
		}
	}
	if got := pageNumbers(e.srv); !slices.Equal(got, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}) {
		t.Fatalf("pages read %v: want 1 to 11, once each", got)
	}
	if f.max < 2 || f.max > 8 {
		t.Errorf("at most %d pages at once; want several, at most the starting bound 8", f.max)
	}

	e = newEnv(t, fleet)
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.Regions[0].Calls[ecsapi.ActionDescribeInstances]; n != 11 {
		t.Errorf("%d DescribeInstances calls in the sweep, want the floor 11", n)
	}
	released := e.srv.Released()
	if len(released) != 1050 || len(slices.Compact(slices.Sorted(slices.Values(released)))) != 1050 {
		t.Errorf("released %d (distinct %d), want each of the 1050 once", len(released), len(slices.Compact(slices.Sorted(slices.Values(released)))))
	}
}

// An instance deleted from a page already read shifts the next page's
// first instance onto it: that instance is in no page read, so this tick
// misses it (i-p00100, always: page 1 is read before the deletion, page 2
// after); it is never released unseen, and the region is complete.
// Other pages read before and after may miss or repeat others.
func TestPageNumberShiftMissesWithoutReleasing(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 500)}
	fleet.Instances[50].Tags = nil // on page 1; not opted in, so never released
	e := newEnv(t, fleet)
	var once sync.Once
	e.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDescribeInstances && c.Params["PageNumber"] == "2" {
			once.Do(func() { e.srv.Remove("i-p00050") })
		}
		return nil
	})
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	r := rep.Regions[0]
	if !r.Complete || r.Seen > 499 || r.Seen < 490 {
		t.Fatalf("complete %v, seen %d: want complete, at most 499 seen", r.Complete, r.Seen)
	}
	released := e.srv.Released()
	if slices.Contains(released, "i-p00100") {
		t.Fatal("i-p00100 was released though no page listed it")
	}
	if _, ok := e.srv.Instance("i-p00100"); !ok {
		t.Fatal("i-p00100 is gone")
	}
	distinct := len(slices.Compact(slices.Sorted(slices.Values(released))))
	if distinct != len(released) || len(released) != r.Seen-1 {
		t.Errorf("released %d (%d distinct), want each listed and eligible instance once: %d", len(released), distinct, r.Seen-1)
	}
	if slices.Contains(rep.IDs(report.OutcomeReleased), "i-p00100") {
		t.Fatal("the missed instance is in the report")
	}
}

// An instance created before a page already read shifts that page's last
// instance onto the next page: it is listed twice (i-p00099, always),
// given to the plan once and released once; the new instance itself
// waits for the next tick.
func TestPageNumberShiftListsTwiceReleasesOnce(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 500)}
	e := newEnv(t, fleet)
	var once sync.Once
	var twice atomic.Int32
	e.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDescribeInstances && c.Params["PageNumber"] == "2" {
			once.Do(func() { e.srv.Add(stopped("cn-hangzhou", "a", 1)[0]) }) // i-a00000 sorts first
			twice.Add(1)
		}
		return nil
	})
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if twice.Load() != 1 {
		t.Fatalf("page 2 read %d times", twice.Load())
	}
	r := rep.Regions[0]
	if !r.Complete || r.Seen > 500 || r.Seen < 490 {
		t.Fatalf("complete %v, seen %d: want complete, at most the 500", r.Complete, r.Seen)
	}
	released := e.srv.Released()
	distinct := len(slices.Compact(slices.Sorted(slices.Values(released))))
	if distinct != len(released) || len(released) != r.Seen || slices.Contains(released, "i-a00000") || !slices.Contains(released, "i-p00099") {
		t.Fatalf("released %d (%d distinct) of %d seen: want each listed once, i-p00099 among them, not the new i-a00000", len(released), distinct, r.Seen)
	}
	deleted := 0
	for _, c := range deleteCalls(e.srv) {
		for k, v := range c.Params {
			if strings.HasPrefix(k, "InstanceId.") && v == "i-p00099" {
				deleted++
			}
		}
	}
	if deleted != 1 {
		t.Errorf("i-p00099 sent in %d DeleteInstances calls, want 1", deleted)
	}
}

// The listing itself, with pages 3 to 5 read before the create and page 2
// after: i-p00099 is listed twice, i-p00199 (shifted onto page 3, read
// before) is missed, and the page past the first total holds only
// i-p00499, listed before: neither stops the listing.
func TestPageNumberDuplicateDoesNotStopTheListing(t *testing.T) {
	e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 500)})
	var later sync.WaitGroup
	later.Add(3)
	e.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action != ecsapi.ActionDescribeInstances {
			return nil
		}
		switch c.Params["PageNumber"] {
		case "3", "4", "5":
			later.Done()
		case "2":
			later.Wait()
			time.Sleep(50 * time.Millisecond) // pages 3 to 5 answered
			e.srv.Add(stopped("cn-hangzhou", "a", 1)[0])
		}
		return nil
	})
	res, s := listHZ(t, e)
	if res.Failure != nil {
		t.Fatalf("failure %+v", res.Failure)
	}
	if s.given["i-p00099"] != 2 || s.given["i-p00499"] != 2 || s.given["i-p00199"] != 0 || s.given["i-a00000"] != 0 || len(s.given) != 499 {
		t.Errorf("listed i-p00099 %d, i-p00499 %d, i-p00199 %d, i-a00000 %d times, %d in all: want 2, 2, 0, 0 and 499",
			s.given["i-p00099"], s.given["i-p00499"], s.given["i-p00199"], s.given["i-a00000"], len(s.given))
	}
	if got := pageNumbers(e.srv); !slices.Equal(got, []int{1, 2, 3, 4, 5, 6}) {
		t.Errorf("pages read %v: want 1 to 6, the sixth for the grown total", got)
	}
}

// Throttled pages halve the listing's concurrency once per burst; the
// throttled pages are read again and the listing completes.
func TestThrottledListingHalvesAndCompletes(t *testing.T) {
	e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 2000)})
	var f inFlight
	var throttled atomic.Int32
	e.srv.OnRequest(f.hook(10*time.Millisecond, func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Params["PageNumber"] != "1" && throttled.Add(1) <= 3 {
			return ecsdouble.Throttle() // the first three later pages, in flight together
		}
		return nil
	}))
	res, s := listHZ(t, e)
	if res.Failure != nil || len(s.given) != 2000 {
		t.Fatalf("failure %+v, %d given: want the 2000", res.Failure, len(s.given))
	}
	if res.Cuts != 1 {
		t.Errorf("%d cuts: one burst of throttling halves once", res.Cuts)
	}
	if res.Concurrency >= 8 {
		t.Errorf("concurrency %d at the end: want it halved from 8 (and regrowing)", res.Concurrency)
	}
	calls := describeCalls(e.srv)
	if len(calls) != 20+3 {
		t.Errorf("%d DescribeInstances calls: want the 20 pages and the 3 throttled", len(calls))
	}
}

// A tag-filtered listing whose first page's TotalCount reaches the cap is
// known capped after that one call.
func TestTagFilterCapKnownFromTotal(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: slices.Concat(untagged("cn-hangzhou", 3000), stopped("cn-hangzhou", "p", 1200))}
	e := newEnv(t, fleet)
	res, s := listHZ(t, e)
	if res.Failure != nil || res.Path != discover.TagIndex {
		t.Fatalf("path %s, failure %+v: want the tag index", res.Path, res.Failure)
	}
	for _, in := range fleet.Instances[3000:] {
		if s.given[in.ID] == 0 {
			t.Fatalf("%s not listed", in.ID)
		}
	}
	tagged := 0
	for _, c := range describeCalls(e.srv) {
		if c.Params["Tag.1.Key"] != "" {
			tagged++
		}
	}
	if tagged != 1 {
		t.Errorf("%d tag-filtered calls: its TotalCount says capped after the first", tagged)
	}
}

// A listing the deadline stops fails the region closed and says how long
// the region needed, from its pace and TotalCount.
func TestListingPastTheDeadlineSaysHowLongItNeeded(t *testing.T) {
	// 500 pages at 500 ms, at most 32 at once (the listing's bound), need
	// about 8 s: a 3 s deadline leaves the first page (which tells the
	// total) time on a loaded machine, and the rest not enough.
	e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 50000)})
	e.srv.SetLatency(500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	c := call.NewCaller(options().Retry, 0, time.Time{}, 4, &callCount{})
	s := &pageSink{given: map[string]int{}}
	res := discover.Run(ctx, e.api, c, discover.Request{Scope: cloud.Scope{Region: "cn-hangzhou"}, OptInKey: optIn}, s)
	if res.Failure == nil || res.Failure.Code != string(report.ReasonDeadline) ||
		!strings.Contains(res.Failure.Message, "of the 500 pages its TotalCount needs") || !strings.Contains(res.Failure.Message, "the region needs about") {
		t.Fatalf("failure %+v (result %+v, given %d): want the deadline, with the time the 500 pages need", res.Failure, res, len(s.given))
	}
}

// The leftover listings start when the instance listing finds a first
// instance to release, and run alongside the rest of it; a region with
// nothing to release lists no leftovers.
func TestLeftoverListingsRunAlongsideTheInstanceListing(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 1050)}
	fleet.Disks = []ecsdouble.Disk{{ID: "d-kept", Region: "cn-hangzhou", Instance: "i-p00007"}}
	e := newEnv(t, fleet)
	var f inFlight
	e.srv.OnRequest(f.hook(20*time.Millisecond, nil))
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	var lastListing, firstLeftover time.Time
	for _, c := range e.srv.Calls() {
		switch c.Action {
		case ecsapi.ActionDescribeInstances:
			if c.Params["PageNumber"] != "" && c.Time.After(lastListing) {
				lastListing = c.Time
			}
		case ecsapi.ActionDescribeDisks, ecsapi.ActionDescribeEipAddresses:
			if firstLeftover.IsZero() || c.Time.Before(firstLeftover) {
				firstLeftover = c.Time
			}
		}
	}
	if firstLeftover.IsZero() || !firstLeftover.Before(lastListing) {
		t.Fatalf("first leftover listing call at %v, last listing page at %v: want the leftovers during the listing", firstLeftover, lastListing)
	}
	if s := rep.Regions[0].LeftoverSummary; s == nil || !s.Complete {
		t.Errorf("leftover summary %+v: want complete", s)
	}

	quiet := newEnv(t, ecsdouble.Fleet{Instances: untagged("cn-hangzhou", 150)})
	if _, err := run(t, quiet, options(), "cn-hangzhou"); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{ecsapi.ActionDescribeDisks, ecsapi.ActionDescribeEipAddresses, ecsapi.ActionDescribeSnapshots} {
		if n := quiet.srv.CallCount(a); n != 0 {
			t.Errorf("%d %s calls in a region with nothing to release", n, a)
		}
	}
}

// Under the double's rate limit (20 DescribeInstances a second, 100 ms a
// call: two at once), the listing backs off to the rate and completes; a
// throttled call's retry waits for a slot like any other call.
func TestListingUnderARateLimitCompletes(t *testing.T) {
	e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 4000)})
	e.srv.SetLatency(100 * time.Millisecond)
	e.srv.SetRateLimit(20)
	// The default policy's waits for a throttled call (the tests' other
	// policy retries within milliseconds, which a rate limit of whole
	// seconds outlasts).
	res, s := listHZWith(t, e, call.DefaultRetryPolicy())
	if res.Failure != nil || len(s.given) != 4000 {
		t.Fatalf("failure %+v, %d given: want the 4000", res.Failure, len(s.given))
	}
	if res.Cuts == 0 || res.Concurrency > 4 {
		t.Errorf("%d cuts, concurrency %d at the end: want it cut to about the rate (2 at once)", res.Cuts, res.Concurrency)
	}
}
