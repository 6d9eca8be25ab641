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

// Disk is the part of a cloud disk the leftover report and the disk sweep
// read (DescribeDisks).
type Disk struct {
	ID         string
	Region     string
	Status     string // In_use, Available, ...
	Type       string // system or data
	Category   string // cloud_essd, ...
	ChargeType string // PrePaid or PostPaid
	SizeGiB    int
	InstanceID string // set only while In_use
	// DeleteWithInstance: released with its instance; otherwise kept (and
	// billed). DeleteAutoSnapshot: its automatic snapshots go with it.
	DeleteWithInstance, DeleteAutoSnapshot bool
	CreationTime                           string
	Tags                                   map[string]string
}

// ResourceID implements the executor's Resource.
func (d Disk) ResourceID() string { return d.ID }

// ResourceRegion implements the executor's Resource.
func (d Disk) ResourceRegion() string { return d.Region }

// Snapshot is the part of a snapshot the report and the sweep read
// (DescribeSnapshots).
type Snapshot struct {
	ID           string
	Region       string
	SourceDiskID string
	Type         string // auto (or timer) for automatic snapshots, user for manual ones
	Usage        string // image, disk, image_disk or none
	Status       string
	SizeGiB      int // the source disk's size
	CreationTime string
	Tags         map[string]string
}

// Automatic reports whether the snapshot was taken by a policy.
func (s Snapshot) Automatic() bool { return s.Type == "auto" || s.Type == "timer" }

// ResourceID implements the executor's Resource.
func (s Snapshot) ResourceID() string { return s.ID }

// ResourceRegion implements the executor's Resource.
func (s Snapshot) ResourceRegion() string { return s.Region }

// EIP is the part of an Elastic IP address the report and the sweep read
// (the VPC API's DescribeEipAddresses).
type EIP struct {
	AllocationID string
	Address      string
	Region       string
	Status       string // Available, InUse, Associating, Unassociating, Releasing
	InstanceID   string // what it is bound to, if anything
	InstanceType string // EcsInstance, Nat, ...
	ChargeType   string // PostPaid or PrePaid
	// DeletionProtection, read strictly: an answer without it is Problem.
	DeletionProtection bool
	AllocationTime     string
	Tags               map[string]string
	// Problem, when set, says why the answer cannot be trusted.
	Problem string
}

// ResourceID implements the executor's Resource.
func (e EIP) ResourceID() string { return e.AllocationID }

// ResourceRegion implements the executor's Resource.
func (e EIP) ResourceRegion() string { return e.Region }
