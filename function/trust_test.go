package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
)

// The trust rails as a user meets them: the built binary under the FC
// runtime-API double, against the ECS double.

// Credentials in every form the SDK's debug output would print them.
func leaks(out string) []string {
	var found []string
	for _, s := range []string{stsSecret, stsToken, "Signature=", "SecurityToken=", "AccessKeyId="} {
		if strings.Contains(out, s) {
			found = append(found, s)
		}
	}
	return found
}

// DEBUG=sdk makes the SDK print every signed request to stdout, the FC log.
// The binary drops it before the SDK can act on it, on the FC path and the
// command line alike.
func TestSDKDebugSwitchCannotLeakCredentials(t *testing.T) {
	s := startStack(t, "DEBUG=sdk,credential")
	rep := decodeReport(t, s.invoke(t, "e2e-debug", timerEvent("")))
	if len(rep.IDs("released")) != 4 {
		t.Fatalf("released %v, want the four eligible: the run must still work", rep.IDs("released"))
	}
	s.proc.Stop()
	if found := leaks(s.proc.Output()); len(found) > 0 {
		t.Fatalf("with DEBUG=sdk the function printed %q", found)
	}
	if !strings.Contains(s.proc.Output(), `removed "sdk", "credential" and "tea" from DEBUG`) {
		t.Error("the function does not say it removed DEBUG=sdk")
	}

	cmd := exec.CommandContext(t.Context(), cliBinary(t), "demo")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "DEBUG=tea,sdk,credential"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo with DEBUG=sdk: %v\n%s", err, out)
	}
	if found := leaks(string(out)); len(found) > 0 {
		t.Fatalf("demo with DEBUG=sdk printed %q", found)
	}
}

// A binary built as s.yaml's pre-local action builds it (for `s local
// invoke`, which runs with the developer's own credentials) dry-runs even
// with REAPER_DRY_RUN=false, unless REAPER_LOCAL_RELEASE=true.
func TestLocalBuildDryRuns(t *testing.T) {
	dir := t.TempDir()
	bin, err := fcdouble.Build(t.Context(), ".", dir, "-tags", "fc", "-ldflags", "-X main.localBuild=true")
	if err != nil {
		t.Fatal(err)
	}
	s := startStackWith(t, bin, "REAPER_DRY_RUN=false")
	rep := decodeReport(t, s.invoke(t, "e2e-local", timerEvent("")))
	if !rep.DryRun || len(rep.IDs("would-release")) != 4 || len(s.ecs.Released()) != 0 {
		t.Fatalf("local build: dry run %v, would release %v, released %v; want a dry run", rep.DryRun, rep.IDs("would-release"), s.ecs.Released())
	}
	live := startStackWith(t, bin, "REAPER_LOCAL_RELEASE=true")
	decodeReport(t, live.invoke(t, "e2e-local-live", timerEvent("")))
	if n := len(live.ecs.Released()); n != 4 {
		t.Fatalf("local build with REAPER_LOCAL_RELEASE=true released %d, want 4", n)
	}
}

// A run that did not do its job fails the invocation, so FC marks it
// failed and alarms fire; the full report is still logged.
func TestFailedRunFailsTheInvocation(t *testing.T) {
	t.Run("a region's listing fails", func(t *testing.T) {
		s := startStack(t)
		s.ecs.Inject(ecsdouble.Rule{Action: "DescribeInstances", Region: "cn-shanghai", Fault: ecsdouble.Internal()})
		wantError(t, s.invoke(t, "e2e-listfail", timerEvent("")), "regions failed", "cn-shanghai (InternalError)")
		if n := len(s.ecs.Released()); n != 3 {
			t.Errorf("released %d, want cn-hangzhou's 3: the other region goes on", n)
		}
		s.proc.Stop()
		if !strings.Contains(s.proc.Output(), `"msg":"report"`) {
			t.Error("the failed invocation's report was not logged")
		}
	})
	t.Run("the role may not release", func(t *testing.T) {
		s := startStack(t)
		s.ecs.Inject(ecsdouble.Rule{Action: "DeleteInstances", Fault: ecsdouble.Error(403, "Forbidden.RAM")})
		wantError(t, s.invoke(t, "e2e-noperm", timerEvent("")), "Forbidden.RAM")
	})
	t.Run("a misspelt setting", func(t *testing.T) {
		s := startStack(t, "REAPER_DRYRUN=true")
		wantError(t, s.invoke(t, "e2e-typo", timerEvent("")), "REAPER_DRYRUN", "did you mean REAPER_DRY_RUN?")
		if n := len(s.ecs.Calls()); n != 0 {
			t.Errorf("%d ECS calls for a refused invocation", n)
		}
	})
	t.Run("a payload that would widen", func(t *testing.T) {
		s := startStack(t, "REAPER_DRY_RUN=true")
		wantError(t, s.invoke(t, "e2e-widen", timerEvent(`{"dryRun": false}`)), `"dryRun"`, "REAPER_DRY_RUN=true")
		if n := len(s.ecs.Released()); n != 0 {
			t.Errorf("released %d", n)
		}
	})
	t.Run("a timeout shorter than the margin", func(t *testing.T) {
		s := startStack(t)
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()
		res, err := s.fc.Invoke(ctx, fcdouble.Invocation{RequestID: "e2e-short", Event: timerEvent(""), Timeout: 10 * time.Second,
			Credentials: creds, Region: "cn-hangzhou"})
		if err != nil {
			t.Fatal(err)
		}
		wantError(t, answer{res, s.proc}, "timeout leaves no time to sweep", "REAPER_DEADLINE_MARGIN")
		if n := len(s.ecs.Calls()); n != 0 {
			t.Errorf("%d ECS calls", n)
		}
	})
}

