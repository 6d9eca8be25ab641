// Package execute is the engine's third phase: one executor that runs
// every write of a plan (marks, stops, releases, deletes). An operation is
// a value (Op, built in package ops) that says how to send a batch and how
// to re-read and re-decide its resources; the executor owns everything
// else, once, for every write:
//
//   - batches of at most the operation's limit, grouped by parameters and
//     sorted, under the scope's throttling-adaptive concurrency;
//   - before every attempt, retries included, data older than the
//     freshness window is re-read and re-decided, and only resources whose
//     decision is unchanged are sent (the same idempotency token while the
//     IDs are unchanged);
//   - after a failure, a re-read drops the resources that changed, and
//     only when it explains nothing is the batch split in halves, so one bad
//     resource never sinks the others;
//   - retries with backoff under the same token, the deadline margin
//     before every call, a credential or region failure stopping the
//     scope;
//   - the engine's own dry run for an operation whose API has none:
//     nothing is sent, and the report says what would be.
package execute

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Resource is anything an operation writes to: an instance, and later a
// disk, a snapshot, an EIP.
type Resource interface {
	ResourceID() string
	// ResourceRegion is the region the API's answer named ("" for none).
	ResourceRegion() string
}

// Verdict is a re-read resource's fresh decision.
type Verdict struct {
	// Keep: the resource still warrants the operation with the same
	// parameters.
	Keep bool
	// Otherwise what to report, and why.
	Outcome verdict.Outcome
	Reason  verdict.Reason
	Detail  string
}

// Request is one call of an operation: one batch.
type Request[P comparable] struct {
	Params P
	IDs    []string // sorted
	Token  string   // the idempotency token; the same for every attempt
	DryRun bool     // only for operations with a native dry run
}

// Answer is a successful call.
type Answer struct {
	RequestID string
	// DryRunPassed: a native dry run answered that the call would pass.
	DryRunPassed bool
}

// Op is one kind of write, as data: its API call and its re-read, with
// defaults for the rest. Adding a write is one Op value plus its API call;
// nothing in the executor changes.
type Op[P comparable, R Resource] struct {
	// Action is the API action, for call counts, logs and the report.
	Action string
	// BatchLimit is the most IDs one call takes (default 1).
	BatchLimit int
	// NativeDryRun: the API takes DryRun. Otherwise a dry run sends
	// nothing and reports what would be.
	NativeDryRun bool
	// Token derives the idempotency token from the run, the parameters
	// and the sorted IDs, so that retries and overlapping invocations are
	// harmless; nil for an API that takes none.
	Token func(params P, ids []string, dryRun bool) string
	// Send makes one call.
	Send func(ctx context.Context, req Request[P]) (Answer, error)
	// RereadAction and RereadLimit (default 1) name the read call and the
	// most IDs it takes; Reread reads resources by ID (a missing one is
	// gone).
	RereadAction string
	RereadLimit  int
	Reread       func(ctx context.Context, ids []string) ([]R, error)
	// Recheck re-decides a re-read resource: does it still warrant the
	// write with params? nil: every resource that still exists does.
	Recheck func(r R, params P, now time.Time) Verdict
	// Done and WouldDone are the outcomes of a successful call, and of a
	// dry run's. Both empty: the write is a step before another (the stop
	// mark before the stop), whose success records its batch only; the
	// next step records the items.
	Done, WouldDone verdict.Outcome
	// Describe adds the write's own fields to a batch's record.
	Describe func(b *report.Batch, params P)
	// Name names the write in a failure's detail ("" for Action).
	Name string
	// MustWrite: an item held back (deadline, stopped scope) is a failed
	// write, not one the next run retries: nothing later could find it.
	MustWrite bool
	// Failed, when set, adds to a failed item's record (how to recover
	// by hand).
	Failed func(it *report.Item)
}

// done is the outcome of a successful call.
func (o *Op[P, R]) done(dryRun bool) verdict.Outcome {
	if dryRun {
		return o.WouldDone
	}
	return o.Done
}

// result is a successful batch's Result.
func (o *Op[P, R]) result(dryRun bool) string {
	switch {
	case o.done(dryRun) != "":
		return string(o.done(dryRun))
	case dryRun:
		return "would-write"
	}
	return "written"
}

