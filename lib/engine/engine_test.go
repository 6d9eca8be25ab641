package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// The engine's own suite: the in-memory fake of its API, no HTTP. The
// SDK path is tested against the HTTP double in lib/engine/e2e.

const (
	optIn = "reaper-expires"
	keep  = "reaper-keep"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func stopped(region, prefix string, n int) []cloud.Instance {
	out := make([]cloud.Instance, n)
	for i := range out {
		out[i] = cloud.Instance{ID: fmt.Sprintf("i-%s%05d", prefix, i), Region: region, Status: "Stopped", ChargeType: "PostPaid",
			CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{optIn: "2026-11-01"}}
	}
	return out
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
		Now:               func() time.Time { return now },
	}
}

func runOne(t *testing.T, c *fake.Cloud, opts engine.Options, regions ...string) (*report.Report, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	return engine.New(opts, nil).RunRegions(ctx, c, "", regions)
}

func outcomes(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			for _, it := range g.Instances {
				out[it.ID] = string(g.Outcome) + "/" + string(g.Reason)
			}
		}
	}
	return out
}

// Scopes are account × region, each with its own client; the report has
// the account level.
func TestScopesOfSeveralAccounts(t *testing.T) {
	a := fake.New(slices.Concat(stopped("cn-hangzhou", "a", 3), stopped("cn-shanghai", "b", 2)))
	b := fake.New(stopped("cn-hangzhou", "c", 4))
	targets := []engine.Target{
		{Scope: cloud.Scope{Account: "111", Region: "cn-hangzhou"}, API: a},
		{Scope: cloud.Scope{Account: "111", Region: "cn-shanghai"}, API: a},
		{Scope: cloud.Scope{Account: "222", Region: "cn-hangzhou"}, API: b},
	}
	rep, err := engine.New(options(), nil).Run(t.Context(), targets)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Released()) != 5 || len(b.Released()) != 4 {
		t.Fatalf("released %v and %v", a.Released(), b.Released())
	}
	if len(rep.Accounts) != 2 || rep.Accounts[0].Account != "111" || len(rep.Accounts[0].Regions) != 2 ||
		rep.Accounts[1].Outcomes["released"] != 4 || !rep.Accounts[1].Complete {
		t.Errorf("accounts %+v", rep.Accounts)
	}
	for _, r := range rep.Regions {
		if r.Account == "" {
			t.Errorf("region %s has no account", r.Region)
		}
	}
}

// Region resolution happens above the engine, and its calls count.
func TestRegionResolutionIsCounted(t *testing.T) {
	c := fake.New(slices.Concat(stopped("cn-hangzhou", "a", 1), stopped("eu-central-1", "b", 1)))
	eng := engine.New(options(), nil)
	regions, err := eng.Regions(t.Context(), c)
	if err != nil || !slices.Equal(regions, []string{"cn-hangzhou", "eu-central-1"}) {
		t.Fatalf("regions %v, %v", regions, err)
	}
	rep, err := eng.RunRegions(t.Context(), c, "", regions)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Calls[ecsapi.ActionDescribeRegions] != 1 || rep.Calls[ecsapi.ActionDescribeRegions] != 1 {
		t.Errorf("calls %v (run level %v): DescribeRegions not counted", rep.Totals.Calls, rep.Calls)
	}
}

// Discovery takes the cheapest complete path, past the tag filter's cap.
func TestDiscoveryPaths(t *testing.T) {
	untagged := func(region, prefix string, n int) []cloud.Instance {
		out := stopped(region, prefix, n)
		for i := range out {
			delete(out[i].Tags, optIn)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		fleet []cloud.Instance
		path  string
		calls map[string]int
	}{
		{"one page", stopped("r-1", "a", 30), discover.Scan, map[string]int{"DescribeInstances": 1}},
		{"dense: scan", stopped("r-1", "a", 250), discover.Scan, map[string]int{"DescribeInstances": 3}},
		{"sparse: tag filter", slices.Concat(untagged("r-1", "a", 900), stopped("r-1", "z", 150)), discover.TagFilter, map[string]int{"DescribeInstances": 3}},
		{"sparse past the cap: tag index", slices.Concat(untagged("r-1", "a", 9000), stopped("r-1", "z", 1200)), discover.TagIndex,
			map[string]int{"DescribeInstances": 1 + 10 + 2, "ListTagResources": 24}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fake.New(tc.fleet)
			rep, err := runOne(t, c, options(), "r-1")
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Regions[0]
			if r.Discovery != tc.path || !r.Complete {
				t.Fatalf("path %s complete %v, want %s", r.Discovery, r.Complete, tc.path)
			}
			for action, n := range tc.calls {
				if r.Calls[action] != n {
					t.Errorf("%s calls %d, want %d (all: %v)", action, r.Calls[action], n, r.Calls)
				}
			}
			want := 0
			for _, in := range tc.fleet {
				if _, ok := in.Tags[optIn]; ok {
					want++
				}
			}
			if got := len(c.Released()); got != want {
				t.Errorf("released %d, want every one of the %d opted in", got, want)
			}
		})
	}
}

