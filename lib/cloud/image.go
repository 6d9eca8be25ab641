package cloud

// Image is the part of an ECS custom image the rules read (DescribeImages
// with ImageOwnerAlias=self). Every fact the safety rules need is kept so
// that a missing one can be told from a false one: "" for a string the
// answer did not carry, nil for IsPublic.
type Image struct {
	ID     string
	Name   string
	Region string
	// Status: Creating, Waiting, Available, UnAvailable, CreateFailed or
	// Deprecated; only an Available image is deleted.
	Status string
	// OwnerAlias is ImageOwnerAlias: self for the account's own images.
	OwnerAlias string
	// Usage: instance (instances were created from it) or none.
	Usage string
	// IsPublic: published as a community image (nil: not in the answer).
	IsPublic *bool
	// SelfShared is IsSelfShared, a string in the API ("true" or "false"):
	// shared with other accounts.
	SelfShared   string
	SizeGiB      int
	CreationTime string
	// SnapshotIDs are the snapshots the image holds (DiskDeviceMappings).
	// DeleteImage keeps them: they become ordinary snapshots.
	SnapshotIDs []string
	Tags        map[string]string
}

// ResourceID implements the executor's Resource.
func (i Image) ResourceID() string { return i.ID }

// ResourceRegion implements the executor's Resource.
func (i Image) ResourceRegion() string { return i.Region }
