package cli_test

import (
	"bytes"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/creack/pty"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// runOnTerminal runs the CLI with a pseudo-terminal as stdin and types
// answer into it.
func runOnTerminal(t *testing.T, env map[string]string, answer string, args ...string) result {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }() // the terminal's echo
	if _, err := ptmx.WriteString(answer); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	code := cli.Main(t.Context(), args, tty, &out, &errOut, environ)
	return result{code, out.String(), errOut.String()}
}

func TestRunAsksBeforeReleasing(t *testing.T) {
	t.Run("no terminal and no --yes: refused", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
		run(t, env, "", "run").must(t, cli.ExitUsage, "no terminal to confirm on", "--yes")
		if got := srv.Released(); len(got) != 0 {
			t.Fatalf("released %v without confirmation", got)
		}
		if srv.CallCount("DeleteInstances") != 0 {
			t.Fatal("DeleteInstances was called before confirmation")
		}
	})
	t.Run("the region typed: released, capped at what was shown", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
		r := runOnTerminal(t, env, "cn-hangzhou\n", "run")
		r.must(t, cli.ExitOK, "the plan (a dry run) would", "cn-hangzhou: release 4", "i-bp1demostoprfc0001", "Type the region (cn-hangzhou) to do these 4 releases and stops", "at most 4")
		if got := srv.Released(); len(got) != 4 {
			t.Fatalf("released %v", got)
		}
		noSecrets(t, r)
	})
	t.Run("something else typed: nothing released", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
		runOnTerminal(t, env, "yes\n", "run").must(t, cli.ExitNotConfirmed, "not confirmed: nothing was released")
		if got := srv.Released(); len(got) != 0 {
			t.Fatalf("released %v after a wrong answer", got)
		}
		for _, c := range srv.Calls() {
			if c.Action == "DeleteInstances" && c.Params["DryRun"] != "true" {
				t.Fatal("a live DeleteInstances before confirmation")
			}
		}
	})
	t.Run("several regions: the number typed", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou,ap-southeast-1", "REAPER_MAX_RELEASE_PERCENT": "100"})
		r := runOnTerminal(t, env, "5\n", "run")
		r.must(t, cli.ExitOK, "Type the number of releases and stops (5)")
		if got := srv.Released(); len(got) != 5 {
			t.Fatalf("released %v", got)
		}
	})
	t.Run("stops count too: the confirmed run is not held by its own cap", func(t *testing.T) {
		// REAPER_RUNNING=stop: the running expired instance is stopped, a
		// write the count cap counts; confirming only the releases would
		// leave the lowered cap one short and release nothing.
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100", "REAPER_RUNNING": "stop", "REAPER_MARK_SECRET": cliMarkSecret})
		r := runOnTerminal(t, env, "cn-hangzhou\n", "run")
		r.must(t, cli.ExitOK, "cn-hangzhou: release 4", "cn-hangzhou: stop 1", "these 5 releases and stops")
		if got := srv.Released(); len(got) != 4 {
			t.Fatalf("released %v", got)
		}
		if in, _ := srv.Instance("i-bp1demorunning0004"); in.Status != "Stopped" {
			t.Fatalf("the running expired instance: %+v", in)
		}
	})
	t.Run("nothing to release or stop: no question", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_TAG_KEY": "no-such-tag"})
		r := runOnTerminal(t, env, "", "run")
		r.must(t, cli.ExitOK, "nothing would be released or stopped")
		if strings.Contains(r.stderr, "Type the") || len(srv.Released()) != 0 {
			t.Fatalf("asked, or released %v", srv.Released())
		}
	})
	t.Run("--yes on a terminal: no question", func(t *testing.T) {
		srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
		r := runOnTerminal(t, env, "", "run", "--yes")
		r.must(t, cli.ExitOK)
		if strings.Contains(r.stderr, "Type the") || len(srv.Released()) != 4 {
			t.Fatalf("asked anyway, or released %v:\n%s", srv.Released(), r.stderr)
		}
	})
	t.Run("dry run: no question", func(t *testing.T) {
		_, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_DRY_RUN": "true"})
		run(t, env, "", "run").must(t, cli.ExitOK, "would-release")
	})
}

func TestScheduleReleaseAsksOnce(t *testing.T) {
	srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
	run(t, env, "", "schedule", "--release", "--cron", "@every 1s", "--once").must(t, cli.ExitUsage, "no terminal to confirm on", "--yes")
	runOnTerminal(t, env, "cn-shanghai\n", "schedule", "--release", "--cron", "@every 1s", "--once").must(t, cli.ExitNotConfirmed, "not confirmed")
	if got := srv.Released(); len(got) != 0 {
		t.Fatalf("released %v without confirmation", got)
	}
	runOnTerminal(t, env, "cn-hangzhou\n", "schedule", "--release", "--cron", "@every 1s", "--once").must(t, cli.ExitOK, `Type "cn-hangzhou"`)
	if got := srv.Released(); len(got) != 4 {
		t.Fatalf("after confirming, released %v", got)
	}
}

