package e2e_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// pagedFleet: more expired, free disks, snapshots and EIPs in cn-hangzhou
// than one page holds; one of each in cn-shanghai.
func pagedFleet(disks, snaps, eips int) ecsdouble.Fleet {
	expired := map[string]string{optIn: "2026-11-01"}
	var f ecsdouble.Fleet
	add := func(region, prefix string, d, s, e int) {
		for i := range d {
			f.Disks = append(f.Disks, ecsdouble.Disk{ID: fmt.Sprintf("d-%s%04d", prefix, i), Region: region, Tags: expired})
		}
		for i := range s {
			f.Snapshots = append(f.Snapshots, ecsdouble.Snapshot{ID: fmt.Sprintf("s-%s%04d", prefix, i), Region: region, Disk: "d-gone", Tags: expired})
		}
		for i := range e {
			f.EIPs = append(f.EIPs, ecsdouble.EIP{AllocationID: fmt.Sprintf("eip-%s%04d", prefix, i), Address: fmt.Sprintf("47.1.%d.%d", i/250, i%250),
				Region: region, Tags: expired})
		}
	}
	add("cn-hangzhou", "h", disks, snaps, eips)
	add("cn-shanghai", "s", 1, 1, 1)
	return f
}

// A resource listing that cycles or does not advance fails its region
// closed in a few calls, naming the listing and the guard: nothing of any
// kind is deleted there, and the other region is swept.
func TestResourceListingThatDoesNotAdvanceClosesTheRegion(t *testing.T) {
	cases := []struct {
		name   string
		action string
		fault  *ecsdouble.Fault
		nth    int
		guard  page.Guard
	}{
		{"disks: a token that cycles", ecsapi.ActionDescribeDisks, ecsdouble.CycleToken(), 2, page.Cycle},
		{"disks: a page that lists nothing new", ecsapi.ActionDescribeDisks, ecsdouble.EmptyPage(), 1, page.NothingNew},
		{"snapshots: a token that cycles", ecsapi.ActionDescribeSnapshots, ecsdouble.CycleToken(), 2, page.Cycle},
		{"snapshots: a page that lists nothing new", ecsapi.ActionDescribeSnapshots, ecsdouble.EmptyPage(), 1, page.NothingNew},
		{"EIPs: a page served twice", ecsapi.ActionDescribeEipAddresses, ecsdouble.RepeatPage(), 2, page.NothingNew},
		{"EIPs: an empty page before the total", ecsapi.ActionDescribeEipAddresses, ecsdouble.EmptyPage(), 2, page.Short},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, pagedFleet(600, 150, 250))
			rule := e.srv.Inject(ecsdouble.Rule{Action: tc.action, Region: "cn-hangzhou", Nth: tc.nth, Fault: tc.fault})
			opts := options()
			opts.Resources = kinds.Names()
			rep, err := run(t, e, opts, "cn-hangzhou", "cn-shanghai")
			if rule.Fired() != 1 {
				t.Fatalf("the fault fired %d times", rule.Fired())
			}
			if !errors.Is(err, engine.ErrRegionFailed) {
				t.Fatalf("err %v, want the region failed", err)
			}
			hz := regionOf(rep, "cn-hangzhou")
			if hz.Complete || hz.Error == nil || hz.Error.Code != ecsapi.CodeBadResponse ||
				!strings.Contains(hz.Error.Message, tc.action+" pagination") || !strings.Contains(hz.Error.Message, string(tc.guard)) {
				t.Fatalf("cn-hangzhou complete=%v error=%+v; want closed by %s's %s guard", hz.Complete, hz.Error, tc.action, tc.guard)
			}
			if n := hz.Calls[tc.action]; n > 3 {
				t.Errorf("%d %s calls before the guard stopped the listing", n, tc.action)
			}
			for _, a := range []string{ecsapi.ActionDeleteDisk, ecsapi.ActionDeleteSnapshot, ecsapi.ActionReleaseEipAddress} {
				if n := hz.Calls[a]; n != 0 {
					t.Errorf("%d %s calls in the region whose listing did not advance", n, a)
				}
			}
			if _, ok := e.srv.Disk("d-h0000"); !ok {
				t.Error("a disk of the closed region was deleted")
			}
			if _, _, ok := e.srv.EIP("eip-h0000"); !ok {
				t.Error("an EIP of the closed region was released")
			}
			sh := regionOf(rep, "cn-shanghai")
			if !sh.Complete {
				t.Fatalf("cn-shanghai %+v: the other region must finish", sh.Error)
			}
			if _, ok := e.srv.Disk("d-s0000"); ok {
				t.Error("cn-shanghai's expired disk is still there")
			}
		})
	}
}

// Listings that page normally still read every page, in the fewest calls.
func TestResourceListingsReadEveryPage(t *testing.T) {
	e := newEnv(t, pagedFleet(600, 150, 250))
	opts := options()
	opts.Resources = kinds.Names()
	opts.DryRun = true
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Regions[0]
	for kind, want := range map[*report.Section]int{r.Section("disks"): 600, r.Section("snapshots"): 150, r.Section("eips"): 250} {
		if n := len(sectionOutcomes(kind)); n != want {
			t.Errorf("%d listed, want %d", n, want)
		}
	}
	for action, want := range map[string]int{ecsapi.ActionDescribeDisks: 2, ecsapi.ActionDescribeSnapshots: 2, ecsapi.ActionDescribeEipAddresses: 3} {
		if n := r.Calls[action]; n != want {
			t.Errorf("%s called %d times, want %d", action, n, want)
		}
	}
}

// The leftover listings (untagged, region-wide) carry the same guards: a
// disk listing that does not advance leaves the leftover report
// incomplete, naming the guard, instead of silently short.
func TestLeftoverListingThatDoesNotAdvanceIsIncomplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault *ecsdouble.Fault
		nth   int
		guard page.Guard
	}{
		{"a token that cycles", ecsdouble.CycleToken(), 2, page.Cycle},
		{"a page that lists nothing new", ecsdouble.EmptyPage(), 1, page.NothingNew},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := leftoverFleet()
			for i := range 600 {
				f.Disks = append(f.Disks, ecsdouble.Disk{ID: fmt.Sprintf("d-other%04d", i), Region: "cn-hangzhou"})
			}
			e := newEnv(t, f)
			e.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDescribeDisks, Nth: tc.nth, Fault: tc.fault})
			rep, err := run(t, e, options(), "cn-hangzhou")
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			s := rep.Regions[0].LeftoverSummary
			if s == nil || s.Complete || !strings.Contains(s.Error, "DescribeDisks pagination") || !strings.Contains(s.Error, string(tc.guard)) {
				t.Errorf("leftover summary %+v: want incomplete, naming the %s guard", s, tc.guard)
			}
		})
	}
}
