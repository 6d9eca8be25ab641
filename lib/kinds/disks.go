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
		out := make([]Resource, len(disks))
		for i, d := range disks {
			out[i] = DiskResource(d)
		}
		return out, f
	},
	Read: func(ctx context.Context, api any, region string, ids []string, _ decide.Rules) ([]Resource, error) {
		page, err := client[DiskAPI](api).DescribeDisks(ctx, ecsapi.ListInput{Region: region, IDs: ids})
		out := make([]Resource, len(page.Disks))
		for i, d := range page.Disks {
			out[i] = DiskResource(d)
		}
		return out, err
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
	var out []cloud.Disk
	seen := page.Seen{}
	l := page.Listing{Name: ecsapi.ActionDescribeDisks, PageSize: ecsapi.MaxDiskPage}
	err := l.Tokens().Run(ctx, func(ctx context.Context, token string) (page.Page, error) {
		var p ecsapi.DiskPage
		err := c.Do(ctx, ecsapi.ActionDescribeDisks, nil, func() error {
			var err error
			p, err = api.DescribeDisks(ctx, ecsapi.ListInput{Region: region, TagKey: tagKey, NextToken: token})
			return err
		})
		fresh := 0
		for _, d := range p.Disks {
			if seen.Add(d.ID) {
				out = append(out, d)
				fresh++
			}
		}
		return page.Page{Next: p.NextToken, Items: len(p.Disks), Fresh: fresh}, err
	})
	if err != nil {
		return out, page.Failure(err)
	}
	return out, nil
}
