package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

const (
	testAK     = "LTAI-sweep-test"
	testSecret = "sweep-secret-value"
	optIn      = "reaper-expires"
	keep       = "reaper-keep"
)

var testNow = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// env is a double serving a fleet and a real SDK client pointed at it.
type env struct {
	srv *ecsdouble.Server
	api *ecsapi.Client
}

func newEnv(t *testing.T, fleet ecsdouble.Fleet, opts ...ecsdouble.Option) *env {
	t.Helper()
	// The test's own options come last: they may set the double's clock.
	opts = append([]ecsdouble.Option{ecsdouble.WithCredential(testAK, testSecret, ""), ecsdouble.WithClock(func() time.Time { return testNow })}, opts...)
	srv, err := ecsdouble.Start(fleet, opts...)
	if err != nil {
		t.Fatalf("start double: %v", err)
	}
	t.Cleanup(srv.Close)
	api, err := ecsapi.NewClient(ecsapi.Config{
		Credentials: ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret},
		Endpoint:    srv.URL(),
	})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	return &env{srv: srv, api: api}
}

func options() engine.Options {
	return engine.Options{
		Rules:             decide.Rules{OptInKey: optIn, KeepKey: keep},
		ForceStop:         true,
		MaxRelease:        100000,
		MaxReleasePercent: 100,
		Freshness:         time.Hour,
		RegionConcurrency: 4,
		BatchConcurrency:  4,
		RunID:             "test-run",
		Retry:             engine.RetryPolicy{MaxAttempts: 5, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
		Now:               func() time.Time { return testNow },
		Lifecycle:         decide.Lifecycle{Marks: testMarks},
	}
}

// testMarks sign the marks the e2e runs write (REAPER_MARK_SECRET).
var testMarks = mark.NewKeys("e2e-mark-secret-0123456789abcdefghijkl", "")

func run(t *testing.T, e *env, opts engine.Options, regions ...string) (*report.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return engine.New(opts, nil).RunRegions(ctx, e.api, "", regions)
}

// stopped returns n expired, stopped pay-as-you-go instances in region.
func stopped(region, prefix string, n int) []ecsdouble.Instance {
	out := make([]ecsdouble.Instance, n)
	for i := range out {
		out[i] = ecsdouble.Instance{
			ID: fmt.Sprintf("i-%s%05d", prefix, i), Region: region, Status: "Stopped", ChargeType: "PostPaid",
			CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{optIn: "2026-11-01"},
		}
	}
	return out
}

func expiredSubscriptions(region, prefix string, n int) []ecsdouble.Instance {
	out := stopped(region, prefix, n)
	for i := range out {
		out[i].ChargeType = "PrePaid"
		out[i].ExpiredTime = "2026-11-10T16:00Z"
		out[i].LockReasons = []string{"financial"}
	}
	return out
}

func deleteCalls(srv *ecsdouble.Server) []ecsdouble.Call {
	var out []ecsdouble.Call
	for _, c := range srv.Calls() {
		if c.Action == ecsapi.ActionDeleteInstances {
			out = append(out, c)
		}
	}
	return out
}

func callIDs(c ecsdouble.Call) []string {
	var ids []string
	for i := 1; ; i++ {
		id, ok := c.Params[fmt.Sprintf("InstanceId.%d", i)]
		if !ok {
			return ids
		}
		ids = append(ids, id)
	}
}

func ids(instances []ecsdouble.Instance) []string {
	out := make([]string, len(instances))
	for i, in := range instances {
		out[i] = in.ID
	}
	slices.Sort(out)
	return out
}

// untagged returns n instances without the opt-in tag; their IDs sort
// before the tagged ones' so that they fill the first unfiltered page.
func untagged(region string, n int) []ecsdouble.Instance {
	out := make([]ecsdouble.Instance, n)
	for i := range out {
		out[i] = ecsdouble.Instance{ID: fmt.Sprintf("i-0untagged%05d", i), Region: region, Status: "Stopped", ChargeType: "PostPaid"}
	}
	return out
}

func describeCalls(srv *ecsdouble.Server) []ecsdouble.Call {
	var out []ecsdouble.Call
	for _, c := range srv.Calls() {
		if c.Action == ecsapi.ActionDescribeInstances {
			out = append(out, c)
		}
	}
	return out
}

func TestPaginationAcrossPages(t *testing.T) {
	tagged := stopped("cn-hangzhou", "p", 250)
	fleet := ecsdouble.Fleet{Instances: slices.Concat(untagged("cn-hangzhou", 500), tagged)}
	e := newEnv(t, fleet)
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	r := rep.Regions[0]
	if r.OptedIn != 250 || r.Discovery != discover.TagFilter || !r.Complete {
		t.Fatalf("opted in %d, discovery %q, complete %v; want 250, tag-filter, true", r.OptedIn, r.Discovery, r.Complete)
	}
	calls := describeCalls(e.srv)
	if len(calls) != 4 {
		t.Fatalf("DescribeInstances calls = %d, want 1 sample page + 3 tag-filtered pages", len(calls))
	}
	var pages []string
	for _, c := range calls[1:] {
		if c.Params["PageSize"] != "100" || c.Params["MaxResults"] != "" || c.Params["NextToken"] != "" || c.Params["Tag.1.Key"] != optIn {
			t.Errorf("tag-filtered call %v: want PageSize 100 by number, and %s", c.Params, optIn)
		}
		pages = append(pages, c.Params["PageNumber"])
	}
	slices.Sort(pages)
	if !slices.Equal(pages, []string{"1", "2", "3"}) {
		t.Errorf("page numbers %q: want 1, 2 and 3", pages)
	}
	if got := e.srv.Released(); !slices.Equal(got, ids(tagged)) {
		t.Errorf("released %d, want the 250 tagged only", len(got))
	}
}

func TestMostlyOptedInRegionIsScanned(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "s", 250)}
	e := newEnv(t, fleet)
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if r := rep.Regions[0]; r.Discovery != discover.Scan || r.Seen != 250 {
		t.Fatalf("discovery %q seen %d, want scan 250", r.Discovery, r.Seen)
	}
	if n := e.srv.CallCount(ecsapi.ActionDescribeInstances); n != 3 {
		t.Errorf("DescribeInstances calls = %d, want 3 pages", n)
	}
	if len(e.srv.Released()) != 250 {
		t.Errorf("released %d, want 250", len(e.srv.Released()))
	}
}

