package handler

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// withNotices records in the plan the notices a Plan worker's dry run
// would send, by region: Notify tells their owners across accounts, and
// Execute marks those delivered.
func withNotices(p *fanout.Plan, due []engine.Notice, markKey string) {
	byRegion := map[string][]fanout.Notice{}
	for _, n := range due {
		byRegion[n.Region] = append(byRegion[n.Region], fanout.Notice{Kind: n.Kind, ID: n.ID, Name: n.Name, Owner: n.Owner, ExpiresAt: n.ExpiresAt.UTC(),
			Action: n.Action, When: n.When.UTC(), Again: n.Again, Unverified: n.Unverified, Facts: n.Facts, Mark: markKey})
	}
	for i := range p.Regions {
		r := &p.Regions[i]
		if r.Closed {
			continue // nothing is written in a region that failed closed
		}
		r.Owed = byRegion[r.Region] // RegionPlans counted them in Notices
	}
}

// noticesOf are the engine's notices of an account's plan.
func noticesOf(p fanout.Plan) []engine.Notice {
	var out []engine.Notice
	for _, r := range p.Regions {
		for _, n := range r.Owed {
			out = append(out, engine.Notice{Account: p.Account, Region: r.Region, Notice: plan.Notice{Kind: n.Kind, ID: n.ID, Name: n.Name, Owner: n.Owner,
				ExpiresAt: n.ExpiresAt, Action: n.Action, When: n.When, Again: n.Again, Unverified: n.Unverified, Facts: n.Facts}})
		}
	}
	return out
}

func refOf(n engine.Notice) fanout.NoticeRef {
	return fanout.NoticeRef{Account: n.Account, Region: n.Region, Kind: n.Kind, ID: n.ID, Action: n.Action, ExpiresAt: n.ExpiresAt.UTC()}
}

