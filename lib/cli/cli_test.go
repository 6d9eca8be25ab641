package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// repoRoot is the clone this test runs in.
const repoRoot = "../.."

type result struct {
	code           int
	stdout, stderr string
}

// run calls cli.Main with exactly the environment given (nothing from the
// test process's own environment, so a developer's REAPER_* or
// ALIBABA_CLOUD_* variables cannot change the outcome).
func run(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	code := cli.Main(t.Context(), args, strings.NewReader(stdin), &out, &errOut, environ)
	return result{code, out.String(), errOut.String()}
}

func (r result) must(t *testing.T, code int, in ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	all := r.stdout + r.stderr
	for _, s := range in {
		if !strings.Contains(all, s) {
			t.Errorf("output lacks %q\nstdout:\n%s\nstderr:\n%s", s, r.stdout, r.stderr)
		}
	}
}

var demoReleased = []string{"i-bp1demoprepaid0005", "i-bp1demostopdate002", "i-bp1demostoprfc0001", "i-bp1demostopttl0003", "i-t4ndemostopoff0015"}

func TestHelp(t *testing.T) {
	run(t, nil, "", "--help").must(t, cli.ExitOK, "Commands:", "demo", "plan", "run", "invoke", "schedule", "validate", "serve-double", "./reaper demo")
	run(t, nil, "").must(t, cli.ExitUsage, "Commands:")
	run(t, nil, "", "frobnicate").must(t, cli.ExitUsage, `unknown command "frobnicate"`)
	for _, cmd := range []string{"demo", "plan", "run", "invoke", "schedule", "validate", "serve-double"} {
		t.Run(cmd, func(t *testing.T) {
			r := run(t, nil, "", cmd, "--help")
			want := []string{"Usage: ./reaper " + cmd, "Flags:", "Examples:", "./reaper " + cmd}
			if cmd != "serve-double" { // it reads no settings
				want = append(want, "REAPER_MAX_RELEASE")
			}
			r.must(t, cli.ExitOK, want...)
			if r.stderr != "" {
				t.Errorf("--help wrote to stderr: %s", r.stderr)
			}
			run(t, nil, "", "help", cmd).must(t, cli.ExitOK, "Usage: ./reaper "+cmd)
			run(t, nil, "", cmd, "--no-such-flag").must(t, cli.ExitUsage, "flag provided but not defined", cmd+" --help")
			run(t, nil, "", cmd, "stray").must(t, cli.ExitUsage, `unexpected argument "stray"`)
		})
	}
}

func TestDemo(t *testing.T) {
	r := run(t, nil, "", "demo", "--wide")
	r.must(t, cli.ExitOK, "Summary", "Region cn-hangzhou", "Region cn-shanghai", "Region ap-southeast-1",
		"TerminateSubscription=true", "within the caps", "complete:   yes",
		"The ECS double released 5 instances: "+strings.Join(demoReleased, ", "))

	t.Run("json covers every decision case", func(t *testing.T) {
		r := run(t, nil, "", "demo", "--json")
		r.must(t, cli.ExitOK)
		var rep report.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("--json output is not a report: %v\n%s", err, r.stdout)
		}
		if got := rep.IDs(report.OutcomeReleased); !slices.Equal(got, demoReleased) {
			t.Errorf("released %v, want %v", got, demoReleased)
		}
		for _, reason := range []string{"running", "subscription-active", "security-locked", "locked", "deletion-protected",
			"excluded", "invalid-expiry", "not-expired", "transitional-state", "no-opt-in"} {
			if rep.Totals.Reasons["skipped/"+reason] == 0 {
				t.Errorf("the demo fleet has no instance skipped as %s", reason)
			}
		}
		regions := map[string]bool{}
		terminate := false
		for _, reg := range rep.Regions {
			regions[reg.Region] = true
			for _, b := range reg.Batches {
				terminate = terminate || (b.Flags != nil && b.Flags.TerminateSubscription)
			}
		}
		if len(regions) < 3 || !terminate {
			t.Errorf("regions %v, a TerminateSubscription batch: %v", regions, terminate)
		}
	})
	t.Run("dry run", func(t *testing.T) {
		run(t, nil, "", "demo", "--dry-run").must(t, cli.ExitOK, "(dry run)", "would-release", "The ECS double released nothing (dry run).")
	})
	t.Run("settings apply", func(t *testing.T) {
		run(t, map[string]string{"REAPER_MAX_RELEASE": "2"}, "", "demo").must(t, cli.ExitFailed, "EXCEEDED", "over the count cap of 2", "The ECS double released nothing.")
		run(t, map[string]string{"REAPER_MAX_RELEASE": "-1"}, "", "demo").must(t, cli.ExitUsage, `REAPER_MAX_RELEASE="-1"`)
		run(t, nil, "", "demo", "--region", "cn-shanghai").must(t, cli.ExitOK, "Region cn-shanghai", "released nothing")
	})
}

