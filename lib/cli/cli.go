// Package cli is the command-line face of the function binary: when
// FC_RUNTIME_API is not set, function/main.go hands its arguments to Main.
// Every command runs the same lib/ code the deployed function runs; only
// the source of credentials and events differs.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// Exit codes of Main, documented in docs/outcomes.md and the README: a
// script tells them apart, so each stays what it is.
const (
	ExitOK           = 0 // the command did what was asked
	ExitFailed       = 1 // the run failed: cap exceeded, incomplete sweep, function error
	ExitUsage        = 2 // bad command line, settings or deployment files
	ExitNotConfirmed = 3 // a live release was not confirmed (Ctrl-C at the prompt too): nothing was written
	// ExitInterrupted: Ctrl-C during a run; the calls in flight were let
	// finish (within a bound), the report says what happened, and the
	// next run re-reads everything. 128+SIGINT, as shells report it.
	ExitInterrupted = 130
)

// Env is the process environment as the commands see it.
type Env struct {
	Stdin   io.Reader
	Stdout  io.Writer
	Stderr  io.Writer
	Lookup  func(string) (string, bool)
	Environ []string // "NAME=value" entries, as os.Environ gives them
}

// NewEnv reads the variables from environ ("NAME=value" entries; the
// last of a repeated name wins, as in os.Getenv).
func NewEnv(stdin io.Reader, stdout, stderr io.Writer, environ []string) *Env {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if ok {
			vars[name] = value
		}
	}
	lookup := func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	return &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Lookup: lookup, Environ: environ}
}

func (e *Env) get(name string) string {
	v, _ := e.Lookup(name)
	return strings.TrimSpace(v)
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *Env, args []string) int
}

func commands() []command {
	return []command{
		{"demo", "sweep a built-in sample fleet on a local ECS double; no account needed", runDemo},
		{"plan", "dry run against your account: what would be released", runPlan},
		{"run", "sweep your account and release expired instances", runRun},
		{"invoke", "one invocation exactly as FC does it, without Docker", runInvoke},
		{"report", "put a run's whole report back together from the function's logs", runReport},
		{"schedule", "sweep on the timer trigger's cron schedule", runSchedule},
		{"validate", "check the settings and s.yaml/template.yaml", runValidate},
		{"serve-double", "serve the ECS double on loopback, to point the tool or function at", runServeDouble},
	}
}

// Main runs one command and returns the process exit code. environ is the
// whole environment ("NAME=value" entries: os.Environ in production).
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	env := NewEnv(stdin, stdout, stderr, environ)
	if len(args) == 0 {
		usage(stderr)
		return ExitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(rest) > 0 {
			return Main(ctx, []string{rest[0], "--help"}, stdin, stdout, stderr, environ)
		}
		usage(stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, rest)
		}
	}
	fmt.Fprintf(stderr, "ecs-reaper: unknown command %q\n\n", name)
	usage(stderr)
	return ExitUsage
}

func usage(w io.Writer) {
	fmt.Fprint(w, `ecs-reaper releases ECS instances whose opt-in expiry tag has passed.

On Function Compute (FC_RUNTIME_API set) this binary is the function. Anywhere
else it is this command-line tool:

Usage: ./reaper <command> [flags]   (built with: go build -o reaper ./function)

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Start with:  ./reaper demo
Help on a command:  ./reaper <command> --help
`)
}

// flagSet makes a command's FlagSet whose --help prints the description,
// the flags, the examples and, when withSettings, the settings variables.
func flagSet(env *Env, name, synopsis, description, examples string, withSettings bool) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: ./reaper %s %s\n\n%s\n", name, synopsis, strings.TrimSpace(description)+"\n")
		fmt.Fprintln(w, "Flags:")
		fs.PrintDefaults()
		fmt.Fprintf(w, "\nExamples:\n%s\n", strings.Trim(examples, "\n"))
		if withSettings {
			fmt.Fprintln(w)
			writeSettingsHelp(w)
		}
	}
	return fs
}

// parse parses args; it returns -1 to go on, or the exit code. --help
// prints to stdout and succeeds, as users expect of a help flag.
func parse(env *Env, fs *flag.FlagSet, args []string) int {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(env.Stdout)
		fs.Usage()
		return ExitOK
	case err != nil:
		fmt.Fprintf(env.Stderr, "%s: %v\n", fs.Name(), err)
		fmt.Fprintf(env.Stderr, "Run './reaper %s --help' for usage.\n", fs.Name())
		return ExitUsage
	case fs.NArg() > 0:
		fmt.Fprintf(env.Stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fmt.Fprintf(env.Stderr, "Run './reaper %s --help' for usage.\n", fs.Name())
		return ExitUsage
	}
	fs.SetOutput(env.Stderr)
	return -1
}

// writeSettingsHelp lists every setting from the settings table, with
// its default.
func writeSettingsHelp(w io.Writer) {
	fmt.Fprintln(w, "Settings (environment variables, as on FC):")
	specs := settings.Specs()
	sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
	for _, sp := range specs {
		text := sp.Help
		if sp.Default != "" {
			text += " (default " + sp.Default + ")"
		}
		fmt.Fprintf(w, "  %-32s %s\n", sp.Name, text)
	}
}

// stdinOr returns env.Stdin, or os.Stdin when it is nil.
func (e *Env) stdin() io.Reader {
	if e.Stdin == nil {
		return os.Stdin
	}
	return e.Stdin
}
