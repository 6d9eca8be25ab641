package e2e_test

// Fault-injection proof of the sweep's safety rails, run through the real
// SDK against the ECS double. Every scenario is checked against the same
// invariants (checkInvariants): nothing outside the eligible set is
// released, every eligible instance ends released or reported with a reason
// or code, and every seen instance appears exactly once in the report.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a double, a real SDK client pointed at it, and a BeforeDelete
// hook that records, for every instance about to be released, the decision
// decide.Decide takes on the double's data at that moment.
type harness struct {
	t     *testing.T
	srv   *ecsdouble.Server
	api   *ecsapi.Client
	rules decide.Rules
	logs  *syncBuffer

	mu        sync.Mutex
	atRelease map[string]decide.Decision
	mutate    func(region string, ids []string) // runs first in BeforeDelete
	before    map[string]bool                   // released before the run checked
}

type harnessConfig struct {
	client    ecsapi.Config // Credentials and Endpoint are filled in when empty
	srvOpts   []ecsdouble.Option
	transport func(http.RoundTripper) http.RoundTripper
}

func newHarness(t *testing.T, fleet ecsdouble.Fleet, cfg harnessConfig) *harness {
	t.Helper()
	opts := append([]ecsdouble.Option{
		ecsdouble.WithClock(func() time.Time { return testNow }),
		ecsdouble.WithSeed(7),
	}, cfg.srvOpts...)
	if cfg.client.Credentials.AccessKeyID == "" {
		opts = append(opts, ecsdouble.WithCredential(testAK, testSecret, ""))
		cfg.client.Credentials = ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret}
	}
	srv, err := ecsdouble.Start(fleet, opts...)
	if err != nil {
		t.Fatalf("start double: %v", err)
	}
	t.Cleanup(srv.Close)
	cfg.client.Endpoint = srv.URL()
	if cfg.transport != nil {
		cfg.client.Transport = cfg.transport(newTransport(t))
	}
	api, err := ecsapi.NewClient(cfg.client)
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	h := &harness{t: t, srv: srv, api: api, rules: options().Rules, logs: &syncBuffer{},
		atRelease: map[string]decide.Decision{}}
	srv.BeforeDelete(func(region string, ids []string) {
		h.mu.Lock()
		mutate := h.mutate
		h.mu.Unlock()
		if mutate != nil {
			mutate(region, ids)
		}
		for _, id := range ids {
			inst, ok := srv.Instance(id)
			if !ok {
				continue // gone: the double will answer NotFound (or a twin won)
			}
			d := decide.Decide(toDecide(inst), h.rules, testNow)
			h.mu.Lock()
			h.atRelease[id] = d
			h.mu.Unlock()
		}
	})
	return h
}

// newTransport is a private pooled transport, closed with the test.
func newTransport(t *testing.T) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

func (h *harness) setMutate(f func(region string, ids []string)) {
	h.mu.Lock()
	h.mutate = f
	h.mu.Unlock()
}

func (h *harness) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (h *harness) run(opts engine.Options, regions ...string) (*report.Report, error) {
	h.t.Helper()
	h.before = setOf(h.srv.Released())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return engine.New(opts, h.logger()).RunRegions(ctx, h.api, "", regions)
}

// toDecide renders a double instance as DescribeInstances would return it.
func toDecide(in ecsdouble.Instance) decide.Instance {
	return decide.Instance{
		ID: in.ID, Region: in.Region, Status: in.Status, ChargeType: in.ChargeType,
		ExpiredTime: in.ExpiredTime, CreationTime: in.CreationTime, DeletionProtection: in.DeletionProtection,
		LockReasons: slices.Clone(in.LockReasons), Tags: in.Tags,
	}
}

// eligibleIn decides the fleet as listed at testNow.
func eligibleIn(fleet ecsdouble.Fleet, rules decide.Rules) map[string]bool {
	out := map[string]bool{}
	for _, in := range fleet.Instances {
		if in.ChargeType == "" {
			in.ChargeType = "PostPaid"
		}
		if in.ExpiredTime == "" && in.ChargeType == "PostPaid" {
			in.ExpiredTime = ecsdouble.PostPaidExpiredTime
		}
		if decide.Decide(toDecide(in), rules, testNow).Release {
			out[in.ID] = true
		}
	}
	return out
}

// reported maps every instance in the report to its group, failing the test
// when an instance appears twice or a region's groups do not add up to the
// instances it saw.
func reported(t *testing.T, rep *report.Report) map[string]reportEntry {
	t.Helper()
	out := map[string]reportEntry{}
	for _, r := range rep.Regions {
		n := 0
		for _, g := range r.Groups {
			for _, it := range g.Instances {
				n++
				if prev, dup := out[it.ID]; dup {
					t.Errorf("%s reported twice: %s/%s and %s/%s", it.ID, prev.outcome, prev.reason, g.Outcome, g.Reason)
				}
				out[it.ID] = reportEntry{region: r.Region, outcome: g.Outcome, reason: string(g.Reason), item: it}
			}
		}
		if n != r.Seen {
			t.Errorf("region %s: %d instances in the groups, %d seen", r.Region, n, r.Seen)
		}
	}
	return out
}

type reportEntry struct {
	region  string
	outcome report.Outcome
	reason  string
	item    report.Item
}

// successfulDeletes maps each instance ID to the distinct request IDs of the
// real (not dry-run) DeleteInstances calls that succeeded for it; an
// idempotent replay answers with the original request's ID.
func successfulDeletes(srv *ecsdouble.Server) map[string][]string {
	out := map[string][]string{}
	for _, c := range deleteCalls(srv) {
		if c.Status != http.StatusOK || c.Code != "" || c.Params["DryRun"] == "true" {
			continue
		}
		for _, id := range callIDs(c) {
			if !slices.Contains(out[id], c.RequestID) {
				out[id] = append(out[id], c.RequestID)
			}
		}
	}
	return out
}