// account is an ECS double standing in for a real account: plan and run
// take their credentials from ALIBABA_CLOUD_* and REAPER_ECS_ENDPOINT
// points the SDK at it.
func account(t *testing.T, extra map[string]string) (*ecsdouble.Server, map[string]string) {
	t.Helper()
	fleet, err := cli.DemoFleet()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ecsdouble.Start(fleet, ecsdouble.WithCredential("STS.acct", "acct-secret-xyz", "acct-token-xyz"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	env := map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "STS.acct",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "acct-secret-xyz",
		"ALIBABA_CLOUD_SECURITY_TOKEN":    "acct-token-xyz",
		"REAPER_ECS_ENDPOINT":             srv.URL(),
	}
	for k, v := range extra {
		env[k] = v
	}
	return srv, env
}

func noSecrets(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{"acct-secret-xyz", "acct-token-xyz"} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output contains the secret %q", s)
		}
	}
}

func TestPlanAndRun(t *testing.T) {
	t.Run("missing credentials", func(t *testing.T) {
		for _, cmd := range []string{"plan", "run"} {
			run(t, map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_ID": "x"}, "", cmd, "--region", "cn-hangzhou").
				must(t, cli.ExitUsage, "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")
		}
	})
	t.Run("missing region", func(t *testing.T) {
		_, env := account(t, nil)
		run(t, env, "", "plan").must(t, cli.ExitUsage, "no region", "--region", "REAPER_REGIONS")
		run(t, env, "", "plan", "--region", "Hangzhou!").must(t, cli.ExitUsage, "--region")
	})
	t.Run("plan releases nothing", func(t *testing.T) {
		// One region's share of expired instances is over the default 50%.
		srv, env := account(t, map[string]string{"REAPER_MAX_RELEASE_PERCENT": "100"})
		r := run(t, env, "", "plan", "--region", "cn-hangzhou,ap-southeast-1")
		r.must(t, cli.ExitOK, "(dry run)", "would-release", "i-bp1demostoprfc0001", "DryRun=true")
		noSecrets(t, r)
		if got := srv.Released(); len(got) != 0 {
			t.Errorf("plan released %v", got)
		}
	})
	t.Run("run releases, with a warning first", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
		r := run(t, env, "", "run", "--yes", "--json", "-v")
		r.must(t, cli.ExitOK, "WARNING: releasing expired instances for real in cn-hangzhou", `"msg":"decision"`)
		noSecrets(t, r)
		var rep report.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("--json: %v\n%s", err, r.stdout)
		}
		want := demoReleased[:4]
		if got := srv.Released(); !slices.Equal(got, want) || !slices.Equal(rep.IDs(report.OutcomeReleased), want) {
			t.Errorf("released %v, report %v, want %v", got, rep.IDs(report.OutcomeReleased), want)
		}
	})
	t.Run("a failed EIP release fails the run", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100", "REAPER_RELEASE_EIPS": "true", "REAPER_MARK_SECRET": cliMarkSecret})
		srv.Inject(ecsdouble.Rule{Action: "ReleaseEipAddress", Fault: ecsdouble.Error(400, "IncorrectEipStatus")})
		r := run(t, env, "", "run", "--yes")
		r.must(t, cli.ExitFailed, "releases failed", "EIP eip-bp1demo00001", "IncorrectEipStatus")
		if got := srv.Released(); !slices.Equal(got, demoReleased[:4]) {
			t.Errorf("released %v: the instances go on", got)
		}
	})
	t.Run("run over the cap", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_MAX_RELEASE": "1", "FC_REGION": "cn-hangzhou"})
		run(t, env, "", "run", "--yes").must(t, cli.ExitFailed, "release cap exceeded", "4 instances eligible", "REAPER_MAX_RELEASE")
		if got := srv.Released(); len(got) != 0 {
			t.Errorf("over the cap, released %v", got)
		}
	})
}