// Releases go in sorted batches of at most 100 that share their flags.
func TestBatchesShareFlagsAndHoldAtMost100(t *testing.T) {
	fleet := stopped("r-1", "p", 250)
	for i := range 30 {
		fleet[i].ChargeType, fleet[i].ExpiredTime = "PrePaid", "2026-11-01T00:00Z"
	}
	c := fake.New(fleet)
	rep, err := runOne(t, c, options(), "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Released()) != 250 {
		t.Fatalf("released %d", len(c.Released()))
	}
	for _, call := range c.Calls() {
		if call.Action != ecsapi.ActionDeleteInstances {
			continue
		}
		if len(call.IDs) > 100 || !slices.IsSorted(call.IDs) {
			t.Errorf("batch of %d, sorted %v", len(call.IDs), slices.IsSorted(call.IDs))
		}
		sub := call.Params.TerminateSubscription
		for _, id := range call.IDs {
			if isPre := id < "i-p00030"; isPre != sub {
				t.Errorf("%s in a TerminateSubscription=%v batch", id, sub)
			}
		}
	}
	if n := len(rep.Regions[0].Batches); n != 3+1 {
		t.Errorf("%d batches, want 4 (220 PostPaid in 3, 30 PrePaid in 1)", n)
	}
}

// One bad instance in a batch of 100: the other 99 are released, with the
// re-read and halving that isolate it.
func TestOneBadInstanceNeverSinksTheBatch(t *testing.T) {
	fleet := stopped("r-1", "x", 100)
	bad := fleet[37].ID
	c := fake.New(fleet)
	c.Fault = func(action string, in any) error {
		if d, ok := in.(ecsapi.DeleteInput); ok && slices.Contains(d.InstanceIDs, bad) {
			return fake.Err(action, "r-1", "InvalidOperation.EniLinked", 403)
		}
		return nil
	}
	rep, err := runOne(t, c, options(), "r-1")
	if !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("err %v", err)
	}
	if len(c.Released()) != 99 || slices.Contains(c.Released(), bad) {
		t.Fatalf("released %d (bad one included: %v)", len(c.Released()), slices.Contains(c.Released(), bad))
	}
	if got := outcomes(rep)[bad]; got != "failed/InvalidOperation.EniLinked" {
		t.Errorf("bad instance %s", got)
	}
}

