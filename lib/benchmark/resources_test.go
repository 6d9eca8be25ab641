package benchmark

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// resourceFleet gives each region perKind disks, snapshots and EIPs that
// carry the opt-in tag themselves (fewer than 1,000 of a kind: a longer
// tag-filtered listing is not trusted and fails its region); eligibleShare of each kind is expired
// and free (Available, unused), the rest expire in 2099.
func resourceFleet(regions []string, perKind int, eligibleShare float64) ecsdouble.Fleet {
	key := settings.Default().TagKey
	var f ecsdouble.Fleet
	eligible := int(float64(perKind)*eligibleShare + 0.5)
	for _, region := range regions {
		for i := range perKind {
			expiry := "2099-01-01"
			if i < eligible {
				expiry = "2026-01-01"
			}
			tags := map[string]string{key: expiry}
			id := fmt.Sprintf("%s-%05d", region, i)
			f.Disks = append(f.Disks, ecsdouble.Disk{ID: "d-" + id, Region: region, Tags: tags})
			f.Snapshots = append(f.Snapshots, ecsdouble.Snapshot{ID: "s-" + id, Region: region, Disk: "d-src-" + id, Tags: tags})
			f.EIPs = append(f.EIPs, ecsdouble.EIP{
				AllocationID: "eip-" + id, Region: region, Tags: tags,
				Address: fmt.Sprintf("47.%d.%d.%d", len(region)%200, i/250, i%250),
			})
		}
	}
	return f
}

// resourceFloor is the fewest calls the resource sweep can make: each
// kind's tag-filtered listing at its largest page (DescribeDisks 500,
// DescribeSnapshots and DescribeEipAddresses 100), at least one call per
// region, and one delete per eligible resource (those APIs take one ID).
func resourceFloor(regions, perKind, eligible int) map[string]int {
	pages := func(n, size int) int { return max(1, ceilDiv(n, size)) * regions }
	return map[string]int{
		"DescribeDisks":        pages(perKind, 500),
		"DescribeSnapshots":    pages(perKind, 100),
		"DescribeEipAddresses": pages(perKind, 100),
		"DeleteDisk":           eligible * regions,
		"DeleteSnapshot":       eligible * regions,
		"ReleaseEipAddress":    eligible * regions,
	}
}

var resourceKinds = []string{"disks", "snapshots", "eips"}

// TestResourceSweepAtFloor: the resource sweep makes exactly the floor's
// calls, action by action, and deletes every eligible resource.
func TestResourceSweepAtFloor(t *testing.T) {
	for _, tc := range []struct{ regions, perKind int }{{1, 40}, {3, 900}} {
		t.Run(fmt.Sprintf("%dx%d", tc.perKind, tc.regions), func(t *testing.T) {
			regions := ecsdouble.RegionIDs[:tc.regions]
			eligible := int(float64(tc.perKind)*0.5 + 0.5)
			s, err := ecsdouble.Start(resourceFleet(regions, tc.perKind, 0.5), ecsdouble.WithCredential(AccessKeyID, AccessKeySecret, ""))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			res, err := RunSweep(context.Background(), SweepConfig{Endpoint: s.URL(), Regions: regions, Resources: resourceKinds})
			if err != nil || !res.Complete {
				t.Fatalf("sweep: %v %+v", err, res)
			}
			floor := resourceFloor(tc.regions, tc.perKind, eligible)
			for action, want := range floor {
				if got := res.Calls[action]; got != want {
					t.Errorf("%s: %d calls, floor %d (all calls %v)", action, got, want, res.Calls)
				}
			}
			if sum(res.Calls) != sum(floor) {
				t.Errorf("%d calls in all, floor %d: %v", sum(res.Calls), sum(floor), res.Calls)
			}
			for _, kind := range resourceKinds {
				if got := res.KindOutcomes[kind]["released"]; got != eligible*tc.regions {
					t.Errorf("%s released %d, want %d: %v", kind, got, eligible*tc.regions, res.KindOutcomes[kind])
				}
			}
		})
	}
}

// BenchmarkResourceSweep sweeps 900 opted-in disks, snapshots and EIPs
// per region, a fifth of them eligible, with the injected latency:
// calls/floor and wall/floor, where the floor's time is its listings in
// sequence per kind plus its deletes spread over the executor's
// concurrency.
//
//	go test -run '^$' -bench ResourceSweep ./lib/benchmark
func BenchmarkResourceSweep(b *testing.B) {
	for _, nRegions := range []int{1, 5} {
		perKind, share := 900, 0.2
		b.Run(fmt.Sprintf("%dx%d", perKind, nRegions), func(b *testing.B) {
			regions := ecsdouble.RegionIDs[:nRegions]
			eligible := int(float64(perKind)*share + 0.5)
			floor := sum(resourceFloor(nRegions, perKind, eligible))
			var calls int
			var wall time.Duration
			for range b.N {
				b.StopTimer()
				s, err := ecsdouble.Start(resourceFleet(regions, perKind, share),
					ecsdouble.WithCredential(AccessKeyID, AccessKeySecret, ""), ecsdouble.WithLatency(*benchLatency))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := RunSweep(context.Background(), SweepConfig{Endpoint: s.URL(), Regions: regions, Resources: resourceKinds})
				b.StopTimer()
				s.Close()
				if err != nil || !res.Complete {
					b.Fatalf("sweep: %v (complete %t, %s)", err, res.Complete, res.Error)
				}
				calls += sum(res.Calls)
				wall += res.Wall()
				b.StartTimer()
			}
			b.ReportMetric(float64(calls)/float64(b.N)/float64(floor), "calls/floor")
			b.ReportMetric(float64(wall)/float64(b.N)/float64(time.Millisecond), "ms/sweep")
		})
	}
}
