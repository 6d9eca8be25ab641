package cli_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// ownFleet is a fleet file of one region that is not the demo's: one
// instance expired, one kept, one not expired yet.
func ownFleet(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "fleet.json")
	body := `{"instances": [
 {"id": "i-mine-expired01", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01", "owner": "ana"}},
 {"id": "i-mine-kept00002", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01", "reaper-keep": ""}},
 {"id": "i-mine-later0003", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2099-01-01"}}
]}`
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestEveryCommandRunsOnTheDouble: plan, run, invoke and schedule take
// --demo and --fleet FILE and then need no account and no credentials.
func TestEveryCommandRunsOnTheDouble(t *testing.T) {
	fleet := ownFleet(t)
	missing := filepath.Join(t.TempDir(), "missing.json")

	t.Run("plan", func(t *testing.T) {
		r := run(t, nil, "", "plan", "--demo", "--json")
		r.must(t, cli.ExitOK)
		rep := decodeReportJSON(t, r.stdout)
		if !rep.DryRun || !slices.Equal(rep.IDs(report.OutcomeWouldRelease), demoReleased) {
			t.Errorf("plan --demo: dryRun %v, would-release %v", rep.DryRun, rep.IDs(report.OutcomeWouldRelease))
		}
		r = run(t, nil, "", "plan", "--fleet", fleet, "--json")
		r.must(t, cli.ExitOK)
		if got := decodeReportJSON(t, r.stdout).IDs(report.OutcomeWouldRelease); !slices.Equal(got, []string{"i-mine-expired01"}) {
			t.Errorf("plan --fleet: would-release %v", got)
		}
		run(t, nil, "", "plan", "--fleet", fleet, "--horizon", "3d").must(t, cli.ExitOK, "Forecast from")
		run(t, nil, "", "plan", "--fleet", missing).must(t, cli.ExitUsage, "--fleet", "missing.json")
	})

	t.Run("run", func(t *testing.T) {
		run(t, nil, "", "run", "--demo", "--yes", "--wide").must(t, cli.ExitOK,
			"The ECS double released 5 instances: "+strings.Join(demoReleased, ", "))
		run(t, nil, "", "run", "--fleet", fleet, "--yes").must(t, cli.ExitOK,
			"The ECS double released 1 instances: i-mine-expired01")
		run(t, nil, "", "run", "--fleet", fleet).must(t, cli.ExitUsage, "no terminal to confirm on", "--yes")
		run(t, nil, "", "run", "--fleet", missing, "--yes").must(t, cli.ExitUsage, "--fleet", "missing.json")
	})

	t.Run("run asks on a terminal, as on an account", func(t *testing.T) {
		r := runOnTerminal(t, nil, "eu-central-1\n", "run", "--fleet", fleet)
		r.must(t, cli.ExitOK, "Type the region (eu-central-1)", "The ECS double released 1 instances: i-mine-expired01")
		r = runOnTerminal(t, nil, "no\n", "run", "--fleet", fleet)
		r.must(t, cli.ExitNotConfirmed, "not confirmed: nothing was released")
		if strings.Contains(r.stdout, "released 1") {
			t.Errorf("not confirmed, yet:\n%s", r.stdout)
		}
	})

	t.Run("schedule", func(t *testing.T) {
		run(t, nil, "", "schedule", "--fleet", fleet, "--release", "--cron", "@every 1s", "--once").must(t, cli.ExitOK,
			"RELEASING", "in eu-central-1", "i-mine-expired01")
		run(t, nil, "", "schedule", "--fleet", missing, "--cron", "@every 1s", "--once").must(t, cli.ExitUsage, "--fleet", "missing.json")
	})

	t.Run("invoke", func(t *testing.T) {
		bin := functionBinary(t)
		r := run(t, nil, "", "invoke", "--binary", bin, "--fleet", fleet)
		r.must(t, cli.ExitOK, "the ECS double released 1 instances: i-mine-expired01")
		var sum report.Summary
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
			t.Fatalf("stdout is not the summary: %v\n%s", err, r.stdout)
		}
		if sum.Totals[report.KindInstances]["released"] != 1 {
			t.Errorf("invoke --fleet: totals %v", sum.Totals)
		}
		run(t, nil, "", "invoke", "--binary", bin, "--fleet", missing).must(t, cli.ExitUsage, "--fleet", "missing.json")
	})
}

func decodeReportJSON(t *testing.T, s string) *report.Report {
	t.Helper()
	var rep report.Report
	if err := json.Unmarshal([]byte(s), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, s)
	}
	return &rep
}

