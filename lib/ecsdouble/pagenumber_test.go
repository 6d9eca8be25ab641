package ecsdouble

import (
	"slices"
	"sort"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

// byNumber reads one DescribeInstances page by PageNumber (size 0 leaves
// PageSize unset) and returns its IDs and the answer.
func byNumber(t *testing.T, c *ecs.Client, region string, number, size int, mod func(*ecs.DescribeInstancesRequest)) ([]string, *ecs.DescribeInstancesResponse) {
	t.Helper()
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = region
	req.PageNumber = requests.NewInteger(number)
	if size > 0 {
		req.PageSize = requests.NewInteger(size)
	}
	if mod != nil {
		mod(req)
	}
	resp, err := c.DescribeInstances(req)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, in := range resp.Instances.Instance {
		ids = append(ids, in.InstanceId)
	}
	return ids, resp
}

func TestDescribeInstancesPageNumber(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 7, Instances: 250, Regions: 2, Untagged: 30})
	s := startFleet(t, f)
	c := sdkClient(t, s)
	var want, stopped []string
	for _, in := range f.Instances {
		if in.Region == "cn-shanghai" {
			want = append(want, in.ID)
			if in.Status == "Stopped" {
				stopped = append(stopped, in.ID)
			}
		}
	}
	sort.Strings(want)
	sort.Strings(stopped)
	for _, size := range []int{100, 37, 1} {
		var got []string
		pages := (len(want) + size - 1) / size
		for n := 1; n <= pages; n++ {
			ids, resp := byNumber(t, c, "cn-shanghai", n, size, nil)
			if resp.TotalCount != len(want) || resp.PageNumber != n || resp.PageSize != size {
				t.Fatalf("size %d page %d: TotalCount %d PageNumber %d PageSize %d, want %d, %d, %d",
					size, n, resp.TotalCount, resp.PageNumber, resp.PageSize, len(want), n, size)
			}
			if n < pages && len(ids) != size {
				t.Fatalf("size %d page %d: %d instances", size, n, len(ids))
			}
			got = append(got, ids...)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("size %d: pages hold %d ids, want the %d of the region in ID order", size, len(got), len(want))
		}
		// A page past the end is empty and still counts the matches.
		if ids, resp := byNumber(t, c, "cn-shanghai", pages+1, size, nil); len(ids) != 0 || resp.TotalCount != len(want) || resp.NextToken != "" {
			t.Fatalf("size %d: page past the end: %v, TotalCount %d, NextToken %q", size, ids, resp.TotalCount, resp.NextToken)
		}
	}
	// PageSize defaults to 10; the pages can be read in any order.
	ids, resp := byNumber(t, c, "cn-shanghai", 3, 0, nil)
	if resp.PageSize != 10 || !slices.Equal(ids, want[20:30]) {
		t.Fatalf("default size, page 3: PageSize %d, %v", resp.PageSize, ids)
	}
	// Status filters, and TotalCount counts the filtered matches exactly.
	ids, resp = byNumber(t, c, "cn-shanghai", 1, 100, func(r *ecs.DescribeInstancesRequest) { r.Status = "Stopped" })
	if resp.TotalCount != len(stopped) || !slices.Equal(ids, stopped[:min(100, len(stopped))]) || len(stopped) == len(want) {
		t.Fatalf("Status=Stopped: TotalCount %d, %d ids; want %d of %d", resp.TotalCount, len(ids), len(stopped), len(want))
	}
	// MaxResults or NextToken mean token paging: PageNumber is ignored.
	ids, _ = byNumber(t, c, "cn-shanghai", 2, 10, func(r *ecs.DescribeInstancesRequest) { r.MaxResults = requests.NewInteger(10) })
	if !slices.Equal(ids, want[:10]) {
		t.Fatalf("MaxResults with PageNumber 2: %v, want the first page", ids)
	}
	// Bad values are refused, not read as another page.
	for _, bad := range []map[string]string{{"PageSize": "101"}, {"PageSize": "0"}, {"PageSize": "x"}, {"PageNumber": "0"}, {"PageNumber": "-1"}, {"PageNumber": "2.5"}} {
		p := map[string]string{"Action": "DescribeInstances", "RegionId": "cn-shanghai"}
		code := ""
		for k, v := range bad {
			p[k] = v
			code = "InvalidParameter." + k
		}
		if st, m := raw(t, s, p); st != 400 || m["Code"] != code {
			t.Fatalf("%v: %d %v, want 400 %s", bad, st, m, code)
		}
	}
}