var built fcdouble.Built

func functionBinary(t *testing.T) string {
	t.Helper()
	path, err := built.Path(context.Background(), "../../function")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	built.Remove()
	removeReaperBinary()
	os.Exit(code)
}

func TestInvoke(t *testing.T) {
	bin := functionBinary(t)
	t.Run("demo dry run", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "report.json")
		r := run(t, nil, "", "invoke", "--binary", bin, "--demo", "--payload", `{"dryRun": true}`, "--report", file)
		r.must(t, cli.ExitOK, "FC Invoke Start", `"request_id":"fcdouble-1"`, "the ECS double released 0 instances")
		var sum report.Summary
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.SchemaVersion != report.SummarySchemaVersion {
			t.Fatalf("stdout is not the summary: %v\n%s", err, r.stdout)
		}
		if !sum.DryRun || sum.Totals[report.KindInstances]["would-release"] != len(demoReleased) || sum.Outcome != report.RunOK {
			t.Errorf("summary dryRun %v, totals %v, outcome %q", sum.DryRun, sum.Totals, sum.Outcome)
		}
		rep := readReportFile(t, file)
		if !rep.DryRun || !slices.Equal(rep.IDs(report.OutcomeWouldRelease), demoReleased) || rep.RunID != sum.RunID {
			t.Errorf("--report: dryRun %v, would-release %v", rep.DryRun, rep.IDs(report.OutcomeWouldRelease))
		}
	})
	t.Run("a failed invocation still writes its report", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "report.json")
		r := run(t, nil, "", "invoke", "--binary", bin, "--demo", "--payload", `{"maxRelease": 1}`, "--report", file)
		r.must(t, cli.ExitFailed, "the function returned an error", "over the count cap of 1")
		if rep := readReportFile(t, file); rep.Cap == nil || !rep.Cap.Exceeded || !strings.Contains(rep.Error, "over the count cap of 1") || len(rep.Instances.All()) == 0 {
			t.Errorf("--report of the failed run: cap %+v, error %q, %d instances", rep.Cap, rep.Error, len(rep.Instances.All()))
		}
	})
	t.Run("demo release as text, logs to a file", func(t *testing.T) {
		logs := filepath.Join(t.TempDir(), "fn.log")
		r := run(t, nil, "", "invoke", "--binary", bin, "--demo", "--text", "--logs", logs, "--request-id", "req-42")
		r.must(t, cli.ExitOK, "Summary", "the ECS double released 5 instances")
		b, err := os.ReadFile(logs)
		if err != nil || !strings.Contains(string(b), `"request_id":"req-42"`) {
			t.Errorf("logs file: %v\n%s", err, b)
		}
	})
	t.Run("event from stdin, not JSON", func(t *testing.T) {
		r := run(t, nil, "this is not JSON", "invoke", "--binary", bin, "--demo", "--event", "-")
		r.must(t, cli.ExitFailed, `"errorMessage"`, "not a JSON object", "the function returned an error")
	})
	t.Run("event file", func(t *testing.T) {
		ev := filepath.Join(t.TempDir(), "event.json")
		if err := os.WriteFile(ev, []byte(`{"triggerName":"t","triggerTime":"2026-01-01T00:00:00Z","payload":"{\"regions\":[\"cn-shanghai\"]}"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		r := run(t, nil, "", "invoke", "--binary", bin, "--demo", "--event", ev)
		r.must(t, cli.ExitOK, `"runId": "t@2026-01-01T00:00:00Z"`, `"region": "cn-shanghai"`)
	})
	t.Run("settings pass through", func(t *testing.T) {
		run(t, map[string]string{"REAPER_MAX_RELEASE": "-1"}, "", "invoke", "--binary", bin, "--demo").
			must(t, cli.ExitFailed, "REAPER_MAX_RELEASE")
	})
	t.Run("credentials from the environment", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "ap-southeast-1"})
		r := run(t, env, "", "invoke", "--binary", bin)
		r.must(t, cli.ExitOK, `"released"`)
		noSecrets(t, r)
		if got := srv.Released(); !slices.Equal(got, []string{"i-t4ndemostopoff0015"}) {
			t.Errorf("released %v", got)
		}
		run(t, nil, "", "invoke", "--binary", bin).must(t, cli.ExitUsage, "no credentials", "--demo")
	})
	t.Run("usage errors", func(t *testing.T) {
		run(t, nil, "", "invoke", "--demo", "--event", "x.json", "--payload", "{}").must(t, cli.ExitUsage, "--payload")
		run(t, nil, "", "invoke", "--demo", "--timeout", "10ms").must(t, cli.ExitUsage, "--timeout")
		run(t, nil, "", "invoke", "--demo", "--event", filepath.Join(t.TempDir(), "missing.json")).must(t, cli.ExitUsage, "read the event")
	})
}

func readReportFile(t *testing.T, file string) *report.Report {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s is not a report: %v", file, err)
	}
	return &rep
}

// TestReportFromLogs: the report command puts the logged report back
// together, the same report invoke --report writes; a log that lost a
// record is an error.
func TestReportFromLogs(t *testing.T) {
	bin := functionBinary(t)
	dir := t.TempDir()
	logs, file := filepath.Join(dir, "fn.log"), filepath.Join(dir, "report.json")
	run(t, nil, "", "invoke", "--binary", bin, "--demo", "--logs", logs, "--report", file, "--request-id", "req-7").must(t, cli.ExitOK)
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "", "report", "--logs", logs)
	r.must(t, cli.ExitOK)
	if r.stdout != string(want) {
		t.Errorf("report --logs printed another report than invoke --report wrote:\n%.500s\nwant\n%.500s", r.stdout, want)
	}
	rep := readReportFile(t, file)
	if !slices.Equal(rep.IDs(report.OutcomeReleased), demoReleased) {
		t.Errorf("released %v", rep.IDs(report.OutcomeReleased))
	}
	run(t, nil, "", "report", "--logs", logs, "--run-id", rep.RunID, "--request-id", "req-7", "--text").must(t, cli.ExitOK, "Summary", demoReleased[0])
	run(t, nil, "", "report", "--logs", logs, "--run-id", "nope").must(t, cli.ExitFailed, "no report of run nope")
	run(t, nil, "", "report").must(t, cli.ExitUsage, "--logs")

	b, _ := os.ReadFile(logs)
	var kept []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.Contains(line, `"msg":"report instances"`) || !strings.Contains(line, `"outcome":"released"`) {
			kept = append(kept, line)
		}
	}
	run(t, nil, strings.Join(kept, ""), "report", "--logs", "-").must(t, cli.ExitFailed, "records are missing")
}

func TestSchedule(t *testing.T) {
	r := run(t, nil, "", "schedule", "--demo", "--cron", "@every 1s", "--once")
	r.must(t, cli.ExitOK, `"@every 1s" from --cron; dry run`, "tick at", "Summary", "would-release")
	r = run(t, nil, "", "schedule", "--demo", "--release", "--cron", "CRON_TZ=Asia/Shanghai * * * * * *", "--once", "--json")
	r.must(t, cli.ExitOK, "RELEASING", `"released"`)

	run(t, nil, "", "schedule", "--demo", "--cron", "0 * * * *").must(t, cli.ExitUsage, "5 fields", "FC needs 6")
	run(t, nil, "", "schedule", "--demo", "--dir", t.TempDir()).must(t, cli.ExitUsage, "pass --cron")
	run(t, nil, "", "schedule", "--cron", "@every 1s").must(t, cli.ExitUsage, "no credentials")

	early, stop := context.WithCancel(t.Context())
	stop() // Ctrl-C before the one tick asked for: interrupted, not failed
	if code := cli.Main(early, []string{"schedule", "--demo", "--cron", "@every 1s", "--once"}, nil, io.Discard, io.Discard, nil); code != cli.ExitInterrupted {
		t.Errorf("schedule --once interrupted: exit %d, want %d", code, cli.ExitInterrupted)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel() // an interrupted schedule stops cleanly
	var out, errOut bytes.Buffer
	code := cli.Main(ctx, []string{"schedule", "--demo", "--dir", repoRoot}, nil, &out, &errOut, nil)
	if code != cli.ExitOK || !strings.Contains(errOut.String(), `"0 0 */1 * * *" from s.yaml resources.reaper.props.triggers[0].triggerConfig.cronExpression`) {
		t.Errorf("schedule from s.yaml: exit %d\n%s", code, errOut.String())
	}
}

func TestValidate(t *testing.T) {
	run(t, nil, "", "validate", "--dir", repoRoot).must(t, cli.ExitOK, "max_release", "s.yaml resources.reaper.props.triggers[0].triggerConfig.cronExpression", "next runs", "validate: ok")
	run(t, map[string]string{"REAPER_MAX_RELEASE": "-1", "REAPER_TIMEZONE": "Mars/Olympus"}, "", "validate", "--dir", repoRoot).
		must(t, cli.ExitUsage, `PROBLEM REAPER_MAX_RELEASE="-1"`, "PROBLEM REAPER_TIMEZONE", "validate: 2 problems")
	run(t, map[string]string{"REAPER_NOTICE": "2d", "REAPER_NOTIFY_URL": "  ", "REAPER_TAG_KEY": "reaper-notified-stopped"}, "", "validate", "--dir", repoRoot).
		must(t, cli.ExitUsage, "PROBLEM REAPER_NOTICE is set without a usable REAPER_NOTIFY_URL",
			`PROBLEM REAPER_MARK_TAG "reaper-notified" makes the stop mark "reaper-notified-stopped", the same key as REAPER_TAG_KEY`, "validate: 2 problems")
	run(t, map[string]string{"REAPER_NOTIFY_KIND": "lark"}, "", "validate", "--dir", repoRoot).
		must(t, cli.ExitUsage, `PROBLEM REAPER_NOTIFY_KIND "lark" is set without a usable REAPER_NOTIFY_URL`, "validate: 1 problem")
	run(t, map[string]string{"REAPER_DRYRUN": "true"}, "", "validate", "--dir", repoRoot).
		must(t, cli.ExitUsage, "PROBLEM REAPER_DRYRUN is not a setting", "did you mean REAPER_DRY_RUN?", "validate: 1 problem")
	run(t, map[string]string{"REAPER_ACCOUNTS": "rd", "REAPER_ROLE_EXTERNAL_ID": "planted-ext-id"}, "", "validate", "--dir", repoRoot).
		must(t, cli.ExitUsage, "PROBLEM REAPER_ACCOUNTS=rd would sweep every member", "validate: 1 problem")
	rd := run(t, map[string]string{"REAPER_ACCOUNTS": "rd", "REAPER_ACCOUNT_TAG": "ecs-reaper=on", "REAPER_ROLE_EXTERNAL_ID": "planted-ext-id"}, "", "validate", "--dir", repoRoot)
	rd.must(t, cli.ExitOK, "accounts", "rd", "role_external_id", "set", "docs/member-role.yaml", "validate: ok")
	if strings.Contains(rd.stdout+rd.stderr, "planted-ext-id") {
		t.Fatalf("validate shows the ExternalId:\n%s", rd.stdout)
	}

	dir := t.TempDir()
	syaml := "edition: 3.0.0\nresources:\n  r:\n    props:\n      triggers:\n        - triggerConfig: {cronExpression: '0 * * * *'}\n"
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(syaml), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "", "validate", "--dir", dir).must(t, cli.ExitUsage, "has 5 fields", "template.yaml", "could not be loaded")
}

// validate checks the fan-out's flow definition in the directory it is given.
func TestValidateChecksTheFlow(t *testing.T) {
	run(t, nil, "", "validate", "--dir", repoRoot).must(t, cli.ExitOK, "Fan-out flow (lib/fanout/flow.yaml")
	dir := t.TempDir()
	for _, name := range []string{"s.yaml", "template.yaml", "docs/ram-policy.json", "docs/worker-payload.schema.json", "lib/fanout/flow.yaml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "lib/fanout/flow.yaml" {
			b = []byte(strings.Replace(string(b), "    Next: Decide\n", "    Next: Decied\n", 1))
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run(t, nil, "", "validate", "--dir", dir).must(t, cli.ExitUsage, `PROBLEM lib/fanout/flow.yaml: States[Plan].Next: names "Decied"`, "is never reached")
	// Without the clone's flow, the binary's own is checked.
	if err := os.Remove(filepath.Join(dir, "lib/fanout/flow.yaml")); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "", "validate", "--dir", dir).must(t, cli.ExitOK, "docs/worker-payload.schema.json; built in):\n  ok")
}

func TestDemoWithYourOwnFleet(t *testing.T) {
	fleet := filepath.Join(t.TempDir(), "fleet.json")
	body := `{"instances": [
 {"id": "i-mine-expired01", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01"}},
 {"id": "i-mine-kept00002", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01", "reaper-keep": ""}},
 {"id": "i-mine-later0003", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2099-01-01"}}
]}`
	if err := os.WriteFile(fleet, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	run(t, nil, "", "demo", "--fleet", fleet).must(t, cli.ExitOK,
		"The ECS double released 1 instances: i-mine-expired01", "excluded", "not-expired")
	run(t, nil, "", "demo", "--fleet", filepath.Join(t.TempDir(), "missing.json")).must(t, cli.ExitUsage, "--fleet", "missing.json")
}

// validate warns about a function timeout that leaves less than a minute
// of work beyond the deadline margin.
func TestValidateWarnsAboutShortTimeouts(t *testing.T) {
	dir := t.TempDir()
	syaml := "edition: 3.0.0\nresources:\n  r:\n    props:\n      timeout: 45\n      environmentVariables: {REAPER_DEADLINE_MARGIN: 10s}\n"
	if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(syaml), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "", "validate", "--dir", dir)
	r.must(t, cli.ExitUsage, "WARNING s.yaml resources.r.props.timeout = 45s", "deadline margin (10s)")
	ok := run(t, nil, "", "validate", "--dir", repoRoot)
	if strings.Contains(ok.stdout, "WARNING") {
		t.Errorf("the repository's own files draw a warning:\n%s", ok.stdout)
	}
}

// The sweeping commands refuse a misspelt setting before touching anything.
func TestMisspeltSettingIsRefused(t *testing.T) {
	run(t, map[string]string{"REAPER_DRYRUN": "true"}, "", "demo").must(t, cli.ExitUsage, "REAPER_DRYRUN is not a setting", "did you mean REAPER_DRY_RUN?")
}

// plan --horizon forecasts the coming days on the same rules, per day and
// owner, and writes nothing.
func TestPlanForecast(t *testing.T) {
	r := run(t, map[string]string{"REAPER_GRACE": "1d", "REAPER_MARK_SECRET": cliMarkSecret}, "", "plan", "--demo", "--horizon", "3d")
	r.must(t, cli.ExitOK, "Forecast from", "releases 5")
	if strings.Contains(r.stdout, "i-bp1demostopdate002") {
		t.Errorf("the forecast lists IDs without --wide:\n%s", r.stdout)
	}
	run(t, map[string]string{"REAPER_GRACE": "1d", "REAPER_MARK_SECRET": cliMarkSecret}, "", "plan", "--demo", "--horizon", "3d", "--wide").
		must(t, cli.ExitOK, "released  i-", "i-bp1demostopdate002")
	// Over the count cap every run refuses: the forecast says so, with
	// the value that passes, and promises no release.
	capped := run(t, map[string]string{"REAPER_MAX_RELEASE": "2"}, "", "plan", "--demo", "--horizon", "3d")
	capped.must(t, cli.ExitOK, "REFUSED from", "every later run refuses too", "REAPER_MAX_RELEASE is at least 5", "refused 5")
	if strings.Contains(capped.stdout, "releases 5") {
		t.Errorf("a forecast over the cap promises releases:\n%s", capped.stdout)
	}
	// The EIPs released after their instances are releases too, by kind.
	run(t, map[string]string{"REAPER_RELEASE_EIPS": "true", "REAPER_MARK_SECRET": cliMarkSecret, "REAPER_MAX_RELEASE_PERCENT": "100"}, "", "plan", "--demo", "--horizon", "2d").
		must(t, cli.ExitOK, "releases 6 (1 eips, 5 instances)")
	j := run(t, map[string]string{"REAPER_GRACE": "1d", "REAPER_MARK_SECRET": cliMarkSecret}, "", "plan", "--demo", "--horizon", "3d", "--json")
	j.must(t, cli.ExitOK, `"days"`, `"notified"`, `"released"`)
	run(t, nil, "", "plan", "--demo", "--horizon", "soon").must(t, cli.ExitUsage, "--horizon")
	for _, h := range []string{"0", "0d", "0s", "-24h", "-1s"} {
		r := run(t, nil, "", "plan", "--demo", "--horizon", h)
		r.must(t, cli.ExitUsage, "--horizon", "greater than zero")
		if r.stdout != "" {
			t.Errorf("--horizon %s printed a forecast:\n%s", h, r.stdout)
		}
	}
}

// cliMarkSecret signs the marks of the CLI tests (REAPER_MARK_SECRET).
const cliMarkSecret = "cli-test-mark-secret-0123456789abcdefghij"