// Item is one resource the plan chose, with the data's age.
type Item[P comparable] struct {
	ID     string
	Params P
	Detail string
	ReadAt time.Time
	// Base holds the report fields the plan knows (the owner, when the
	// owner was told); every outcome recorded for the item starts from it.
	Base report.Item
	// DoneReason goes with a successful outcome: unverified-mark for a
	// notice that replaces a mark that did not verify.
	DoneReason verdict.Reason
}

// Options configure an executor.
type Options struct {
	DryRun bool
	// NoNativeDryRun: a dry run sends no native dry-run call either; it
	// reports what would be, as for an API without one.
	NoNativeDryRun bool
	Freshness      time.Duration
	Now            func() time.Time
	// Allowed, when set, is the operator's confirmation: an item it does
	// not allow is never written, only reported skipped/not-confirmed
	// with NotAllowedDetail.
	Allowed          func(id string) bool
	NotAllowedDetail string
}

// Executor runs one operation's items in one scope. It keeps no copy of
// the items: batches hold their indices, and each outcome's record is
// built from the item when it is recorded.
type Executor[P comparable, R Resource] struct {
	op   Op[P, R]
	c    *call.Caller
	rec  *report.ScopeRecorder
	opts Options
	at   func(i int) Item[P] // the items; read-only while batches run

	mu   sync.Mutex
	done []string // written (or would be) this run
}

