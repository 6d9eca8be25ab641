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
		out := make([]Resource, len(snaps))
		for i, s := range snaps {
			out[i] = SnapshotResource(s)
		}
		return out, f
	},
	Read: func(ctx context.Context, api any, region string, ids []string, _ decide.Rules) ([]Resource, error) {
		page, err := client[SnapshotAPI](api).DescribeSnapshots(ctx, ecsapi.ListInput{Region: region, IDs: ids})
		out := make([]Resource, len(page.Snapshots))
		for i, s := range page.Snapshots {
			out[i] = SnapshotResource(s)
		}
		return out, err
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
	var out []cloud.Snapshot
	seen := page.Seen{}
	l := page.Listing{Name: ecsapi.ActionDescribeSnapshots, PageSize: ecsapi.MaxSnapshotPage}
	err := l.Tokens().Run(ctx, func(ctx context.Context, token string) (page.Page, error) {
		var p ecsapi.SnapshotPage
		err := c.Do(ctx, ecsapi.ActionDescribeSnapshots, nil, func() error {
			var err error
			p, err = api.DescribeSnapshots(ctx, ecsapi.ListInput{Region: region, TagKey: tagKey, NextToken: token})
			return err
		})
		fresh := 0
		for _, sn := range p.Snapshots {
			if seen.Add(sn.ID) {
				out = append(out, sn)
				fresh++
			}
		}
		return page.Page{Next: p.NextToken, Items: len(p.Snapshots), Fresh: fresh}, err
	})
	if err != nil {
		return out, page.Failure(err)
	}
	return out, nil
}
