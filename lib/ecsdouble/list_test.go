package ecsdouble

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestDescribeInstancesShape(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-hangzhou"
	req.InstanceIds = `["i-bp1prepaidexpir0003"]`
	resp, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Instances.Instance) != 1 || resp.NextToken != "" {
		t.Fatalf("got %+v", resp)
	}
	in := resp.Instances.Instance[0]
	if in.InstanceId != "i-bp1prepaidexpir0003" || in.RegionId != "cn-hangzhou" || in.Status != "Stopped" ||
		in.InstanceChargeType != "PrePaid" || in.ExpiredTime != "2025-03-01T16:00Z" || in.CreationTime != "2024-03-01T07:12Z" ||
		in.DeletionProtection || in.ZoneId == "" || in.InstanceType == "" || in.InstanceName == "" {
		t.Fatalf("instance %+v", in)
	}
	if len(in.OperationLocks.LockReason) != 1 || in.OperationLocks.LockReason[0].LockReason != "financial" {
		t.Fatalf("locks %+v", in.OperationLocks)
	}
	if len(in.Tags.Tag) != 1 || in.Tags.Tag[0].TagKey != "reaper-expires" || in.Tags.Tag[0].TagValue != "2025-03-01" {
		t.Fatalf("tags %+v", in.Tags)
	}
	// PostPaid instances report the far-future ExpiredTime.
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-hangzhou"
	req.InstanceIds = `["i-bp1postpaidstop0001"]`
	resp, err = c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Instances.Instance[0].ExpiredTime; got != PostPaidExpiredTime {
		t.Fatalf("PostPaid ExpiredTime %q", got)
	}
}

func TestDescribeInstancesPagination(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 7, Instances: 250, Regions: 2, Untagged: 30})
	s := startFleet(t, f)
	c := sdkClient(t, s)
	var want []string
	for _, in := range f.Instances {
		if in.Region == "cn-shanghai" {
			want = append(want, in.ID)
		}
	}
	sort.Strings(want)
	for _, mr := range []int{100, 37, 3, 500} {
		got, pages := describeAll(t, c, "cn-shanghai", "", mr)
		if !slices.Equal(got, want) {
			t.Fatalf("MaxResults=%d: got %d ids, want %d (sorted, complete)", mr, len(got), len(want))
		}
		size := min(max(mr, 10), 100)
		if wantPages := (len(want) + size - 1) / size; pages != wantPages {
			t.Fatalf("MaxResults=%d: %d pages, want %d", mr, pages, wantPages)
		}
	}
	// Unset MaxResults gives 10 per page.
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-shanghai"
	resp, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Instances.Instance) != 10 || resp.PageSize != 10 || resp.NextToken == "" || resp.TotalCount != len(want) {
		t.Fatalf("default page: %d instances, PageSize %d, TotalCount %d", len(resp.Instances.Instance), resp.PageSize, resp.TotalCount)
	}
	// A token from one query is rejected by another.
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-hangzhou"
	req.NextToken = resp.NextToken
	_, err = c.DescribeInstances(req)
	serverErr(t, err, 400, "InvalidNextToken.Malformed")
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-hangzhou"
	req.NextToken = "garbage!"
	_, err = c.DescribeInstances(req)
	serverErr(t, err, 400, "InvalidNextToken.Malformed")
}

func TestDescribeInstancesFilters(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	list := func(mod func(*ecs.DescribeInstancesRequest)) []string {
		t.Helper()
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId = "cn-shanghai"
		req.MaxResults = requests.NewInteger(100)
		mod(req)
		resp, err := c.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, in := range resp.Instances.Instance {
			ids = append(ids, in.InstanceId)
		}
		return ids
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) { r.Tag = &[]ecs.DescribeInstancesTag{{Key: "reaper-keep"}} }); !slices.Equal(got, []string{"i-uf6keptbytag00007"}) {
		t.Fatalf("key-only tag: %v", got)
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) {
		r.Tag = &[]ecs.DescribeInstancesTag{{Key: "reaper-keep", Value: "no"}}
	}); len(got) != 0 {
		t.Fatalf("key=value tag: %v", got)
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) { r.Status = "Starting" }); !slices.Equal(got, []string{"i-uf6starting00010"}) {
		t.Fatalf("status: %v", got)
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) { r.InstanceChargeType = "PrePaid" }); len(got) != 0 {
		t.Fatalf("charge type: %v", got)
	}
	// InstanceIds: only IDs in the region come back; [] means none.
	if got := list(func(r *ecs.DescribeInstancesRequest) {
		r.InstanceIds = `["i-uf6nooptin000009","i-bp1postpaidstop0001","i-missing","i-uf6kept-nope","i-uf6protected00006"]`
	}); !slices.Equal(got, []string{"i-uf6nooptin000009", "i-uf6protected00006"}) {
		t.Fatalf("ids: %v", got)
	}
	if got := list(func(r *ecs.DescribeInstancesRequest) { r.InstanceIds = `[]` }); len(got) != 0 {
		t.Fatalf("empty ids: %v", got)
	}
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-shanghai"
	req.InstanceIds = `i-uf6nooptin000009`
	_, err := c.DescribeInstances(req)
	serverErr(t, err, 400, "InvalidInstanceIds.Malformed")

	tags := make([]ecs.DescribeInstancesTag, 21)
	for i := range tags {
		tags[i] = ecs.DescribeInstancesTag{Key: "k" + strconv.Itoa(i)}
	}
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-shanghai"
	req.Tag = &tags
	_, err = c.DescribeInstances(req)
	serverErr(t, err, 400, "InvalidTagCount")

	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-nowhere"
	_, err = c.DescribeInstances(req)
	serverErr(t, err, 404, "InvalidRegionId.NotFound")

	if st, m := raw(t, s, map[string]string{"Action": "DescribeInstances", "RegionId": "cn-shanghai", "Tag.1.Value": "x"}); st != 400 || m["Code"] != "InvalidTag.Mismatch" {
		t.Fatalf("value without key: %d %v", st, m)
	}
	ids, _ := json.Marshal(make([]string, 101))
	if st, m := raw(t, s, map[string]string{"Action": "DescribeInstances", "RegionId": "cn-shanghai", "InstanceIds": string(ids)}); st != 400 || m["Code"] != "InvalidInstanceIds.Malformed" {
		t.Fatalf("101 ids: %d %v", st, m)
	}
}

