package benchmark

import (
	"context"
	"fmt"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// NaiveConfig is one run of the naive baseline.
type NaiveConfig struct {
	Endpoint string   // the double's URL
	Regions  []string // swept one after another
	// MaxDeletes bounds the DeleteInstance calls; 0 means no bound. When
	// the fleet has more eligible instances, the run lists every region but
	// deletes only the first MaxDeletes, and the result is extrapolated.
	MaxDeletes int
}

// NaiveResult is what the naive baseline cost.
type NaiveResult struct {
	Calls    map[string]int `json:"calls"` // made (not extrapolated), by action
	Eligible int            `json:"eligible"`
	Deleted  int            `json:"deleted"` // DeleteInstance calls that succeeded
	Failed   int            `json:"failed"`  // DeleteInstance calls that failed
	// CappedRegions counts regions whose tag-filtered listing hit the
	// 1,000-result cap and were listed again unfiltered.
	CappedRegions int   `json:"cappedRegions"`
	ListNS        int64 `json:"listNs"`   // time spent listing
	DeleteNS      int64 `json:"deleteNs"` // time spent deleting
	WallNS        int64 `json:"wallNs"`   // measured wall time
	// Extrapolated is set when not every eligible instance was deleted:
	// EstimatedNS is then the listing time plus the mean DeleteInstance time
	// times the eligible instances.
	Extrapolated bool  `json:"extrapolated"`
	EstimatedNS  int64 `json:"estimatedNs"`
}

// Estimated is the baseline's wall time for the whole fleet: measured, or
// extrapolated when the run was capped.
func (r NaiveResult) Estimated() time.Duration { return time.Duration(r.EstimatedNS) }

// EstimatedCalls is the baseline's call count for the whole fleet: one
// DeleteInstance per eligible instance beside the listing calls made.
func (r NaiveResult) EstimatedCalls() int {
	n := 0
	for a, c := range r.Calls {
		if a != "DeleteInstance" {
			n += c
		}
	}
	return n + r.Eligible
}

// RunNaive runs the baseline the way Alibaba's OOS templates and
// alicloud-nuke release instances: regions one after another; in each,
// DescribeInstances filtered by the opt-in tag, 100 a page; then one
// DeleteInstance per eligible instance (chosen by decide.Decide with the
// production rules, so the set is the sweep's), one call after another.
// A tag-filtered listing ends at 1,000 results; a naive tool would release
// only those, so to release the same set the baseline then lists the region
// again unfiltered (counted in its calls and time).
func RunNaive(ctx context.Context, cfg NaiveConfig) (NaiveResult, error) {
	scheme, host, err := ecsapi.ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return NaiveResult{}, err
	}
	rules := Rules()
	res := NaiveResult{Calls: map[string]int{}}
	type target struct {
		client *ecs.Client
		region string
		inst   decide.Instance
		flags  decide.Flags
	}
	start := time.Now()
	for _, region := range cfg.Regions {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		client, err := ecs.NewClientWithAccessKey(region, AccessKeyID, AccessKeySecret)
		if err != nil {
			return res, err
		}
		client.Domain = host
		client.SetReadTimeout(30 * time.Second)
		listStart := time.Now()
		instances, capped, err := naiveList(client, region, rules.OptInKey, res.Calls)
		if err != nil {
			return res, err
		}
		if capped {
			res.CappedRegions++
			instances, _, err = naiveList(client, region, "", res.Calls)
			if err != nil {
				return res, err
			}
		}
		res.ListNS += int64(time.Since(listStart))
		now := time.Now()
		var regionQueue []target
		for _, in := range instances {
			if d := decide.Decide(in, rules, now); d.Release {
				regionQueue = append(regionQueue, target{client, region, in, d.Flags})
			}
		}
		res.Eligible += len(regionQueue)
		// Regions run one after another: delete this region's instances
		// before listing the next, within the budget.
		deleteStart := time.Now()
		for _, t := range regionQueue {
			if cfg.MaxDeletes > 0 && res.Deleted+res.Failed >= cfg.MaxDeletes {
				break
			}
			req := ecs.CreateDeleteInstanceRequest()
			req.Scheme = scheme
			req.RegionId = t.region
			req.InstanceId = t.inst.ID
			req.Force = requests.NewBoolean(t.flags.Force)
			req.TerminateSubscription = requests.NewBoolean(t.flags.TerminateSubscription)
			res.Calls["DeleteInstance"]++
			if _, err := t.client.DeleteInstance(req); err != nil {
				res.Failed++
				continue
			}
			res.Deleted++
		}
		res.DeleteNS += int64(time.Since(deleteStart))
	}
	res.WallNS = int64(time.Since(start))
	res.EstimatedNS = res.WallNS
	if attempted := res.Deleted + res.Failed; attempted < res.Eligible {
		if attempted == 0 {
			return res, fmt.Errorf("naive baseline: no DeleteInstance call made (budget %d)", cfg.MaxDeletes)
		}
		res.Extrapolated = true
		res.EstimatedNS = res.ListNS + res.DeleteNS*int64(res.Eligible)/int64(attempted)
	}
	return res, nil
}

// naiveList pages through DescribeInstances (tag-filtered when tagKey is
// set). capped reports a tag-filtered listing that reached the API's
// 1,000-result cap and may be incomplete.
func naiveList(client *ecs.Client, region, tagKey string, calls map[string]int) (out []decide.Instance, capped bool, err error) {
	token := ""
	for {
		req := ecs.CreateDescribeInstancesRequest()
		req.Scheme = client.GetConfig().Scheme
		req.RegionId = region
		req.MaxResults = requests.NewInteger(pageSize)
		req.NextToken = token
		if tagKey != "" {
			req.Tag = &[]ecs.DescribeInstancesTag{{Key: tagKey}}
		}
		calls[ecsapi.ActionDescribeInstances]++
		resp, err := client.DescribeInstances(req)
		if err != nil {
			return nil, false, fmt.Errorf("naive baseline: DescribeInstances %s: %w", region, err)
		}
		for i := range resp.Instances.Instance {
			out = append(out, naiveInstance(&resp.Instances.Instance[i], region))
		}
		if resp.NextToken == "" || resp.NextToken == token {
			return out, tagKey != "" && len(out) >= tagFilterCap, nil
		}
		token = resp.NextToken
	}
}

func naiveInstance(src *ecs.Instance, region string) decide.Instance {
	in := decide.Instance{
		ID: src.InstanceId, Region: src.RegionId, Status: src.Status, ChargeType: src.InstanceChargeType,
		ExpiredTime: src.ExpiredTime, CreationTime: src.CreationTime, DeletionProtection: src.DeletionProtection,
	}
	if in.Region == "" {
		in.Region = region
	}
	for _, l := range src.OperationLocks.LockReason {
		in.LockReasons = append(in.LockReasons, l.LockReason)
	}
	if len(src.Tags.Tag) > 0 {
		in.Tags = make(map[string]string, len(src.Tags.Tag))
		for _, t := range src.Tags.Tag {
			in.Tags[t.TagKey] = t.TagValue
		}
	}
	return in
}
