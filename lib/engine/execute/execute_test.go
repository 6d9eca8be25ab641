package execute_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// A test-only operation registered with the executor: marking "things" in
// an in-memory store, three at a time, with no native dry run. It gets
// isolation, freshness, bisection, retries, the deadline and the dry run
// from the executor without the executor knowing it.

type thing struct {
	id, region string
	wanted     bool   // still warrants the mark
	bad        bool   // the API refuses it, for a reason no re-read shows
	mark       string // written by the operation
}

func (t thing) ResourceID() string     { return t.id }
func (t thing) ResourceRegion() string { return t.region }

type sent struct {
	ids   []string
	token string
}

type markOp struct {
	mu     sync.Mutex
	things map[string]*thing
	sends  []sent
	reads  int
	// failFirst makes the first n sends fail with a retryable error.
	failFirst int
	// onSend runs before each send, outside the lock.
	onSend func(ids []string)
}

// op is the operation as the executor takes it: a value.
func (o *markOp) op() execute.Op[string, thing] {
	return execute.Op[string, thing]{
		Action: "MarkThings", BatchLimit: 3,
		Token: func(p string, ids []string, dry bool) string {
			return fmt.Sprintf("%s|%s|%t", p, strings.Join(ids, ","), dry)
		},
		Send:         o.Send,
		RereadAction: "DescribeThings", RereadLimit: 2, Reread: o.Reread,
		Recheck: o.Recheck,
		Done:    verdict.Released, WouldDone: verdict.WouldRelease,
	}
}

func (o *markOp) Send(ctx context.Context, req execute.Request[string]) (execute.Answer, error) {
	if o.onSend != nil {
		o.onSend(req.IDs)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sends = append(o.sends, sent{ids: slices.Clone(req.IDs), token: req.Token})
	if o.failFirst > 0 {
		o.failFirst--
		return execute.Answer{}, &ecsapi.Error{Code: "ServiceUnavailable", HTTPStatus: 503, Class: ecsapi.ClassRetryable}
	}
	for _, id := range req.IDs {
		if o.things[id].bad {
			return execute.Answer{}, &ecsapi.Error{Code: "IncorrectInstanceStatus", HTTPStatus: 403, Class: ecsapi.ClassInstance}
		}
	}
	for _, id := range req.IDs {
		o.things[id].mark = req.Params
	}
	return execute.Answer{RequestID: "req"}, nil
}

func (o *markOp) Reread(ctx context.Context, ids []string) ([]thing, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	var out []thing
	for _, id := range ids {
		if t, ok := o.things[id]; ok {
			out = append(out, *t)
		}
	}
	return out, nil
}

func (o *markOp) Recheck(t thing, p string, now time.Time) execute.Verdict {
	if !t.wanted {
		return execute.Verdict{Outcome: verdict.Skipped, Reason: verdict.Excluded, Detail: "no longer wanted"}
	}
	return execute.Verdict{Keep: true}
}

func (o *markOp) marked() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for id, t := range o.things {
		if t.mark != "" {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func newOp(n int) (*markOp, []execute.Item[string]) {
	op := &markOp{things: map[string]*thing{}}
	var items []execute.Item[string]
	for i := range n {
		id := fmt.Sprintf("t-%02d", i)
		op.things[id] = &thing{id: id, region: "r-1", wanted: true}
		items = append(items, execute.Item[string]{ID: id, Params: "mark-1", ReadAt: start})
	}
	return op, items
}

var start = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type harness struct {
	rec *report.Recorder
	c   *call.Caller
	sr  *report.ScopeRecorder
}

func newHarness(deadline time.Time, margin time.Duration) *harness {
	rec := report.NewRecorder("run", false, func() time.Time { return start }, nil)
	sr := rec.Scope(cloud.Scope{Region: "r-1"})
	c := call.NewCaller(call.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}, margin, deadline, 2, sr)
	return &harness{rec: rec, c: c, sr: sr}
}

func (h *harness) outcomes() map[string]string {
	rep := h.rec.Finish(nil, "")
	out := map[string]string{}
	for _, g := range rep.Regions[0].Groups {
		for _, it := range g.Instances {
			out[it.ID] = string(g.Outcome) + "/" + string(g.Reason)
		}
	}
	return out
}

func TestExtraOperationIsolatesAndBisects(t *testing.T) {
	op, items := newOp(7)
	op.things["t-04"].bad = true
	h := newHarness(time.Time{}, time.Second)
	execute.New(op.op(), h.c, h.sr, execute.Options{Freshness: time.Hour, Now: func() time.Time { return start }}).Run(t.Context(), items)
	if got := op.marked(); len(got) != 6 || slices.Contains(got, "t-04") {
		t.Fatalf("marked %v: want every thing but the bad one", got)
	}
	if got := h.outcomes()["t-04"]; got != "failed/IncorrectInstanceStatus" {
		t.Errorf("bad thing: %s", got)
	}
	for _, s := range op.sends {
		if len(s.ids) > 3 {
			t.Errorf("a batch of %d over the operation's limit of 3", len(s.ids))
		}
	}
}

func TestExtraOperationReReadsStaleDataBeforeEveryAttempt(t *testing.T) {
	op, items := newOp(3)
	op.things["t-01"].wanted = false // changed since the plan was made
	clock := start.Add(2 * time.Hour)
	h := newHarness(time.Time{}, time.Second)
	execute.New(op.op(), h.c, h.sr, execute.Options{Freshness: time.Minute, Now: func() time.Time { return clock }}).Run(t.Context(), items)
	if op.reads == 0 {
		t.Fatal("stale data was not re-read")
	}
	if got := op.marked(); !slices.Equal(got, []string{"t-00", "t-02"}) {
		t.Fatalf("marked %v", got)
	}
	if got := h.outcomes()["t-01"]; got != "skipped/excluded" {
		t.Errorf("changed thing: %s", got)
	}
}

func TestExtraOperationRetriesUnderOneToken(t *testing.T) {
	op, items := newOp(2)
	op.failFirst = 2
	h := newHarness(time.Time{}, time.Second)
	execute.New(op.op(), h.c, h.sr, execute.Options{Freshness: time.Hour, Now: func() time.Time { return start }}).Run(t.Context(), items)
	if len(op.sends) != 3 || op.sends[0].token != op.sends[2].token {
		t.Fatalf("sends %+v: want three attempts under one token", op.sends)
	}
	if len(op.marked()) != 2 {
		t.Errorf("marked %v", op.marked())
	}
}

func TestExtraOperationHonoursTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		op, items := newOp(30)
		ctx, cancel := context.WithTimeout(t.Context(), 6*time.Second)
		defer cancel()
		deadline, _ := ctx.Deadline()
		var mu sync.Mutex
		var lefts []time.Duration
		op.onSend = func([]string) {
			mu.Lock()
			lefts = append(lefts, time.Until(deadline))
			mu.Unlock()
			time.Sleep(time.Second) // each call takes a second
		}
		h := newHarness(deadline, 3*time.Second)
		execute.New(op.op(), h.c, h.sr, execute.Options{Freshness: time.Hour, Now: func() time.Time { return start }}).Run(ctx, items)
		for _, left := range lefts {
			if left < 3*time.Second {
				t.Errorf("a send started with %v left, inside the 3 s margin", left)
			}
		}
		held := 0
		for _, o := range h.outcomes() {
			if o == "not-attempted/deadline" {
				held++
			}
		}
		if len(op.marked()) == 0 || held == 0 || len(op.marked())+held != 30 {
			t.Errorf("marked %d, held %d", len(op.marked()), held)
		}
	})
}