func TestRegionOverTagCapSweptCompletely(t *testing.T) {
	for _, tc := range []struct {
		name          string
		untagged      int
		discovery     string
		describeCalls int
		listTagCalls  int
	}{
		// 1 sample page, 10 capped tag-filtered pages, 5 by-ID reads of the
		// 500 not yet seen; 30 ListTagResources pages of 50.
		{"sparse tags use the tag index", 5000, discover.TagIndex, 16, 30},
		// Mostly opted in: 16 unfiltered pages, no tag calls.
		{"dense tags are scanned", 30, discover.Scan, 16, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tagged := stopped("cn-shanghai", "c", 1500)
			extra := untagged("cn-shanghai", tc.untagged)
			if tc.untagged < 100 {
				for i := range extra {
					extra[i].ID = fmt.Sprintf("i-zuntagged%05d", i) // after the tagged
				}
			}
			fleet := ecsdouble.Fleet{Instances: slices.Concat(extra, tagged)}
			e := newEnv(t, fleet)
			rep, err := run(t, e, options(), "cn-shanghai")
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			r := rep.Regions[0]
			if r.Discovery != tc.discovery || r.OptedIn != 1500 || !r.Complete {
				t.Fatalf("discovery %q opted-in %d complete %v; want %s 1500 true", r.Discovery, r.OptedIn, r.Complete, tc.discovery)
			}
			if got, want := e.srv.Released(), ids(tagged); !slices.Equal(got, want) {
				t.Fatalf("released %d instances, want all 1500 tagged and nothing else", len(got))
			}
			if n := e.srv.CallCount(ecsapi.ActionListTagResources); n != tc.listTagCalls {
				t.Errorf("ListTagResources calls = %d, want %d", n, tc.listTagCalls)
			}
			if n := e.srv.CallCount(ecsapi.ActionDescribeInstances); n != tc.describeCalls {
				t.Errorf("DescribeInstances calls = %d, want %d", n, tc.describeCalls)
			}
		})
	}
}

func TestEligibleInBatchesOfAtMost100(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "b", 250)}
	e := newEnv(t, fleet)
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	calls := deleteCalls(e.srv)
	if len(calls) != 3 {
		t.Fatalf("DeleteInstances calls = %d, want 3", len(calls))
	}
	sizes := []int{}
	for _, c := range calls {
		sizes = append(sizes, len(callIDs(c)))
		if c.Params["ClientToken"] == "" || len(c.Params["ClientToken"]) > 64 {
			t.Errorf("ClientToken %q: want 1..64 chars", c.Params["ClientToken"])
		}
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int{50, 100, 100}) {
		t.Errorf("batch sizes %v, want [50 100 100]", sizes)
	}
	if got := rep.Totals.Outcomes[string(report.OutcomeReleased)]; got != 250 {
		t.Errorf("report released = %d, want 250", got)
	}
	if len(e.srv.Released()) != 250 {
		t.Errorf("double released %d, want 250", len(e.srv.Released()))
	}
}

