package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/execute"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
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

// notify sends one digest per owner, across every scope, and queues a
// mark for each instance whose notice was delivered; the executor writes
// the marks. A notice not delivered means no mark (so no release on its
// grace) and an error naming the channel's answer. A dry run sends
// nothing and writes nothing: it reports the notice and mark it would.
func (e *Engine) notify(ctx context.Context, runs []*scopeRun) error {
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
	owners := make([]string, 0, len(byOwner))
	for o := range byOwner {
		owners = append(owners, o)
	}
	slices.Sort(owners)
	lc := e.opts.Lifecycle
	channel := "no channel"
	if e.opts.Notifier != nil {
		channel = e.opts.Notifier.Kind()
	}
	var failed []string
	var firstErr error
	for _, owner := range owners {
		list := byOwner[owner]
		at := e.opts.Now()
		mark := ops.MarkParams{Key: lc.MarkKey, Value: decide.FormatMark(at)}
		who := owner
		if who == "" {
			who = "the channel (no " + lc.OwnerKey + " tag)"
		}
		if e.opts.DryRun {
			for _, x := range list {
				x.rec().Outcome(verdict.WouldNotify, "", report.Item{ID: x.n.ID, Owner: owner, Facts: x.n.Facts,
					Detail: fmt.Sprintf("would tell %s via %s that it will be %s no earlier than %s, and write %s=%s", who, channel,
						actionVerb(x.n.Action), x.n.When.UTC().Format(time.RFC3339), mark.Key, mark.Value)})
			}
			continue
		}
		if e.opts.Notifier != nil {
			if err := e.opts.Notifier.Notify(ctx, digest(owner, list)); err != nil {
				failed = append(failed, fmt.Sprintf("%s (%d instances)", who, len(list)))
				if firstErr == nil {
					firstErr = err
				}
				e.log.Error("notice not delivered: nothing is marked, so nothing is released on its grace; the next run notifies again",
					"owner", owner, "instances", len(list), "error", err.Error())
				for _, x := range list {
					x.rec().Outcome(verdict.Failed, verdict.NoticeFailed, report.Item{ID: x.n.ID, Owner: owner, Facts: x.n.Facts, Code: string(verdict.NoticeFailed),
						Message: err.Error() + "; not marked, so not released; the next run notifies again"})
				}
				continue
			}
		}
		for _, x := range list {
			detail := fmt.Sprintf("told %s via %s: %s no earlier than %s", who, channel, actionVerb(x.n.Action), x.n.When.UTC().Format(time.RFC3339))
			if e.opts.Notifier == nil {
				detail = fmt.Sprintf("marked without a notice (no channel: REAPER_NOTIFY_URL unset): %s no earlier than %s", actionVerb(x.n.Action), x.n.When.UTC().Format(time.RFC3339))
			}
			if x.n.Again {
				detail += "; a repeated notice (its mark did not count)"
			}
			item := execute.Item[ops.MarkParams]{ID: x.n.ID, Params: mark, ReadAt: x.n.ReadAt,
				Base: report.Item{Owner: owner, Facts: x.n.Facts, NotifiedAt: at.UTC().Format(time.RFC3339)}, Detail: detail}
			if x.n.Kind == "" {
				x.sr.marks = append(x.sr.marks, item)
				continue
			}
			if x.sr.resMarks == nil {
				x.sr.resMarks = map[string][]execute.Item[ops.MarkParams]{}
			}
			x.sr.resMarks[x.n.Kind] = append(x.sr.resMarks[x.n.Kind], item)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%w to %s: %w", ErrNoticeFailed, strings.Join(failed, ", "), firstErr)
	}
	return nil
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
		n.Items = append(n.Items, notify.Item{Kind: x.n.Kind, InstanceID: x.n.ID, Name: x.n.Name, Region: x.sr.Scope.Region, Account: x.sr.Scope.Account,
			ExpiresAt: x.n.ExpiresAt, Action: x.n.Action, When: x.n.When, Again: x.n.Again})
		n.Again = n.Again || x.n.Again
	}
	slices.SortFunc(n.Items, func(a, b notify.Item) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	return n
}

// summarise sends the run's summary after a run that released, stopped,
// failed or tripped a cap (never in a dry run: a dry run sends nothing). A
// summary the channel refuses is logged; it does not fail the run.
func (e *Engine) summarise(ctx context.Context, rep *report.Report, capTripped bool) {
	if e.opts.Notifier == nil || e.opts.DryRun {
		return
	}
	o := rep.Totals.Outcomes
	s := notify.Summary{RunID: rep.RunID, Released: o[string(verdict.Released)], Stopped: o[string(verdict.Stopped)],
		Notified: o[string(verdict.Notified)], Failed: failedCount(rep), CapTripped: capTripped, Error: rep.Error}
	if s.Released == 0 && s.Stopped == 0 && s.Failed == 0 && !capTripped {
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
