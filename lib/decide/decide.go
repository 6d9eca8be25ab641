package decide

import "time"

// Instance is the part of an ECS instance the rules read, exactly as the API
// returned it in this run. Times stay as the API's strings so that parsing
// failures become skip reasons instead of being lost earlier.
type Instance struct {
	ID                 string
	Region             string
	Status             string // Pending, Running, Starting, Stopping, Stopped
	ChargeType         string // PrePaid or PostPaid
	ExpiredTime        string // meaningful only for PrePaid
	CreationTime       string
	DeletionProtection bool
	LockReasons        []string // OperationLocks.LockReason[].LockReason
	Tags               map[string]string
	// Problem, when set, says why the API's answer for this instance
	// cannot be trusted (a safety field missing); such an instance is
	// never released.
	Problem string
}

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

// Reason explains a skip. The values are a public contract: they appear in
// reports and logs.
type Reason string

// Skip reasons, in the order the rules are checked.
const (
	ReasonNoOptIn            Reason = "no-opt-in"
	ReasonInvalidData        Reason = "invalid-data" // the API returned something the rules cannot trust
	ReasonExcluded           Reason = "excluded"
	ReasonDeletionProtected  Reason = "deletion-protected"
	ReasonSecurityLocked     Reason = "security-locked"
	ReasonLocked             Reason = "locked"
	ReasonInvalidExpiry      Reason = "invalid-expiry"
	ReasonNotExpired         Reason = "not-expired"
	ReasonSubscriptionActive Reason = "subscription-active"
	ReasonRunning            Reason = "running"
	ReasonTransitional       Reason = "transitional-state"
)

// Flags are the DeleteInstances flags an instance's release needs. Instances
// are batched only with others that need the same flags.
type Flags struct {
	TerminateSubscription bool `json:"terminateSubscription"`
	Force                 bool `json:"force"`
}

// Decision is the single outcome for one instance.
type Decision struct {
	InstanceID string
	Release    bool
	Flags      Flags  // set only when Release
	Reason     Reason // set only when !Release
	Detail     string // human explanation: the expiry, the lock, the status
	ExpiresAt  time.Time
}
