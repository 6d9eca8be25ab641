package ecsdouble

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sort"
)

// Fleet is the set of instances the double serves, with the disks,
// snapshots and EIPs around them.
type Fleet struct {
	Instances []Instance `json:"instances"`
	Disks     []Disk     `json:"disks,omitempty"`
	Snapshots []Snapshot `json:"snapshots,omitempty"`
	EIPs      []EIP      `json:"eips,omitempty"`
	Images    []Image    `json:"images,omitempty"`
}

// Disk is one fake cloud disk. An attached disk names its instance; when
// the instance is released, the disk goes too if DeleteWithInstance, and
// is otherwise kept as an Available pay-as-you-go disk.
type Disk struct {
	ID                 string            `json:"id"`
	Region             string            `json:"region"`
	Instance           string            `json:"instance,omitempty"` // attached to (In_use); "" = Available
	Type               string            `json:"type,omitempty"`     // system or data; default data
	Category           string            `json:"category,omitempty"` // default cloud_essd
	SizeGiB            int               `json:"size,omitempty"`     // default 40
	ChargeType         string            `json:"chargeType,omitempty"`
	DeleteWithInstance bool              `json:"deleteWithInstance,omitempty"`
	DeleteAutoSnapshot bool              `json:"deleteAutoSnapshot,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	CreationTime       string            `json:"creationTime,omitempty"`
	// Omit names DescribeDisks answer fields left out (e.g. "Type"): a
	// partial answer, as an API in trouble may give.
	Omit []string `json:"omit,omitempty"`
}

// Snapshot is one fake snapshot of a disk.
type Snapshot struct {
	ID           string            `json:"id"`
	Region       string            `json:"region"`
	Disk         string            `json:"disk"`            // the source disk
	Type         string            `json:"type,omitempty"`  // auto or user; default user
	Usage        string            `json:"usage,omitempty"` // image, disk, image_disk or none; default none
	SizeGiB      int               `json:"size,omitempty"`
	Tags         map[string]string `json:"tags,omitempty"`
	CreationTime string            `json:"creationTime,omitempty"`
	// Omit names DescribeSnapshots answer fields left out (e.g. "Usage").
	Omit []string `json:"omit,omitempty"`
}

// EIP is one fake Elastic IP address (served by the VPC API).
type EIP struct {
	AllocationID       string            `json:"allocationId"`
	Address            string            `json:"address"`
	Region             string            `json:"region"`
	Instance           string            `json:"instance,omitempty"` // bound to (InUse); "" = Available
	ChargeType         string            `json:"chargeType,omitempty"`
	DeletionProtection bool              `json:"deletionProtection,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	// StaysUnassociating keeps the EIP Unassociating after its instance is
	// released: an EIP that never becomes Available.
	StaysUnassociating bool `json:"staysUnassociating,omitempty"`
}

// Instance is one fake ECS instance. JSON field names are the lowerCamel
// form of the Go names; times are strings in ECS format ("2026-01-02T03:04Z")
// and are served exactly as stored.
type Instance struct {
	ID                 string            `json:"id"`                           // InstanceId, e.g. "i-bp1..."
	Region             string            `json:"region"`                       // RegionId, e.g. "cn-hangzhou"
	Status             string            `json:"status"`                       // Pending, Running, Starting, Stopping, Stopped (or Initializing)
	ChargeType         string            `json:"chargeType,omitempty"`         // PrePaid or PostPaid; default PostPaid
	ExpiredTime        string            `json:"expiredTime,omitempty"`        // default "2099-12-31T15:59Z" for PostPaid
	CreationTime       string            `json:"creationTime,omitempty"`       // served as CreationTime and StartTime
	DeletionProtection bool              `json:"deletionProtection,omitempty"` // blocks DeleteInstances
	LockReasons        []string          `json:"lockReasons,omitempty"`        // OperationLocks, e.g. "financial", "security"
	Tags               map[string]string `json:"tags,omitempty"`               // tag key -> value
	// FailWith forces DeleteInstances of this instance to fail with this
	// error code (e.g. "InvalidOperation.EniLinked"); the HTTP status comes
	// from FailStatus, or from the code's documented status when zero.
	FailWith   string `json:"failWith,omitempty"`
	FailStatus int    `json:"failStatus,omitempty"`
	// Cosmetic fields; derived from the ID and region when empty.
	Name         string `json:"name,omitempty"`
	Zone         string `json:"zone,omitempty"`
	InstanceType string `json:"instanceType,omitempty"`
}

// PostPaidExpiredTime is the ExpiredTime ECS reports for pay-as-you-go
// instances.
const PostPaidExpiredTime = "2099-12-31T15:59Z"

// LoadFleet reads and validates a JSON fleet file.
func LoadFleet(path string) (Fleet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Fleet{}, fmt.Errorf("load fleet: %w", err)
	}
	f, err := ParseFleet(b)
	if err != nil {
		return Fleet{}, fmt.Errorf("load fleet %s: %w", path, err)
	}
	return f, nil
}

// ParseFleet decodes and validates a JSON fleet; unknown fields are errors
// so fixture typos do not silently change a test.
func ParseFleet(b []byte) (Fleet, error) {
	var f Fleet
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Fleet{}, fmt.Errorf("parse fleet: %w", err)
	}
	if err := f.Validate(); err != nil {
		return Fleet{}, err
	}
	return f, nil
}

// Validate checks that every instance has a unique ID, a region and a known
// charge type.
func (f Fleet) Validate() error {
	seen := make(map[string]bool, len(f.Instances))
	for i, in := range f.Instances {
		if in.ID == "" || in.Region == "" {
			return fmt.Errorf("fleet instance %d: id and region are required", i)
		}
		if seen[in.ID] {
			return fmt.Errorf("fleet instance %d: duplicate id %q", i, in.ID)
		}
		seen[in.ID] = true
		switch in.ChargeType {
		case "", "PrePaid", "PostPaid":
		default:
			return fmt.Errorf("fleet instance %s: chargeType %q is not PrePaid or PostPaid", in.ID, in.ChargeType)
		}
	}
	return validateImages(f.Images)
}

// Regions returns the sorted distinct regions of the fleet.
func (f Fleet) Regions() []string {
	set := map[string]bool{}
	for _, in := range f.Instances {
		set[in.Region] = true
	}
	for _, d := range f.Disks {
		set[d.Region] = true
	}
	for _, s := range f.Snapshots {
		set[s.Region] = true
	}
	for _, e := range f.EIPs {
		set[e.Region] = true
	}
	for _, im := range f.Images {
		set[im.Region] = true
	}
	out := make([]string, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}