// Progress goes to stderr only when it is a terminal.
func TestProgressOnlyOnATerminal(t *testing.T) {
	_, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou,cn-shanghai,ap-southeast-1"})
	r := run(t, env, "", "plan")
	r.must(t, cli.ExitOK)
	if strings.Contains(r.stderr, "regions 3/3") {
		t.Errorf("progress on a stderr that is not a terminal:\n%s", r.stderr)
	}

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	var shown bytes.Buffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&shown, ptmx); close(copied) }()
	var out bytes.Buffer
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	code := cli.Main(t.Context(), []string{"plan"}, strings.NewReader(""), &out, tty, environ)
	tty.Close()
	<-copied
	if code != cli.ExitOK {
		t.Fatalf("exit %d\n%s", code, shown.String())
	}
	if !strings.Contains(shown.String(), "regions 3/3, pages 3,") || !strings.Contains(shown.String(), "would release 5") {
		t.Errorf("no progress on the terminal:\n%q", shown.String())
	}
	if strings.Contains(out.String(), "regions 3/3") {
		t.Error("progress went to stdout")
	}
}

// --only lists the chosen outcomes and keeps the totals whole, in the
// table and in the JSON; an unknown outcome is a usage error.
func TestOnlyFilters(t *testing.T) {
	_, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou"})
	r := run(t, env, "", "plan", "--only", "would-release", "--json")
	r.must(t, cli.ExitOK)
	var rep struct {
		Totals    struct{ Outcomes map[string]int }
		Instances []struct{ ID, Outcome string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Instances) != 4 || rep.Totals.Outcomes["skipped"] == 0 {
		t.Errorf("filtered %+v, totals %v", rep.Instances, rep.Totals.Outcomes)
	}
	for _, in := range rep.Instances {
		if in.Outcome != "would-release" {
			t.Errorf("listed %+v", in)
		}
	}
	r = run(t, env, "", "plan", "--only", "skipped")
	r.must(t, cli.ExitOK, "skipped", "would-release 4")
	for _, line := range strings.Split(r.stdout, "\n") {
		if strings.Contains(line, "i-bp1demostoprfc0001") && strings.Contains(line, "would-release") {
			t.Errorf("the table lists a would-release instance under --only skipped: %q", line)
		}
	}
	run(t, env, "", "plan", "--only", "deleted").must(t, cli.ExitUsage, `unknown outcome "deleted"`)
}

// syncBuffer is a writer the test can read while the CLI writes, and that
// signals when what was written contains a phrase.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	phrase string
	seen   chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.seen != nil && strings.Contains(b.buf.String(), b.phrase) {
		close(b.seen)
		b.seen = nil
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The confirmation holds the instances shown, not their number: between
// the plan and the answer a shown instance gets the keep tag and an
// unshown one expires. The live run releases the three still shown and
// due, never the unshown one, and says so (exit 1, skipped/not-confirmed).
func TestRunReleasesOnlyWhatWasShown(t *testing.T) {
	srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
	const unshown, kept = "i-bp1demolater00099", "i-bp1demostoprfc0001"
	srv.Add(ecsdouble.Instance{ID: unshown, Region: "cn-hangzhou", Status: "Stopped", ChargeType: "PostPaid",
		CreationTime: "2025-01-01T00:00Z", Tags: map[string]string{"reaper-expires": "2099-01-01"}})

	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	go func() { _, _ = io.Copy(io.Discard, ptmx) }()
	var out bytes.Buffer
	errOut := &syncBuffer{phrase: "Type the region", seen: make(chan struct{})}
	prompted := errOut.seen
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	done := make(chan int, 1)
	go func() { done <- cli.Main(t.Context(), []string{"run", "--json"}, tty, &out, errOut, environ) }()
	select {
	case <-prompted:
	case code := <-done:
		t.Fatalf("exited %d before asking:\n%s", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "release 4") || strings.Contains(errOut.String(), unshown) {
		t.Fatalf("the plan shown:\n%s", errOut.String())
	}
	srv.Mutate(kept, func(in *ecsdouble.Instance) { in.Tags["reaper-keep"] = "true" })
	srv.Mutate(unshown, func(in *ecsdouble.Instance) { in.Tags["reaper-expires"] = "2025-01-01" })
	if _, err := ptmx.WriteString("cn-hangzhou\n"); err != nil {
		t.Fatal(err)
	}
	code := <-done

	released := srv.Released()
	slices.Sort(released)
	if want := []string{"i-bp1demoprepaid0005", "i-bp1demostopdate002", "i-bp1demostopttl0003"}; !slices.Equal(released, want) {
		t.Errorf("released %v, want %v (the shown ones still due, never %s)", released, want, unshown)
	}
	if code != cli.ExitFailed {
		t.Errorf("exit code %d, want %d: the run left a due instance unconfirmed", code, cli.ExitFailed)
	}
	if !strings.Contains(errOut.String(), "not-confirmed") {
		t.Errorf("stderr does not say what was left:\n%s", errOut.String())
	}
	var rep struct {
		Warning   string
		Instances []struct{ ID, Outcome, Reason string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, out.String())
	}
	got := map[string]string{}
	for _, in := range rep.Instances {
		got[in.ID] = in.Outcome + "/" + in.Reason
	}
	if got[unshown] != "skipped/not-confirmed" || got[kept] != "skipped/excluded" {
		t.Errorf("the unshown instance %q, the kept one %q", got[unshown], got[kept])
	}
	if !strings.Contains(rep.Warning, unshown) {
		t.Errorf("warning %q does not name the unconfirmed instance", rep.Warning)
	}
}
