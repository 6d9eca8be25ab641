package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// noticeOf is one instance (or resource) to tell its owner about, with
// its scope.
type noticeOf struct {
	sr *scopeRun
	n  plan.Notice
}

// Notice is one notice with the scope its mark is written in: what an
// owner's digest names. The fan-out's Plan workers record them (from
// Options.Planned: PlannedNotices), its Notify step tells the owners (Tell), and its
// Execute workers mark what was delivered (Options.Delivered).
type Notice struct {
	Account, Region string
	plan.Notice
}

func (x noticeOf) due() Notice {
	return Notice{Account: x.sr.Scope.Account, Region: x.sr.Scope.Region, Notice: x.n}
}

func (n Notice) due() Notice { return n }

// dueNotice is a notice the due order and the budget read.
type dueNotice interface{ due() Notice }

func scoped[T dueNotice](list []T) []Notice {
	out := make([]Notice, len(list))
	for i, x := range list {
		out[i] = x.due()
	}
	return out
}

// Delivery is what became of a notice's digest before the run that marks
// it (the fan-out's Notify step).
type Delivery int

// Deliveries.
const (
	// NotTold: not in the digests sent before this run (the notice is new
	// since the plan, or its owner changed): not marked; the next run
	// tells the owner.
	NotTold Delivery = iota
	Delivered
	// DeliveryFailed: the channel refused the owner's digest: not marked,
	// and the run fails naming the channel's answer.
	DeliveryFailed
	// DeliveryUnsent: owed, not sent (too little time): the next run.
	DeliveryUnsent
)

// rec is the recorder of the notice's section.
func (x noticeOf) rec() *report.ScopeRecorder {
	if x.n.Kind != "" {
		return x.sr.rec.Section(x.n.Kind)
	}
	return x.sr.rec
}

// notify serves the owners one at a time, across every scope, earliest
// due first: it sends the owner's digest, then writes the marks of that
// owner's instances and resources, before the next owner. A notice is sent
// only while the time left covers sending it and writing its marks
// before the deadline margin; an owner whose whole list does not fit is
// told only about the earliest due whose marks do. What is left waits
// for the next run, and the summary says how many and why. A notice not delivered means no mark
// (so no release on its grace) and an error naming the channel's answer.
// A dry run sends nothing and writes nothing: it reports the notice and
// mark it would.
func (e *Engine) notify(ctx context.Context, runs []*scopeRun, deadline time.Time) (*report.Notices, error) {
	byOwner := map[string][]noticeOf{}
	for _, sr := range runs {
		if sr.plan.Closed {
			continue // held with the rest of the scope
		}
		for _, n := range sr.plan.Notices {
			byOwner[n.Owner] = append(byOwner[n.Owner], noticeOf{sr, n})
		}
		sr.plan.Notices = nil
	}
	if len(byOwner) == 0 {
		return nil, nil
	}
	owners := dueOrder(byOwner)
	sum := &report.Notices{Owners: len(owners)}
	for _, list := range byOwner {
		sum.Owed += len(list)
	}
	lc := e.opts.Lifecycle
	channel := "no channel"
	if e.opts.Notifier != nil {
		channel = e.opts.Notifier.Kind()
	}
	budget := e.newNoticeBudget(deadline)
	var failed []string
	var firstErr error
	if e.opts.Delivered != nil && !e.opts.DryRun {
		return e.markDelivered(ctx, owners, byOwner, sum, channel)
	}
	for i, owner := range owners {
		if !e.opts.DryRun && call.Interrupted(ctx) {
			for _, rest := range owners[i:] {
				e.interruptedNotices(e.markable(byOwner[rest], sum), sum)
			}
			break
		}
		list := byOwner[owner]
		who := owner
		if who == "" {
			who = "the channel (no " + lc.OwnerKey + " tag)"
		}
		if e.opts.DryRun {
			for _, x := range list {
				value, _ := e.markValue(x.sr, x.n.ID, lc.MarkKey, "")
				x.rec().Outcome(verdict.WouldNotify, unverified(x.n), report.Item{ID: x.n.ID, Owner: owner, Facts: x.n.Facts,
					Detail: fmt.Sprintf("would tell %s via %s that it will be %s no earlier than %s, and write %s=%s", who, channel,
						actionVerb(x.n.Action), x.n.When.UTC().Format(time.RFC3339), lc.MarkKey, mark.Shown(value))})
			}
			continue
		}
		list = e.markable(list, sum)
		if len(list) == 0 {
			continue
		}
		sortDue(list)
		fit := budget.fitting(scoped(list))
		if fit == 0 {
			const why = "too little time left before the deadline to send it and write its mark"
			e.unsent(list, sum, why)
			for _, rest := range owners[i+1:] {
				e.unsent(e.markable(byOwner[rest], sum), sum, why)
			}
			break
		}
		if fit < len(list) {
			// Told only about what is then marked: the rest, due later,
			// wait for the next run.
			e.unsent(list[fit:], sum, "too little time left before the deadline to write the marks of all the owner's notices; told about the earlier due")
			list = list[:fit]
		}
		if e.opts.Notifier != nil {
			err, cut := budget.tell(ctx, e.opts.Notifier, owner, scoped(list))
			if err != nil && cut {
				// Our own bound ended it, to keep time for the marks: owed,
				// not failed (a part of a long digest may have gone out).
				e.unsent(list, sum, "sending took longer than the time left to write its mark; not marked")
				continue
			}
			if err != nil {
				failed = append(failed, fmt.Sprintf("%s (%d instances)", who, len(list)))
				if firstErr == nil {
					firstErr = err
				}
				e.log.Error("notice not delivered: nothing is marked, so nothing is released on its grace; the next run notifies again",
					"owner", owner, "instances", len(list), "error", err.Error())
				noticeFailed(list, owner, err.Error())
				continue
			}
		}
		start := time.Now()
		if e.markOwner(ctx, owner, who, channel, list) > 0 {
			sum.Delivered++
		}
		budget.marked(time.Since(start), scoped(list))
	}
	if len(failed) > 0 {
		return sum, fmt.Errorf("%w to %s: %w", ErrNoticeFailed, strings.Join(failed, ", "), firstErr)
	}
	return sum, nil
}

