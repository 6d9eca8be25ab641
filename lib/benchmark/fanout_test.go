package benchmark

import (
	"context"
	"flag"
	"testing"
	"time"
)

var (
	fanoutCase     = flag.Bool("fanout", false, "run the fan-out case of docs/BENCHMARKS.md: -fanout.accounts × -fanout.regions × 500")
	fanoutAccounts = flag.Int("fanout.accounts", 20, "with -fanout: the accounts")
	fanoutRegions  = flag.Int("fanout.regions", 20, "with -fanout: the regions of each account")
)

// The organisation through the fan-out's phases, each invocation of the
// FC build in a process of its own: every instance released, each
// invocation's peak RSS within 128 MiB.
func TestFanoutFC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function")
	}
	c := OrgCase{Accounts: 3, Regions: 2, PerRegion: 50}
	if *fanoutCase {
		c = OrgCase{Accounts: *fanoutAccounts, Regions: *fanoutRegions, PerRegion: 500}
	}
	bin, err := BuildFunction(context.Background(), "../../function", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := MeasureFanoutFC(context.Background(), bin, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d eligible, %d released; ECS calls %d, AssumeRole %d, OSS calls %d", c, res.Eligible, res.Released, res.ECSCalls, res.Assumes, res.OSSCalls)
	for _, p := range []string{"coordinator", "plan", "decide", "execute", "report"} {
		pr := res.Phases[p]
		if pr == nil {
			t.Fatalf("phase %s did not run", p)
		}
		t.Logf("%-11s %3d invocations, peak RSS %.1f MiB, wall %s", p, pr.Invocations, mib(pr.PeakRSS), time.Duration(pr.WallNS).Round(time.Millisecond))
		if pr.PeakRSS < 1<<20 || pr.PeakRSS > 128<<20 {
			t.Errorf("phase %s: peak RSS %.1f MiB, want measured and within 128 MiB", p, mib(pr.PeakRSS))
		}
	}
	if res.Released != res.Eligible || res.Eligible == 0 {
		t.Errorf("released %d of %d eligible", res.Released, res.Eligible)
	}
}