func TestDescribeInstancesPageNumberTagCap(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 1, Instances: 1500, Untagged: 100})
	s := startFleet(t, f)
	c := sdkClient(t, s)
	tag := func(r *ecs.DescribeInstancesRequest) { r.Tag = &[]ecs.DescribeInstancesTag{{Key: "reaper-expires"}} }
	ids, resp := byNumber(t, c, "cn-hangzhou", 10, 100, tag)
	if resp.TotalCount != TagFilterCap || len(ids) != 100 {
		t.Fatalf("page 10 of a tag filter: TotalCount %d, %d ids", resp.TotalCount, len(ids))
	}
	if ids, _ := byNumber(t, c, "cn-hangzhou", 11, 100, tag); len(ids) != 0 {
		t.Fatalf("page 11 of a tag filter past its cap: %d ids", len(ids))
	}
	if _, resp := byNumber(t, c, "cn-hangzhou", 1, 100, nil); resp.TotalCount != 1600 {
		t.Fatalf("unfiltered TotalCount %d, want 1600", resp.TotalCount)
	}
}

// Pages by number are read from the fleet as it is at each call: an
// instance removed before a later page is read shifts the later ones down
// (the first of them moves onto a page already read, so a lister misses it
// this time), one added shifts them up (the last of a page read again).
func TestDescribeInstancesPageNumberShifts(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 2, Instances: 30})
	s := startFleet(t, f)
	c := sdkClient(t, s)
	all, _ := byNumber(t, c, "cn-hangzhou", 1, 100, nil)
	if len(all) != 30 {
		t.Fatalf("%d instances", len(all))
	}
	first, _ := byNumber(t, c, "cn-hangzhou", 1, 10, nil)
	s.Remove(all[0])
	second, resp := byNumber(t, c, "cn-hangzhou", 2, 10, nil)
	if !slices.Equal(first, all[:10]) || !slices.Equal(second, all[11:21]) || resp.TotalCount != 29 {
		t.Fatalf("after a removal page 2 is %v (TotalCount %d), want %v", second, resp.TotalCount, all[11:21])
	}
	in, ok := s.Instance(all[5])
	if !ok {
		t.Fatal("instance gone")
	}
	in.ID = "i-0000000000000000" // sorts first
	s.Add(in)
	third, resp := byNumber(t, c, "cn-hangzhou", 3, 10, nil)
	if !slices.Equal(third, all[20:30]) || resp.TotalCount != 30 {
		t.Fatalf("after an addition page 3 is %v (TotalCount %d), want %v", third, resp.TotalCount, all[20:30])
	}
}

func TestDescribeInstancesZoneID(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 4, Instances: 12})
	for i := range f.Instances {
		f.Instances[i].Zone = []string{"", "cn-hangzhou-h", "cn-hangzhou-i"}[i%3]
	}
	s := startFleet(t, f)
	c := sdkClient(t, s)
	for _, zone := range []string{"cn-hangzhou-a", "cn-hangzhou-h", "cn-hangzhou-i"} {
		var want []string
		for _, in := range f.Instances {
			if z := in.Zone; z == zone || z == "" && zone == "cn-hangzhou-a" {
				want = append(want, in.ID)
			}
		}
		sort.Strings(want)
		zoneOnly := func(r *ecs.DescribeInstancesRequest) { r.ZoneId = zone }
		ids, resp := byNumber(t, c, "cn-hangzhou", 1, 100, zoneOnly)
		if !slices.Equal(ids, want) || resp.TotalCount != len(want) || len(want) != 4 {
			t.Fatalf("ZoneId %s by number: %v (TotalCount %d), want %v", zone, ids, resp.TotalCount, want)
		}
		for _, in := range resp.Instances.Instance {
			if in.ZoneId != zone {
				t.Fatalf("ZoneId %s listed %s in %s", zone, in.InstanceId, in.ZoneId)
			}
		}
		// Token paging filters the same, and its token belongs to the zone.
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId = "cn-hangzhou"
		req.ZoneId = zone
		req.MaxResults = requests.NewInteger(10)
		tr, err := c.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Instances.Instance) != 4 {
			t.Fatalf("ZoneId %s by token: %d instances", zone, len(tr.Instances.Instance))
		}
	}
	if ids, resp := byNumber(t, c, "cn-hangzhou", 1, 100, func(r *ecs.DescribeInstancesRequest) { r.ZoneId = "cn-hangzhou-z" }); len(ids) != 0 || resp.TotalCount != 0 {
		t.Fatalf("a zone without instances: %v", ids)
	}
}