// noticeFailed records list's owner's digest refused by the channel with
// its answer: not marked, so not released on its grace.
func noticeFailed(list []noticeOf, owner, answer string) {
	for _, x := range list {
		x.rec().Outcome(verdict.Failed, verdict.NoticeFailed, report.Item{ID: x.n.ID, Owner: owner, Facts: x.n.Facts, Code: string(verdict.NoticeFailed),
			Detail: "notice failed", Message: answer + "; not marked, so not released; the next run notifies again"})
	}
}

// markDelivered writes, owner by owner, the marks of the notices whose
// digest was delivered before this run (Options.Delivered: the fan-out's
// Notify step, which told each owner once across accounts); it sends
// nothing. A notice whose digest failed is not marked and fails the run
// with the channel's answer; one owed (unsent) or not told (new since the
// plan, or its owner changed) is not marked either: the next run tells
// the owner.
func (e *Engine) markDelivered(ctx context.Context, owners []string, byOwner map[string][]noticeOf, sum *report.Notices, channel string) (*report.Notices, error) {
	var failed []string
	answer := ""
	for i, owner := range owners {
		if call.Interrupted(ctx) {
			for _, rest := range owners[i:] {
				e.interruptedNotices(e.markable(byOwner[rest], sum), sum)
			}
			break
		}
		who := owner
		if who == "" {
			who = "the channel (no " + e.opts.Lifecycle.OwnerKey + " tag)"
		}
		var told, refused []noticeOf
		for _, x := range e.markable(byOwner[owner], sum) {
			status, why := e.opts.Delivered(x.due())
			switch status {
			case Delivered:
				told = append(told, x)
			case DeliveryFailed:
				refused = append(refused, x)
				if answer == "" {
					answer = why
				}
				noticeFailed([]noticeOf{x}, owner, why)
			case DeliveryUnsent:
				e.unsent([]noticeOf{x}, sum, why)
			default:
				x.rec().Outcome(verdict.Skipped, verdict.NotConfirmed, report.Item{ID: x.n.ID, Owner: owner, Facts: x.n.Facts,
					Detail: "notice not sent: not in the digests told before the marks (new since the plan, or its owner or expiry changed); not marked; the next run tells the owner"})
				sum.AddUnsent(owner, string(verdict.NotConfirmed))
			}
		}
		if len(refused) > 0 {
			failed = append(failed, fmt.Sprintf("%s (%d instances)", who, len(refused)))
			e.log.Error("notice not delivered: nothing is marked, so nothing is released on its grace; the next run notifies again",
				"owner", owner, "instances", len(refused), "error", answer)
		}
		if len(told) > 0 && e.markOwner(ctx, owner, who, channel, told) > 0 {
			sum.Delivered++
		}
	}
	if len(failed) > 0 {
		return sum, fmt.Errorf("%w to %s: %s", ErrNoticeFailed, strings.Join(failed, ", "), answer)
	}
	return sum, nil
}

