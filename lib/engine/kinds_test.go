package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
)

// instancesOnly is a client with the engine's API and nothing of any
// kind's: what a test that sweeps only instances has to implement.
type instancesOnly struct{ c *fake.Cloud }

func (a instancesOnly) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	return a.c.DescribeInstances(ctx, in)
}
func (a instancesOnly) ListTagResources(ctx context.Context, in ecsapi.ListTagInput) (ecsapi.TagPage, error) {
	return a.c.ListTagResources(ctx, in)
}
func (a instancesOnly) DeleteInstances(ctx context.Context, in ecsapi.DeleteInput) (ecsapi.DeleteOutput, error) {
	return a.c.DeleteInstances(ctx, in)
}
func (a instancesOnly) StopInstances(ctx context.Context, in ecsapi.StopInput) (ecsapi.StopOutput, error) {
	return a.c.StopInstances(ctx, in)
}
func (a instancesOnly) TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error) {
	return a.c.TagResources(ctx, in)
}

// disksToo adds the disk kind's API, and only it.
type disksToo struct{ instancesOnly }

func (a disksToo) DescribeDisks(ctx context.Context, in ecsapi.ListInput) (ecsapi.DiskPage, error) {
	return a.c.DescribeDisks(ctx, in)
}
func (a disksToo) DeleteDisk(ctx context.Context, region, id string) (string, error) {
	return a.c.DeleteDisk(ctx, region, id)
}

func kindFake() *fake.Cloud {
	c := fake.New(stopped("r-1", "k", 1))
	c.SetResources(fake.Resources{Disks: []cloud.Disk{{ID: "d-expired", Region: "r-1", Status: "Available", Type: "data", Category: "cloud_essd",
		ChargeType: "PostPaid", CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{optIn: "2026-11-01"}}}})
	return c
}

func runWith(t *testing.T, api engine.API, opts engine.Options) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep, err := engine.New(opts, nil).RunRegions(ctx, api, "", []string{"r-1"})
	if rep == nil {
		t.Fatal("no report")
	}
	if err != nil {
		if f := rep.Regions[0].Error; f == nil || f.Code != kinds.CodeUnsupported {
			t.Fatalf("region error %+v, want %s", f, kinds.CodeUnsupported)
		}
	}
	return err
}

// A client implements only the kinds its run sweeps: a kind it lacks is
// a configuration error naming the kind, and nothing is released; the
// kinds it has are swept as with a whole client.
func TestAKindTheClientLacksReleasesNothing(t *testing.T) {
	c := kindFake()
	opts := options()
	opts.Resources = []string{kinds.Disks.Name}
	err := runWith(t, instancesOnly{c}, opts)
	if !errors.Is(err, engine.ErrRegionFailed) || !strings.Contains(err.Error(), kinds.CodeUnsupported) {
		t.Fatalf("err %v, want a failed region (%s)", err, kinds.CodeUnsupported)
	}
	if len(c.Released()) != 0 || c.Count(ecsapi.ActionDeleteDisk) != 0 || c.Count(ecsapi.ActionDescribeDisks) != 0 {
		t.Fatalf("released %v, %d disk deletes, %d disk listings", c.Released(), c.Count(ecsapi.ActionDeleteDisk), c.Count(ecsapi.ActionDescribeDisks))
	}

	// With REAPER_RELEASE_EIPS, a client without the EIP kind's hand-over.
	c = kindFake()
	opts = options()
	opts.ReleaseEIPs, opts.EIPMarkKey = true, "reaper-handed-over"
	if err := runWith(t, instancesOnly{c}, opts); !errors.Is(err, engine.ErrRegionFailed) || len(c.Released()) != 0 {
		t.Fatalf("release EIPs without the EIP API: err %v, released %v", err, c.Released())
	}

	// The disk kind's API is enough to sweep disks (and instances).
	c = kindFake()
	opts = options()
	opts.Resources = []string{kinds.Disks.Name}
	if err := runWith(t, disksToo{instancesOnly{c}}, opts); err != nil {
		t.Fatal(err)
	}
	if c.Count(ecsapi.ActionDeleteDisk) != 1 || !slices.Contains(c.Released(), "i-k00000") {
		t.Fatalf("%d disk deletes, released %v", c.Count(ecsapi.ActionDeleteDisk), c.Released())
	}
}