// notify tells each owner once, across every account the decision
// executes, what is due there, before any mark: one digest per owner,
// through the configured channel, within the invocation's time. Each
// delivered digest is recorded in OSS as soon as it went out, so a
// retried Notify does not send it again; the run's record then tells the
// Execute workers what they may mark. A held run notifies nobody; a dry
// run sends nothing.
func (w *worker) notify(ctx context.Context, run fanout.RunID) (any, error) {
	var d fanout.Decision
	found, err := w.store.Get(ctx, run, fanout.OrgAccount, fanout.DocDecision, &d)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: read the decision: %w", ErrWorker, err)
	case !found || d.Run != run:
		return nil, fmt.Errorf("%w: run %s has no decision: Decide did not finish", ErrWorker, run)
	}
	answer := fanout.DecideSummary(d)
	answer.Phase = fanout.PhaseNotify
	notifier, err := w.cfg.Notifier()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	rec := fanout.NoticeRecord{Run: run, DryRun: w.cfg.DryRun, Owners: []fanout.OwnerNotice{}}
	var channel engine.Notifier
	if notifier != nil {
		channel, rec.Channel = notifier, notifier.Kind()
	}
	var notices []engine.Notice
	if d.Status == fanout.DecisionProceed {
		for _, a := range d.Execute {
			// The notices of the plan Decide counted, not of one written since.
			p, err := w.countedPlan(ctx, run, d, a)
			if err != nil {
				return nil, err
			}
			notices = append(notices, noticesOf(p)...)
		}
	}
	owed := map[string][]fanout.NoticeRef{}
	for _, n := range notices {
		owed[n.Owner] = append(owed[n.Owner], refOf(n))
	}
	// A retry reads back the owners an earlier attempt told; the first
	// attempt finds none and reads nothing.
	first := true
	if len(notices) > 0 && channel != nil && !w.cfg.DryRun {
		if first, err = w.store.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocNotifyStarted, struct{}{}); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrWorker, err)
		}
	}
	var readErr error
	told := func(owner string) bool {
		switch {
		case readErr != nil:
			return true // send nothing more: the invocation fails, and its retry reads again
		case first:
			return false
		}
		var o fanout.OwnerNotice
		found, err := w.store.Get(ctx, run, fanout.OrgAccount, fanout.OwnerDoc(owner), &o)
		if err != nil {
			// Unknown whether the owner was told: not sent again now.
			readErr = err
			return true
		}
		if found && o.Verify(w.cfg.MarkSecret, w.cfg.MarkSecretPrev) != nil {
			// Anyone who may write the bucket could forge it to have the
			// owner's notices marked untold: refused, the invocation fails.
			readErr = fmt.Errorf("owner record %s: %w", fanout.OwnerDoc(owner), fanout.ErrUnsealed)
			return true
		}
		if found && o.Run == run && o.Owner == owner && o.Status == fanout.NoticeDelivered && !fanout.SameNotices(o.Notices, owed[owner]) {
			// The plans are those Decide counted, so an earlier attempt
			// told the owner these very notices: this record is not its.
			readErr = fmt.Errorf("owner record %s names other notices than the plans owe that owner: not this run's Notify's", fanout.OwnerDoc(owner))
			return true
		}
		if found && o.Run == run && o.Owner == owner && o.Status == fanout.NoticeDelivered {
			rec.Owners = append(rec.Owners, o)
			w.log.Info("notice already delivered by an earlier attempt: not sent again", "owner", owner, "notices", len(o.Notices))
			return true
		}
		return false
	}
	record := func(t engine.OwnerTold) error {
		o := ownerNotice(run, t)
		if err := o.Seal(w.cfg.MarkSecret); err != nil {
			return err
		}
		return w.store.Put(ctx, run, fanout.OrgAccount, fanout.OwnerDoc(t.Owner), o)
	}
	margin := w.cfg.Engine(string(run), w.now).DeadlineMargin
	out, err := engine.Tell(ctx, engine.TellOptions{Notifier: channel, DryRun: w.cfg.DryRun, DeadlineMargin: margin, Told: told, Record: record}, notices)
	if err = errors.Join(err, readErr); err != nil {
		// Fail: the flow retries Notify, which does not resend what it recorded.
		return nil, fmt.Errorf("%w: record the notices: %w", ErrWorker, err)
	}
	for _, t := range out {
		o := ownerNotice(run, t)
		rec.Owners = append(rec.Owners, o)
		if o.Status == fanout.NoticeFailed {
			w.log.Error("notice not delivered: nothing is marked for it, so nothing is released on its grace; the next run notifies again",
				"owner", o.Owner, "notices", len(o.Notices), "error", o.Why)
		}
	}
	if err := rec.Seal(w.cfg.MarkSecret); err != nil {
		return nil, fmt.Errorf("%w: seal the notices' record: %w", ErrWorker, err)
	}
	if err := w.store.Put(ctx, run, fanout.OrgAccount, fanout.DocNotices, rec); err != nil {
		return nil, fmt.Errorf("%w: write the notices' record: %w", ErrWorker, err)
	}
	s := rec.Summary()
	if s == nil {
		s = &report.Notices{}
	}
	w.log.Info("notices", "owners", s.Owners, "owed", s.Owed, "delivered", s.Delivered, "unsent", s.UnsentItems, "failed", len(rec.Failures()), "dry_run", w.cfg.DryRun)
	return answer, nil
}

func ownerNotice(run fanout.RunID, t engine.OwnerTold) fanout.OwnerNotice {
	o := fanout.OwnerNotice{Run: run, Owner: t.Owner, Why: t.Why, Notices: make([]fanout.NoticeRef, 0, len(t.Notices))}
	switch {
	case t.WouldNotify:
		o.Status = fanout.NoticeWouldNotify
	case t.Status == engine.Delivered:
		o.Status = fanout.NoticeDelivered
	case t.Status == engine.DeliveryFailed:
		o.Status = fanout.NoticeFailed
	default:
		o.Status = fanout.NoticeUnsent
	}
	for _, n := range t.Notices {
		o.Notices = append(o.Notices, refOf(n))
	}
	return o
}

// deliveredBy is an Execute worker's gate: a notice is marked only when
// the run's Notify step delivered its owner's digest naming it.
func deliveredBy(rec *fanout.NoticeRecord) func(engine.Notice) (engine.Delivery, string) {
	d := rec.Deliveries()
	return func(n engine.Notice) (engine.Delivery, string) {
		o := d.Of(refOf(n), n.Owner)
		switch {
		case o == nil:
			return engine.NotTold, ""
		case o.Status == fanout.NoticeDelivered:
			return engine.Delivered, ""
		case o.Status == fanout.NoticeFailed:
			return engine.DeliveryFailed, o.Why
		case o.Status == fanout.NoticeWouldNotify:
			return engine.DeliveryUnsent, "Notify ran as a dry run and sent nothing"
		default:
			return engine.DeliveryUnsent, o.Why
		}
	}
}