func TestSubscriptionsOnlyInTerminateSubscriptionBatches(t *testing.T) {
	subs := expiredSubscriptions("cn-hangzhou", "s", 120)
	payg := stopped("cn-hangzhou", "g", 30)
	running := stopped("cn-hangzhou", "r", 5)
	for i := range running {
		running[i].Status = "Running"
	}
	active := expiredSubscriptions("cn-hangzhou", "a", 3)
	for i := range active {
		active[i].ExpiredTime = "2027-01-01T00:00Z"
		active[i].LockReasons = nil
	}
	fleet := ecsdouble.Fleet{Instances: slices.Concat(subs, payg, running, active)}
	e := newEnv(t, fleet)
	opts := options()
	opts.Rules.Force = true
	if _, err := run(t, e, opts, "cn-hangzhou"); err != nil {
		t.Fatalf("run: %v", err)
	}
	isSub := map[string]bool{}
	for _, id := range ids(subs) {
		isSub[id] = true
	}
	isRunning := map[string]bool{}
	for _, id := range ids(running) {
		isRunning[id] = true
	}
	for _, c := range deleteCalls(e.srv) {
		for _, id := range callIDs(c) {
			if want := fmt.Sprint(isSub[id]); c.Params["TerminateSubscription"] != want {
				t.Errorf("%s sent with TerminateSubscription=%s, want %s", id, c.Params["TerminateSubscription"], want)
			}
			if want := fmt.Sprint(isRunning[id]); c.Params["Force"] != want {
				t.Errorf("%s sent with Force=%s, want %s", id, c.Params["Force"], want)
			}
			if isRunning[id] && c.Params["ForceStop"] != "true" {
				t.Errorf("%s forced without ForceStop=true", id)
			}
		}
	}
	want := slices.Concat(ids(subs), ids(payg), ids(running))
	slices.Sort(want)
	if got := e.srv.Released(); !slices.Equal(got, want) {
		t.Errorf("released %d, want %d (active subscriptions kept)", len(got), len(want))
	}
}

func TestThrottledBatchRetriedWithSameClientToken(t *testing.T) {
	e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "t", 40)})
	e.srv.FailNext(ecsapi.ActionDeleteInstances, 2, ecsdouble.Throttle())
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	calls := deleteCalls(e.srv)
	if len(calls) != 3 {
		t.Fatalf("DeleteInstances calls = %d, want 3 (2 throttled + 1)", len(calls))
	}
	if calls[0].Code != "Throttling.User" || calls[2].Code != "" {
		t.Errorf("codes %q, %q, %q; want two throttles then success", calls[0].Code, calls[1].Code, calls[2].Code)
	}
	token := calls[0].Params["ClientToken"]
	for _, c := range calls {
		if c.Params["ClientToken"] != token {
			t.Errorf("retry used token %q, want %q", c.Params["ClientToken"], token)
		}
	}
	if b := rep.Regions[0].Batches; len(b) != 1 || b[0].Attempts != 3 || b[0].Result != "released" {
		t.Errorf("batch record %+v: want one batch, 3 attempts, released", b)
	}
	if len(e.srv.Released()) != 40 {
		t.Errorf("released %d, want 40", len(e.srv.Released()))
	}
}

func TestOneInstanceTurningStartingDoesNotHoldBackTheBatch(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "s", 100)}
	e := newEnv(t, fleet)
	victim := fleet.Instances[37].ID
	var once sync.Once
	e.srv.BeforeDelete(func(_ string, _ []string) {
		once.Do(func() { e.srv.Mutate(victim, func(in *ecsdouble.Instance) { in.Status = "Starting" }) })
	})
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	released := e.srv.Released()
	if len(released) != 99 || slices.Contains(released, victim) {
		t.Fatalf("released %d (victim included: %v), want the other 99", len(released), slices.Contains(released, victim))
	}
	// Baseline is 1 listing + 1 delete + the leftover listings (disks and
	// EIPs; no disks, so no snapshots); isolation may add at most 3 calls.
	total := 0
	for _, n := range rep.Totals.Calls {
		total += n
	}
	if extra := total - 4; extra > 3 {
		t.Errorf("isolation cost %d extra calls (%v), want at most 3", extra, rep.Totals.Calls)
	}
	if got := rep.Regions[0].Counts["skipped/"+string(decide.ReasonTransitional)]; got != 1 {
		t.Errorf("victim not reported as transitional-state: counts %v", rep.Regions[0].Counts)
	}
}