// serveDouble starts `serve-double args...` in this process and returns
// the environment it printed, its stderr, and a stop function returning
// its exit code.
func serveDouble(t *testing.T, args ...string) (map[string]string, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	var errOut strings.Builder
	done := make(chan int, 1)
	go func() {
		code := cli.Main(ctx, append([]string{"serve-double"}, args...), strings.NewReader(""), pw, &errOut, nil)
		pw.Close()
		done <- code
	}()
	env := map[string]string{}
	lines := bufio.NewScanner(pr)
	for lines.Scan() {
		if kv, ok := strings.CutPrefix(lines.Text(), "export "); ok {
			name, value, _ := strings.Cut(kv, "=")
			env[name] = value
		}
		if strings.HasPrefix(lines.Text(), "Then, in another shell") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	stop := func() (int, string) {
		cancel()
		select {
		case code := <-done:
			return code, errOut.String()
		case <-time.After(10 * time.Second):
			t.Fatal("serve-double did not stop when interrupted")
			return 0, ""
		}
	}
	t.Cleanup(func() { cancel() })
	return env, stop
}

// TestServeDouble: serve-double prints an environment with which plan and
// run (the account path: credentials from the environment) sweep the
// double, which keeps its state until interrupted.
func TestServeDouble(t *testing.T) {
	env, stop := serveDouble(t, "--fleet", ownFleet(t))
	for _, name := range []string{"REAPER_ECS_ENDPOINT", "REAPER_REGIONS", "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"} {
		if env[name] == "" {
			t.Fatalf("serve-double printed no %s: %v", name, env)
		}
	}
	if !strings.HasPrefix(env["REAPER_ECS_ENDPOINT"], "http://127.0.0.1:") || env["REAPER_REGIONS"] != "eu-central-1" {
		t.Errorf("endpoint %q, regions %q", env["REAPER_ECS_ENDPOINT"], env["REAPER_REGIONS"])
	}
	r := run(t, env, "", "plan", "--json")
	r.must(t, cli.ExitOK)
	rep := decodeReportJSON(t, r.stdout)
	if got := rep.IDs(report.OutcomeWouldRelease); !slices.Equal(got, []string{"i-mine-expired01"}) || !strings.Contains(rep.Credentials, "ALIBABA_CLOUD_ACCESS_KEY_ID") {
		t.Errorf("plan on the served double: would-release %v, credentials %q", got, rep.Credentials)
	}
	// The function binary, as FC runs it, with the key in the invocation.
	r = run(t, env, "", "invoke", "--binary", functionBinary(t), "--payload", `{"dryRun": true}`)
	r.must(t, cli.ExitOK)
	var sum report.Summary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Totals[report.KindInstances]["would-release"] != 1 {
		t.Errorf("invoke on the served double: %v, totals %v\n%s", err, sum.Totals, r.stdout)
	}
	run(t, env, "", "run", "--yes").must(t, cli.ExitOK, "released")
	// The double kept its state: the instance is gone.
	r = run(t, env, "", "plan", "--json")
	r.must(t, cli.ExitOK)
	if got := decodeReportJSON(t, r.stdout).IDs(report.OutcomeWouldRelease); len(got) != 0 {
		t.Errorf("after run, plan would release %v", got)
	}
	// A wrong key is refused: only the printed one opens the double.
	wrong := map[string]string{}
	for k, v := range env {
		wrong[k] = v
	}
	wrong["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "not-the-secret"
	if r := run(t, wrong, "", "plan"); r.code == cli.ExitOK {
		t.Errorf("plan with a wrong secret succeeded:\n%s%s", r.stdout, r.stderr)
	}
	code, stderr := stop()
	if code != cli.ExitOK || !strings.Contains(stderr, "stopped; the double released 1 instances: i-mine-expired01") {
		t.Errorf("stopped with %d: %s", code, stderr)
	}
}

func TestServeDoubleRefuses(t *testing.T) {
	run(t, nil, "", "serve-double", "--addr", "0.0.0.0:0").must(t, cli.ExitUsage, "--addr", "loopback")
	run(t, nil, "", "serve-double", "--fleet", filepath.Join(t.TempDir(), "missing.json")).must(t, cli.ExitUsage, "--fleet", "missing.json")
	run(t, nil, "", "serve-double", "stray").must(t, cli.ExitUsage, `unexpected argument "stray"`)
}