// checkInvariants asserts the rails every scenario must keep. eligible is
// the set decided eligible on the data the sweep listed.
func (h *harness) checkInvariants(rep *report.Report, eligible map[string]bool) map[string]reportEntry {
	t := h.t
	t.Helper()
	got := reported(t, rep)
	var released []string
	for _, id := range h.srv.Released() {
		if !h.before[id] {
			released = append(released, id)
		}
	}
	h.mu.Lock()
	atRelease := copyDecisions(h.atRelease)
	h.mu.Unlock()

	// Released ⊆ eligible at listing and at the moment of release.
	for _, id := range released {
		if !eligible[id] {
			t.Errorf("%s released but was not eligible when listed", id)
		}
		d, ok := atRelease[id]
		switch {
		case !ok:
			t.Errorf("%s released without passing BeforeDelete", id)
		case !d.Release:
			t.Errorf("%s released while decide says %s (%s) on the double's data at release", id, d.Reason, d.Detail)
		}
	}
	// Each success carried the flags the instance needed at that moment.
	for _, c := range deleteCalls(h.srv) {
		if c.Status != http.StatusOK || c.Code != "" {
			continue
		}
		for _, id := range callIDs(c) {
			d, ok := atRelease[id]
			if !ok || !d.Release {
				continue // reported above
			}
			if c.Params["TerminateSubscription"] != fmt.Sprint(d.Flags.TerminateSubscription) || c.Params["Force"] != fmt.Sprint(d.Flags.Force) {
				t.Errorf("%s released with TerminateSubscription=%s Force=%s, needed %+v", id,
					c.Params["TerminateSubscription"], c.Params["Force"], d.Flags)
			}
		}
	}
	// Each instance released by exactly one successful request.
	for id, reqs := range successfulDeletes(h.srv) {
		if len(reqs) != 1 {
			t.Errorf("%s released by %d distinct DeleteInstances requests %v", id, len(reqs), reqs)
		}
	}
	// The report's releases happened; every release is in the report.
	for id, e := range got {
		if e.outcome == report.OutcomeReleased && !slices.Contains(released, id) {
			t.Errorf("%s reported released but the double still has it", id)
		}
	}
	for _, id := range released {
		if e := got[id]; e.outcome != report.OutcomeReleased && e.outcome != report.OutcomeGone {
			t.Errorf("%s released but reported as %q/%q", id, e.outcome, e.reason)
		}
	}
	// Every eligible instance ends released or reported with a reason.
	regionErr := map[string]*verdict.Failure{}
	for _, r := range rep.Regions {
		regionErr[r.Region] = r.Error
	}
	for id := range eligible {
		if h.before[id] {
			continue // released by an earlier run
		}
		e, ok := got[id]
		switch {
		case !ok:
			// Only a region whose listing failed may not have seen it.
			if !h.regionFailedFor(rep, id) {
				t.Errorf("eligible %s missing from the report", id)
			}
		case e.outcome == report.OutcomeReleased || e.outcome == report.OutcomeWouldRelease || e.outcome == report.OutcomeGone:
		case e.outcome == report.OutcomeFailed && e.item.Code == "":
			t.Errorf("%s failed without a code", id)
		case e.outcome != report.OutcomeFailed && e.reason == "":
			t.Errorf("%s reported %q without a reason", id, e.outcome)
		}
		if ok && e.outcome == report.OutcomeReleased && !slices.Contains(released, id) {
			t.Errorf("%s reported released, not released", id)
		}
	}
	// A region whose listing failed released nothing and sent nothing.
	for _, r := range rep.Regions {
		if r.Counts[string(report.OutcomeNotAttempted)+"/"+string(report.ReasonInventoryIncomplete)] > 0 &&
			(r.Count(report.OutcomeReleased) > 0 || len(r.Batches) > 0) {
			t.Errorf("region %s released after its listing failed", r.Region)
		}
	}
	return got
}

func (h *harness) regionFailedFor(rep *report.Report, id string) bool {
	inst, ok := h.srv.Instance(id)
	if !ok {
		return false
	}
	for _, r := range rep.Regions {
		if r.Region == inst.Region {
			return r.Error != nil && !r.Complete
		}
	}
	return false
}

