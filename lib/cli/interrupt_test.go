package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
)

var (
	binaryOnce sync.Once
	binaryDir  string
	binaryPath string
	binaryErr  error
)

// removeReaperBinary removes what reaperBinary built (TestMain).
func removeReaperBinary() {
	if binaryDir != "" {
		_ = os.RemoveAll(binaryDir)
	}
}

// reaperBinary builds the command-line binary once (the default build,
// with the command line), so that Ctrl-C is tested as an operator sends
// it: through a terminal, as SIGINT to the process.
func reaperBinary(t *testing.T) string {
	t.Helper()
	binaryOnce.Do(func() {
		dir, err := os.MkdirTemp("", "reaper-bin-")
		if err != nil {
			binaryErr = err
			return
		}
		binaryDir, binaryPath = dir, filepath.Join(dir, "reaper")
		out, err := exec.Command("go", "build", "-o", binaryPath, filepath.Join(repoRoot, "function")).CombinedOutput()
		if err != nil {
			binaryErr = errors.New(string(out))
		}
	})
	if binaryErr != nil {
		t.Fatalf("building the binary: %v", binaryErr)
	}
	return binaryPath
}

// terminal is the binary running on a pseudo-terminal: its stdin, stdout
// and stderr, and its controlling terminal, so that ^C is SIGINT.
type terminal struct {
	t    *testing.T
	cmd  *exec.Cmd
	ptmx *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

func startOnTerminal(t *testing.T, env map[string]string, args ...string) *terminal {
	t.Helper()
	cmd := exec.Command(reaperBinary(t), args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	ptmx, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	term := &terminal{t: t, cmd: cmd, ptmx: ptmx, done: make(chan struct{})}
	go func() {
		defer close(term.done)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = ptmx.Close()
	})
	return term
}

func (term *terminal) output() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.String()
}

