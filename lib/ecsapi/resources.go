package ecsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
)

// Disk and snapshot actions (ECS 2014-05-26).
const (
	ActionDescribeDisks     = "DescribeDisks"
	ActionDescribeSnapshots = "DescribeSnapshots"
	ActionDeleteDisk        = "DeleteDisk"
	ActionDeleteSnapshot    = "DeleteSnapshot"
)

// Page sizes: DescribeDisks takes MaxResults 10..500, DescribeSnapshots
// at most 100.
const (
	MaxDiskPage     = 500
	MaxSnapshotPage = 100
)

// ListInput selects one page of a region's disks or snapshots: all of them,
// or those carrying a tag key (TagKey), or by IDs (at most 100).
type ListInput struct {
	Region    string
	TagKey    string
	IDs       []string
	NextToken string
}

// DiskPage is one page of DescribeDisks.
type DiskPage struct {
	Disks     []cloud.Disk
	NextToken string
	RequestID string
}

// SnapshotPage is one page of DescribeSnapshots.
type SnapshotPage struct {
	Snapshots []cloud.Snapshot
	NextToken string
	RequestID string
}

// DescribeDisks lists one page of a region's disks.
func (c *Client) DescribeDisks(ctx context.Context, in ListInput) (DiskPage, error) {
	const action = ActionDescribeDisks
	client, err := c.sdkClient(ctx, in.Region, nil)
	if err != nil {
		return DiskPage{}, err
	}
	req := ecs.CreateDescribeDisksRequest()
	req.RegionId = in.Region
	req.MaxResults = requests.NewInteger(MaxDiskPage)
	req.NextToken = in.NextToken
	if in.TagKey != "" {
		req.Tag = &[]ecs.DescribeDisksTag{{Key: in.TagKey}}
	}
	if len(in.IDs) > 0 {
		ids, _ := json.Marshal(in.IDs) // []string always marshals
		req.DiskIds = string(ids)
	}
	if err := c.prepare(ctx, action, req); err != nil {
		return DiskPage{}, c.wrap(ctx, action, in.Region, err)
	}
	resp, err := guard(action, in.Region, func() (*ecs.DescribeDisksResponse, error) { return client.DescribeDisks(req) })
	if err != nil {
		return DiskPage{}, c.wrap(ctx, action, in.Region, err)
	}
	if resp.RequestId == "" {
		return DiskPage{}, malformed(action, in.Region, "no RequestId")
	}
	page := DiskPage{NextToken: resp.NextToken, RequestID: resp.RequestId}
	for _, d := range resp.Disks.Disk {
		if d.DiskId == "" {
			return DiskPage{}, malformed(action, in.Region, "a disk without DiskId")
		}
		disk := cloud.Disk{ID: d.DiskId, Region: d.RegionId, Status: d.Status, Type: d.Type, Category: d.Category,
			ChargeType: d.DiskChargeType, SizeGiB: d.Size, InstanceID: d.InstanceId, DeleteWithInstance: d.DeleteWithInstance,
			DeleteAutoSnapshot: d.DeleteAutoSnapshot, CreationTime: d.CreationTime}
		for _, t := range d.Tags.Tag {
			if disk.Tags == nil {
				disk.Tags = map[string]string{}
			}
			disk.Tags[t.TagKey] = t.TagValue
		}
		page.Disks = append(page.Disks, disk)
	}
	return page, nil
}

// DescribeSnapshots lists one page of a region's snapshots.
func (c *Client) DescribeSnapshots(ctx context.Context, in ListInput) (SnapshotPage, error) {
	const action = ActionDescribeSnapshots
	client, err := c.sdkClient(ctx, in.Region, nil)
	if err != nil {
		return SnapshotPage{}, err
	}
	req := ecs.CreateDescribeSnapshotsRequest()
	req.RegionId = in.Region
	req.MaxResults = requests.NewInteger(MaxSnapshotPage)
	req.NextToken = in.NextToken
	if in.TagKey != "" {
		req.Tag = &[]ecs.DescribeSnapshotsTag{{Key: in.TagKey}}
	}
	if len(in.IDs) > 0 {
		ids, _ := json.Marshal(in.IDs)
		req.SnapshotIds = string(ids)
	}
	if err := c.prepare(ctx, action, req); err != nil {
		return SnapshotPage{}, c.wrap(ctx, action, in.Region, err)
	}
	resp, err := guard(action, in.Region, func() (*ecs.DescribeSnapshotsResponse, error) { return client.DescribeSnapshots(req) })
	if err != nil {
		return SnapshotPage{}, c.wrap(ctx, action, in.Region, err)
	}
	if resp.RequestId == "" {
		return SnapshotPage{}, malformed(action, in.Region, "no RequestId")
	}
	page := SnapshotPage{NextToken: resp.NextToken, RequestID: resp.RequestId}
	for _, s := range resp.Snapshots.Snapshot {
		if s.SnapshotId == "" {
			return SnapshotPage{}, malformed(action, in.Region, "a snapshot without SnapshotId")
		}
		size, _ := strconv.Atoi(s.SourceDiskSize) // a string in the SDK; unknown reads as 0 GiB
		snap := cloud.Snapshot{ID: s.SnapshotId, Region: in.Region, SourceDiskID: s.SourceDiskId, Type: s.SnapshotType,
			Usage: s.Usage, Status: s.Status, SizeGiB: size, CreationTime: s.CreationTime}
		for _, t := range s.Tags.Tag {
			if snap.Tags == nil {
				snap.Tags = map[string]string{}
			}
			snap.Tags[t.TagKey] = t.TagValue
		}
		page.Snapshots = append(page.Snapshots, snap)
	}
	return page, nil
}

// DeleteDisk releases one Available data disk. ECS documents that a
// missing disk is ignored: a success is then no proof, and the sweep
// re-reads first.
func (c *Client) DeleteDisk(ctx context.Context, region, diskID string) (string, error) {
	const action = ActionDeleteDisk
	if diskID == "" {
		return "", fmt.Errorf("delete disk in %s: no disk ID", region)
	}
	client, err := c.sdkClient(ctx, region, nil)
	if err != nil {
		return "", err
	}
	req := ecs.CreateDeleteDiskRequest()
	req.RegionId = region
	req.DiskId = diskID
	if err := c.prepare(ctx, action, req); err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	resp, err := guard(action, region, func() (*ecs.DeleteDiskResponse, error) { return client.DeleteDisk(req) })
	if err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	if resp.RequestId == "" {
		return "", malformed(action, region, "no RequestId")
	}
	return resp.RequestId, nil
}

// DeleteSnapshot deletes one snapshot, never with Force: a snapshot a disk
// was created from stays.
func (c *Client) DeleteSnapshot(ctx context.Context, region, snapshotID string) (string, error) {
	const action = ActionDeleteSnapshot
	if snapshotID == "" {
		return "", fmt.Errorf("delete snapshot in %s: no snapshot ID", region)
	}
	client, err := c.sdkClient(ctx, region, nil)
	if err != nil {
		return "", err
	}
	req := ecs.CreateDeleteSnapshotRequest()
	req.RegionId = region
	req.SnapshotId = snapshotID
	req.Force = requests.NewBoolean(false)
	if err := c.prepare(ctx, action, req); err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	resp, err := guard(action, region, func() (*ecs.DeleteSnapshotResponse, error) { return client.DeleteSnapshot(req) })
	if err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	if resp.RequestId == "" {
		return "", malformed(action, region, "no RequestId")
	}
	return resp.RequestId, nil
}