func copyDecisions(m map[string]decide.Decision) map[string]decide.Decision {
	out := make(map[string]decide.Decision, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// mixedFleet is a labelled two-region fleet: eligible PostPaid and expired
// subscriptions, plus not-expired, protected, kept, running and untagged
// instances that must survive.
func mixedFleet(seed int64, n int) ecsdouble.Fleet {
	return ecsdouble.GenerateFleet(ecsdouble.GenConfig{
		Seed: seed, Instances: n, Regions: 2, NonEligibleShare: 0.3, PrePaidShare: 0.3,
		Untagged: 4, LabelKinds: true, OptInKey: optIn, KeepKey: keep, Now: testNow,
	})
}

// ofKind returns the IDs of the fleet's instances of one generated kind.
func ofKind(f ecsdouble.Fleet, kind string) []string {
	var out []string
	for _, in := range f.Instances {
		if in.Tags[ecsdouble.KindTag] == kind {
			out = append(out, in.ID)
		}
	}
	slices.Sort(out)
	return out
}

func setOf(ids []string) map[string]bool {
	out := map[string]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sequential() engine.Options {
	o := options()
	o.RegionConcurrency, o.BatchConcurrency = 1, 1
	return o
}

// TestFaultInjection runs one scenario per fault; each must keep the
// invariants and end with the outcome stated.
func TestFaultInjection(t *testing.T) {
	type scenario struct {
		name   string
		fleet  func() ecsdouble.Fleet
		config harnessConfig
		opts   func(*engine.Options)
		setup  func(t *testing.T, h *harness, f ecsdouble.Fleet)
		// check gets the report, the run error and the report's entries.
		check func(t *testing.T, h *harness, f ecsdouble.Fleet, rep *report.Report, err error, got map[string]reportEntry)
	}
	allEligibleReleased := func(t *testing.T, h *harness, f ecsdouble.Fleet, rep *report.Report, err error, _ map[string]reportEntry) {
		t.Helper()
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		if want, got := keysOf(eligibleIn(f, h.rules)), h.srv.Released(); !slices.Equal(got, want) {
			t.Errorf("released %d, want all %d eligible", len(got), len(want))
		}
		if !rep.Complete {
			t.Errorf("report incomplete: %+v", rep.Regions)
		}
	}
	// victimOutcome builds a check: the victims end as stated, every other
	// eligible instance is released.
	victimOutcome := func(victims map[string]string) func(*testing.T, *harness, ecsdouble.Fleet, *report.Report, error, map[string]reportEntry) {
		return func(t *testing.T, h *harness, f ecsdouble.Fleet, rep *report.Report, err error, got map[string]reportEntry) {
			t.Helper()
			checkRunError(t, err, victims)
			for id, want := range victims {
				if e := got[id]; string(e.outcome)+"/"+e.reason+e.item.Code != want {
					t.Errorf("victim %s: %s/%s%s (%s), want %s", id, e.outcome, e.reason, e.item.Code, e.item.Detail, want)
				}
			}
			released := setOf(h.srv.Released())
			for id := range eligibleIn(f, h.rules) {
				if _, victim := victims[id]; !victim && !released[id] {
					t.Errorf("eligible %s not released (%+v)", id, got[id])
				}
			}
		}
	}
	// mutateOnce changes the victims in the first DeleteInstances that
	// contains them, between listing and release.
	mutateOnce := func(h *harness, change map[string]func(*ecsdouble.Instance)) {
		done := map[string]bool{}
		var mu sync.Mutex
		h.setMutate(func(_ string, ids []string) {
			mu.Lock()
			defer mu.Unlock()
			for _, id := range ids {
				if f := change[id]; f != nil && !done[id] {
					done[id] = true
					h.srv.Mutate(id, f)
				}
			}
		})
	}
	pick := func(f ecsdouble.Fleet, kind string, i int) string { return ofKind(f, kind)[i] }
	fleet60 := func() ecsdouble.Fleet { return mixedFleet(1, 60) }

	scenarios := []scenario{
		{
			name:  "throttling storm",
			fleet: func() ecsdouble.Fleet { return mixedFleet(2, 250) },
			opts: func(o *engine.Options) {
				o.RegionConcurrency, o.BatchConcurrency = 1, 1 // deterministic fault draws
				o.Retry.MaxAttempts = 10
			},
			setup: func(t *testing.T, h *harness, _ ecsdouble.Fleet) {
				h.srv.Inject(ecsdouble.Rule{Probability: 0.5, Times: 60, Fault: ecsdouble.Throttle()})
			},
			check: func(t *testing.T, h *harness, f ecsdouble.Fleet, rep *report.Report, err error, got map[string]reportEntry) {
				// With 10 attempts at p=0.5 every call gets through: all released.
				allEligibleReleased(t, h, f, rep, err, got)
				throttled := 0
				for _, c := range h.srv.Calls() {
					if c.Code == "Throttling.User" {
						throttled++
					}
				}
				if throttled < 5 {
					t.Errorf("only %d throttled answers: the storm did not happen", throttled)
				}
				for _, b := range rep.Regions[0].Batches {
					if b.Result != "released" {
						t.Errorf("batch %+v", b)
					}
				}
			},
		},
		{
			name:  "5xx and HTML gateway pages",
			fleet: fleet60,
			setup: func(t *testing.T, h *harness, _ ecsdouble.Fleet) {
				h.srv.FailNext(ecsapi.ActionDescribeInstances, 2, ecsdouble.Unavailable())
				h.srv.FailNext(ecsapi.ActionDeleteInstances, 1, ecsdouble.Internal())
				h.srv.FailNext(ecsapi.ActionDeleteInstances, 1, ecsdouble.HTML502())
				h.srv.FailNext(ecsapi.ActionDeleteInstances, 1, ecsdouble.Error(504, "GatewayTimeout"))
			},
			check: allEligibleReleased,
		},
		{
			name:   "read timeouts longer than the SDK's",
			fleet:  fleet60,
			config: harnessConfig{client: ecsapi.Config{ReadTimeout: 300 * time.Millisecond}},
			setup: func(t *testing.T, h *harness, _ ecsdouble.Fleet) {
				h.srv.FailNext(ecsapi.ActionDescribeInstances, 1, ecsdouble.Slow(5*time.Second))
				h.srv.FailNext(ecsapi.ActionDeleteInstances, 2, ecsdouble.Slow(5*time.Second))
			},
			check: func(t *testing.T, h *harness, f ecsdouble.Fleet, rep *report.Report, err error, got map[string]reportEntry) {
				allEligibleReleased(t, h, f, rep, err, got)
				timedOut := 0
				for _, b := range rep.Regions[0].Batches {
					timedOut += b.Attempts - 1
				}
				for _, b := range rep.Regions[1].Batches {
					timedOut += b.Attempts - 1
				}
				if timedOut != 2 {
					t.Errorf("%d DeleteInstances retries recorded, want 2 after the timeouts", timedOut)
				}
				abandoned := 0
				for _, c := range h.srv.Calls() {
					if c.Fault != nil && c.Status == 0 {
						abandoned++
					}
				}
				if abandoned != 3 {
					t.Errorf("%d slow calls abandoned by the client, want 3", abandoned)
				}
			},
		},
		{
			name:  "connection resets, one after the release was applied",
			fleet: fleet60,
			setup: func(t *testing.T, h *harness, _ ecsdouble.Fleet) {
				h.srv.FailNext(ecsapi.ActionDescribeInstances, 1, ecsdouble.Reset())
				h.srv.FailNext(ecsapi.ActionDeleteInstances, 1, ecsdouble.Reset())
				h.srv.FailNext(ecsapi.ActionDeleteInstances, 1, ecsdouble.Reset().AfterApplying())
			},
			check: func(t *testing.T, h *harness, f ecsdouble.Fleet, rep *report.Report, err error, got map[string]reportEntry) {
				allEligibleReleased(t, h, f, rep, err, got)
				// The applied-but-lost release is confirmed by the retry's
				// idempotent replay: reported released, not failed.
				if n := rep.Totals.Outcomes[string(report.OutcomeFailed)]; n != 0 {
					t.Errorf("%d failed", n)
				}
			},
		},
		{
			name: "listing page that keeps failing closes only its region",
			fleet: func() ecsdouble.Fleet {
				return ecsdouble.Fleet{Instances: slices.Concat(stopped("cn-hangzhou", "h", 150), stopped("cn-shanghai", "s", 20))}
			},
			setup: func(t *testing.T, h *harness, _ ecsdouble.Fleet) {
				h.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
					if c.Action == ecsapi.ActionDescribeInstances && c.Region == "cn-hangzhou" && laterPage(c) {
						return ecsdouble.Internal()
					}
					return nil
				})
			},
			check: func(t *testing.T, h *harness, f ecsdouble.Fleet, rep *report.Report, err error, got map[string]reportEntry) {
				if !errors.Is(err, engine.ErrRegionFailed) || !strings.Contains(err.Error(), "cn-hangzhou (InternalError)") {
					t.Fatalf("err = %v, want ErrRegionFailed naming cn-hangzhou (InternalError)", err)
				}
				hz := regionOf(rep, "cn-hangzhou")
				if hz.Complete || hz.Error == nil || hz.Error.Code != "InternalError" {
					t.Errorf("cn-hangzhou complete=%v error=%+v", hz.Complete, hz.Error)
				}
				if hz.Count(report.OutcomeNotAttempted) != 100 || hz.Counts["not-attempted/"+string(report.ReasonInventoryIncomplete)] != 100 {
					t.Errorf("cn-hangzhou counts %v: want the 100 listed held as inventory-incomplete", hz.Counts)
				}
				for _, c := range deleteCalls(h.srv) {
					if c.Region == "cn-hangzhou" {
						t.Fatalf("DeleteInstances sent in the closed region")
					}
				}
				if got, want := h.srv.Released(), ids(f.Instances[150:]); !slices.Equal(got, want) {
					t.Errorf("released %d, want cn-shanghai's 20", len(got))
				}
				if !regionOf(rep, "cn-shanghai").Complete || rep.Complete {
					t.Error("want cn-shanghai complete and the run incomplete")
				}
			},
		},
		{
			name:  "instance turns Starting between listing and release",
			fleet: fleet60,
			setup: func(t *testing.T, h *harness, f ecsdouble.Fleet) {
				mutateOnce(h, map[string]func(*ecsdouble.Instance){
					pick(f, ecsdouble.KindEligiblePostPaid, 3): func(in *ecsdouble.Instance) { in.Status = "Starting" },
				})
			},
		},
		{
			name:  "instances gain deletion protection, a security lock, vanish",
			fleet: fleet60,
			setup: func(t *testing.T, h *harness, f ecsdouble.Fleet) {
				mutateOnce(h, map[string]func(*ecsdouble.Instance){
					pick(f, ecsdouble.KindEligiblePostPaid, 1): func(in *ecsdouble.Instance) { in.DeletionProtection = true },
					pick(f, ecsdouble.KindEligiblePostPaid, 4): func(in *ecsdouble.Instance) { in.LockReasons = []string{"security"} },
					pick(f, ecsdouble.KindEligiblePrePaid, 2): func(in *ecsdouble.Instance) {
						in.LockReasons = append(in.LockReasons, "Security")
					},
				})
				victim := pick(f, ecsdouble.KindEligiblePostPaid, 6)
				var once sync.Once
				prev := h.mutate
				h.setMutate(func(region string, ids []string) {
					prev(region, ids)
					if slices.Contains(ids, victim) {
						once.Do(func() { h.srv.Remove(victim) })
					}
				})
			},
		},
		{
			name:  "renewed subscription answers ChargeTypeViolation",
			fleet: fleet60,
			setup: func(t *testing.T, h *harness, f ecsdouble.Fleet) {
				mutateOnce(h, map[string]func(*ecsdouble.Instance){
					pick(f, ecsdouble.KindEligiblePrePaid, 0): func(in *ecsdouble.Instance) {
						in.ExpiredTime = "2027-06-30T16:00Z"
						in.LockReasons = nil
					},
				})
			},
		},
		{
			name: "protected instance inside a batch the listing did not show",
			fleet: func() ecsdouble.Fleet {
				f := mixedFleet(1, 60)
				for i := range f.Instances {
					if f.Instances[i].ID == pick(f, ecsdouble.KindEligiblePostPaid, 5) {
						f.Instances[i].FailWith = "InvalidOperation.DeletionProtection"
					}
				}
				return f
			},
		},
	}
	// Expected victim outcomes, by scenario.
	victims := map[string]func(f ecsdouble.Fleet) map[string]string{
		"instance turns Starting between listing and release": func(f ecsdouble.Fleet) map[string]string {
			return map[string]string{pick(f, ecsdouble.KindEligiblePostPaid, 3): "skipped/" + string(decide.ReasonTransitional)}
		},
		"instances gain deletion protection, a security lock, vanish": func(f ecsdouble.Fleet) map[string]string {
			return map[string]string{
				pick(f, ecsdouble.KindEligiblePostPaid, 1): "skipped/" + string(decide.ReasonDeletionProtected),
				pick(f, ecsdouble.KindEligiblePostPaid, 4): "skipped/" + string(decide.ReasonSecurityLocked),
				pick(f, ecsdouble.KindEligiblePrePaid, 2):  "skipped/" + string(decide.ReasonSecurityLocked),
				pick(f, ecsdouble.KindEligiblePostPaid, 6): string(report.OutcomeGone) + "/",
			}
		},
		"renewed subscription answers ChargeTypeViolation": func(f ecsdouble.Fleet) map[string]string {
			return map[string]string{pick(f, ecsdouble.KindEligiblePrePaid, 0): "skipped/" + string(decide.ReasonSubscriptionActive)}
		},
		"protected instance inside a batch the listing did not show": func(f ecsdouble.Fleet) map[string]string {
			return map[string]string{pick(f, ecsdouble.KindEligiblePostPaid, 5): "failed/InvalidOperation.DeletionProtectionInvalidOperation.DeletionProtection"}
		},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			f := sc.fleet()
			h := newHarness(t, f, sc.config)
			opts := options()
			if sc.opts != nil {
				sc.opts(&opts)
			}
			if sc.setup != nil {
				sc.setup(t, h, f)
			}
			rep, err := h.run(opts, f.Regions()...)
			eligible := eligibleIn(f, h.rules)
			got := h.checkInvariants(rep, eligible)
			check := sc.check
			if check == nil {
				check = victimOutcome(victims[sc.name](f))
			}
			check(t, h, f, rep, err, got)
			// Nothing outside the eligible set was even sent for release.
			for _, c := range deleteCalls(h.srv) {
				for _, id := range callIDs(c) {
					if !eligible[id] {
						t.Errorf("%s sent in DeleteInstances but never eligible", id)
					}
				}
			}
		})
	}
}