// waitFor waits until the output holds s.
func (term *terminal) waitFor(s string) {
	term.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(term.output(), s) {
		if time.Now().After(deadline) {
			term.t.Fatalf("no %q on the terminal:\n%s", s, term.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (term *terminal) typeText(s string) {
	term.t.Helper()
	if _, err := term.ptmx.WriteString(s); err != nil {
		term.t.Fatal(err)
	}
}

// exit waits for the process and returns its exit code.
func (term *terminal) exit() int {
	term.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- term.cmd.Wait() }()
	select {
	case err := <-errc:
		// Everything the process wrote is read before its code counts.
		select {
		case <-term.done:
		case <-time.After(10 * time.Second):
			term.t.Fatalf("the terminal's output did not end:\n%s", term.output())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			term.t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		term.t.Fatalf("the binary did not exit:\n%s", term.output())
		return -1
	}
}

// Ctrl-C at the confirmation prompt cancels: nothing is written, the exit
// code is not-confirmed's, and the line typed after it is not taken as
// the answer.
func TestCtrlCAtThePromptCancels(t *testing.T) {
	srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
	notConfirmed := runOnTerminal(t, env, "no\n", "run").code // a wrong answer's code
	term := startOnTerminal(t, env, "run")
	term.waitFor("Type the region (cn-hangzhou)")
	term.typeText("\x03")
	term.waitFor("interrupted at the prompt")
	term.typeText("cn-hangzhou\n") // typed after: must not confirm anything
	if code := term.exit(); code != notConfirmed || code == cli.ExitOK {
		t.Fatalf("exit code %d, want %d (not confirmed)\n%s", code, notConfirmed, term.output())
	}
	if got := srv.Released(); len(got) != 0 {
		t.Fatalf("released %v after Ctrl-C at the prompt", got)
	}
	for _, c := range srv.Calls() {
		if c.Action == "DeleteInstances" && c.Params["DryRun"] != "true" {
			t.Fatal("a live DeleteInstances after Ctrl-C at the prompt")
		}
	}
	if !strings.Contains(term.output(), "nothing was released") {
		t.Errorf("the terminal does not say nothing was released:\n%s", term.output())
	}
}

// Ctrl-C during the releases: no call starts after it, the call in
// flight is let finish and reported as what it did, the batch not started
// is interrupted (not failed, no word of a deadline), and the run exits
// with its own code, saying the next run re-reads everything.
func TestCtrlCDuringTheRun(t *testing.T) {
	srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100", "REAPER_BATCH_CONCURRENCY": "1"})
	inFlight, finish := make(chan struct{}), make(chan struct{})
	var once sync.Once
	srv.BeforeDelete(func(string, []string) {
		once.Do(func() { close(inFlight) })
		<-finish
	})
	term := startOnTerminal(t, env, "run", "--yes", "--json")
	select {
	case <-inFlight:
	case <-time.After(30 * time.Second):
		t.Fatalf("no DeleteInstances:\n%s", term.output())
	}
	term.typeText("\x03")
	term.waitFor("no call starts any more")
	time.Sleep(200 * time.Millisecond) // the batch in flight goes on meanwhile
	close(finish)
	code := term.exit()
	out := term.output()
	if code != cli.ExitInterrupted {
		t.Fatalf("exit code %d, want %d\n%s", code, cli.ExitInterrupted, out)
	}
	if n := srv.CallCount("DeleteInstances"); n != 1 {
		t.Fatalf("%d DeleteInstances calls: a call started after Ctrl-C", n)
	}
	released := srv.Released()
	if len(released) == 0 || len(released) == 4 {
		t.Fatalf("released %v: the batch in flight finishes, the other never starts", released)
	}
	rep := reportIn(t, out)
	if rep.Totals.Outcomes["released"] != len(released) || rep.Totals.Outcomes["interrupted"] != 4-len(released) || rep.Totals.Outcomes["failed"] != 0 {
		t.Fatalf("outcomes %v, released %v", rep.Totals.Outcomes, released)
	}
	if rep.Totals.Reasons["interrupted/not-started"] != 4-len(released) {
		t.Fatalf("reasons %v", rep.Totals.Reasons)
	}
	for _, want := range []string{"interrupted", "the next run re-reads everything"} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "invocation deadline") {
		t.Errorf("an interruption blamed on the deadline:\n%s", out)
	}
}

// reportIn finds the JSON report in the terminal's output.
func reportIn(t *testing.T, out string) struct {
	Totals struct {
		Outcomes map[string]int `json:"outcomes"`
		Reasons  map[string]int `json:"reasons"`
	} `json:"totals"`
} {
	t.Helper()
	var rep struct {
		Totals struct {
			Outcomes map[string]int `json:"outcomes"`
			Reasons  map[string]int `json:"reasons"`
		} `json:"totals"`
	}
	start := strings.Index(out, "{")
	end := strings.LastIndex(out, "\n}")
	if start < 0 || end < 0 {
		t.Fatalf("no JSON report:\n%s", out)
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(out[start:end+2], "\r\n", "\n")), &rep); err != nil {
		t.Fatalf("the report: %v\n%s", err, out)
	}
	return rep
}

// A call in flight past the wait is ended, and reported interrupted with
// its effect unknown: the run still ends within the bound.
func TestInterruptedCallPastTheWait(t *testing.T) {
	defer cli.SetInterruptWait(300 * time.Millisecond)()
	srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100", "REAPER_BATCH_CONCURRENCY": "1"})
	inFlight, never := make(chan struct{}), make(chan struct{})
	defer close(never)
	var once sync.Once
	srv.BeforeDelete(func(string, []string) {
		once.Do(func() { close(inFlight) })
		<-never
	})
	ctx, interrupt := context.WithCancel(t.Context())
	go func() {
		<-inFlight
		interrupt() // as SIGINT does to the binary's context
	}()
	var out, errOut bytes.Buffer
	var environ []string
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	start := time.Now()
	code := cli.Main(ctx, []string{"run", "--yes", "--json"}, strings.NewReader(""), &out, &errOut, environ)
	if code != cli.ExitInterrupted {
		t.Fatalf("exit code %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("took %v: the wait for the call in flight is not bounded", took)
	}
	rep := reportIn(t, out.String())
	if rep.Totals.Reasons["interrupted/effect-unknown"] == 0 || rep.Totals.Outcomes["failed"] != 0 {
		t.Fatalf("outcomes %v, reasons %v:\n%s", rep.Totals.Outcomes, rep.Totals.Reasons, errOut.String())
	}
	if !strings.Contains(errOut.String(), "whose effect is unknown") || strings.Contains(out.String()+errOut.String(), "invocation deadline") {
		t.Errorf("stderr:\n%s", errOut.String())
	}
}

// On a terminal the progress line names the phase and moves per page
// (before the region is listed), and the confirmation's plan shows
// something at once instead of a blank screen.
func TestProgressNamesThePhase(t *testing.T) {
	srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
	srv.SetLatency(150 * time.Millisecond)
	term := startOnTerminal(t, env, "run")
	term.waitFor("Type the region (cn-hangzhou)")
	before := term.output()
	for _, want := range []string{"run: reading cn-hangzhou for the plan", "listing: regions 0/1, pages 1, seen 6"} {
		if !strings.Contains(before, want) {
			t.Errorf("before the question, the terminal lacks %q:\n%s", want, before)
		}
	}
	if strings.Index(before, "run: reading") > strings.Index(before, "listing:") {
		t.Errorf("the plan's first line comes after its progress:\n%s", before)
	}
	term.typeText("cn-hangzhou\n")
	if code := term.exit(); code != cli.ExitOK {
		t.Fatalf("exit code %d\n%s", code, term.output())
	}
	after := term.output()[len(before):]
	for _, want := range []string{"notices:", "writes:", "batches 2, released 4"} {
		if !strings.Contains(after, want) {
			t.Errorf("the run's progress lacks %q:\n%s", want, after)
		}
	}
}
