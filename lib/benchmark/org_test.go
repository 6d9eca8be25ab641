package benchmark

import (
	"context"
	"flag"
	"testing"
	"time"
)

var (
	orgCase      = flag.Bool("org", false, "run the organisation case of docs/BENCHMARKS.md: -org.accounts × -org.regions × -org.per-region")
	orgAccounts  = flag.Int("org.accounts", 20, "with -org: the member accounts")
	orgRegions   = flag.Int("org.regions", 5, "with -org: the regions of each account")
	orgPerRegion = flag.Int("org.per-region", 1000, "with -org: the opted-in instances of each region")
	orgLatency   = flag.Duration("org.latency", 0, "with -org: the ECS double's latency per call")
)

// TestOrgFC sweeps an organisation in one invocation of the FC build:
// every member's eligible instances released, the ECS calls at the floor
// of its regions, one AssumeRole per member, the ListAccounts pages.
// -org runs the documented case (20 × 5 × 1,000); by default a small one.
func TestOrgFC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function")
	}
	c, latency := OrgCase{Accounts: 3, Regions: 2, PerRegion: 100}, time.Duration(0)
	if *orgCase {
		c, latency = OrgCase{Accounts: *orgAccounts, Regions: *orgRegions, PerRegion: *orgPerRegion}, *orgLatency
	}
	bin, err := BuildFunction(context.Background(), "../../function", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	res, err := MeasureOrgFC(context.Background(), bin, c, latency)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s at %s a call: %d eligible, %d released; calls %d (ECS %d, floor %d; AssumeRole %d; ListAccounts %d); floor %d; wall %s; CPU %s; peak RSS %.1f MiB; answer %d bytes",
		c, latency, res.Eligible, res.Released, res.Calls, res.ECSCalls, res.ECSFloor, res.Assumes, res.ListPages, res.Floor, res.FC.Wall(),
		time.Duration(res.FC.CPUNS).Round(time.Millisecond), mib(res.FC.PeakRSS), res.FC.ResponseBytes)
	if res.FC.Failed || res.Released != res.Eligible || res.Eligible == 0 {
		t.Fatalf("failed=%t (%s), released %d of %d", res.FC.Failed, res.FC.Error, res.Released, res.Eligible)
	}
	if res.Assumes != c.Accounts || res.ListPages != 1 {
		t.Errorf("%d AssumeRole and %d ListAccounts pages, want one per member and one page", res.Assumes, res.ListPages)
	}
	if res.ECSCalls > res.ECSFloor {
		t.Errorf("%d ECS calls, over the floor of %d", res.ECSCalls, res.ECSFloor)
	}
	if res.FC.PeakRSS < 1<<20 {
		t.Errorf("peak RSS not measured: %+v", res.FC)
	}
}
