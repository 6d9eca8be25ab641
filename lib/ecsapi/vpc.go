package ecsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/vpc"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
)

// VPC API (2016-04-28) actions, for EIPs. RAM policies grant vpc:<Action>.
const (
	ActionDescribeEipAddresses = "DescribeEipAddresses"
	ActionReleaseEipAddress    = "ReleaseEipAddress"
	ActionTagEIPs              = "TagResources"   // the VPC API's, ResourceType EIP
	ActionUnTagEIPs            = "UnTagResources" // the VPC API's, ResourceType EIP
)

// VPCActions is every VPC action the client boundary calls.
var VPCActions = []string{ActionDescribeEipAddresses, ActionReleaseEipAddress, ActionTagEIPs, ActionUnTagEIPs}

// MaxEIPPage is DescribeEipAddresses' largest PageSize; it pages by number.
const MaxEIPPage = 100

// EIPInput selects one page of a region's EIPs: all, by a tag key, or by
// allocation IDs (at most 50, comma-separated).
type EIPInput struct {
	Region        string
	TagKey        string
	AllocationIDs []string
	Page          int // 1-based
}

// EIPPage is one page of DescribeEipAddresses.
type EIPPage struct {
	EIPs       []cloud.EIP
	TotalCount int
	RequestID  string
}

// eipBody is the part of DescribeEipAddresses the sweep reads, decoded
// strictly: DeletionProtection is a pointer, so that an answer without it
// is untrusted rather than read as "not protected".
type eipBody struct {
	RequestId    string
	TotalCount   *int
	EipAddresses struct {
		EipAddress []struct {
			AllocationId       string
			IpAddress          string
			RegionId           string
			Status             string
			InstanceId         string
			InstanceType       string
			ChargeType         string
			DeletionProtection *bool
			AllocationTime     string
			Tags               struct {
				Tag []struct{ Key, Value string }
			}
		}
	}
}

// DescribeEipAddresses lists one page of a region's EIPs.
func (c *Client) DescribeEipAddresses(ctx context.Context, in EIPInput) (EIPPage, error) {
	const action = ActionDescribeEipAddresses
	if len(in.AllocationIDs) > 50 {
		return EIPPage{}, fmt.Errorf("describe EIPs in %s: %d allocation IDs, at most 50", in.Region, len(in.AllocationIDs))
	}
	client, err := c.vpcClient(ctx, in.Region)
	if err != nil {
		return EIPPage{}, err
	}
	req := vpc.CreateDescribeEipAddressesRequest()
	req.RegionId = in.Region
	req.PageSize = requests.NewInteger(MaxEIPPage)
	req.PageNumber = requests.NewInteger(max(1, in.Page))
	if in.TagKey != "" {
		req.Tag = &[]vpc.DescribeEipAddressesTag{{Key: in.TagKey}}
	}
	if len(in.AllocationIDs) > 0 {
		req.AllocationId = strings.Join(in.AllocationIDs, ",")
	}
	if err := c.prepareFor(ctx, action, req, c.vpcScheme); err != nil {
		return EIPPage{}, c.wrap(ctx, action, in.Region, err)
	}
	resp := responses.NewCommonResponse()
	if _, err := guard(action, in.Region, func() (struct{}, error) { return struct{}{}, client.DoAction(req, resp) }); err != nil {
		return EIPPage{}, c.wrap(ctx, action, in.Region, err)
	}
	var body eipBody
	if err := json.Unmarshal(resp.GetHttpContentBytes(), &body); err != nil {
		return EIPPage{}, malformed(action, in.Region, "not the expected JSON")
	}
	if body.RequestId == "" || body.TotalCount == nil {
		return EIPPage{}, malformed(action, in.Region, "no RequestId or TotalCount")
	}
	page := EIPPage{TotalCount: *body.TotalCount, RequestID: body.RequestId}
	for _, e := range body.EipAddresses.EipAddress {
		if e.AllocationId == "" {
			return EIPPage{}, malformed(action, in.Region, "an EIP without AllocationId")
		}
		eip := cloud.EIP{AllocationID: e.AllocationId, Address: e.IpAddress, Region: e.RegionId, Status: e.Status,
			InstanceID: e.InstanceId, InstanceType: e.InstanceType, ChargeType: e.ChargeType, AllocationTime: e.AllocationTime}
		if e.DeletionProtection == nil {
			eip.Problem = "the API's answer has no DeletionProtection"
		} else {
			eip.DeletionProtection = *e.DeletionProtection
		}
		for _, t := range e.Tags.Tag {
			if eip.Tags == nil {
				eip.Tags = map[string]string{}
			}
			eip.Tags[t.Key] = t.Value
		}
		page.EIPs = append(page.EIPs, eip)
	}
	return page, nil
}