// Before every attempt, retries included, stale data is re-read; the
// retry keeps its token when the IDs are unchanged.
func TestFreshnessBeforeEveryAttempt(t *testing.T) {
	fleet := stopped("r-1", "f", 3)
	c := fake.New(fleet)
	var clock atomic.Int64
	var deletes atomic.Int32
	c.Fault = func(action string, in any) error {
		if action == ecsapi.ActionDeleteInstances && deletes.Add(1) == 1 {
			clock.Add(int64(2 * time.Minute))
			c.Mutate(fleet[1].ID, func(i *cloud.Instance) { i.Tags[keep] = "" })
			return fake.Err(action, "r-1", "ServiceUnavailable", 503)
		}
		return nil
	}
	opts := options()
	opts.Freshness = time.Minute
	opts.Now = func() time.Time { return now.Add(time.Duration(clock.Load())) }
	rep, err := runOne(t, c, opts, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Released(); !slices.Equal(got, []string{fleet[0].ID, fleet[2].ID}) {
		t.Fatalf("released %v: the instance kept during the failed attempt must stay", got)
	}
	if got := outcomes(rep)[fleet[1].ID]; got != "skipped/excluded" {
		t.Errorf("kept instance %s", got)
	}
}

// A throttled call is retried under the same ClientToken.
func TestRetriesKeepTheToken(t *testing.T) {
	c := fake.New(stopped("r-1", "t", 5))
	var n atomic.Int32
	c.Fault = func(action string, in any) error {
		if action == ecsapi.ActionDeleteInstances && n.Add(1) <= 2 {
			return fake.Err(action, "r-1", "Throttling.User", 400)
		}
		return nil
	}
	if _, err := runOne(t, c, options(), "r-1"); err != nil {
		t.Fatal(err)
	}
	var tokens []string
	for _, call := range c.Calls() {
		if call.Action == ecsapi.ActionDeleteInstances {
			tokens = append(tokens, call.Token)
		}
	}
	if len(tokens) != 3 || tokens[0] != tokens[1] || tokens[1] != tokens[2] {
		t.Fatalf("tokens %v: want three attempts under one token", tokens)
	}
}

// A dry run sends DeleteInstances with DryRun=true and releases nothing.
func TestDryRunReleasesNothing(t *testing.T) {
	c := fake.New(stopped("r-1", "d", 4))
	opts := options()
	opts.DryRun = true
	rep, err := runOne(t, c, opts, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Released()) != 0 || rep.Totals.Outcomes["would-release"] != 4 {
		t.Fatalf("released %v, outcomes %v", c.Released(), rep.Totals.Outcomes)
	}
	for _, call := range c.Calls() {
		if call.Action == ecsapi.ActionDeleteInstances && !call.DryRun {
			t.Error("a dry run sent a real DeleteInstances")
		}
	}
}

// A plan for a later run (the fan-out's Plan) decides as a dry run does
// and sends no write at all, not even DeleteInstances with DryRun=true.
func TestPlanOnlySendsNoWrite(t *testing.T) {
	c := fake.New(stopped("r-1", "d", 250))
	opts := options()
	opts.DryRun, opts.PlanOnly = true, true
	rep, err := runOne(t, c, opts, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Released()) != 0 || rep.Totals.Outcomes["would-release"] != 250 {
		t.Fatalf("released %v, outcomes %v", c.Released(), rep.Totals.Outcomes)
	}
	for _, call := range c.Calls() {
		if !strings.HasPrefix(call.Action, "Describe") && !strings.HasPrefix(call.Action, "List") {
			t.Errorf("a plan sent %s (dry run %t): it only reads", call.Action, call.DryRun)
		}
	}
}

// Over a cap nothing is released anywhere; a failed scope neither counts
// nor dilutes the share.
func TestCapsHoldEverything(t *testing.T) {
	c := fake.New(slices.Concat(stopped("r-1", "a", 6), stopped("r-2", "b", 6)))
	opts := options()
	opts.MaxRelease = 10
	rep, err := runOne(t, c, opts, "r-1", "r-2")
	if !errors.Is(err, engine.ErrCapExceeded) || len(c.Released()) != 0 {
		t.Fatalf("err %v, released %v", err, c.Released())
	}
	if rep.Totals.Reasons["not-attempted/cap-exceeded"] != 12 {
		t.Errorf("reasons %v", rep.Totals.Reasons)
	}
}

// A credential failure stops the scope at once; the run fails.
func TestCredentialFailureStopsTheScope(t *testing.T) {
	c := fake.New(stopped("r-1", "k", 250))
	c.Fault = func(action string, in any) error {
		if action == ecsapi.ActionDeleteInstances {
			return fake.Err(action, "r-1", "Forbidden.RAM", 403)
		}
		return nil
	}
	opts := options()
	opts.BatchConcurrency = 1
	rep, err := runOne(t, c, opts, "r-1")
	if !errors.Is(err, engine.ErrRegionFailed) || !strings.Contains(err.Error(), "Forbidden.RAM") {
		t.Fatalf("err %v", err)
	}
	if n := c.Count(ecsapi.ActionDeleteInstances); n != 1 {
		t.Errorf("%d DeleteInstances calls after a credential failure, want 1", n)
	}
	if rep.Totals.Reasons["not-attempted/region-stopped"] != 150 {
		t.Errorf("reasons %v", rep.Totals.Reasons)
	}
}

// NotFound is believed only when the re-read agrees.
func TestNotFoundNeedsTheReReadToAgree(t *testing.T) {
	c := fake.New(stopped("r-1", "n", 1))
	c.Fault = func(action string, in any) error {
		if action == ecsapi.ActionDeleteInstances {
			return fake.Err(action, "r-1", "InvalidInstanceId.NotFound", 404)
		}
		return nil
	}
	rep, err := runOne(t, c, options(), "r-1")
	if !errors.Is(err, engine.ErrReleaseFailed) || outcomes(rep)["i-n00000"] != "failed/InvalidInstanceId.NotFound" {
		t.Fatalf("err %v, outcome %s", err, outcomes(rep)["i-n00000"])
	}
}

// The deadline bounds every phase: no call starts inside the margin, and
// a call that hangs longer than the invocation is cut a reserve before the
// deadline. synctest runs the clock, so these take no real time.
func TestDeadline(t *testing.T) {
	t.Run("no release starts inside the margin", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := fake.New(stopped("r-1", "s", 1000))
			c.Fault = func(action string, in any) error {
				if action == ecsapi.ActionDeleteInstances {
					time.Sleep(time.Second) // each release takes a second
				}
				return nil
			}
			opts := options()
			opts.BatchConcurrency, opts.DeadlineMargin = 1, 3*time.Second
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			deadline, _ := ctx.Deadline()
			rep, err := engine.New(opts, nil).RunRegions(ctx, c, "", []string{"r-1"})
			if !errors.Is(err, engine.ErrIncomplete) || rep.Complete {
				t.Fatalf("err %v: want incomplete, not failed", err)
			}
			for _, call := range c.Calls() {
				started := call.Time
				if call.Action == ecsapi.ActionDeleteInstances {
					started = started.Add(-time.Second)
				}
				if left := deadline.Sub(started); left < opts.DeadlineMargin {
					t.Errorf("%s started with %v left", call.Action, left)
				}
			}
			released, held := len(c.Released()), rep.Totals.Reasons["not-attempted/deadline"]
			if released == 0 || held == 0 || released+held != 1000 {
				t.Errorf("released %d, held %d", released, held)
			}
		})
	})
	t.Run("a hanging listing leaves time for the report", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := fake.New(stopped("r-1", "h", 3))
			c.Latency = time.Hour
			opts := options()
			opts.DeadlineMargin = 4 * time.Second
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			deadline, _ := ctx.Deadline()
			rep, err := engine.New(opts, nil).RunRegions(ctx, c, "", []string{"r-1"})
			if left := time.Until(deadline); left != 2*time.Second {
				t.Errorf("returned with %v left, want the 2 s reserve", left)
			}
			if !errors.Is(err, engine.ErrRegionFailed) || rep.Regions[0].Error == nil {
				t.Fatalf("err %v", err)
			}
		})
	})
	t.Run("a timeout shorter than the margin", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			c := fake.New(stopped("r-1", "q", 3))
			opts := options()
			opts.DeadlineMargin = 30 * time.Second
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			rep, err := engine.New(opts, nil).RunRegions(ctx, c, "", []string{"r-1"})
			if !errors.Is(err, engine.ErrNoTime) || len(c.Calls()) != 0 || rep.Error == "" {
				t.Fatalf("err %v, %d calls", err, len(c.Calls()))
			}
		})
	})
	t.Run("a failed batch with no time left to isolate it", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			fleet := stopped("r-1", "m", 4)
			c := fake.New(fleet)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			deadline, _ := ctx.Deadline()
			c.Fault = func(action string, in any) error {
				if action == ecsapi.ActionDeleteInstances {
					time.Sleep(time.Until(deadline) - 2500*time.Millisecond)
					return fake.Err(action, "r-1", "InvalidOperation.EniLinked", 403)
				}
				return nil
			}
			opts := options()
			opts.DeadlineMargin = 3 * time.Second
			rep, err := engine.New(opts, nil).RunRegions(ctx, c, "", []string{"r-1"})
			if !errors.Is(err, engine.ErrReleaseFailed) || rep.Totals.Reasons["failed/InvalidOperation.EniLinked"] != 4 {
				t.Fatalf("err %v, reasons %v", err, rep.Totals.Reasons)
			}
			if n := c.Count(ecsapi.ActionDescribeInstances); n != 1 {
				t.Errorf("%d DescribeInstances: the re-read started inside the margin", n)
			}
		})
	})
}

