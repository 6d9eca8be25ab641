package benchmark

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
)

var (
	fanoutCase     = flag.Bool("fanout", false, "run the fan-out case of docs/BENCHMARKS.md: -fanout.accounts × -fanout.regions × 500")
	fanoutAccounts = flag.Int("fanout.accounts", 100, "with -fanout: the accounts")
	fanoutRegions  = flag.Int("fanout.regions", 20, "with -fanout: the regions of each account")
	fanoutLatency  = flag.Duration("fanout.latency", 0, "with -fanout: the ECS double's latency per call")
	fanoutJSON     = flag.String("fanout.json", "", "with -fanout: write the result, every invocation included, to this file")
)

// built is the FC build, as s.yaml builds it, shared by the tests of
// this file.
var built = fcdouble.Built{Flags: BuildFlags}

func TestMain(m *testing.M) {
	code := m.Run()
	built.Remove()
	os.Exit(code)
}

func builtFunction(t *testing.T) string {
	t.Helper()
	bin, err := built.Path(context.Background(), "../../function")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// The organisation through the fan-out's phases, each invocation of the
// FC build in a process of its own: every instance released, each
// invocation's peak RSS within 128 MiB.
func TestFanoutFC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function")
	}
	c, latency := OrgCase{Accounts: 3, Regions: 2, PerRegion: 50}, time.Duration(0)
	if *fanoutCase {
		c, latency = OrgCase{Accounts: *fanoutAccounts, Regions: *fanoutRegions, PerRegion: 500}, *fanoutLatency
	}
	res, err := MeasureFanoutFC(context.Background(), builtFunction(t), c, latency)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d eligible, %d released; ECS calls %d, AssumeRole %d, OSS calls %d", c, res.Eligible, res.Released, res.ECSCalls, res.Assumes, res.OSSCalls)
	for _, p := range []string{"coordinator", "plan", "decide", "notify", "execute", "report"} {
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
	if len(res.Invocations) != 4+2*c.Accounts {
		t.Errorf("%d invocations recorded, want %d", len(res.Invocations), 4+2*c.Accounts)
	}
	f := FanoutFloorOf(res)
	t.Log(f.String())
	if f.ECSCalls < f.ECSFloor || f.ECSFloor == 0 {
		t.Errorf("%d ECS calls under the fan-out's floor of %d: the floor is wrong", f.ECSCalls, f.ECSFloor)
	}
	if f.PlanECS != f.PlanFloor || f.DryRunBatches != 0 {
		t.Errorf("Plan made %d ECS calls (%d dry-run DeleteInstances), want its floor of %d: it only reads", f.PlanECS, f.DryRunBatches, f.PlanFloor)
	}
	if f.Assumes != f.AssumeFloor {
		t.Errorf("%d AssumeRole, want one per worker invocation: %d", f.Assumes, f.AssumeFloor)
	}
	if *fanoutJSON != "" {
		b, _ := json.MarshalIndent(struct {
			FanoutResult
			Floor FanoutFloor `json:"floor"`
		}{res, f}, "", " ")
		if err := os.WriteFile(*fanoutJSON, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// Invocations one after another, each in a fresh process: every one is
// answered. (With one runtime API for all of them, a stopped process's
// pending GET /next took a later invocation now and then, and the run
// waited for an answer that could never come.)
func TestInvokeAloneAnswersEveryInvocation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the function")
	}
	bin := builtFunction(t)
	event := []byte(`{"phase":"plan","run":"20261206T100000Z","account":"1000000000001000"}`)
	for i := range 40 {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ans, run, err := InvokeAlone(ctx, bin, nil, fcdouble.Invocation{Event: event, Timeout: 10 * time.Second, MemoryMB: 128,
			Credentials: fcdouble.Credentials{AccessKeyID: STSKeyID, AccessKeySecret: STSSecret, SecurityToken: STSToken}})
		cancel()
		if err != nil {
			t.Fatalf("invocation %d: %v", i, err)
		}
		if ans.Err == nil || !strings.Contains(ans.Err.ErrorMessage, "REAPER_FANOUT") || run.PeakRSS == 0 || run.CPUNS == 0 {
			t.Fatalf("invocation %d: answer %+v, run %+v: want the worker's refusal (no REAPER_FANOUT) and the process measured", i, ans, run)
		}
	}
}
