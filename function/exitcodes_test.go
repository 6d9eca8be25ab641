package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// exitCodeOf runs the built command line with env (and PATH, HOME), stdin
// from stdin (nil: none), and returns its exit code and what it printed.
func exitCodeOf(t *testing.T, stdin *os.File, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), cliBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	cmd.Dir = t.TempDir()
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return exit.ExitCode(), out.String()
	case err != nil:
		t.Fatal(err)
	}
	return 0, out.String()
}

// TestExitCodes: the built binary exits with each documented code (the
// README's table, docs/outcomes.md), which go run would turn into 1.
func TestExitCodes(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		args []string
		want int
		says string
	}{
		{"success", nil, []string{"demo"}, cli.ExitOK, "The ECS double released 5 instances"},
		{"success, run on the double", nil, []string{"run", "--demo", "--yes"}, cli.ExitOK, "The ECS double released 5 instances"},
		{"failure: a cap exceeded", []string{"REAPER_MAX_RELEASE=2"}, []string{"demo"}, cli.ExitFailed, "over the count cap of 2"},
		{"failure: run over a cap", []string{"REAPER_MAX_RELEASE=2"}, []string{"run", "--demo", "--yes"}, cli.ExitFailed, "over the count cap of 2"},
		{"usage: unknown flag", nil, []string{"plan", "--no-such-flag"}, cli.ExitUsage, "flag provided but not defined"},
		{"usage: misspelt setting", []string{"REAPER_DRYRUN=true"}, []string{"plan", "--demo"}, cli.ExitUsage, "did you mean REAPER_DRY_RUN?"},
		{"usage: run without a terminal or --yes", nil, []string{"run", "--demo"}, cli.ExitUsage, "no terminal to confirm on"},
		{"usage: unknown command", nil, []string{"frobnicate"}, cli.ExitUsage, `unknown command "frobnicate"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := exitCodeOf(t, nil, c.env, c.args...)
			if code != c.want || !strings.Contains(out, c.says) {
				t.Errorf("exit code %d, want %d, and output with %q:\n%s", code, c.want, c.says, out)
			}
		})
	}
}

// TestExitCodeNotConfirmed: on a terminal, an answer other than the one
// asked for releases nothing and exits with its own code; the right one
// releases.
func TestExitCodeNotConfirmed(t *testing.T) {
	for _, c := range []struct {
		answer string
		want   int
		says   string
	}{
		{"no\n", cli.ExitNotConfirmed, "not confirmed: nothing was released"},
		{"", cli.ExitNotConfirmed, "not confirmed: nothing was released"}, // end of input
		{"5\n", cli.ExitOK, "The ECS double released 5 instances"},
	} {
		t.Run(strings.TrimSpace(c.answer), func(t *testing.T) {
			ptmx, tty, err := pty.Open()
			if err != nil {
				t.Skipf("no pseudo-terminal here: %v", err)
			}
			defer ptmx.Close()
			defer tty.Close()
			go func() { _, _ = io.Copy(io.Discard, ptmx) }() // the terminal's echo
			if c.answer != "" {
				if _, err := ptmx.WriteString(c.answer); err != nil {
					t.Fatal(err)
				}
			} else if _, err := ptmx.Write([]byte{4}); err != nil { // Ctrl-D: end of input
				t.Fatal(err)
			}
			code, out := exitCodeOf(t, tty, nil, "run", "--demo")
			if code != c.want || !strings.Contains(out, c.says) {
				t.Errorf("answer %q: exit code %d, want %d, and output with %q:\n%s", c.answer, code, c.want, c.says, out)
			}
			if c.want != cli.ExitOK && strings.Contains(out, "The ECS double released 5") {
				t.Errorf("not confirmed, yet released:\n%s", out)
			}
		})
	}
}

// TestExitCodeInterrupted: Ctrl-C (SIGINT) during a live run of the built
// binary stops starting calls, reports the ones in flight as interrupted
// and exits with cli.ExitInterrupted (130).
func TestExitCodeInterrupted(t *testing.T) {
	fleet, err := cli.DemoFleet()
	if err != nil {
		t.Fatal(err)
	}
	// Every answer takes a while, so the signal arrives mid-run.
	srv, err := ecsdouble.Start(fleet, ecsdouble.WithCredential("ak-interrupt", "interrupt-secret", ""), ecsdouble.WithLatency(700*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	cmd := exec.CommandContext(t.Context(), cliBinary(t), "run", "--yes")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=ak-interrupt", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=interrupt-secret",
		"REAPER_ECS_ENDPOINT=" + srv.URL(), "REAPER_REGIONS=" + strings.Join(fleet.Regions(), ",")}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != cli.ExitInterrupted {
		t.Fatalf("after Ctrl-C: %v, want exit code %d\n%s", err, cli.ExitInterrupted, out.String())
	}
	if !strings.Contains(out.String(), "interrupted") {
		t.Errorf("the output does not say it was interrupted:\n%s", out.String())
	}
}
