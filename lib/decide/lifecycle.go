package decide

import (
	"fmt"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Lifecycle is mark → notify → (stop) → release, kept in tags on the
// instance so that any tick, retry or overlapping run sees the same truth.
type Lifecycle struct {
	// On: releases (and stops) wait for a counting mark at least Grace old.
	// Off, the rules release as soon as an instance is eligible.
	On bool
	// Notice: owners are told this long before an instance's expiry.
	Notice time.Duration
	// Grace: the least time between an instance's notice and its release.
	Grace time.Duration
	// MarkKey holds the notice time; StopMarkKey the time of the stop.
	MarkKey, StopMarkKey string
	// OwnerKey names the owner.
	OwnerKey string
	// Stop: a due Running instance is stopped (after its grace), then
	// released once it has stayed stopped for the grace.
	Stop bool
	// Force: a due Running instance is released as it runs
	// (REAPER_RUNNING=force). Neither Stop nor Force: it is left alone while
	// it runs, and its notice says so.
	Force bool
	// Marks sign and verify the marks (REAPER_MARK_SECRET): a mark that
	// does not verify is no mark.
	Marks mark.Keys
	// Clock is the API's clock (the Date of its answers): marks are
	// written in its time, so their age is measured by it too, and a
	// runner's slow or fast clock never shortens a grace. Nil: the now
	// PlanLifecycle is given.
	Clock func() time.Time
}

// MarkNow is the time marks are read (and written) by.
func (lc Lifecycle) MarkNow(now time.Time) time.Time {
	if lc.Clock != nil {
		return lc.Clock()
	}
	return now
}

// DecideNow is the time an instance or resource is decided at. With the
// lifecycle on it is MarkNow: the expiry, the notice window and the grace
// are measured on the clock the marks are written in, or a runner days
// fast tells owners before the window, writes a mark that does not count
// yet, and tells them again every hour.
func (lc Lifecycle) DecideNow(now time.Time) time.Time {
	if lc.On {
		return lc.MarkNow(now)
	}
	return now
}

// Actions a notice announces.
const (
	ActionRelease = "release"
	ActionStop    = "stop"
	// ActionReleaseOnceStopped: nothing happens while it runs; released
	// once it is stopped (REAPER_RUNNING=skip).
	ActionReleaseOnceStopped = "release-once-stopped"
)

// Step is what a run does to an instance.
type Step int

// Steps.
const (
	StepSkip    Step = iota // nothing (the Decision's reason says why)
	StepNotify              // tell the owner and write the mark
	StepWait                // notified; the grace has not passed
	StepStop                // stop it (REAPER_RUNNING=stop)
	StepRelease             // release it (the Decision's flags)
	// StepMarkStopped: stopped, but its stop mark is present and does not
	// verify (forged, altered): treated as stopped now, it gets a fresh
	// stop mark and waits the whole stop grace (reason unverified-mark).
	StepMarkStopped
)

// Plan is an instance's step in this run.
type Plan struct {
	Step     Step
	Decision Decision // the rules' verdict; its Flags for StepRelease
	// Reason and Detail for StepSkip and StepWait.
	Reason verdict.Reason
	Detail string
	Owner  string
	// For StepNotify: what will happen (an Action) and no earlier than
	// when; Again when the owner was told before and that notice no longer
	// counts (it carries a mark that does not count).
	Action string
	When   time.Time
	Again  bool
	// NotifiedAt is the counting mark's time, when there is one;
	// StoppedAt the stop mark's.
	NotifiedAt, StoppedAt time.Time
	// Unverified: a notice or stop mark is present but does not verify
	// (forged, altered, copied, or signed by a secret no longer held). It
	// counted as no mark; the report says unverified-mark.
	Unverified bool
}

// readMark reads a time mark: verified, and not in the future (by the
// API's clock) — anything else is no mark.
func (lc Lifecycle) readMark(id, key string, tags map[string]string, markNow time.Time) (time.Time, bool, mark.Status) {
	t, st := lc.Marks.ReadTime(id, key, tags)
	if st != mark.Valid || t.After(markNow) {
		return time.Time{}, false, st
	}
	return t, true, st
}

// PlanLifecycle decides an instance's step: Decide's rules (decided at
// lc.DecideNow), then the notice, the grace and the stop, all by the
// marks' clock. The rules decide Running instances with Force as
// rules.Force says (REAPER_RUNNING=force).
func PlanLifecycle(d Decision, inst Instance, lc Lifecycle, now time.Time) Plan {
	p := Plan{Decision: d, Owner: inst.Tags[lc.OwnerKey]}
	running := d.Reason == ReasonRunning && lc.Stop
	due := d.Release || running
	skip := func() Plan {
		p.Step, p.Reason, p.Detail = StepSkip, d.Reason, d.Detail
		return p
	}
	if !lc.On {
		switch {
		case d.Release:
			p.Step = StepRelease
		case running:
			p.Step = StepStop
		default:
			return skip()
		}
		return p
	}
	if !due && d.Reason != ReasonNotExpired {
		return skip()
	}
	expiry := d.ExpiresAt
	noticeFrom := expiry.Add(-lc.Notice)
	markNow := lc.MarkNow(now)
	notified, marked, st := lc.readMark(inst.ID, lc.MarkKey, inst.Tags, markNow)
	p.Unverified = st == mark.Unverified
	counts := marked && !notified.Before(noticeFrom) // a mark for an earlier expiry does not count
	if counts {
		p.NotifiedAt = notified
	}
	if _, told := inst.Tags[lc.MarkKey]; told && !counts {
		p.Again = true
	}
	action := ActionRelease
	if running || (d.Reason == ReasonNotExpired && inst.Status == StatusRunning && lc.Stop) {
		action = ActionStop
	}
	if d.Reason == ReasonNotExpired && inst.Status == StatusRunning && !lc.Stop && !lc.Force {
		action = ActionReleaseOnceStopped // skipped while it runs: promise nothing more
	}
	if !due { // not expired yet
		if markNow.Before(noticeFrom) || counts {
			return skip()
		}
		p.Step, p.Action, p.When = StepNotify, action, later(expiry, markNow.Add(lc.Grace))
		return p
	}
	if !counts {
		p.Step, p.Action, p.When = StepNotify, action, markNow.Add(lc.Grace)
		return p
	}
	if releaseAt := notified.Add(lc.Grace); markNow.Before(releaseAt) {
		p.Step, p.Reason = StepWait, verdict.InGrace
		p.Detail = fmt.Sprintf("%s; notified %s, grace until %s", d.Detail, utc(notified), utc(releaseAt))
		return p
	}
	if running {
		p.Step = StepStop
		return p
	}
	// Stopped by the reaper: released once it has stayed stopped for the grace.
	if lc.Stop {
		stopped, ok, st := lc.readMark(inst.ID, lc.StopMarkKey, inst.Tags, markNow)
		p.Unverified = p.Unverified || st == mark.Unverified
		if _, present := inst.Tags[lc.StopMarkKey]; present && !ok {
			// A stop mark that does not count never shortens the stop
			// grace: stopped now, by the reaper's own fresh mark. (A
			// deleted one cannot be told from an owner's stop.)
			releaseAt := markNow.Add(lc.Grace)
			p.Step, p.Reason, p.When = StepMarkStopped, verdict.UnverifiedMark, releaseAt
			p.Detail = fmt.Sprintf("%s; its stop mark %s does not verify (forged or altered), so it counted as none: treated as stopped now, a fresh stop mark restarts the stop grace, released no earlier than %s",
				d.Detail, lc.StopMarkKey, utc(releaseAt))
			return p
		}
		if ok && !stopped.Before(notified) {
			p.StoppedAt = stopped
			if releaseAt := stopped.Add(lc.Grace); markNow.Before(releaseAt) {
				p.Step, p.Reason = StepWait, verdict.InGrace
				p.Detail = fmt.Sprintf("%s; stopped %s, released no earlier than %s", d.Detail, utc(stopped), utc(releaseAt))
				return p
			}
		}
	}
	p.Step = StepRelease
	return p
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