// A listing that hangs longer than the whole invocation still leaves time
// to log the report and return before FC's deadline.
func TestHangingListingStillReturnsTheReport(t *testing.T) {
	s := startStack(t, "REAPER_DEADLINE_MARGIN=5s")
	s.ecs.Inject(ecsdouble.Rule{Action: "DescribeInstances", Fault: ecsdouble.Slow(time.Minute)})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	deadline := time.Now().Add(9 * time.Second)
	res, err := s.fc.Invoke(ctx, fcdouble.Invocation{RequestID: "e2e-hang", Event: timerEvent(""), Deadline: deadline, Timeout: 9 * time.Second,
		Credentials: creds, Region: "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	if late := time.Since(deadline); late > 0 {
		t.Fatalf("the invocation answered %v after FC's deadline", late)
	}
	wantError(t, answer{res, s.proc}, "regions failed")
	s.proc.Stop()
	if !strings.Contains(s.proc.Output(), `"msg":"report"`) {
		t.Error("the report was not logged before the deadline")
	}
}

// Fields of the timer event this version does not know are ignored.
func TestUnknownEventFieldsStillRun(t *testing.T) {
	s := startStack(t)
	ev := map[string]any{"triggerTime": "2026-03-01T04:00:00Z", "triggerName": "hourly", "payload": "", "eventVersion": "2026-12-01"}
	b, _ := json.Marshal(ev)
	rep := decodeReport(t, s.invoke(t, "e2e-newfield", b))
	if len(rep.IDs("released")) != 4 {
		t.Fatalf("released %v", rep.IDs("released"))
	}
	s.proc.Stop()
	if !strings.Contains(s.proc.Output(), "eventVersion") {
		t.Error("the unknown field is not logged")
	}
}

// Every log record of an invocation carries the run ID, and a failure is
// never at INFO.
func TestEveryRecordCarriesTheRunID(t *testing.T) {
	s := startStack(t)
	s.ecs.Inject(ecsdouble.Rule{Action: "DeleteInstances", Region: "cn-shanghai", Fault: ecsdouble.Error(400, "InvalidParameter")})
	wantError(t, s.invoke(t, "e2e-logs", timerEvent("")), "instances failed")
	s.proc.Stop()
	n := 0
	for _, line := range bytes.Split([]byte(s.proc.Stdout()), []byte("\n")) {
		if len(line) == 0 || line[0] != '{' {
			continue // the runtime's own "FC Invoke Start" lines
		}
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		n++
		if rec["run_id"] != "hourly@2026-03-01T04:00:00Z" {
			t.Errorf("record without the run ID: %s", line)
		}
		if (rec["outcome"] == "failed" || rec["result"] == "failed") && rec["level"] == "INFO" {
			t.Errorf("failure at INFO: %s", line)
		}
	}
	if n == 0 {
		t.Fatal("no log records")
	}
}

// The zone database is in the binary: the runtime image is not guaranteed
// to have one. A zone that cannot load fails the invocation.
func TestZoneDatabaseIsBuiltIn(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", "-tags", "fc", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "\ntime/tzdata\n") {
		t.Fatal("the function does not link time/tzdata")
	}
	s := startStack(t, "REAPER_TIMEZONE=Mars/Olympus")
	wantError(t, s.invoke(t, "e2e-zone", timerEvent("")), "REAPER_TIMEZONE", "Mars/Olympus")
	if n := len(s.ecs.Calls()); n != 0 {
		t.Errorf("%d ECS calls with an unknown zone", n)
	}
}