func regionOf(rep *report.Report, region string) *report.Region {
	for _, r := range rep.Regions {
		if r.Region == region {
			return r
		}
	}
	return &report.Region{}
}

// TestStaleBatchReReadBeforeRelease: with listing data older than the
// freshness window, each batch is described again by ID right before its
// DeleteInstances, and an instance that changed is dropped on the fresh
// data without ever being sent for release.
func TestStaleBatchReReadBeforeRelease(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "f", 150)}
	h := newHarness(t, f, harnessConfig{})
	protectedLater, runningLater := f.Instances[10].ID, f.Instances[120].ID
	var once sync.Once
	h.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDescribeInstances && c.Params["InstanceIds"] != "" {
			once.Do(func() { // after the listing, before the first re-read
				h.srv.Mutate(protectedLater, func(in *ecsdouble.Instance) { in.DeletionProtection = true })
				h.srv.Mutate(runningLater, func(in *ecsdouble.Instance) { in.Status = "Running" })
			})
		}
		return nil
	})
	opts := sequential()
	start := time.Now()
	opts.Now = func() time.Time { return testNow.Add(time.Since(start)) } // the clock moves
	opts.Freshness = time.Nanosecond
	rep, err := h.run(opts, "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	got := h.checkInvariants(rep, eligibleIn(f, h.rules))
	rereads := 0
	for _, c := range h.srv.Calls() {
		if c.Action == ecsapi.ActionDescribeInstances && c.Params["InstanceIds"] != "" {
			rereads++
		}
	}
	if rereads != 2 {
		t.Errorf("%d re-reads, want one per batch (2)", rereads)
	}
	for _, c := range deleteCalls(h.srv) {
		if c.Code != "" {
			t.Errorf("DeleteInstances answered %s: the re-read should have dropped the changed instances", c.Code)
		}
		if ids := callIDs(c); slices.Contains(ids, protectedLater) || slices.Contains(ids, runningLater) {
			t.Errorf("changed instance sent for release")
		}
	}
	if e := got[protectedLater]; e.reason != string(decide.ReasonDeletionProtected) || !strings.HasPrefix(e.item.Detail, "changed since listing") {
		t.Errorf("protected-later reported %+v", e)
	}
	if e := got[runningLater]; e.reason != string(decide.ReasonRunning) {
		t.Errorf("running-later reported %+v", e)
	}
	if n := len(h.srv.Released()); n != 148 {
		t.Errorf("released %d, want 148", n)
	}

	// With fresh data (a fixed clock) there is no re-read at all.
	h2 := newHarness(t, f, harnessConfig{})
	if _, err := h2.run(sequential(), "cn-hangzhou"); err != nil {
		t.Fatal(err)
	}
	for _, c := range h2.srv.Calls() {
		if c.Params["InstanceIds"] != "" {
			t.Fatalf("fresh batch re-read")
		}
	}
}