func TestDescribeInstancesIDsPaginate(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 3, Instances: 150})
	s := startFleet(t, f)
	c := sdkClient(t, s)
	var ids []string
	for _, in := range f.Instances[:100] {
		ids = append(ids, in.ID)
	}
	js, _ := json.Marshal(ids)
	var got []string
	token := ""
	for page := 0; ; page++ {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId = "cn-hangzhou"
		req.InstanceIds = string(js)
		req.MaxResults = requests.NewInteger(30)
		req.NextToken = token
		resp, err := c.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range resp.Instances.Instance {
			got = append(got, in.InstanceId)
		}
		if token = resp.NextToken; token == "" {
			break
		}
	}
	sort.Strings(ids)
	if !slices.Equal(got, ids) {
		t.Fatalf("got %d ids, want %d", len(got), len(ids))
	}
}

func TestTagFilterCap(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 1, Instances: 1500, Untagged: 100})
	s := startFleet(t, f)
	c := sdkClient(t, s)
	got, pages := describeAll(t, c, "cn-hangzhou", "reaper-expires", 100)
	if len(got) != TagFilterCap || pages != 10 {
		t.Fatalf("tag-filtered listing returned %d in %d pages, want the %d cap in 10", len(got), pages, TagFilterCap)
	}
	got, _ = describeAll(t, c, "cn-hangzhou", "reaper-expires", 33)
	if len(got) != TagFilterCap {
		t.Fatalf("MaxResults=33: %d", len(got))
	}
	// Unfiltered listing is not capped.
	got, _ = describeAll(t, c, "cn-hangzhou", "", 100)
	if len(got) != 1600 {
		t.Fatalf("unfiltered: %d", len(got))
	}
	// ListTagResources is not capped.
	if ids := listTagIDs(t, c, "cn-hangzhou", "reaper-expires"); len(ids) != 1500 {
		t.Fatalf("ListTagResources: %d", len(ids))
	}
}

// listTagIDs pages ListTagResources, checking page sizes, and returns the
// distinct resource IDs in order.
func listTagIDs(t *testing.T, c *ecs.Client, region, key string) []string {
	t.Helper()
	var ids []string
	token := ""
	for {
		req := ecs.CreateListTagResourcesRequest()
		req.RegionId = region
		req.ResourceType = "instance"
		req.Tag = &[]ecs.ListTagResourcesTag{{Key: key}}
		req.NextToken = token
		resp, err := c.ListTagResources(req)
		if err != nil {
			t.Fatal(err)
		}
		n := len(resp.TagResources.TagResource)
		if resp.NextToken != "" && n != TagPageSize || n > TagPageSize {
			t.Fatalf("page of %d entries (NextToken %q)", n, resp.NextToken)
		}
		for _, tr := range resp.TagResources.TagResource {
			if tr.ResourceType != "instance" {
				t.Fatalf("entry %+v", tr)
			}
			if len(ids) == 0 || ids[len(ids)-1] != tr.ResourceId {
				ids = append(ids, tr.ResourceId)
			}
		}
		if token = resp.NextToken; token == "" {
			return ids
		}
	}
}

