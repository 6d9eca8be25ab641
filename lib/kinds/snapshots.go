package kinds

import (
	"context"
	"fmt"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// SnapshotAPI is what sweeping snapshots needs from a client.
type SnapshotAPI interface {
	SnapshotLister
	DeleteSnapshot(ctx context.Context, region, snapshotID string) (string, error)
	ecsTagger
}

// SnapshotLister lists snapshots (the instances' leftover report reads
// it too).
type SnapshotLister interface {
	DescribeSnapshots(ctx context.Context, in ecsapi.ListInput) (ecsapi.SnapshotPage, error)
}

// Snapshots are the snapshots deleted by their own tag.
var Snapshots = Kind{
	Name: "snapshots", Noun: "snapshot", Plural: "snapshots", Verb: "delete",
	Actions:    []string{"ecs:" + ecsapi.ActionDescribeSnapshots, "ecs:" + ecsapi.ActionDeleteSnapshot, "ecs:" + ecsapi.ActionTagResources},
	ReadAction: ecsapi.ActionDescribeSnapshots, ReadLimit: 100,
	DeleteAction: ecsapi.ActionDeleteSnapshot, TagAction: ecsapi.ActionTagResources, ResourceType: "snapshot",
	Capped:   true,
	Supports: supports[SnapshotAPI],
	List: func(ctx context.Context, api any, c *call.Caller, region, tagKey string, _ decide.Rules) ([]Resource, *verdict.Failure) {
		snaps, f := ListSnapshots(ctx, client[SnapshotAPI](api), c, region, tagKey)
		return resources(snaps, SnapshotResource), f
	},
	Read: func(ctx context.Context, api any, region string, ids []string, _ decide.Rules) ([]Resource, error) {
		page, err := client[SnapshotAPI](api).DescribeSnapshots(ctx, ecsapi.ListInput{Region: region, IDs: ids})
		return resources(page.Snapshots, SnapshotResource), err
	},
	Delete: func(ctx context.Context, api any, region, id string) (string, error) {
		return client[SnapshotAPI](api).DeleteSnapshot(ctx, region, id)
	},
	Tag: ecsTag[SnapshotAPI],
}

// SnapshotResource is a listed snapshot as the engine plans it.
func SnapshotResource(s cloud.Snapshot) Resource {
	r := Resource{ID: s.ID, Created: s.CreationTime, Tags: s.Tags, Region: s.Region}
	r.Held, r.HeldDetail = SnapshotHeld(s)
	return r
}

// SnapshotHeld says why a snapshot must stay whatever its tags say: an
// answer that cannot be trusted, one used by an image or a disk, one not
// accomplished. "" when none applies.
func SnapshotHeld(s cloud.Snapshot) (verdict.Reason, string) {
	switch {
	case s.Usage == "":
		return verdict.InvalidData, "the API's answer has no Usage"
	case s.Status == "":
		return verdict.InvalidData, "the API's answer has no Status"
	case s.Usage != "none":
		return verdict.InUse, fmt.Sprintf("used by an image or a disk (Usage=%q): never deleted while used", s.Usage)
	case s.Status != "accomplished":
		return verdict.Transitional, "status " + s.Status
	}
	return "", ""
}

// ListSnapshots pages a region's snapshots through the shared pager;
// tagKey filters.
func ListSnapshots(ctx context.Context, api SnapshotLister, c *call.Caller, region, tagKey string) ([]cloud.Snapshot, *verdict.Failure) {
	l := page.Listing{Name: ecsapi.ActionDescribeSnapshots, PageSize: ecsapi.MaxSnapshotPage}
	return collect(ctx, c, l, false, func(s cloud.Snapshot) string { return s.ID },
		func(ctx context.Context, token string, _ int) (answer[cloud.Snapshot], error) {
			p, err := api.DescribeSnapshots(ctx, ecsapi.ListInput{Region: region, TagKey: tagKey, NextToken: token})
			return answer[cloud.Snapshot]{items: p.Snapshots, next: p.NextToken}, err
		})
}