// ReleaseEipAddress releases one Available, pay-as-you-go EIP. The release
// is asynchronous: the EIP shows Releasing, then disappears.
func (c *Client) ReleaseEipAddress(ctx context.Context, region, allocationID string) (string, error) {
	const action = ActionReleaseEipAddress
	if allocationID == "" {
		return "", fmt.Errorf("release EIP in %s: no allocation ID", region)
	}
	client, err := c.vpcClient(ctx, region)
	if err != nil {
		return "", err
	}
	req := vpc.CreateReleaseEipAddressRequest()
	req.RegionId = region
	req.AllocationId = allocationID
	if err := c.prepareFor(ctx, action, req, c.vpcScheme); err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	resp, err := guard(action, region, func() (*vpc.ReleaseEipAddressResponse, error) { return client.ReleaseEipAddress(req) })
	if err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	if resp.RequestId == "" {
		return "", malformed(action, region, "no RequestId")
	}
	return resp.RequestId, nil
}

// TagEIPs writes tags on EIPs (the VPC API's TagResources, ResourceType EIP,
// at most 50 IDs).
func (c *Client) TagEIPs(ctx context.Context, region string, allocationIDs []string, tags map[string]string) (string, error) {
	const action = ActionTagEIPs
	if n := len(allocationIDs); n == 0 || n > MaxTagIDs || len(tags) == 0 {
		return "", fmt.Errorf("tag EIPs in %s: %d IDs and %d tags, want 1..%d and some", region, n, MaxTagIDs, len(tags))
	}
	client, err := c.vpcClient(ctx, region)
	if err != nil {
		return "", err
	}
	req := vpc.CreateTagResourcesRequest()
	req.RegionId = region
	req.ResourceType = "EIP"
	ids := append([]string(nil), allocationIDs...)
	req.ResourceId = &ids
	var list []vpc.TagResourcesTag
	for k, v := range tags {
		list = append(list, vpc.TagResourcesTag{Key: k, Value: v})
	}
	req.Tag = &list
	if err := c.prepareFor(ctx, action, req, c.vpcScheme); err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	resp, err := guard(action, region, func() (*vpc.TagResourcesResponse, error) { return client.TagResources(req) })
	if err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	if resp.RequestId == "" {
		return "", malformed(action, region, "no RequestId")
	}
	return resp.RequestId, nil
}

// UnTagEIPs removes tag keys from EIPs (the VPC API's UnTagResources,
// ResourceType EIP, at most 50 IDs).
func (c *Client) UnTagEIPs(ctx context.Context, region string, allocationIDs, keys []string) (string, error) {
	const action = ActionUnTagEIPs
	if n := len(allocationIDs); n == 0 || n > MaxTagIDs || len(keys) == 0 {
		return "", fmt.Errorf("untag EIPs in %s: %d IDs and %d keys, want 1..%d and some", region, n, MaxTagIDs, len(keys))
	}
	client, err := c.vpcClient(ctx, region)
	if err != nil {
		return "", err
	}
	req := vpc.CreateUnTagResourcesRequest()
	req.RegionId = region
	req.ResourceType = "EIP"
	ids := append([]string(nil), allocationIDs...)
	req.ResourceId = &ids
	tagKeys := append([]string(nil), keys...)
	req.TagKey = &tagKeys
	if err := c.prepareFor(ctx, action, req, c.vpcScheme); err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	resp, err := guard(action, region, func() (*vpc.UnTagResourcesResponse, error) { return client.UnTagResources(req) })
	if err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	if resp.RequestId == "" {
		return "", malformed(action, region, "no RequestId")
	}
	return resp.RequestId, nil
}
