package benchmark

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
)

// TestDeployCasesSmall runs small versions of the deploy cases through the
// FC build under the FC runtime double: the harness measures the function
// process's peak RSS and its response, and the double releases every
// eligible instance; under the rate limit the throttled calls are counted
// apart.
func TestDeployCasesSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function")
	}
	dir := t.TempDir()
	bin, err := BuildFunction(context.Background(), "../../function", dir)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := ParseCases("1000x5,2000x1:eligible=0.01,1000x1:rate=4")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.String(), func(t *testing.T) {
			spec := DefaultSpec(c)
			if c.Eligible > 0 {
				spec.NonEligible = 1 - c.Eligible
			}
			shapes := Shapes(spec.Generate(), spec.RegionIDs(), Rules(), time.Now())
			eligible := 0
			for _, s := range shapes {
				eligible += s.EligibleTotal()
			}
			s, err := StartInProcessDouble(spec, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			res, err := InvokeFC(context.Background(), bin, s.URL(), spec.RegionIDs())
			if err != nil {
				t.Fatal(err)
			}
			res.Double = Stats(s)
			if res.Failed || res.Double.Released != eligible || eligible == 0 {
				t.Fatalf("invocation failed=%t (%s), released %d of %d eligible", res.Failed, res.Error, res.Double.Released, eligible)
			}
			if res.PeakRSS < 1<<20 || res.ResponseBytes == 0 || res.WallNS <= 0 {
				t.Fatalf("measurements missing: %+v", res)
			}
			if _, err := os.Stat("/proc/self/status"); err == nil && res.VmHWM < 1<<20 {
				t.Fatalf("VmHWM not read: %+v", res)
			}
			if c.RateLimit > 0 && (res.Double.Throttled == 0 || res.Answered() != sum(res.Double.Calls)-res.Double.Throttled) {
				t.Fatalf("rate limit %d/s: %d throttled of %v", c.RateLimit, res.Double.Throttled, res.Double.Calls)
			}
			if c.RateLimit == 0 && res.Double.Throttled != 0 {
				t.Fatalf("throttled without a limit: %+v", res.Double)
			}
		})
	}
}

func TestPhysicalFloor(t *testing.T) {
	const l = 100 * time.Millisecond
	post, pre := decide.Flags{}, decide.Flags{TerminateSubscription: true}
	big := RegionShape{Region: "a", Instances: 100_000, OptedIn: 100_000, TagEntries: 100_000, Eligible: map[decide.Flags]int{post: 40_000, pre: 40_000}}
	cases := []struct {
		name     string
		shapes   []RegionShape
		rate     int
		time     time.Duration
		calls    int
		rechecks int
	}{
		// A first page, then 999 at once; the releases after; the two
		// leftover listings beside the listing.
		{name: "dependencies bind", shapes: []RegionShape{big}, time: 3 * l, calls: 1000 + 800 + 2},
		// 1,000 pages at 50/s (the last admitted in second 19), then 800
		// releases at 50/s (the last in second 15), each + its latency.
		{name: "rate binds", shapes: []RegionShape{big}, rate: 50, time: 19*time.Second + l + 15*time.Second + l, calls: 1802},
		// 99.1 s of listing outlasts the 60 s window: 39.1/99.1 of each
		// group re-read first (158 + 158 calls, 31.1 s), then 79.1 s of
		// releases.
		{name: "rate outlasts freshness", shapes: []RegionShape{big}, rate: 10, time: 99*time.Second + l + 31*time.Second + l + 79*time.Second + l,
			calls: 1802 + 316, rechecks: 316},
		// Calls within one second's allowance wait only for the latency.
		{name: "rate within a second", shapes: []RegionShape{{Region: "s", Instances: 1000, OptedIn: 1000, TagEntries: 1000, Eligible: map[decide.Flags]int{post: 800}}},
			rate: 20, time: 2*l + l, calls: 10 + 8 + 2},
		// One page: no second step.
		{name: "one page", shapes: []RegionShape{{Region: "s", Instances: 50, OptedIn: 50, TagEntries: 50, Eligible: map[decide.Flags]int{post: 10}}},
			time: 2 * l, calls: 1 + 1 + 2},
		// Regions run in parallel, each with its own limit.
		{name: "slowest region", shapes: []RegionShape{big, {Region: "s", Instances: 50, OptedIn: 50, TagEntries: 50}}, rate: 50,
			time: 34*time.Second + 2*l, calls: 1802 + 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pf := ComputePhysicalFloor(tc.shapes, l, tc.rate, time.Minute)
			if pf.Time != tc.time || pf.Calls != tc.calls || pf.Regions[0].Rechecks != tc.rechecks || pf.RateLimit != tc.rate {
				t.Fatalf("physical floor %s, %d calls, %d re-reads; want %s, %d, %d (%+v)", pf.Time, pf.Calls, pf.Regions[0].Rechecks,
					tc.time, tc.calls, tc.rechecks, pf.Regions)
			}
			if seq := ComputeFloor(tc.shapes, l, time.Minute); seq.Time < pf.Time && tc.rate == 0 {
				t.Fatalf("sequential floor %s below the physical %s", seq.Time, pf.Time)
			}
		})
	}
}

func TestParseDeployCases(t *testing.T) {
	cs, err := ParseCases("deploy")
	if err != nil || len(cs) != 5 {
		t.Fatalf("%v %v", cs, err)
	}
	want := []string{"10000x20", "100000x20", "100000x1", "1000000x1:eligible=0.01:rate=50", "100000x1:rate=50"}
	for i, c := range cs {
		if c.String() != want[i] {
			t.Errorf("case %d: %s, want %s", i, c, want[i])
		}
	}
	if cs[3].Eligible != 0.01 || cs[3].RateLimit != 50 || cs[4].RateLimit != 50 || cs[2].RateLimit != 0 {
		t.Fatalf("%+v", cs)
	}
	for _, bad := range []string{"10x1:rate=0", "10x1:eligible=2", "10x1:colour=red", "10x1:rate=x"} {
		if _, err := ParseCases(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