// rewriter is a transport that edits DescribeInstances answers from the
// double, to serve the malformed data the double itself never produces.
type rewriter struct {
	base http.RoundTripper
	edit func(resp map[string]any) // nil map values are left alone
	raw  func(body []byte) []byte  // applied after edit
}

func (rw rewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rw.base.RoundTrip(r)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if bytes.Contains(body, []byte(`"Instances"`)) {
		if rw.edit != nil {
			var m map[string]any
			if json.Unmarshal(body, &m) == nil {
				rw.edit(m)
				body, _ = json.Marshal(m)
			}
		}
		if rw.raw != nil {
			body = rw.raw(body)
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Del("Content-Length")
	return resp, nil
}

// editInstances applies f to each listed instance by ID.
func editInstances(f func(id string, inst map[string]any)) func(map[string]any) {
	return func(m map[string]any) {
		insts, _ := m["Instances"].(map[string]any)
		list, _ := insts["Instance"].([]any)
		for _, x := range list {
			if inst, ok := x.(map[string]any); ok {
				id, _ := inst["InstanceId"].(string)
				f(id, inst)
			}
		}
	}
}

// TestBadAPIResponses: malformed answers either fail the region closed with
// a clear code, or skip the affected instance with a reason; nothing is
// released on data the rules cannot trust.
func TestBadAPIResponses(t *testing.T) {
	f := ecsdouble.Fleet{Instances: slices.Concat(stopped("cn-hangzhou", "a", 6), expiredSubscriptions("cn-hangzhou", "b", 2))}
	ID := func(i int) string { return f.Instances[i].ID }
	closedWith := func(code string) func(t *testing.T, h *harness, rep *report.Report, err error) {
		return func(t *testing.T, h *harness, rep *report.Report, err error) {
			t.Helper()
			r := rep.Regions[0]
			if !errors.Is(err, engine.ErrRegionFailed) || r.Complete || r.Error == nil || r.Error.Code != code {
				t.Fatalf("err %v, region complete=%v error=%+v; want closed with %s", err, r.Complete, r.Error, code)
			}
			if n := h.srv.CallCount(ecsapi.ActionDeleteInstances); n != 0 {
				t.Errorf("%d DeleteInstances calls in a closed region", n)
			}
		}
	}
	cases := []struct {
		name  string
		rw    rewriter
		fault func(h *harness)
		// skipped: ID index → "outcome/reason" on the served data
		skipped map[int]string
		check   func(t *testing.T, h *harness, rep *report.Report, err error)
	}{
		{name: "HTML error page on every listing", fault: func(h *harness) {
			h.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDescribeInstances, Fault: ecsdouble.HTML502()})
		}, check: closedWith("HTTP.502")},
		{name: "truncated body on every listing", fault: func(h *harness) {
			h.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDescribeInstances, Fault: ecsdouble.Truncated()})
		}, check: closedWith(ecsapi.CodeBadResponse)},
		{name: "truncated DeleteInstances answer is retried", fault: func(h *harness) {
			h.srv.FailNext(ecsapi.ActionDeleteInstances, 1, ecsdouble.Truncated().AfterApplying())
		}},
		{name: "empty JSON object as a listing", rw: rewriter{raw: func([]byte) []byte { return []byte(`{"Instances":{}}`) }},
			check: closedWith(ecsapi.CodeBadResponse)},
		{name: "instance without InstanceId", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			if id == ID(2) {
				delete(in, "InstanceId")
			}
		})}, check: closedWith(ecsapi.CodeBadResponse)},
		{name: "DeletionProtection of the wrong type", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			if id == ID(1) {
				in["DeletionProtection"] = "maybe"
			}
		})}, check: closedWith(ecsapi.CodeBadResponse)}, // the page does not decode
		{name: "DeletionProtection missing", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			if id == ID(1) {
				delete(in, "DeletionProtection")
			}
		})}, skipped: map[int]string{1: "skipped/" + string(decide.ReasonInvalidData)}},
		{name: "DeletionProtection null", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			if id == ID(1) {
				in["DeletionProtection"] = nil
			}
		})}, skipped: map[int]string{1: "skipped/" + string(decide.ReasonInvalidData)}},
		{name: "OperationLocks missing", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			if id == ID(6) {
				delete(in, "OperationLocks")
			}
		})}, skipped: map[int]string{6: "skipped/" + string(decide.ReasonInvalidData)}},
		{name: "tags of the wrong type", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			if id == ID(3) {
				in["Tags"] = "reaper-expires=2026-01-01"
			}
		})}, check: closedWith(ecsapi.CodeBadResponse)},
		{name: "unknown enum values", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			switch id {
			case ID(0):
				in["Status"] = "Hibernated"
			case ID(1):
				in["InstanceChargeType"] = "Spot"
			case ID(6):
				in["OperationLocks"] = map[string]any{"LockReason": []any{map[string]any{"LockReason": "financial"}, map[string]any{"LockReason": "quarantine"}}}
			}
		})}, skipped: map[int]string{
			0: "skipped/" + string(decide.ReasonTransitional),
			1: "skipped/" + string(decide.ReasonInvalidData),
			6: "skipped/" + string(decide.ReasonLocked),
		}},
		{name: "absurd times", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			switch id {
			case ID(6):
				in["ExpiredTime"] = "2026-13-45T25:61Z"
			case ID(7):
				in["ExpiredTime"] = ""
			case ID(2):
				in["Tags"] = map[string]any{"Tag": []any{map[string]any{"TagKey": optIn, "TagValue": "0000-00-00"}}}
			case ID(3):
				in["Tags"] = map[string]any{"Tag": []any{map[string]any{"TagKey": optIn, "TagValue": "99999d"}}}
				in["CreationTime"] = "yesterday"
			}
		})}, skipped: map[int]string{
			6: "skipped/" + string(decide.ReasonLocked), // financial lock, unparsable expiry
			7: "skipped/" + string(decide.ReasonLocked),
			2: "skipped/" + string(decide.ReasonInvalidExpiry),
			3: "skipped/" + string(decide.ReasonInvalidExpiry),
		}},
		{name: "instance reporting another region", rw: rewriter{edit: editInstances(func(id string, in map[string]any) {
			if id == ID(4) {
				in["RegionId"] = "cn-beijing"
			}
		})}, skipped: map[int]string{4: "skipped/" + string(decide.ReasonInvalidData)}},
		{name: "5xx on every listing", fault: func(h *harness) {
			h.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDescribeInstances, Fault: ecsdouble.Internal()})
		}, check: closedWith("InternalError")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := harnessConfig{}
			if tc.rw.edit != nil || tc.rw.raw != nil {
				rw := tc.rw
				cfg.transport = func(base http.RoundTripper) http.RoundTripper { rw.base = base; return rw }
			}
			h := newHarness(t, f, cfg)
			if tc.fault != nil {
				tc.fault(h)
			}
			rep, err := h.run(options(), "cn-hangzhou")
			got := reported(t, rep)
			released := setOf(h.srv.Released())
			if tc.check != nil {
				tc.check(t, h, rep, err)
				if tc.skipped == nil && len(released) > 0 && rep.Regions[0].Error != nil {
					t.Errorf("released %d in a failed region", len(released))
				}
				return
			}
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			for i, in := range f.Instances {
				want, skip := tc.skipped[i]
				e := got[in.ID]
				switch {
				case skip && string(e.outcome)+"/"+e.reason != want:
					t.Errorf("%s: %s/%s (%s), want %s", in.ID, e.outcome, e.reason, e.item.Detail, want)
				case skip && released[in.ID]:
					t.Errorf("%s released on data the rules cannot trust", in.ID)
				case !skip && !released[in.ID]:
					t.Errorf("%s not released: %+v", in.ID, e)
				}
			}
		})
	}
}