// Pagination that cycles fails the scope closed in a few calls (an API
// that refuses PageNumber is listed by NextToken).
func TestPaginationCycleClosesTheScope(t *testing.T) {
	c := fake.New(stopped("r-1", "c", 450))
	var pages atomic.Int32
	wrapped := &cyclingLister{Cloud: c, pages: &pages}
	rep, err := engine.New(options(), nil).RunRegions(t.Context(), wrapped, "", []string{"r-1"})
	if !errors.Is(err, engine.ErrRegionFailed) || !strings.Contains(rep.Regions[0].Error.Message, "cycles") {
		t.Fatalf("err %v, region error %+v", err, rep.Regions[0].Error)
	}
	if len(c.Released()) != 0 || pages.Load() > 4 {
		t.Errorf("released %d after %d pages", len(c.Released()), pages.Load())
	}
}

// cyclingLister hands out the first page's NextToken again on the third.
type cyclingLister struct {
	*fake.Cloud
	pages *atomic.Int32
	first string
}

func (l *cyclingLister) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	if in.PageNumber > 0 {
		return ecsapi.DescribePage{}, fake.Err(ecsapi.ActionDescribeInstances, in.Region, "InvalidParameter", 400)
	}
	page, err := l.Cloud.DescribeInstances(ctx, in)
	switch l.pages.Add(1) {
	case 1:
		l.first = page.NextToken
	case 3:
		page.NextToken = l.first
	}
	return page, err
}