func TestListTagResources(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 5, Instances: 120, Untagged: 10, ExtraTags: 2, NonEligibleShare: 0.5, Regions: 2})
	s := startFleet(t, f)
	c := sdkClient(t, s)
	want := map[string]bool{}
	entries := 0
	for _, in := range f.Instances {
		if _, ok := in.Tags["reaper-expires"]; ok && in.Region == "cn-hangzhou" {
			want[in.ID] = true
			entries += len(in.Tags)
		}
	}
	// Entries cover every tag of every matching instance, 50 per page.
	var all []ecs.TagResource
	token := ""
	for {
		req := ecs.CreateListTagResourcesRequest()
		req.RegionId = "cn-hangzhou"
		req.ResourceType = "instance"
		req.Tag = &[]ecs.ListTagResourcesTag{{Key: "reaper-expires"}}
		req.NextToken = token
		resp, err := c.ListTagResources(req)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, resp.TagResources.TagResource...)
		if token = resp.NextToken; token == "" {
			break
		}
	}
	if len(all) != entries {
		t.Fatalf("%d entries, want %d", len(all), entries)
	}
	seen := map[string]bool{}
	for _, e := range all {
		k := e.ResourceId + "/" + e.TagKey
		if seen[k] || !want[e.ResourceId] {
			t.Fatalf("duplicate or unexpected entry %+v", e)
		}
		seen[k] = true
	}
	if ids := listTagIDs(t, c, "cn-hangzhou", "reaper-expires"); len(ids) != len(want) {
		t.Fatalf("%d ids, want %d", len(ids), len(want))
	}
	// TagFilter with values and ResourceId.N narrow the result.
	req := ecs.CreateListTagResourcesRequest()
	req.RegionId = "cn-hangzhou"
	req.ResourceType = "instance"
	keep := []string{"true"}
	req.TagFilter = &[]ecs.ListTagResourcesTagFilter{{TagKey: "reaper-keep", TagValues: &keep}}
	resp, err := c.ListTagResources(req)
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]bool{}
	for _, e := range resp.TagResources.TagResource {
		kept[e.ResourceId] = true
	}
	if len(kept) == 0 {
		t.Fatal("no kept instances found by TagFilter")
	}
	one := f.Instances[0].ID
	req = ecs.CreateListTagResourcesRequest()
	req.RegionId = "cn-hangzhou"
	req.ResourceType = "instance"
	req.ResourceId = &[]string{one, "i-missing"}
	resp, err = c.ListTagResources(req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(resp.TagResources.TagResource); n != len(f.Instances[0].Tags) {
		t.Fatalf("ResourceId filter: %d entries", n)
	}
	// Errors.
	req = ecs.CreateListTagResourcesRequest()
	req.RegionId = "cn-hangzhou"
	req.ResourceType = "instance"
	_, err = c.ListTagResources(req)
	serverErr(t, err, 400, "MissingParameter")
	if st, m := raw(t, s, map[string]string{"Action": "ListTagResources", "RegionId": "cn-hangzhou", "ResourceType": "disk", "Tag.1.Key": "k"}); st != 400 || m["Code"] != "InvalidResourceType.NotFound" {
		t.Fatalf("resource type: %d %v", st, m)
	}
	if st, m := raw(t, s, map[string]string{"Action": "ListTagResources", "RegionId": "cn-hangzhou", "ResourceType": "instance", "Tag.1.Value": "k"}); st != 400 || m["Code"] != "InvalidParameter.TagValue" {
		t.Fatalf("value without key: %d %v", st, m)
	}
}

func TestGenerateFleetDeterministic(t *testing.T) {
	cfg := GenConfig{Seed: 9, Instances: 500, Regions: 20, NonEligibleShare: 0.4, PrePaidShare: 0.5, Untagged: 50, LabelKinds: true}
	a, b := GenerateFleet(cfg), GenerateFleet(cfg)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatal("same config, different fleets")
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseFleet(ja); err != nil {
		t.Fatalf("generated fleet does not round-trip: %v", err)
	}
	kinds := map[string]int{}
	for _, in := range a.Instances {
		kinds[in.Tags[KindTag]]++
		if in.Tags[KindTag] == KindEligiblePrePaid && (in.ChargeType != "PrePaid" || in.LockReasons[0] != "financial" || in.Status != "Stopped") {
			t.Fatalf("prepaid instance %+v", in)
		}
	}
	want := map[string]int{KindEligiblePrePaid: 150, KindEligiblePostPaid: 150, KindNotExpired: 50, KindProtected: 50, KindKept: 50, KindRunning: 50, KindUntagged: 50}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Fatalf("kinds %v, want %v", kinds, want)
	}
	if got := len(a.Regions()); got != 20 {
		t.Fatalf("%d regions", got)
	}
}

func TestLoadFleetErrors(t *testing.T) {
	if _, err := ParseFleet([]byte(`{"instances":[{"id":"i-1","region":"r","colour":"red"}]}`)); err == nil {
		t.Fatal("unknown field accepted")
	}
	if _, err := ParseFleet([]byte(`{"instances":[{"id":"i-1","region":"r"},{"id":"i-1","region":"r"}]}`)); err == nil {
		t.Fatal("duplicate id accepted")
	}
	if _, err := LoadFleet("does-not-exist.json"); err == nil {
		t.Fatal("missing file accepted")
	}
}