// TestNumericErrorCodeDoesNotPanic: an error body whose Code is not a string
// makes the SDK's error parser panic; the client boundary turns that into a
// malformed-response error and the region fails closed.
func TestNumericErrorCodeDoesNotPanic(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "n", 3)}
	numeric := func(base http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r)
			if err != nil {
				return nil, err
			}
			resp.Body.Close()
			body := []byte(`{"RequestId":42,"Code":503,"Message":["busy"]}`)
			resp.StatusCode, resp.Status = 503, "503 Service Unavailable"
			resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			resp.Header.Del("Content-Length")
			return resp, nil
		})
	}
	h := newHarness(t, f, harnessConfig{transport: numeric})
	rep, err := h.run(options(), "cn-hangzhou")
	r := rep.Regions[0]
	if !errors.Is(err, engine.ErrRegionFailed) || r.Error == nil || r.Complete {
		t.Fatalf("err %v, region %+v: want the region closed", err, r.Error)
	}
	if ecsapi.ClassifyCode(r.Error.Code, 503) == ecsapi.ClassFatal && r.Error.Code == "" {
		t.Errorf("no code: %+v", r.Error)
	}
	if len(h.srv.Released()) != 0 {
		t.Error("released")
	}
}

// isAction reports whether an SDK request calls action (RPC parameters
// travel in the query string or, for POST, the form body).
func isAction(r *http.Request, action string) bool {
	if r.URL.Query().Get("Action") == action {
		return true
	}
	if r.Body == nil || r.GetBody == nil {
		return false
	}
	body, err := r.GetBody()
	if err != nil {
		return false
	}
	defer body.Close()
	b, _ := io.ReadAll(body)
	return strings.Contains("&"+string(b)+"&", "&Action="+action+"&")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// callClock records, through the client's transport, when each request
// started and ended.
type callClock struct {
	base http.RoundTripper
	mu   sync.Mutex
	ends []time.Time
}

func (c *callClock) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(r)
	if err == nil {
		// The body is read by the SDK right after; read it here so the
		// recorded end covers the whole call.
		body, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		err = rerr
	}
	c.mu.Lock()
	c.ends = append(c.ends, time.Now())
	c.mu.Unlock()
	return resp, err
}

// TestDeadlineStopsStartingBatches: slow releases and a deadline that lets
// only some batches start. The report is incomplete and lists the rest with
// reason "deadline"; no call outlives the deadline; Run returns promptly.
func TestDeadlineStopsStartingBatches(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "d", 1000)}
	clock := &callClock{}
	h := newHarness(t, f, harnessConfig{transport: func(base http.RoundTripper) http.RoundTripper {
		clock.base = base
		return clock
	}})
	h.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDeleteInstances, Fault: ecsdouble.Slow(400 * time.Millisecond)})
	opts := sequential()
	opts.DeadlineMargin = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rep, err := engine.New(opts, h.logger()).RunRegions(ctx, h.api, "", []string{"cn-hangzhou"})
	returned := time.Now()

	// Incomplete, not failed; or failed when the deadline cut a call short
	// on a badly loaded machine (its outcome is unknown, so it fails loudly).
	if !(errors.Is(err, engine.ErrIncomplete) || errors.Is(err, engine.ErrReleaseFailed)) || errors.Is(err, engine.ErrRegionFailed) || rep.Complete || rep.Regions[0].Complete {
		t.Fatalf("err %v, complete %v: want an incomplete run", err, rep.Complete)
	}
	if !strings.Contains(err.Error(), "cn-hangzhou") {
		t.Errorf("error %q does not name the region", err)
	}
	if late := returned.Sub(deadline); late > 500*time.Millisecond {
		t.Errorf("Run returned %v after the deadline", late)
	}
	got := h.checkInvariants(rep, eligibleIn(f, h.rules))
	released, held := 0, 0
	for id, e := range got {
		switch {
		case e.outcome == report.OutcomeReleased:
			released++
		case e.outcome == report.OutcomeNotAttempted && e.reason == string(report.ReasonDeadline):
			held++
		case e.outcome == report.OutcomeFailed && e.item.Code == ecsapi.CodeCanceled:
			// A call the deadline cut short on a badly loaded machine.
		default:
			t.Errorf("%s: %s/%s", id, e.outcome, e.reason)
		}
	}
	if released == 0 || held == 0 || released+held > 1000 || len(got) != 1000 {
		t.Errorf("released %d, held for the deadline %d, reported %d; want some of each, all reported", released, held, len(got))
	}
	if held%100 != 0 {
		t.Errorf("held %d: want whole batches", held)
	}
	for _, c := range h.srv.Calls() {
		if c.Time.After(deadline) {
			t.Errorf("%s started %v after the deadline", c.Action, c.Time.Sub(deadline))
		}
	}
	clock.mu.Lock()
	defer clock.mu.Unlock()
	for _, end := range clock.ends {
		if end.After(deadline.Add(50 * time.Millisecond)) {
			t.Errorf("a call ended %v after the deadline", end.Sub(deadline))
		}
	}
}

// TestRepeatedInvocationReleasesOnce: the same RunID run again after a
// complete run finds nothing left and fails nothing.
func TestRepeatedInvocationReleasesOnce(t *testing.T) {
	f := mixedFleet(3, 250)
	h := newHarness(t, f, harnessConfig{})
	eligible := eligibleIn(f, h.rules)
	rep1, err := h.run(options(), f.Regions()...)
	if err != nil {
		t.Fatal(err)
	}
	h.checkInvariants(rep1, eligible)
	rep2, err := h.run(options(), f.Regions()...)
	if err != nil {
		t.Fatal(err)
	}
	h.checkInvariants(rep2, eligible)
	if !slices.Equal(h.srv.Released(), keysOf(eligible)) {
		t.Errorf("released %d, want %d", len(h.srv.Released()), len(eligible))
	}
	for id, e := range reported(t, rep2) {
		if e.outcome == report.OutcomeFailed || e.outcome == report.OutcomeReleased {
			t.Errorf("second run: %s %s", id, e.outcome)
		}
		if eligible[id] {
			t.Errorf("second run saw released instance %s", id)
		}
	}
}

