package benchmark

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

func TestComputeFloor(t *testing.T) {
	post, pre := decide.Flags{}, decide.Flags{TerminateSubscription: true}
	cases := []struct {
		name      string
		shape     RegionShape
		latency   time.Duration
		path      string
		listing   int
		byAction  map[string]int
		releases  int
		rechecks  int
		floorTime time.Duration
	}{
		{name: "one page", shape: RegionShape{Instances: 50, OptedIn: 50, TagEntries: 50, Eligible: map[decide.Flags]int{post: 40}},
			latency: 20 * time.Millisecond, path: PathScan, listing: 1, releases: 1, floorTime: 80 * time.Millisecond}, // + 2 leftover listings
		{name: "all opted in: scan", shape: RegionShape{Instances: 1000, OptedIn: 1000, TagEntries: 1000, Eligible: map[decide.Flags]int{post: 400, pre: 400}},
			latency: 20 * time.Millisecond, path: PathScan, listing: 10, releases: 8, floorTime: 400 * time.Millisecond},
		{name: "few opted in: tag filter", shape: RegionShape{Instances: 10_000, OptedIn: 500, TagEntries: 500, Eligible: map[decide.Flags]int{post: 101}},
			latency: 20 * time.Millisecond, path: PathTagFilter, listing: 5, releases: 2},
		{name: "many opted in, few overall: tag index", shape: RegionShape{Instances: 100_000, OptedIn: 5000, TagEntries: 6000, Eligible: map[decide.Flags]int{post: 1}},
			latency: 20 * time.Millisecond, path: PathTagIndex, listing: 120 + 50, releases: 1,
			byAction: map[string]int{ecsapi.ActionListTagResources: 120, ecsapi.ActionDescribeInstances: 50, ecsapi.ActionDeleteInstances: 1}},
		{name: "tag index dearer than scan", shape: RegionShape{Instances: 6000, OptedIn: 5000, TagEntries: 5000},
			latency: 20 * time.Millisecond, path: PathScan, listing: 60},
		{name: "listing outlasts freshness: re-reads", shape: RegionShape{Instances: 100_000, OptedIn: 100_000, TagEntries: 100_000, Eligible: map[decide.Flags]int{post: 800}},
			latency: 100 * time.Millisecond, path: PathScan, listing: 1000, releases: 8, rechecks: 4}, // 100 s listing, 60 s window: 40% stale
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := ComputeFloor([]RegionShape{tc.shape}, tc.latency, 60*time.Second)
			r := f.Regions[0]
			if r.Path != tc.path || r.Listing != tc.listing || r.Releases != tc.releases || r.Rechecks != tc.rechecks {
				t.Fatalf("floor %+v, want path %s listing %d releases %d rechecks %d", r, tc.path, tc.listing, tc.releases, tc.rechecks)
			}
			if tc.byAction != nil {
				for a, n := range tc.byAction {
					if f.Calls[a] != n {
						t.Errorf("%s: %d calls, want %d (%v)", a, f.Calls[a], n, f.Calls)
					}
				}
			}
			if tc.floorTime != 0 && f.Time != tc.floorTime {
				t.Errorf("floor time %s, want %s", f.Time, tc.floorTime)
			}
			leftovers := 0
			if tc.releases > 0 {
				leftovers = 2 // DescribeEipAddresses and DescribeDisks, one page each
			}
			if f.Total != tc.listing+tc.releases+tc.rechecks+leftovers || r.Leftovers != leftovers {
				t.Errorf("total %d (leftovers %d)", f.Total, r.Leftovers)
			}
		})
	}
	// Regions run in parallel: the floor time is the slowest region's.
	f := ComputeFloor([]RegionShape{{Instances: 100, OptedIn: 100}, {Instances: 1000, OptedIn: 1000}}, 10*time.Millisecond, time.Minute)
	if f.Time != 100*time.Millisecond || f.Total != 11 {
		t.Fatalf("two regions: %s, %d calls", f.Time, f.Total)
	}
}