// New returns the executor of op in the scope whose calls c makes and rec
// records.
func New[P comparable, R Resource](op Op[P, R], c *call.Caller, rec *report.ScopeRecorder, opts Options) *Executor[P, R] {
	op.BatchLimit, op.RereadLimit = max(1, op.BatchLimit), max(1, op.RereadLimit)
	if op.Name == "" {
		op.Name = op.Action
	} else {
		op.Name += " (" + op.Action + ")"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Freshness <= 0 {
		opts.Freshness = time.Minute
	}
	return &Executor[P, R]{op: op, c: c, rec: rec, opts: opts}
}

// set is some of the items: their IDs, and their indices in the items.
type set struct {
	ids []string
	idx []int32
}

func (s set) Len() int           { return len(s.ids) }
func (s set) Less(i, j int) bool { return s.ids[i] < s.ids[j] }
func (s set) Swap(i, j int) {
	s.ids[i], s.ids[j] = s.ids[j], s.ids[i]
	s.idx[i], s.idx[j] = s.idx[j], s.idx[i]
}

// split cuts the set at i.
func (s set) split(i int) (set, set) {
	return set{s.ids[:i:i], s.idx[:i:i]}, set{s.ids[i:], s.idx[i:]}
}

// batch is a set of items written together.
type batch[P comparable] struct {
	set
	params P
	readAt time.Time
}

// Run writes every item, batch by batch, records each one's outcome, and
// returns the IDs written (or that would be, in a dry run), sorted.
func (e *Executor[P, R]) Run(ctx context.Context, items []Item[P]) []string {
	return e.RunOn(ctx, len(items), func(i int) Item[P] { return items[i] })
}

// RunOn is Run over n items that at returns by index: the caller's own
// list (the plan) is the only copy of them.
func (e *Executor[P, R]) RunOn(ctx context.Context, n int, at func(i int) Item[P]) []string {
	e.at = at
	var wg sync.WaitGroup
	for _, b := range e.batches(n) {
		// Wait for a slot first: the checks must hold when the batch
		// starts, not when it was queued behind the batches in flight.
		e.c.Limit.Acquire()
		if stopped := e.c.Stopped(); stopped != nil {
			e.c.Limit.Release()
			e.hold(b.set, verdict.ScopeStopped, "the region was stopped by "+stopped.Code)
			continue
		}
		if call.Interrupted(ctx) {
			e.c.Limit.Release()
			e.interrupted(b.set, verdict.NotStarted, "not started: the run was interrupted; the next run re-reads it")
			continue
		}
		if !e.c.TimeLeft(ctx) {
			e.c.Limit.Release()
			e.holdForDeadline(b.set)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer e.c.Limit.Release()
			e.isolate(ctx, b.set, b.params, b.readAt, false)
		}()
	}
	wg.Wait()
	slices.Sort(e.done)
	return e.done
}

// batches groups the items by parameters (in a stable order), sorts each
// group's IDs and cuts them into batches of at most the operation's limit.
// A batch's data is as old as its oldest item's. An item the operator did
// not confirm is recorded skipped here, the last check before any write.
func (e *Executor[P, R]) batches(n int) []batch[P] {
	groups := map[P]*set{}
	var order []P
	for i := range n {
		it := e.at(i)
		if e.opts.Allowed != nil && !e.opts.Allowed(it.ID) {
			rec := e.item(int32(i))
			rec.Detail = e.opts.NotAllowedDetail
			e.rec.Outcome(verdict.Skipped, verdict.NotConfirmed, rec)
			continue
		}
		g := groups[it.Params]
		if g == nil {
			g = &set{}
			groups[it.Params] = g
			order = append(order, it.Params)
		}
		g.ids, g.idx = append(g.ids, it.ID), append(g.idx, int32(i))
	}
	slices.SortFunc(order, func(a, b P) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	var out []batch[P]
	for _, p := range order {
		g := *groups[p]
		sort.Sort(g)
		for len(g.ids) > 0 {
			var chunk set
			chunk, g = g.split(min(e.op.BatchLimit, len(g.ids)))
			b := batch[P]{set: chunk, params: p}
			for k, i := range chunk.idx {
				if at := e.at(int(i)).ReadAt; k == 0 || at.Before(b.readAt) {
					b.readAt = at
				}
			}
			out = append(out, b)
		}
	}
	return out
}

// item starts an outcome's record from the item's base.
func (e *Executor[P, R]) item(i int32) report.Item {
	src := e.at(int(i))
	it := src.Base
	it.ID, it.Detail = src.ID, src.Detail
	return it
}

func (e *Executor[P, R]) hold(s set, reason verdict.Reason, detail string) {
	if e.op.MustWrite {
		e.fail(s, &verdict.Failure{Code: string(reason), Message: detail})
		return
	}
	for _, i := range s.idx {
		it := e.item(i)
		it.Detail = detail
		e.rec.Outcome(verdict.NotAttempted, reason, it)
	}
}

func (e *Executor[P, R]) holdForDeadline(s set) {
	e.hold(s, verdict.Deadline, "too little time left before the invocation deadline; the next run continues")
	e.rec.Incomplete()
}

// interrupted records writes the operator's interruption left undone, or
// whose effect it left unknown: not failures, and the run is incomplete.
func (e *Executor[P, R]) interrupted(s set, reason verdict.Reason, detail string) {
	for _, i := range s.idx {
		it := e.item(i)
		it.Detail = e.op.Name + " " + detail
		e.rec.Outcome(verdict.Interrupted, reason, it)
	}
	e.rec.Incomplete()
}

// inFlightCut is the detail of a write the interruption's wait ended.
const inFlightCut = "in flight when the run was interrupted and not answered within the wait: whether it took effect is unknown until the next run re-reads it"

func (e *Executor[P, R]) fail(s set, f *verdict.Failure) {
	for _, i := range s.idx {
		it := e.item(i)
		// The detail names the write, so the run's error can say what failed.
		it.Detail, it.Code, it.Message, it.RequestID = e.op.Name+" failed", f.Code, f.Message, f.RequestID
		if e.op.Failed != nil {
			e.op.Failed(&it)
		}
		e.rec.Outcome(verdict.Failed, verdict.Reason(f.Code), it)
	}
}

// isolate writes ids, keeping one bad resource from holding back the
// others: after any failure it re-reads the batch and retries without the
// resources that changed; when the re-read explains nothing it splits the
// batch in halves. Each step retries fewer IDs, so the recursion ends.
//
// justRead skips the freshness check of the first attempt: a re-read has
// just decided these IDs.
func (e *Executor[P, R]) isolate(ctx context.Context, ids set, params P, readAt time.Time, justRead bool) {
	if len(ids.ids) == 0 {
		return
	}
	answer, sent, err := e.send(ctx, ids, params, readAt, justRead)
	var changed *changedError
	switch {
	case err == nil:
		outcome := e.op.done(e.opts.DryRun && (answer.DryRunPassed || !e.nativeDryRun()))
		at := e.opts.Now()
		for _, i := range sent.idx {
			if outcome == "" {
				break // a step before another: the next records the items
			}
			it := e.item(i) // the request ID is on the batch
			it.Stamp(outcome, at)
			e.rec.Outcome(outcome, e.at(int(i)).DoneReason, it)
		}
		e.mu.Lock()
		e.done = append(e.done, sent.ids...)
		e.mu.Unlock()
		e.c.Limit.Succeeded()
		return
	case errors.Is(err, errRereadFailed):
		return // the re-read reported every ID
	case errors.As(err, &changed):
		// A re-read before an attempt dropped some IDs; the rest are a
		// new batch (new token) on data read just now.
		e.isolate(ctx, changed.keep, params, changed.readAt, true)
		return
	case errors.Is(err, call.ErrInterrupted):
		e.interrupted(sent, verdict.NotStarted, "not started: the run was interrupted; the next run re-reads it")
		return
	case errors.Is(err, call.ErrDeadline):
		e.holdForDeadline(sent)
		return
	}
	ids = sent
	failure := call.Failure(err)
	class := ecsapi.Classify(err)
	switch class {
	case ecsapi.ClassCredential, ecsapi.ClassRegion:
		// Every further call in the scope would fail the same way.
		if class == ecsapi.ClassRegion {
			failure.Message = regionProblem + failure.Message
		}
		e.c.Stop(failure)
		e.rec.Fail(failure)
		e.fail(ids, failure)
		return
	case ecsapi.ClassCanceled:
		if call.Interrupted(ctx) {
			e.interrupted(ids, verdict.EffectUnknown, inFlightCut)
			return
		}
		e.rec.Incomplete()
		e.fail(ids, &verdict.Failure{Code: failure.Code, Message: "the invocation deadline ended the call; whether it took effect is unknown until the next run"})
		return
	}
	if !e.c.TimeLeft(ctx) {
		// The batch was sent and failed; there is no time left to find out
		// which member caused it.
		e.rec.Incomplete()
		if call.Interrupted(ctx) {
			failure.Message += " (the run was interrupted before the cause could be isolated; the next run retries)"
		} else {
			failure.Message += " (no time left before the deadline to re-read and isolate the cause; the next run retries)"
		}
		e.fail(ids, failure)
		return
	}
	readAt = e.opts.Now()
	keep, ok := e.reread(ctx, ids, params, "after "+failure.Code)
	if !ok {
		return
	}
	if len(keep.ids) < len(ids.ids) {
		e.isolate(ctx, keep, params, readAt, true)
		return
	}
	if class != ecsapi.ClassInstance && class != ecsapi.ClassNotFound {
		e.fail(ids, failure)
		return
	}
	if len(ids.ids) == 1 {
		if class == ecsapi.ClassNotFound {
			// The re-read just found the resource, unchanged: the NotFound
			// is not believed, and nothing says it was written.
			failure.Message = "ECS answered " + failure.Code + " but a re-read right after found the instance: " + failure.Message
		}
		e.fail(ids, failure)
		return
	}
	// The second half waits for the first: its data may have aged.
	first, second := ids.split(len(ids.ids) / 2)
	e.isolate(ctx, first, params, readAt, true)
	e.isolate(ctx, second, params, readAt, false)
}

// regionProblem heads the failure of a region that is unknown or not open
// to the account: the credentials are fine, only this region stops.
const regionProblem = "the region is unknown or not open to this account; nothing more is written there: "

// errRereadFailed: a re-read before an attempt failed, and reported its IDs.
var errRereadFailed = errors.New("re-read failed")

// changedError: a re-read before an attempt changed the batch.
type changedError struct {
	keep   set
	readAt time.Time
}

func (e *changedError) Error() string { return "the batch changed on re-read" }

// send makes one call of the batch (with retries under the same token) and
// records it. Before each attempt it checks the age of the batch's data:
// data older than the freshness window is re-read and re-decided first.
// When the re-read keeps every ID the attempt goes on under the same
// token; when it drops some, send returns a *changedError with the rest.
// sent is the IDs of the last attempt.
func (e *Executor[P, R]) send(ctx context.Context, ids set, params P, readAt time.Time, justRead bool) (answer Answer, sent set, err error) {
	native := e.nativeDryRun()
	req := Request[P]{Params: params, IDs: ids.ids, DryRun: e.opts.DryRun && native}
	if e.op.Token != nil {
		req.Token = e.op.Token(params, ids.ids, e.opts.DryRun)
	}
	rec := &report.Batch{Action: e.op.Action, InstanceIDs: ids.ids, DryRun: e.opts.DryRun, ClientToken: req.Token}
	if e.op.Describe != nil {
		e.op.Describe(rec, params)
	}
	fresh := func(attempt int) error {
		age := e.opts.Now().Sub(readAt)
		if age <= e.opts.Freshness || (attempt == 1 && justRead) {
			return nil
		}
		at := e.opts.Now()
		keep, ok := e.reread(ctx, ids, params, "data older than the freshness window")
		switch {
		case !ok:
			return errRereadFailed
		case len(keep.ids) < len(ids.ids):
			return &changedError{keep: keep, readAt: at}
		}
		readAt = at
		return nil
	}
	if e.opts.DryRun && !native {
		// The API has no dry run: check the data as an attempt would,
		// send nothing, and report what would be.
		if err := fresh(1); err != nil {
			return Answer{}, ids, err
		}
		rec.Result = e.op.result(true)
		e.rec.Batch(rec)
		return Answer{}, ids, nil
	}
	err = e.c.Do(ctx, e.op.Action, fresh, func() error {
		rec.Attempts++
		var err error
		answer, err = e.op.Send(ctx, req)
		if id := requestIDOf(answer, err); id != "" {
			rec.RequestIDs = append(rec.RequestIDs, id)
		}
		return err
	})
	if rec.Attempts == 0 {
		return answer, ids, err // nothing was sent: no batch to record
	}
	switch {
	case err == nil:
		rec.Result = e.op.result(req.DryRun && answer.DryRunPassed)
	default:
		rec.Result, rec.Code = string(verdict.Failed), call.Failure(err).Code
	}
	e.rec.Batch(rec)
	return answer, ids, err
}

// nativeDryRun: a dry run of this executor calls the API's own dry run.
func (e *Executor[P, R]) nativeDryRun() bool { return e.op.NativeDryRun && !e.opts.NoNativeDryRun }

func requestIDOf(a Answer, err error) string {
	var apiErr *ecsapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.RequestID
	}
	return a.RequestID
}

// reread reads ids again and re-decides them on the fresh data. It returns
// the IDs whose decision is unchanged; the others are reported with what
// changed. ok is false when the re-read failed: then nothing is written and
// every ID is reported (failed, or not attempted when there was no time
// left to re-read).
func (e *Executor[P, R]) reread(ctx context.Context, ids set, params P, why string) (keep set, ok bool) {
	fresh := map[string]R{}
	for chunk := range slices.Chunk(ids.ids, e.op.RereadLimit) {
		var got []R
		err := e.c.Do(ctx, e.op.RereadAction, nil, func() error {
			var err error
			got, err = e.op.Reread(ctx, chunk)
			return err
		})
		if err != nil {
			if errors.Is(err, call.ErrInterrupted) || (call.Interrupted(ctx) && ecsapi.Classify(err) == ecsapi.ClassCanceled) {
				e.interrupted(ids, verdict.NotStarted, "not started: the run was interrupted while re-reading it; the next run re-reads it")
				return set{}, false
			}
			if errors.Is(err, call.ErrDeadline) {
				e.holdForDeadline(ids)
				return set{}, false
			}
			f := call.Failure(err)
			f.Message = "could not re-read the batch before writing (" + why + "): " + f.Message
			switch ecsapi.Classify(err) {
			case ecsapi.ClassCanceled:
				e.rec.Incomplete()
			case ecsapi.ClassRegion:
				f.Message = regionProblem + f.Message
				e.c.Stop(f)
				e.rec.Fail(f)
			case ecsapi.ClassCredential:
				e.c.Stop(f)
				e.rec.Fail(f)
			}
			e.fail(ids, f)
			return set{}, false
		}
		for _, r := range got {
			fresh[r.ResourceID()] = r
		}
	}
	now := e.opts.Now()
	for k, id := range ids.ids {
		i := ids.idx[k]
		r, found := fresh[id]
		it := e.item(i)
		if !found {
			it.Detail = "no longer listed when re-read (" + why + ")"
			e.rec.Outcome(verdict.Gone, "", it)
			continue
		}
		v := Verdict{Keep: true}
		if e.op.Recheck != nil {
			v = e.op.Recheck(r, params, now)
		}
		if v.Keep {
			keep.ids, keep.idx = append(keep.ids, id), append(keep.idx, i)
			continue
		}
		it.Detail = v.Detail
		e.rec.Outcome(v.Outcome, v.Reason, it)
	}
	return keep, true
}
