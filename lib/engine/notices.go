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
		fit := budget.fitting(list)
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
			sendCtx, cancel := budget.sendContext(ctx, list)
			start := time.Now()
			err := e.opts.Notifier.Notify(sendCtx, digest(owner, list))
			budget.sent(time.Since(start))
			cut := sendCtx.Err() != nil && ctx.Err() == nil
			cancel()
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
				for _, x := range list {
					x.rec().Outcome(verdict.Failed, verdict.NoticeFailed, report.Item{ID: x.n.ID, Owner: owner, Facts: x.n.Facts, Code: string(verdict.NoticeFailed),
						Detail: "notice failed", Message: err.Error() + "; not marked, so not released; the next run notifies again"})
				}
				continue
			}
		}
		start := time.Now()
		if e.markOwner(ctx, owner, who, channel, list) > 0 {
			sum.Delivered++
		}
		budget.marked(time.Since(start), list)
	}
	if len(failed) > 0 {
		return sum, fmt.Errorf("%w to %s: %w", ErrNoticeFailed, strings.Join(failed, ", "), firstErr)
	}
	return sum, nil
}

// dueOrder orders the owners earliest due first (their earliest expiry,
// then their earliest action, then the owner), so that a run cut short
// leaves the latest, and the next run, which no longer owes the owners it
// told, goes on where this one stopped.
func dueOrder(byOwner map[string][]noticeOf) []string {
	type due struct {
		owner             string
		expires, earliest time.Time
	}
	dues := make([]due, 0, len(byOwner))
	for owner, list := range byOwner {
		d := due{owner: owner, expires: list[0].n.ExpiresAt, earliest: list[0].n.When}
		for _, x := range list[1:] {
			if x.n.ExpiresAt.Before(d.expires) {
				d.expires = x.n.ExpiresAt
			}
			if x.n.When.Before(d.earliest) {
				d.earliest = x.n.When
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
func sortDue(list []noticeOf) {
	slices.SortStableFunc(list, func(a, b noticeOf) int {
		if c := a.n.ExpiresAt.Compare(b.n.ExpiresAt); c != 0 {
			return c
		}
		if c := a.n.When.Compare(b.n.When); c != 0 {
			return c
		}
		return strings.Compare(a.n.ID, b.n.ID)
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
	b := &noticeBudget{deadline: deadline, margin: e.opts.DeadlineMargin, conc: max(1, e.opts.BatchConcurrency),
		send: defaultCallCost, round: defaultCallCost}
	if p, ok := e.opts.Notifier.(pacer); ok {
		b.pace = p.Interval()
	}
	return b
}

func (b *noticeBudget) sendCost() time.Duration {
	if !b.sentAny {
		return b.send
	}
	return max(b.send, b.pace)
}

// rounds is how many rounds of concurrent calls list's marks take: one
// call a mark, conc at a time, each scope's and kind's marks in turn.
func (b *noticeBudget) rounds(list []noticeOf) int {
	type part struct {
		sr   *scopeRun
		kind string
	}
	per := map[part]int{}
	for _, x := range list {
		per[part{x.sr, x.n.Kind}]++
	}
	r := 0
	for _, n := range per {
		r += (n + b.conc - 1) / b.conc
	}
	return r
}

// markCost is what writing list's marks is expected to take.
func (b *noticeBudget) markCost(list []noticeOf) time.Duration {
	return time.Duration(b.rounds(list)) * b.round
}

// fitting is how many of list, from the first, can be sent and marked
// before the margin: 0 for none.
func (b *noticeBudget) fitting(list []noticeOf) int {
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
func (b *noticeBudget) sendContext(ctx context.Context, list []noticeOf) (context.Context, context.CancelFunc) {
	if b.deadline.IsZero() {
		return context.WithCancel(ctx)
	}
	return context.WithDeadline(ctx, b.deadline.Add(-b.margin-b.markCost(list)))
}

func (b *noticeBudget) sent(d time.Duration) { b.send, b.sentAny = max(b.send, d), true }

// marked learns from writing list's marks in d: the longest round seen.
func (b *noticeBudget) marked(d time.Duration, list []noticeOf) {
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

// digest is one owner's notice.
func digest(owner string, list []noticeOf) notify.Notice {
	n := notify.Notice{Owner: owner}
	for _, x := range list {
		n.Items = append(n.Items, notify.Item{Kind: x.n.Kind, Noun: nounOf(x.n.Kind), InstanceID: x.n.ID, Name: x.n.Name, Region: x.sr.Scope.Region, Account: x.sr.Scope.Account,
			ExpiresAt: x.n.ExpiresAt, Action: x.n.Action, When: x.n.When, Again: x.n.Again})
		n.Again = n.Again || x.n.Again
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