func TestParseCases(t *testing.T) {
	cs, err := ParseCases(" 1000x1, 100000x20 ")
	if err != nil || len(cs) != 2 || cs[1] != (Case{Instances: 100_000, Regions: 20}) || cs[1].String() != "100000x20" {
		t.Fatalf("%v %v", cs, err)
	}
	for _, bad := range []string{"", "1000", "1000x21", "0x1", "ax1"} {
		if _, err := ParseCases(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestShapes(t *testing.T) {
	spec := FleetSpec{Case: Case{Instances: 1000, Regions: 5}, Seed: 3, NonEligible: 0.2, Untagged: 1, PrePaid: 0.5}
	shapes := Shapes(spec.Generate(), spec.RegionIDs(), Rules(), time.Now())
	all, opted, eligible := 0, 0, 0
	for _, s := range shapes {
		all += s.Instances
		opted += s.OptedIn
		eligible += s.EligibleTotal()
		if len(s.Eligible) != 2 {
			t.Errorf("%s: flag groups %v", s.Region, s.Eligible)
		}
	}
	if all != 2000 || opted != 1000 || eligible != 800 {
		t.Fatalf("instances %d, opted in %d, eligible %d", all, opted, eligible)
	}
}

// TestSweepWithinFloor runs the harness end to end on the smallest case
// without latency: the sweep stays within the call target and releases
// exactly what the baseline would, and the baseline makes one
// DeleteInstance per eligible instance.
func TestSweepWithinFloor(t *testing.T) {
	for _, spec := range []FleetSpec{DefaultSpec(Case{Instances: 1000, Regions: 1}), {Case: Case{Instances: 1000, Regions: 2}, Seed: 5, NonEligible: 0.2, Untagged: 4, PrePaid: 0.5}} {
		t.Run(spec.Case.String(), func(t *testing.T) {
			shapes := Shapes(spec.Generate(), spec.RegionIDs(), Rules(), time.Now())
			floor := ComputeFloor(shapes, 0, settings.Default().Freshness)
			eligible := 0
			for _, s := range shapes {
				eligible += s.EligibleTotal()
			}
			s, err := StartInProcessDouble(spec, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			res, err := RunSweep(context.Background(), SweepConfig{Endpoint: s.URL(), Regions: spec.RegionIDs()})
			if err != nil || !res.Complete {
				t.Fatalf("sweep: %v %+v", err, res)
			}
			// With every instance opted in, the sample page is the scan's
			// first page and the target holds; with untagged instances the
			// sweep spends its sample page on top of the tag-filtered
			// listing, one call per region (docs/BENCHMARKS.md).
			calls, limit := sum(res.Calls), TargetCallRatio*float64(floor.Total)
			if spec.Untagged > 0 {
				limit = float64(floor.Total + spec.Regions)
			}
			if float64(calls) > limit {
				t.Errorf("%d calls %v, floor %d %v", calls, res.Calls, floor.Total, floor.Calls)
			}
			if res.Outcomes["released"] != eligible || len(s.Released()) != eligible {
				t.Fatalf("released %d (double %d), eligible %d", res.Outcomes["released"], len(s.Released()), eligible)
			}
			if res.PeakHeap == 0 || res.Mallocs == 0 || res.WallNS <= 0 {
				t.Errorf("measurements missing: %+v", res)
			}

			fresh, err := StartInProcessDouble(spec, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer fresh.Close()
			nr, err := RunNaive(context.Background(), NaiveConfig{Endpoint: fresh.URL(), Regions: spec.RegionIDs()})
			if err != nil {
				t.Fatal(err)
			}
			if nr.Eligible != eligible || nr.Deleted != eligible || fresh.CallCount("DeleteInstance") != eligible || nr.Extrapolated {
				t.Fatalf("naive: %+v, double saw %d DeleteInstance", nr, fresh.CallCount("DeleteInstance"))
			}
		})
	}
}

func TestNaiveExtrapolates(t *testing.T) {
	spec := DefaultSpec(Case{Instances: 1000, Regions: 2})
	s, err := StartInProcessDouble(spec, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	nr, err := RunNaive(context.Background(), NaiveConfig{Endpoint: s.URL(), Regions: spec.RegionIDs(), MaxDeletes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !nr.Extrapolated || nr.Deleted != 100 || nr.Eligible != 800 || nr.EstimatedCalls() != 800+nr.Calls[ecsapi.ActionDescribeInstances] {
		t.Fatalf("%+v", nr)
	}
	if nr.EstimatedNS < nr.WallNS {
		t.Fatalf("estimate %d below the measured %d", nr.EstimatedNS, nr.WallNS)
	}
}

func TestWriteDocumentKeepsProse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "B.md")
	doc := "# Title\n\nhand-written\n\n" + BeginMarker + "\nold\n" + EndMarker + "\n\nmore prose\n"
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &Result{Config: Config{Latency: time.Millisecond, Runs: 1}, Machine: ReadMachine()}
	if err := r.WriteDocument(path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	s := string(b)
	if !strings.Contains(s, "hand-written") || !strings.Contains(s, "more prose") || strings.Contains(s, "\nold\n") ||
		strings.Count(s, BeginMarker) != 1 || !strings.Contains(s, "| Case") {
		t.Fatalf("document:\n%s", s)
	}
}
