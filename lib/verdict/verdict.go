// Package verdict is the one vocabulary of what happened to a resource in
// a run: an Outcome and, where it needs one, a Reason. The rules
// (lib/decide), the engine and the report all use these types; the values
// are a public contract (they appear in reports and logs).
package verdict

import "log/slog"

// Outcome is what happened to one resource.
type Outcome string

// Outcomes.
const (
	Released     Outcome = "released"
	WouldRelease Outcome = "would-release" // dry run: the API answered that the call would pass
	Skipped      Outcome = "skipped"
	Failed       Outcome = "failed"
	Gone         Outcome = "released-elsewhere" // vanished between listing and release
	NotAttempted Outcome = "not-attempted"      // eligible, but a safety rail held it back
	Notified     Outcome = "notified"           // the owner was told and the mark written
	WouldNotify  Outcome = "would-notify"       // dry run: the notice and mark it would send and write
	Stopped      Outcome = "stopped"            // stopped (REAPER_RUNNING=stop); released once stopped for the grace
	WouldStop    Outcome = "would-stop"         // dry run: StopInstances answered that it would pass
	// Interrupted: the operator stopped the run (Ctrl-C) before this write
	// was started, or while it was in flight and past the wait for it; the
	// next run re-reads it.
	Interrupted Outcome = "interrupted"
)

// Failure is why a scope or a call failed: the API's error code (or the
// reaper's own, such as BadResponse or deadline), its message and the
// request it answered.
type Failure struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"requestId,omitempty"`
}

// Outcomes lists every outcome, in the report's order.
var Outcomes = []Outcome{Released, WouldRelease, Stopped, WouldStop, Notified, WouldNotify, Failed, Interrupted, Gone, NotAttempted, Skipped}

// Level is the log level of an outcome: a failed or held-back resource is
// a warning, never INFO.
func (o Outcome) Level() slog.Level {
	if o == Failed || o == NotAttempted || o == Interrupted {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// Reason explains a skip or a hold; for a failure it is the API's error
// code.
type Reason string

// Skip reasons of the rules, in the order they are checked.
const (
	NoOptIn            Reason = "no-opt-in"
	InvalidData        Reason = "invalid-data" // the API returned something the rules cannot trust
	Excluded           Reason = "excluded"
	DeletionProtected  Reason = "deletion-protected"
	SecurityLocked     Reason = "security-locked"
	Locked             Reason = "locked"
	InvalidExpiry      Reason = "invalid-expiry"
	NotExpired         Reason = "not-expired"
	SubscriptionActive Reason = "subscription-active"
	Running            Reason = "running"
	Transitional       Reason = "transitional-state"
	InGrace            Reason = "in-grace" // notified (or stopped); the grace has not passed
	InUse              Reason = "in-use"   // a disk attached, a snapshot used by an image or disk, an EIP bound
	SystemDisk         Reason = "system-disk"
)

// NoticeFailed is the reason of an instance whose notice the channel did
// not accept: no mark, so no release; the next run notifies again.
const NoticeFailed Reason = "notice-not-delivered"

// UnverifiedMark is the reason that goes with a resource whose mark (the
// notice, the stop, an EIP's hand-over) is present but does not verify
// against REAPER_MARK_SECRET: forged, altered or copied. It counts as no
// mark: the owner is told again (notified/unverified-mark), no grace counts
// and no EIP is released on it (skipped/unverified-mark).
const UnverifiedMark Reason = "unverified-mark"

// StaleMark is the reason of an EIP whose hand-over mark verifies but is
// older than the engine's bound (a week): too old to say the EIP is still
// its released instance's leftover, so it is never released on it.
const StaleMark Reason = "stale-mark"

// HandOverPending is the reason of an EIP handed over by an instance that
// still exists: it is not released while the instance does.
const HandOverPending Reason = "hand-over-pending"

// Reasons a rail held an eligible resource back (not-attempted).
const (
	CapExceeded         Reason = "cap-exceeded"
	Deadline            Reason = "deadline"
	InventoryIncomplete Reason = "inventory-incomplete"
	ScopeStopped        Reason = "region-stopped"
	DecisionChanged     Reason = "decision-changed"
)

// NotConfirmed is the reason of a resource the live run would write to but
// the operator was not shown when confirming it: it waits for the next
// confirmation.
const NotConfirmed Reason = "not-confirmed"

// Reasons of an interrupted write.
const (
	NotStarted    Reason = "not-started"    // never sent: the run was interrupted first
	EffectUnknown Reason = "effect-unknown" // in flight past the wait: whether it took effect is unknown
)
