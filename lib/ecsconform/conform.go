// Package ecsconform is one conformance suite for the two models of ECS
// the tests use: the in-memory fake (lib/engine/fake) and the HTTP double
// (lib/ecsdouble) reached through the real SDK client (lib/ecsapi). Both
// run the same scenarios, so that the millisecond suite cannot drift away
// from the double that the SDK boundary is tested against (go-cloud's
// drivertest pattern). Where the two disagreed, the API reference decided
// which was right, and the wrong model was fixed.
package ecsconform

import (
	"context"
	"fmt"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// API is the ECS and VPC API boundary the product calls, as both models
// serve it (the methods of *ecsapi.Client).
type API interface {
	DescribeRegions(ctx context.Context) (ecsapi.Regions, error)
	DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error)
	ListTagResources(ctx context.Context, in ecsapi.ListTagInput) (ecsapi.TagPage, error)
	DeleteInstances(ctx context.Context, in ecsapi.DeleteInput) (ecsapi.DeleteOutput, error)
	TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error)
	StopInstances(ctx context.Context, in ecsapi.StopInput) (ecsapi.StopOutput, error)
	DescribeDisks(ctx context.Context, in ecsapi.ListInput) (ecsapi.DiskPage, error)
	DescribeSnapshots(ctx context.Context, in ecsapi.ListInput) (ecsapi.SnapshotPage, error)
	DeleteDisk(ctx context.Context, region, diskID string) (string, error)
	DeleteSnapshot(ctx context.Context, region, snapshotID string) (string, error)
	DescribeEipAddresses(ctx context.Context, in ecsapi.EIPInput) (ecsapi.EIPPage, error)
	ReleaseEipAddress(ctx context.Context, region, allocationID string) (string, error)
	TagEIPs(ctx context.Context, region string, allocationIDs []string, tags map[string]string) (string, error)
	DescribeImages(ctx context.Context, in ecsapi.ImageInput) (ecsapi.ImagePage, error)
	DeleteImage(ctx context.Context, region, imageID string) (string, error)
}

var _ API = (*ecsapi.Client)(nil)

// Fleet is what a model serves, in the product's own terms. A disk's
// Status is In_use exactly when it names an instance; an EIP's is InUse
// exactly when it names one, and Available otherwise.
type Fleet struct {
	Instances []cloud.Instance
	Disks     []cloud.Disk
	Snapshots []cloud.Snapshot
	EIPs      []cloud.EIP
	Images    []cloud.Image
	// Regions are served in addition to the resources' own.
	Regions []string
}

// Model is one model of ECS serving a fleet.
type Model struct {
	API API
	// FailNext makes the next n calls of action (an ecsapi action name,
	// an ECS one) answer with the API error code and HTTP status.
	FailNext func(action string, n, status int, code string)
}

// NewModel starts a model serving fleet; it stops with the test.
type NewModel func(t *testing.T, fleet Fleet) Model

func describe(err error) string {
	if err == nil {
		return "success"
	}
	return fmt.Sprintf("%s (%s, class %s)", ecsapi.Code(err), err, ecsapi.Classify(err))
}
