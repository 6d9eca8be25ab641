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

// DiskAPI is what sweeping disks needs from a client.
type DiskAPI interface {
	DiskLister
	DeleteDisk(ctx context.Context, region, diskID string) (string, error)
	ecsTagger
}

// DiskLister lists disks (the instances' leftover report reads it too).
type DiskLister interface {
	DescribeDisks(ctx context.Context, in ecsapi.ListInput) (ecsapi.DiskPage, error)
}

// Disks are the data disks deleted by their own tag.
var Disks = Kind{
	Name: "disks", Noun: "disk", Plural: "disks", Verb: "delete",
	Actions:    []string{"ecs:" + ecsapi.ActionDescribeDisks, "ecs:" + ecsapi.ActionDeleteDisk, "ecs:" + ecsapi.ActionTagResources},
	ReadAction: ecsapi.ActionDescribeDisks, ReadLimit: 100,
	DeleteAction: ecsapi.ActionDeleteDisk, TagAction: ecsapi.ActionTagResources, ResourceType: "disk",
	Capped:   true,
	Supports: supports[DiskAPI],
	List: func(ctx context.Context, api any, c *call.Caller, region, tagKey string, _ decide.Rules) ([]Resource, *verdict.Failure) {
		disks, f := ListDisks(ctx, client[DiskAPI](api), c, region, tagKey)
		return resources(disks, DiskResource), f
	},
	Read: func(ctx context.Context, api any, region string, ids []string, _ decide.Rules) ([]Resource, error) {
		page, err := client[DiskAPI](api).DescribeDisks(ctx, ecsapi.ListInput{Region: region, IDs: ids})
		return resources(page.Disks, DiskResource), err
	},
	Delete: func(ctx context.Context, api any, region, id string) (string, error) {
		return client[DiskAPI](api).DeleteDisk(ctx, region, id)
	},
	Tag: ecsTag[DiskAPI],
}

// DiskResource is a listed disk as the engine plans it.
func DiskResource(d cloud.Disk) Resource {
	r := Resource{ID: d.ID, Created: d.CreationTime, Tags: d.Tags, Region: d.Region}
	r.Held, r.HeldDetail = DiskHeld(d)
	return r
}

// DiskHeld says why a disk must stay whatever its tags say: an answer
// that cannot be trusted, a system disk, one not Available (attached or
// changing), a subscription disk. "" when none applies.
func DiskHeld(d cloud.Disk) (verdict.Reason, string) {
	switch problem := diskProblem(d); {
	case problem != "":
		return verdict.InvalidData, problem
	case d.Type == "system":
		return verdict.SystemDisk, "a system disk is never deleted on its own"
	case d.Status != "Available":
		return verdict.InUse, "status " + d.Status + " (only an Available disk is deleted)"
	case d.ChargeType == "PrePaid":
		return verdict.SubscriptionActive, "a subscription disk goes with its instance"
	}
	return "", ""
}

// diskProblem says why a DescribeDisks answer cannot be trusted: a fact
// the rules read is missing (the SDK decodes a missing field as "") or is
// not a value the API documents. "" when the answer is whole.
func diskProblem(d cloud.Disk) string {
	switch {
	case d.Type != "system" && d.Type != "data":
		return fmt.Sprintf("the API's answer has no usable Type (%q; want system or data)", d.Type)
	case d.Status == "":
		return "the API's answer has no Status"
	case d.Category == "":
		return "the API's answer has no Category"
	case d.ChargeType != decide.ChargePrePaid && d.ChargeType != decide.ChargePostPaid:
		return fmt.Sprintf("the API's answer has no usable DiskChargeType (%q; want PrePaid or PostPaid)", d.ChargeType)
	}
	return ""
}

// ListDisks pages a region's disks through the shared pager; tagKey
// filters.
func ListDisks(ctx context.Context, api DiskLister, c *call.Caller, region, tagKey string) ([]cloud.Disk, *verdict.Failure) {
	l := page.Listing{Name: ecsapi.ActionDescribeDisks, PageSize: ecsapi.MaxDiskPage}
	return collect(ctx, c, l, false, func(d cloud.Disk) string { return d.ID },
		func(ctx context.Context, token string, _ int) (answer[cloud.Disk], error) {
			p, err := api.DescribeDisks(ctx, ecsapi.ListInput{Region: region, TagKey: tagKey, NextToken: token})
			return answer[cloud.Disk]{items: p.Disks, next: p.NextToken}, err
		})
}
