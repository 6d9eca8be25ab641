// Package cloud holds the value types the cloud API boundary and the rest
// of the program share: where a call goes (Scope) and what it describes
// (Instance). It imports nothing of this module, so that the ECS boundary
// (lib/ecsapi) and the rules (lib/decide) can both use it without either
// importing the other.
package cloud

// Scope is where a sweep runs: one region of one account, each with its
// own API client.
type Scope struct {
	Account string // the account ID, or "" when unknown (a CLI run)
	Region  string
}

// String reads "account/region", or the region alone when the account is
// unknown.
func (s Scope) String() string {
	if s.Account == "" {
		return s.Region
	}
	return s.Account + "/" + s.Region
}

// Instance is the part of an ECS instance the rules read, exactly as the API
// returned it. Times stay as the API's strings so that parsing failures
// become skip reasons instead of being lost earlier.
type Instance struct {
	ID                 string
	Name               string // InstanceName, for notices
	Region             string // as the answer said; "" when it said none
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

// ResourceID and ResourceRegion let the engine's executor handle instances
// like any other resource.
func (i Instance) ResourceID() string { return i.ID }

// ResourceRegion is the region the API's answer named.
func (i Instance) ResourceRegion() string { return i.Region }

// ReleaseFlags are the DeleteInstances flags an instance's release needs.
// Instances are batched only with others that need the same flags.
type ReleaseFlags struct {
	TerminateSubscription bool `json:"terminateSubscription"`
	Force                 bool `json:"force"`
}