// TestRepeatAfterLostResponses: every DeleteInstances answer of the first
// run is lost after the release applied; the first run reports the
// instances as released elsewhere (found gone on the re-read), never failed,
// and the repeat releases nothing twice.
func TestRepeatAfterLostResponses(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "l", 30)}
	h := newHarness(t, f, harnessConfig{})
	lost := h.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDeleteInstances, Fault: ecsdouble.Reset().AfterApplying()})
	opts := options()
	opts.Retry.MaxAttempts = 3
	rep1, _ := h.run(opts, "cn-hangzhou")
	lost.Remove()
	h.checkInvariants(rep1, eligibleIn(f, h.rules))
	if got := rep1.IDs(report.OutcomeGone); len(got) != 30 {
		t.Errorf("first run: %d released-elsewhere (%v), want 30", len(got), rep1.Totals.Outcomes)
	}
	rep2, err := h.run(opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Totals.Seen != 0 || h.srv.CallCount(ecsapi.ActionDeleteInstances) != 3 {
		t.Errorf("repeat saw %d, DeleteInstances calls %d (want 0 and the first run's 3)", rep2.Totals.Seen, h.srv.CallCount(ecsapi.ActionDeleteInstances))
	}
	if len(h.srv.Released()) != 30 {
		t.Errorf("released %d", len(h.srv.Released()))
	}
}

// TestConcurrentInvocationsReleaseOnce: two invocations list the same fleet
// and release at the same moment, with the same RunID (an FC retry of one
// tick: same ClientTokens) and with different RunIDs (overlapping ticks).
// Each instance is released by one request; neither run reports a failure.
func TestConcurrentInvocationsReleaseOnce(t *testing.T) {
	for _, sameRun := range []bool{true, false} {
		t.Run(fmt.Sprintf("same RunID %v", sameRun), func(t *testing.T) {
			f := mixedFleet(4, 300)
			h := newHarness(t, f, harnessConfig{})
			eligible := eligibleIn(f, h.rules)
			// Each run has its own client, whose transport holds the run's
			// first DeleteInstances until the other run has sent its own:
			// both listed everything before either released.
			var arrived atomic.Int32
			both := make(chan struct{})
			clients := make([]*ecsapi.Client, 2)
			for i := range clients {
				var first sync.Once
				base := newTransport(t)
				api, err := ecsapi.NewClient(ecsapi.Config{
					Credentials: ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret},
					Endpoint:    h.srv.URL(),
					Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
						if isAction(r, ecsapi.ActionDeleteInstances) {
							first.Do(func() {
								if arrived.Add(1) == 2 {
									close(both)
								}
								select {
								case <-both:
								case <-time.After(10 * time.Second):
								}
							})
						}
						return base.RoundTrip(r)
					}),
				})
				if err != nil {
					t.Fatal(err)
				}
				clients[i] = api
			}
			reps := make([]*report.Report, 2)
			errs := make([]error, 2)
			var wg sync.WaitGroup
			for i := range 2 {
				opts := options()
				if !sameRun {
					opts.RunID = fmt.Sprintf("tick-%d", i)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					defer cancel()
					reps[i], errs[i] = engine.New(opts, h.logger()).RunRegions(ctx, clients[i], "", f.Regions())
				}()
			}
			wg.Wait()
			if arrived.Load() < 2 {
				t.Fatal("the runs did not overlap")
			}
			for i := range 2 {
				if errs[i] != nil {
					t.Errorf("run %d: %v", i, errs[i])
				}
				h.checkInvariants(reps[i], eligible)
				if n := reps[i].Totals.Outcomes[string(report.OutcomeFailed)]; n != 0 {
					t.Errorf("run %d: %d failed (%v)", i, n, reps[i].Totals.Reasons)
				}
			}
			if got := h.srv.Released(); !slices.Equal(got, keysOf(eligible)) {
				t.Errorf("released %d, want %d", len(got), len(eligible))
			}
			// Each eligible instance: released by one run, or by both when
			// the twin's call was an idempotent replay; else released elsewhere.
			for id := range eligible {
				o0 := reported(t, reps[0])[id].outcome
				o1 := reported(t, reps[1])[id].outcome
				if o0 != report.OutcomeReleased && o1 != report.OutcomeReleased {
					t.Errorf("%s: %s and %s, want at least one released", id, o0, o1)
				}
				if !sameRun && o0 == o1 {
					t.Errorf("%s: both runs say %s; distinct tokens cannot both release", id, o0)
				}
			}
		})
	}
}