// An answer without its region is invalid-data and does not dilute the cap.
func TestUntrustedRegionDoesNotCount(t *testing.T) {
	fleet := stopped("r-1", "u", 3)
	c := fake.New(fleet)
	c.Mutate(fleet[0].ID, func(i *cloud.Instance) { i.Region = "" })
	// The fake lists by region, so serve the region-less answer by hand.
	lister := &regionless{Cloud: c, id: fleet[0].ID, real: fleet[0]}
	rep, err := engine.New(options(), nil).RunRegions(t.Context(), lister, "", []string{"r-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(rep)[fleet[0].ID]; got != "skipped/invalid-data" {
		t.Errorf("region-less answer: %s", got)
	}
	if rep.Cap.OptedIn != 2 {
		t.Errorf("opted in %d, want 2", rep.Cap.OptedIn)
	}
}

type regionless struct {
	*fake.Cloud
	id   string
	real cloud.Instance
}

func (l *regionless) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	page, err := l.Cloud.DescribeInstances(ctx, in)
	if len(in.InstanceIDs) == 0 && in.NextToken == "" && !in.DryRun {
		r := l.real
		r.Region = ""
		page.Instances = append([]cloud.Instance{r}, page.Instances...)
		if in.PageNumber > 0 {
			page.TotalCount++ // the answer counts what it lists
		}
	}
	return page, err
}

// A scan that resumes after a capped tag filter meets pages whose
// instances the tag filter already listed: the listing still advances (each
// page is new to the scan), so the region is swept, not failed.
func TestScanAfterTheTagFilterAdvancesOverInstancesItListed(t *testing.T) {
	var fleet []cloud.Instance
	untagged := func(prefix string, n int) {
		for i := range n {
			fleet = append(fleet, cloud.Instance{ID: fmt.Sprintf("i-%s%05d", prefix, i), Region: "r-1", Status: "Running", ChargeType: "PostPaid",
				CreationTime: "2026-01-01T00:00Z"})
		}
	}
	// The sample page: 40 of 100 opted in (between a third and a half).
	fleet = append(fleet, stopped("r-1", "a", 40)...)
	untagged("b", 60)
	// Then a block of 1,060 opted in, which caps the tag filter, and more.
	fleet = append(fleet, stopped("r-1", "c", 1060)...)
	untagged("d", 500)
	c := fake.New(fleet)
	rep, err := engine.New(options(), nil).RunRegions(t.Context(), c, "", []string{"r-1"})
	if err != nil {
		t.Fatalf("err %v, region error %+v", err, rep.Regions[0].Error)
	}
	if r := rep.Regions[0]; r.Discovery != "scan" || !r.Complete {
		t.Fatalf("path %q complete %v, want a complete scan", r.Discovery, r.Complete)
	}
	if n := len(c.Released()); n != 1100 {
		t.Errorf("released %d, want the 1,100 opted in", n)
	}
}
