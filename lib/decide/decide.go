package decide

import (
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Instance is what the rules read of an ECS instance (lib/cloud's type).
type Instance = cloud.Instance

// Rules configures the decision.
type Rules struct {
	// OptInKey is the tag key whose value is the expiry. Instances without
	// it are never touched.
	OptInKey string
	// KeepKey is the exclusion tag key; its presence (any value) keeps the
	// instance.
	KeepKey string
	// Force allows releasing Running instances (DeleteInstances Force=true).
	Force bool
	// Location interprets date-only expiry values; nil means UTC.
	Location *time.Location
}

// Reason explains a skip: the one reason vocabulary of lib/verdict.
type Reason = verdict.Reason

// Skip reasons, in the order the rules are checked.
const (
	ReasonNoOptIn            = verdict.NoOptIn
	ReasonInvalidData        = verdict.InvalidData // the API returned something the rules cannot trust
	ReasonExcluded           = verdict.Excluded
	ReasonDeletionProtected  = verdict.DeletionProtected
	ReasonSecurityLocked     = verdict.SecurityLocked
	ReasonLocked             = verdict.Locked
	ReasonInvalidExpiry      = verdict.InvalidExpiry
	ReasonNotExpired         = verdict.NotExpired
	ReasonSubscriptionActive = verdict.SubscriptionActive
	ReasonRunning            = verdict.Running
	ReasonTransitional       = verdict.Transitional
)

// Flags are the DeleteInstances flags an instance's release needs. Instances
// are batched only with others that need the same flags.
type Flags = cloud.ReleaseFlags

// Decision is the single outcome for one instance.
type Decision struct {
	InstanceID string
	Release    bool
	Flags      Flags  // set only when Release
	Reason     Reason // set only when !Release
	Detail     string // human explanation: the expiry, the lock, the status
	ExpiresAt  time.Time
}