// PlannedNotices are the notices of the scopes planned, with their
// scopes, but those of a scope that failed closed (nothing is written
// there).
func PlannedNotices(planned []Planned) []Notice {
	var out []Notice
	for _, p := range planned {
		if p.Plan.Closed {
			continue
		}
		for _, n := range p.Plan.Notices {
			out = append(out, Notice{Account: p.Plan.Scope.Account, Region: p.Plan.Scope.Region, Notice: n})
		}
	}
	return out
}

// TellOptions configure Tell.
type TellOptions struct {
	// Notifier is the channel; nil: there is none, and nothing is sent
	// (the marks are written without a notice, as the one-invocation mode
	// writes them).
	Notifier       Notifier
	DryRun         bool
	DeadlineMargin time.Duration
	// Told says an owner's digest was delivered by an earlier attempt:
	// it is not sent again.
	Told func(owner string) bool
	// Record keeps a delivered owner's outcome before the next owner is
	// told, so that a retry does not send it again; its error ends Tell.
	Record func(OwnerTold) error
}

// OwnerTold is what became of one owner's digest.
type OwnerTold struct {
	Owner  string
	Status Delivery
	// Why is the channel's answer (DeliveryFailed) or why it was not sent
	// (DeliveryUnsent).
	Why string
	// Notices are those the digest named (DeliveryUnsent: those owed).
	Notices []Notice
	// WouldNotify: a dry run; nothing was sent.
	WouldNotify bool
}

