package ecsdouble

import (
	"runtime"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestLargeFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("large fleet")
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f := GenerateFleet(GenConfig{Seed: 11, Instances: 100_000, Untagged: 20_000, Regions: 20, NonEligibleShare: 0.3, PrePaidShare: 0.5})
	s := startFleet(t, f)
	f = Fleet{} // let the generator's copy go: measure the server's storage only
	_ = f
	runtime.GC()
	runtime.ReadMemStats(&after)
	perInstance := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / 120_000
	t.Logf("heap per stored instance ≈ %d bytes", perInstance)
	// About half of it is the record's rendered JSON, kept to save the
	// benchmarks' shared CPU.
	if perInstance > 1536 {
		t.Errorf("stored instance costs %d bytes", perInstance)
	}
	c := sdkClient(t, s)
	ids, pages := describeAll(t, c, "cn-beijing", "", 100)
	if len(ids) != 6000 || pages != 60 {
		t.Fatalf("cn-beijing: %d ids in %d pages", len(ids), pages)
	}
	ids, _ = describeAll(t, c, "cn-beijing", "reaper-expires", 100)
	if len(ids) != TagFilterCap {
		t.Fatalf("tag-filtered cn-beijing: %d", len(ids))
	}
	if ids := listTagIDs(t, c, "cn-beijing", "reaper-expires"); len(ids) != 5000 {
		t.Fatalf("ListTagResources cn-beijing: %d", len(ids))
	}
}

// BenchmarkDescribeLastPage shows a page costs O(page): the last page of a
// 100,000-instance region is as cheap as the first.
func BenchmarkDescribeLastPage(b *testing.B) {
	f := GenerateFleet(GenConfig{Seed: 1, Instances: 100_000})
	s := startFleet(b, f)
	last := f.Instances[len(f.Instances)-101].ID
	tok := pageToken{fp: fingerprint("DescribeInstances", "cn-hangzhou", "", "-", "", "", ""), count: 99_899, after: last}.encode()
	c := sdkClient(b, s)
	b.ResetTimer()
	for range b.N {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId = "cn-hangzhou"
		req.MaxResults = requests.NewInteger(100)
		req.NextToken = tok
		resp, err := c.DescribeInstances(req)
		if err != nil || len(resp.Instances.Instance) != 100 {
			b.Fatal(err)
		}
	}
}
