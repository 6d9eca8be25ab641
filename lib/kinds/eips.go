package kinds

import (
	"context"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// EIPAPI is what sweeping EIPs needs from a client (the VPC API).
type EIPAPI interface {
	EIPLister
	ReleaseEipAddress(ctx context.Context, region, allocationID string) (string, error)
	TagEIPs(ctx context.Context, region string, allocationIDs []string, tags map[string]string) (string, error)
}

// EIPLister lists EIPs (the instances' leftover report reads it too).
type EIPLister interface {
	DescribeEipAddresses(ctx context.Context, in ecsapi.EIPInput) (ecsapi.EIPPage, error)
}

// HandOverAPI is the EIP kind's optional capability the release of EIPs
// after their instances needs (REAPER_RELEASE_EIPS, the engine's
// hand-over): removing a hand-over mark from an EIP bound again.
type HandOverAPI interface {
	EIPAPI
	UnTagEIPs(ctx context.Context, region string, allocationIDs, keys []string) (string, error)
}

// EIPs are the elastic IPs released by their own tag; they are also
// released after their instances (REAPER_RELEASE_EIPS), which is the
// engine's hand-over, on HandOverAPI.
var EIPs = Kind{
	Name: "eips", Noun: "EIP", Plural: "EIPs", Verb: "release",
	Actions: []string{"vpc:" + ecsapi.ActionDescribeEipAddresses, "vpc:" + ecsapi.ActionReleaseEipAddress,
		"vpc:" + ecsapi.ActionTagEIPs, "vpc:" + ecsapi.ActionUnTagEIPs},
	ReadAction: ecsapi.ActionDescribeEipAddresses, ReadLimit: 50,
	DeleteAction: ecsapi.ActionReleaseEipAddress, TagAction: ecsapi.ActionTagEIPs, ResourceType: "EIP",
	Supports: supports[EIPAPI],
	List: func(ctx context.Context, api any, c *call.Caller, region, tagKey string, rules decide.Rules) ([]Resource, *verdict.Failure) {
		eips, f := ListEIPs(ctx, client[EIPAPI](api), c, region, tagKey)
		return resources(eips, func(e cloud.EIP) Resource { return EIPResource(e, rules) }), f
	},
	Read: func(ctx context.Context, api any, region string, ids []string, rules decide.Rules) ([]Resource, error) {
		page, err := client[EIPAPI](api).DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: region, AllocationIDs: ids})
		return resources(page.EIPs, func(e cloud.EIP) Resource { return EIPResource(e, rules) }), err
	},
	Delete: func(ctx context.Context, api any, region, id string) (string, error) {
		return client[EIPAPI](api).ReleaseEipAddress(ctx, region, id)
	},
	// TagEIPs is the VPC API's TagResources, always of type EIP.
	Tag: func(ctx context.Context, api any, region, _ string, ids []string, tags map[string]string) (string, error) {
		return client[EIPAPI](api).TagEIPs(ctx, region, ids, tags)
	},
}

// EIPResource is a listed EIP as the engine plans it.
func EIPResource(e cloud.EIP, rules decide.Rules) Resource {
	r := Resource{ID: e.AllocationID, Name: e.Address, Created: e.AllocationTime, Tags: e.Tags, Region: e.Region}
	tags := map[string]string{}
	for k, v := range e.Tags {
		if k != rules.KeepKey { // the keep tag is the rules' own check
			tags[k] = v
		}
	}
	if reason, detail := EIPHeld(cloud.EIP{Problem: e.Problem, Tags: tags, DeletionProtection: e.DeletionProtection,
		ChargeType: e.ChargeType, InstanceID: e.InstanceID}, rules); reason != "" {
		if reason == verdict.DecisionChanged {
			reason, detail = verdict.InUse, "bound to "+e.InstanceID
		}
		r.Held, r.HeldDetail = reason, detail
	} else if e.Status != "Available" {
		r.Held, r.HeldDetail = verdict.InUse, "status "+e.Status+" (only an Available EIP is released)"
	}
	return r
}

// EIPHeld says why an EIP must stay whatever its status: the keep tag,
// deletion protection, a subscription, an answer that cannot be trusted,
// or a binding to something else; "" when none applies.
func EIPHeld(e cloud.EIP, rules decide.Rules) (verdict.Reason, string) {
	switch _, kept := e.Tags[rules.KeepKey]; {
	case e.Problem != "":
		return verdict.InvalidData, e.Problem
	case kept:
		return verdict.Excluded, "has the " + rules.KeepKey + " tag"
	case e.DeletionProtection:
		return verdict.DeletionProtected, "deletion protection is on"
	case e.ChargeType == "PrePaid":
		return verdict.SubscriptionActive, "a subscription EIP cannot be released"
	case e.InstanceID != "":
		return verdict.DecisionChanged, "bound to " + e.InstanceID + " again"
	}
	return "", ""
}

// ListEIPs pages a region's EIPs by number through the shared pager
// (DescribeEipAddresses has no NextToken) up to the total the API
// announced; tagKey filters.
func ListEIPs(ctx context.Context, api EIPLister, c *call.Caller, region, tagKey string) ([]cloud.EIP, *verdict.Failure) {
	l := page.Listing{Name: ecsapi.ActionDescribeEipAddresses, PageSize: ecsapi.MaxEIPPage}
	return collect(ctx, c, l, true, func(e cloud.EIP) string { return e.AllocationID },
		func(ctx context.Context, _ string, n int) (answer[cloud.EIP], error) {
			p, err := api.DescribeEipAddresses(ctx, ecsapi.EIPInput{Region: region, TagKey: tagKey, Page: n})
			return answer[cloud.EIP]{items: p.EIPs, total: p.TotalCount}, err
		})
}