// Tell sends one digest per owner of notices, across every scope and
// account, earliest due first, within the time ctx's deadline leaves
// before the margin. It writes no mark (the fan-out's Execute workers
// write them, once they read what was delivered), so only the sends take
// this invocation's time. A dry run sends nothing. Owners Told already
// are not sent again and are left out of the answer. The error is
// Record's; a refused digest is an owner's outcome, not an error.
func Tell(ctx context.Context, opts TellOptions, notices []Notice) ([]OwnerTold, error) {
	byOwner := map[string][]Notice{}
	for _, n := range notices {
		byOwner[n.Owner] = append(byOwner[n.Owner], n)
	}
	deadline, _ := ctx.Deadline()
	budget := newNoticeBudget(deadline, opts.DeadlineMargin, 1, opts.Notifier)
	budget.noMarks = true
	var out []OwnerTold
	for _, owner := range dueOrder(byOwner) {
		if opts.Told != nil && opts.Told(owner) {
			continue
		}
		list := byOwner[owner]
		sortDue(list)
		t := OwnerTold{Owner: owner, Status: Delivered, Notices: list}
		switch {
		case opts.DryRun:
			t.WouldNotify = true
		case opts.Notifier == nil:
		case call.Interrupted(ctx):
			t.Status, t.Why = DeliveryUnsent, "the run was interrupted before the owner's digest was sent"
		case budget.fitting(list) == 0:
			t.Status, t.Why = DeliveryUnsent, "too little time left before the deadline to send the owner's digest"
		default:
			err, cut := budget.tell(ctx, opts.Notifier, owner, list)
			switch {
			case err != nil && cut:
				t.Status, t.Why = DeliveryUnsent, "sending took longer than the time left; not marked"
			case err != nil:
				t.Status, t.Why = DeliveryFailed, err.Error()
			}
		}
		if t.Status == Delivered && !t.WouldNotify && opts.Notifier != nil && opts.Record != nil {
			if err := opts.Record(t); err != nil {
				return out, err
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// dueOrder orders the owners earliest due first (their earliest expiry,
// then their earliest action, then the owner), so that a run cut short
// leaves the latest, and the next run, which no longer owes the owners it
// told, goes on where this one stopped.
func dueOrder[T dueNotice](byOwner map[string][]T) []string {
	type due struct {
		owner             string
		expires, earliest time.Time
	}
	dues := make([]due, 0, len(byOwner))
	for owner, list := range byOwner {
		first := list[0].due()
		d := due{owner: owner, expires: first.ExpiresAt, earliest: first.When}
		for _, x := range list[1:] {
			n := x.due()
			if n.ExpiresAt.Before(d.expires) {
				d.expires = n.ExpiresAt
			}
			if n.When.Before(d.earliest) {
				d.earliest = n.When
			}
		}
		dues = append(dues, d)
	}
	slices.SortFunc(dues, func(a, b due) int {
		if c := a.expires.Compare(b.expires); c != 0 {
			return c
		}
		if c := a.earliest.Compare(b.earliest); c != 0 {
			return c
		}
		return strings.Compare(a.owner, b.owner)
	})
	owners := make([]string, len(dues))
	for i, d := range dues {
		owners[i] = d.owner
	}
	return owners
}

// sortDue orders one owner's notices earliest due first, as dueOrder
// orders the owners.
func sortDue[T dueNotice](list []T) {
	slices.SortStableFunc(list, func(x, y T) int {
		a, b := x.due(), y.due()
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		if c := a.When.Compare(b.When); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// markable drops the notices whose scope was stopped (a credential
// failure): their marks could not be written, so they are not sent.
func (e *Engine) markable(list []noticeOf, sum *report.Notices) []noticeOf {
	var out []noticeOf
	for _, x := range list {
		if stopped := x.sr.c.Stopped(); stopped != nil {
			x.rec().Outcome(verdict.NotAttempted, verdict.ScopeStopped, report.Item{ID: x.n.ID, Owner: x.n.Owner, Facts: x.n.Facts,
				Detail: "notice not sent: the region was stopped by " + stopped.Code + ", so its mark could not be written"})
			sum.AddUnsent(x.n.Owner, string(verdict.ScopeStopped))
			continue
		}
		out = append(out, x)
	}
	return out
}

// unsent records notices owed but not sent: the next run sends them.
func (e *Engine) unsent(list []noticeOf, sum *report.Notices, why string) {
	for _, x := range list {
		x.rec().Outcome(verdict.NotAttempted, verdict.Deadline, report.Item{ID: x.n.ID, Owner: x.n.Owner, Facts: x.n.Facts,
			Detail: "notice not sent: " + why + "; owed, the next run tells the owner (earliest due first)"})
		x.sr.rec.Incomplete()
		sum.AddUnsent(x.n.Owner, string(verdict.Deadline))
	}
}

// interruptedNotices records notices the operator's interruption left
// unsent: owed, and the next run tells the owners.
func (e *Engine) interruptedNotices(list []noticeOf, sum *report.Notices) {
	for _, x := range list {
		x.rec().Outcome(verdict.Interrupted, verdict.NotStarted, report.Item{ID: x.n.ID, Owner: x.n.Owner, Facts: x.n.Facts,
			Detail: "notice not sent: the run was interrupted; owed, the next run tells the owner"})
		x.sr.rec.Incomplete()
		sum.AddUnsent(x.n.Owner, string(verdict.Interrupted))
	}
}

// markOwner writes the marks of one owner's delivered notice, scope by
// scope and kind by kind, and returns how many were written.
func (e *Engine) markOwner(ctx context.Context, owner, who, channel string, list []noticeOf) int {
	type part struct {
		sr   *scopeRun
		kind string
	}
	var order []part
	items := map[part][]execute.Item[ops.MarkParams]{}
	for _, x := range list {
		detail := fmt.Sprintf("told %s via %s: %s no earlier than %s", who, channel, actionVerb(x.n.Action), x.n.When.UTC().Format(time.RFC3339))
		if e.opts.Notifier == nil {
			detail = fmt.Sprintf("marked without a notice (no channel: REAPER_NOTIFY_URL unset): %s no earlier than %s", actionVerb(x.n.Action), x.n.When.UTC().Format(time.RFC3339))
		}
		if x.n.Again {
			detail += "; a repeated notice (its mark did not count)"
		}
		if x.n.Unverified {
			detail = "its mark did not verify (forged or altered), so it counted as none; " + detail
		}
		p := part{x.sr, x.n.Kind}
		if _, ok := items[p]; !ok {
			order = append(order, p)
		}
		value, at := e.markValue(x.sr, x.n.ID, e.opts.Lifecycle.MarkKey, "")
		items[p] = append(items[p], execute.Item[ops.MarkParams]{ID: x.n.ID, Params: ops.MarkParams{Key: e.opts.Lifecycle.MarkKey, Value: value},
			ReadAt: x.n.ReadAt, Base: report.Item{Owner: owner, Facts: x.n.Facts, NotifiedAt: report.Time(at)}, Detail: detail, DoneReason: unverified(x.n)})
	}
	xo := execute.Options{DryRun: e.opts.DryRun, Freshness: e.opts.Freshness, Now: e.opts.Now}
	written := 0
	for _, p := range order {
		if p.kind == "" {
			op := ops.Mark(p.sr.instances(e), p.sr.API)
			written += len(execute.New(op, p.sr.c, p.sr.rec, xo).Run(ctx, items[p]))
			continue
		}
		kind, ok := kinds.Named(p.kind)
		if !ok {
			continue // planned only from the list
		}
		written += len(execute.New(e.tagOp(p.sr, kind), p.sr.c, p.sr.rec.Section(p.kind), xo).Run(ctx, items[p]))
	}
	return written
}

// noticeBudget says how much of an owner's notice and marks fit before
// the deadline margin, from what the run has seen them take.
type noticeBudget struct {
	deadline time.Time // the invocation's; zero for none
	margin   time.Duration
	// conc is the batch concurrency the marks run at: each mark is its
	// own call (signed for its resource), conc at a time per scope.
	conc int
	// pace is the channel's pacing: every message after the first waits
	// for it. send is the longest send seen, round the longest round of
	// concurrent mark calls; defaultCallCost before one was seen.
	pace, send, round  time.Duration
	sentAny, markedAny bool
	// noMarks: the marks are written in another invocation (the fan-out's
	// Notify step only sends), so they take none of this one's time.
	noMarks bool
}

// defaultCallCost is what one send, or one round of mark calls, is
// assumed to take before the run has seen one.
const defaultCallCost = time.Second

// minRoundCost is the least a round of mark calls is assumed to take,
// however fast the ones seen were.
const minRoundCost = 100 * time.Millisecond

// pacer is a channel that paces its messages (notify.Notifier).
type pacer interface{ Interval() time.Duration }

func (e *Engine) newNoticeBudget(deadline time.Time) *noticeBudget {
	return newNoticeBudget(deadline, e.opts.DeadlineMargin, e.opts.BatchConcurrency, e.opts.Notifier)
}

func newNoticeBudget(deadline time.Time, margin time.Duration, conc int, n Notifier) *noticeBudget {
	b := &noticeBudget{deadline: deadline, margin: margin, conc: max(1, conc), send: defaultCallCost, round: defaultCallCost}
	if p, ok := n.(pacer); ok {
		b.pace = p.Interval()
	}
	return b
}

// tell sends owner's digest of list, bounded so that list's marks can
// still be written; cut says that bound ended it (owed, not failed: a
// part of a long digest may have gone out).
func (b *noticeBudget) tell(ctx context.Context, n Notifier, owner string, list []Notice) (err error, cut bool) {
	sendCtx, cancel := b.sendContext(ctx, list)
	defer cancel()
	start := time.Now()
	err = n.Notify(sendCtx, Digest(owner, list))
	b.sent(time.Since(start))
	return err, sendCtx.Err() != nil && ctx.Err() == nil
}

func (b *noticeBudget) sendCost() time.Duration {
	if !b.sentAny {
		return b.send
	}
	return max(b.send, b.pace)
}

// rounds is how many rounds of concurrent calls list's marks take: one
// call a mark, conc at a time, each scope's and kind's marks in turn.
func (b *noticeBudget) rounds(list []Notice) int {
	if b.noMarks {
		return 0
	}
	type part struct{ account, region, kind string }
	per := map[part]int{}
	for _, n := range list {
		per[part{n.Account, n.Region, n.Kind}]++
	}
	r := 0
	for _, n := range per {
		r += (n + b.conc - 1) / b.conc
	}
	return r
}

// markCost is what writing list's marks is expected to take.
func (b *noticeBudget) markCost(list []Notice) time.Duration {
	return time.Duration(b.rounds(list)) * b.round
}

// fitting is how many of list, from the first, can be sent and marked
// before the margin: 0 for none.
func (b *noticeBudget) fitting(list []Notice) int {
	if b.deadline.IsZero() {
		return len(list)
	}
	left := time.Until(b.deadline) - b.margin - b.sendCost()
	k := len(list)
	for k > 0 && b.markCost(list[:k]) > left {
		k--
	}
	return k
}

// sendContext bounds a send so that list's marks can still be written
// before the margin after it.
func (b *noticeBudget) sendContext(ctx context.Context, list []Notice) (context.Context, context.CancelFunc) {
	if b.deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, b.deadline.Add(-b.margin-b.markCost(list)))
}

func (b *noticeBudget) sent(d time.Duration) { b.send, b.sentAny = max(b.send, d), true }

// marked learns from writing list's marks in d: the longest round seen.
func (b *noticeBudget) marked(d time.Duration, list []Notice) {
	r := b.rounds(list)
	if r == 0 {
		return
	}
	round := max(minRoundCost, d/time.Duration(r))
	if b.markedAny {
		round = max(b.round, round)
	}
	b.round, b.markedAny = round, true
}

// unverified is the reason that goes with a notice that replaces a mark
// that did not verify.
func unverified(n plan.Notice) verdict.Reason {
	if n.Unverified {
		return verdict.UnverifiedMark
	}
	return ""
}

func actionVerb(action string) string {
	switch action {
	case decide.ActionStop:
		return "stopped"
	case decide.ActionReleaseOnceStopped:
		return "released once it is stopped (not while it runs)"
	}
	return "released"
}

// Digest is one owner's notice of list, across scopes and accounts.
func Digest(owner string, list []Notice) notify.Notice {
	n := notify.Notice{Owner: owner}
	for _, x := range list {
		n.Items = append(n.Items, notify.Item{Kind: x.Kind, Noun: nounOf(x.Kind), InstanceID: x.ID, Name: x.Name, Region: x.Region, Account: x.Account,
			ExpiresAt: x.ExpiresAt, Action: x.Action, When: x.When, Again: x.Again})
		n.Again = n.Again || x.Again
	}
	slices.SortFunc(n.Items, func(a, b notify.Item) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	return n
}

// summarise sends the run's summary after a run that released, stopped,
// tripped a cap or failed in any way, an unreachable account or a region
// that could not be listed included (never in a dry run: a dry run sends
// nothing). A summary the channel refuses is logged; it does not fail the
// run.
func (e *Engine) summarise(ctx context.Context, rep *report.Report, capTripped bool) {
	if e.opts.Notifier == nil || e.opts.DryRun {
		return
	}
	o := rep.Totals.Outcomes
	s := notify.Summary{RunID: rep.RunID, Released: o[string(verdict.Released)], Stopped: o[string(verdict.Stopped)],
		Notified: o[string(verdict.Notified)], Failed: failedCount(rep), CapTripped: capTripped, Error: rep.Error}
	if s.Released == 0 && s.Stopped == 0 && s.Failed == 0 && !capTripped && rep.Error == "" {
		return
	}
	if err := e.opts.Notifier.Report(ctx, s); err != nil {
		e.log.Warn("the run summary was not delivered", "error", err.Error())
		if rep.Warning != "" {
			rep.Warning += "; "
		}
		rep.Warning += "the run summary was not delivered: " + err.Error()
	}
}

// withoutIncomplete drops ErrIncomplete from a run error that is joined
// with a failure: a failed run is not merely incomplete.
func withoutIncomplete(err error) error {
	if errors.Is(err, ErrIncomplete) {
		return nil
	}
	return err
}

// nounOf is what a notice calls a resource of kind ("" for an instance).
func nounOf(kind string) string {
	if k, ok := kinds.Named(kind); ok {
		return k.Noun
	}
	return ""
}