func TestExtraOperationDryRunSendsNothing(t *testing.T) {
	op, items := newOp(5)
	h := newHarness(time.Time{}, time.Second)
	execute.New(op.op(), h.c, h.sr, execute.Options{DryRun: true, Freshness: time.Hour, Now: func() time.Time { return start }}).Run(t.Context(), items)
	if len(op.sends) != 0 || len(op.marked()) != 0 {
		t.Fatalf("a dry run of an operation without a native dry run sent %d calls", len(op.sends))
	}
	for id, o := range h.outcomes() {
		if o != "would-release/" {
			t.Errorf("%s: %s, want the would-be outcome", id, o)
		}
	}
}

// The executor keeps no copy of the items it writes (no per-item map of
// their report fields, no regrouped copies): what a run allocates per item
// beyond the outcome's record is a few bytes of batch bookkeeping.
// Measured, not timed: the bytes a dry run of many items allocates, less
// what recording their outcomes alone allocates.
func TestExecutorAllocatesLittlePerItem(t *testing.T) {
	const n = 20_000
	op, items := newOp(n)
	allocated := func(f func()) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return float64(after.TotalAlloc-before.TotalAlloc) / n
	}
	h := newHarness(time.Time{}, 0)
	mark := op.op()
	mark.BatchLimit = 100 // as DeleteInstances: the batches' own records are a few bytes per item
	e := execute.New(mark, h.c, h.sr, execute.Options{DryRun: true, Now: func() time.Time { return start }})
	var done []string
	run := allocated(func() { done = e.Run(context.Background(), items) })
	if len(done) != n {
		t.Fatalf("%d done, want %d", len(done), n)
	}
	alone := newHarness(time.Time{}, 0)
	records := allocated(func() {
		for _, it := range items {
			alone.sr.Outcome(verdict.WouldRelease, "", report.Item{ID: it.ID})
		}
	})
	perItem := run - records
	t.Logf("%.0f bytes allocated per item, %.0f of them the outcomes' records", run, records)
	if perItem > 400 {
		t.Errorf("the executor allocates %.0f bytes per item beside the outcomes' records, want at most 400: it copies its items", perItem)
	}
}