// TestCapsReleaseNothing: over the count cap or the percent cap, counted
// across regions, there is no DeleteInstances call at all, in dry run too,
// and the error carries the numbers.
func TestCapsReleaseNothing(t *testing.T) {
	// Per region: 5 eligible of 8 opted in (3 not expired).
	regionFleet := func(region, p string) []ecsdouble.Instance {
		out := stopped(region, p, 8)
		for i := 5; i < 8; i++ {
			out[i].Tags = map[string]string{optIn: "2099-01-01"}
		}
		return out
	}
	f := ecsdouble.Fleet{Instances: slices.Concat(regionFleet("cn-hangzhou", "h"), regionFleet("cn-shanghai", "s"))}
	cases := []struct {
		name    string
		max     int
		percent float64
		dry     bool
		want    []string // in the error text
	}{
		{"count cap across regions", 8, 100, false, []string{"10 instances eligible", "over the count cap of 8"}},
		{"count cap in dry run", 8, 100, true, []string{"10 instances eligible", "over the count cap of 8"}},
		{"percent cap", 100, 50, false, []string{"62.5% of 16 opted in", "over the percent cap of 50%"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, f, harnessConfig{})
			opts := options()
			opts.MaxRelease, opts.MaxReleasePercent, opts.DryRun = tc.max, tc.percent, tc.dry
			rep, err := h.run(opts, f.Regions()...)
			if !errors.Is(err, engine.ErrCapExceeded) {
				t.Fatalf("err = %v, want ErrCapExceeded", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if n := h.srv.CallCount(ecsapi.ActionDeleteInstances); n != 0 {
				t.Errorf("%d DeleteInstances calls", n)
			}
			if rep.Cap == nil || !rep.Cap.Exceeded || rep.Cap.Eligible != 10 || rep.Cap.OptedIn != 16 || rep.Error == "" || rep.Complete {
				t.Errorf("cap %+v, error %q, complete %v", rep.Cap, rep.Error, rep.Complete)
			}
			got := h.checkInvariants(rep, eligibleIn(f, h.rules))
			for id := range eligibleIn(f, h.rules) {
				if e := got[id]; e.outcome != report.OutcomeNotAttempted || e.reason != string(report.ReasonCapExceeded) {
					t.Errorf("%s: %s/%s, want not-attempted/cap-exceeded", id, e.outcome, e.reason)
				}
			}
		})
	}
	// At the caps exactly, everything goes.
	h := newHarness(t, f, harnessConfig{})
	opts := options()
	opts.MaxRelease, opts.MaxReleasePercent = 10, 62.5
	if _, err := h.run(opts, f.Regions()...); err != nil {
		t.Fatalf("at the caps: %v", err)
	}
	if len(h.srv.Released()) != 10 {
		t.Errorf("released %d at the caps, want 10", len(h.srv.Released()))
	}
}

// TestSecretsNeverLeak: STS credentials with distinctive values, through a
// signature mismatch, a server message that echoes them, and transport
// resets; neither the secret nor the token appears in the logs, the report
// or any error.
func TestSecretsNeverLeak(t *testing.T) {
	const (
		ak     = "STS.NUxVeryDistinctAK"
		secret = "SECRET-zzz-9f8e"
		token  = "TOKEN-qqq-1a2b"
	)
	creds := ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: token}
	f := ecsdouble.Fleet{Instances: slices.Concat(stopped("cn-hangzhou", "k", 5), stopped("cn-shanghai", "q", 5))}
	var texts []string
	check := func(name, s string) {
		t.Helper()
		for _, leak := range []string{secret, token, "SECRET-zzz", "TOKEN-qqq"} {
			if strings.Contains(s, leak) {
				t.Errorf("%s contains %q:\n%s", name, leak, s)
			}
		}
	}
	runCase := func(name string, serverSecret string, setup func(h *harness)) {
		h := newHarness(t, f, harnessConfig{
			client:  ecsapi.Config{Credentials: creds, ReadTimeout: 2 * time.Second},
			srvOpts: []ecsdouble.Option{ecsdouble.WithCredential(ak, serverSecret, token)},
		})
		if setup != nil {
			setup(h)
		}
		rep, err := h.run(options(), f.Regions()...)
		b, jerr := json.Marshal(rep)
		if jerr != nil {
			t.Fatal(jerr)
		}
		texts = append(texts, name)
		check(name+" report", string(b))
		check(name+" report %+v", fmt.Sprintf("%+v %#v", rep, rep))
		if err != nil {
			check(name+" error", err.Error()+fmt.Sprintf("%+v", err))
		}
		check(name+" logs", h.logs.String())
		if !strings.Contains(h.logs.String(), `"msg":"sweep end"`) {
			t.Errorf("%s: no logs captured", name)
		}
		// The client boundary's own error strings and the credentials' formats.
		_, derr := h.api.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou", TagKey: optIn})
		if derr != nil {
			check(name+" direct error", derr.Error())
		}
		check("credentials formats", fmt.Sprintf("%v %+v %#v %s", creds, creds, creds, creds))
	}
	// A real signature mismatch: the server's message echoes the string to
	// sign, which carries the SecurityToken.
	runCase("signature mismatch", "the-server-has-another-secret", nil)
	// Transport resets, and a server message quoting the credentials.
	runCase("resets and echoes", secret, func(h *harness) {
		h.srv.FailNext(ecsapi.ActionDescribeInstances, 2, ecsdouble.Reset())
		h.srv.FailNext(ecsapi.ActionDeleteInstances, 1, ecsdouble.Reset())
		h.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDeleteInstances, Region: "cn-shanghai", Fault: &ecsdouble.Fault{
			Kind: ecsdouble.FaultError, Status: 400, Code: "InvalidParameter",
			Message: "bad request: AccessKeySecret=" + secret + "&SecurityToken=" + token,
		}})
	})
	// Every call failing on the transport.
	runCase("all resets", secret, func(h *harness) {
		h.srv.Inject(ecsdouble.Rule{Fault: ecsdouble.Reset()})
	})
	if len(texts) != 3 {
		t.Fatal("cases did not run")
	}
}

// TestFailedHalfIsReReadBeforeRetry: after a batch fails and its re-read
// explains nothing, it is split; when a half fails too, it is re-read again
// before anything in it is retried (rail 3: after any failed batch, always
// re-read). Here the keep tag lands on an instance of the failing half
// after the first re-read: the API would release it, only a re-read stops it.
func TestFailedHalfIsReReadBeforeRetry(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "r", 100)}
	refused, keptLate := f.Instances[10].ID, f.Instances[20].ID
	f.Instances[10].FailWith = "InvalidOperation.EniLinked"
	h := newHarness(t, f, harnessConfig{})
	var once sync.Once
	h.setMutate(func(_ string, ids []string) {
		if len(ids) < 100 && slices.Contains(ids, refused) && slices.Contains(ids, keptLate) {
			once.Do(func() {
				h.srv.Mutate(keptLate, func(in *ecsdouble.Instance) { in.Tags[keep] = "changed-my-mind" })
			})
		}
	})
	rep, err := h.run(sequential(), "cn-hangzhou")
	if !errors.Is(err, engine.ErrReleaseFailed) || errors.Is(err, engine.ErrRegionFailed) { // the bad instance fails the run
		t.Fatalf("run: %v", err)
	}
	got := h.checkInvariants(rep, eligibleIn(f, h.rules))
	if slices.Contains(h.srv.Released(), keptLate) {
		t.Fatalf("%s released after it gained the keep tag and its batch failed", keptLate)
	}
	if e := got[keptLate]; e.outcome != report.OutcomeSkipped || e.reason != string(decide.ReasonExcluded) {
		t.Errorf("kept-late reported %s/%s, want skipped/excluded", e.outcome, e.reason)
	}
	if e := got[refused]; e.outcome != report.OutcomeFailed || e.item.Code != "InvalidOperation.EniLinked" {
		t.Errorf("refused reported %s/%s %s", e.outcome, e.reason, e.item.Code)
	}
	if n := len(h.srv.Released()); n != 98 {
		t.Errorf("released %d, want 98", n)
	}
}

// checkRunError: a run whose outcomes include failed instances fails with
// ErrReleaseFailed (and only that); any other run succeeds.
func checkRunError(t *testing.T, err error, outcomes map[string]string) {
	t.Helper()
	failed := false
	for _, o := range outcomes {
		failed = failed || strings.HasPrefix(o, "failed/")
	}
	switch {
	case failed && (!errors.Is(err, engine.ErrReleaseFailed) || errors.Is(err, engine.ErrRegionFailed)):
		t.Fatalf("run: %v; want ErrReleaseFailed for the failed instances", err)
	case !failed && err != nil:
		t.Fatalf("run: %v", err)
	}
}