func TestDryRunReleasesNothingAndReportsWhatWouldGo(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: slices.Concat(stopped("cn-hangzhou", "d", 120), expiredSubscriptions("cn-hangzhou", "e", 3))}
	e := newEnv(t, fleet)
	opts := options()
	opts.DryRun = true
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if n := len(e.srv.Released()); n != 0 {
		t.Fatalf("dry run released %d instances", n)
	}
	if got := rep.IDs(report.OutcomeWouldRelease); !slices.Equal(got, ids(fleet.Instances)) {
		t.Errorf("would-release lists %d, want all %d", len(got), len(fleet.Instances))
	}
	for _, c := range deleteCalls(e.srv) {
		if c.Params["DryRun"] != "true" || c.Code != "DRYRUN.SUCCESS" || c.Status != 400 {
			t.Errorf("dry-run call DryRun=%q answered %d %q; want DryRun=true, 400 DRYRUN.SUCCESS", c.Params["DryRun"], c.Status, c.Code)
		}
	}
}

func TestDryRunAndRealRunDecideIdentically(t *testing.T) {
	fleet, err := ecsdouble.LoadFleet("../../../testdata/fleets/small.json")
	if err != nil {
		t.Fatal(err)
	}
	outcomes := func(dry bool) map[string]string {
		e := newEnv(t, fleet)
		opts := options()
		opts.DryRun = dry
		rep, err := run(t, e, opts, fleet.Regions()...)
		if err != nil && (!errors.Is(err, engine.ErrReleaseFailed) || errors.Is(err, engine.ErrRegionFailed)) {
			t.Fatalf("run (dry=%v): %v", dry, err)
		}
		out := map[string]string{}
		for _, r := range rep.Regions {
			for _, g := range r.Groups {
				for _, it := range g.Instances {
					o := string(g.Outcome)
					if o == string(report.OutcomeWouldRelease) {
						o = string(report.OutcomeReleased)
					}
					out[it.ID] = o + "/" + string(g.Reason)
				}
			}
		}
		return out
	}
	dry, real := outcomes(true), outcomes(false)
	if len(dry) == 0 || len(dry) != len(real) {
		t.Fatalf("dry run decided %d instances, real run %d", len(dry), len(real))
	}
	for id, o := range real {
		if dry[id] != o {
			t.Errorf("%s: dry run %q, real run %q", id, dry[id], o)
		}
	}
}

func TestBadSignatureReleasesNothing(t *testing.T) {
	e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "x", 5)})
	api, err := ecsapi.NewClient(ecsapi.Config{
		Credentials: ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: "wrong-secret"},
		Endpoint:    e.srv.URL(),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.api = api
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err == nil {
		t.Fatal("want an incomplete-sweep error")
	}
	r := rep.Regions[0]
	if r.Error == nil || r.Error.Code != "SignatureDoesNotMatch" || r.Complete {
		t.Fatalf("region error %+v, want SignatureDoesNotMatch and incomplete", r.Error)
	}
	if n := e.srv.CallCount(ecsapi.ActionDescribeInstances); n != 1 {
		t.Errorf("credential error retried: %d calls", n)
	}
	if len(e.srv.Released()) != 0 || e.srv.CallCount(ecsapi.ActionDeleteInstances) != 0 {
		t.Error("released after a signature failure")
	}
	if strings.Contains(fmt.Sprint(rep), "wrong-secret") {
		t.Error("report carries the secret")
	}
}

func TestEmptyListingIsCheckedForPermission(t *testing.T) {
	t.Run("empty region", func(t *testing.T) {
		e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "x", 3)}, ecsdouble.WithRegions("cn-beijing"))
		rep, err := run(t, e, options(), "cn-beijing")
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if r := rep.Regions[0]; !r.Complete || r.Seen != 0 || r.Error != nil {
			t.Errorf("empty region reported %+v, want complete with nothing seen", r)
		}
		calls := describeCalls(e.srv)
		if len(calls) != 2 || calls[1].Params["DryRun"] != "true" || calls[1].Code != "DryRunOperation" {
			t.Errorf("want a listing then a passing dry run, got %d calls", len(calls))
		}
	})
	t.Run("role without DescribeInstances", func(t *testing.T) {
		e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "x", 3)})
		e.srv.DenyDescribe(true)
		rep, err := run(t, e, options(), "cn-hangzhou")
		if err == nil {
			t.Fatal("a region the role cannot list was reported complete")
		}
		r := rep.Regions[0]
		if r.Complete || r.Error == nil || r.Error.Code != "Forbidden.RAM" {
			t.Errorf("region %+v: want incomplete with Forbidden.RAM", r)
		}
		if e.srv.CallCount(ecsapi.ActionDescribeInstances) != 2 {
			t.Errorf("permission error retried: %d calls", e.srv.CallCount(ecsapi.ActionDescribeInstances))
		}
	})
}
