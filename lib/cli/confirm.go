package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// isTerminal reports whether r (stdin or stderr) is a terminal: an
// operator who can be asked, and who wants to see progress.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// errNotConfirmed: the operator did not confirm a live release.
var errNotConfirmed = errors.New("not confirmed: nothing was released")

// cancelled is a release not confirmed for a reason of its own (Ctrl-C):
// it is errNotConfirmed, in its own words.
type cancelled string

func (c cancelled) Error() string { return string(c) + ": not confirmed: nothing was released" }
func (c cancelled) Unwrap() error { return errNotConfirmed }

// Ctrl-C while the plan is read, or at the prompt: it cancels, as a wrong
// answer does (the same exit code), and nothing typed after it is read.
var (
	errInterruptedPlan   error = cancelled("interrupted while reading the plan")
	errInterruptedPrompt error = cancelled("interrupted at the prompt")
)

// confirmRelease stands between `run` and a live release. With --yes it
// lets the run go. On a terminal it shows the plan (a dry run) and asks
// the operator to type the region, or with several regions the number of
// writes. The live run then writes only to the resources shown, by ID and
// kind, that still qualify on its own read (the engine checks each before
// writing); anything new is reported skipped/not-confirmed and waits for
// the next confirmation. The count cap is lowered to the number shown as
// well. A plan with nothing to release or stop runs without asking (it may
// still send notices, and releases nothing). Without a terminal it
// refuses.
func confirmRelease(ctx context.Context, env *Env, t *target, yes bool) error {
	if yes {
		return nil
	}
	if !isTerminal(env.Stdin) {
		return fmt.Errorf("%w: run releases for real and there is no terminal to confirm on: pass --yes (scripts), or use plan to see what would go", errUsage)
	}
	api, err := t.api()
	if err != nil {
		return err
	}
	plan := t.cfg
	plan.DryRun = true
	// Say at once what is going on: a large account takes a while to list.
	fmt.Fprintf(env.Stderr, "run: reading %s for the plan (a dry run, nothing written)…\n", describeRegions(t))
	logger := slog.New(slog.DiscardHandler)
	var prog *progress
	if isTerminal(env.Stderr) {
		prog = newProgress(env.Stderr, env.widthOf(env.Stderr), len(plan.Regions), true)
		logger = slog.New(prog)
	}
	rep, err := t.sweep(ctx, api, plan, "confirm@"+time.Now().UTC().Format(time.RFC3339), logger)
	if prog != nil {
		prog.done()
	}
	if ctx.Err() != nil {
		return errInterruptedPlan
	}
	if err != nil {
		return fmt.Errorf("the plan before the release failed, so nothing was released: %w", err)
	}
	writePlanSummary(env.Stderr, rep, env.widthOf(env.Stderr))
	// Only what is shown here may be written, whatever the run finds.
	t.confirmed = engine.ConfirmationOf(rep)
	// What the count cap counts: releases, stops and resource deletes.
	n := 0
	if rep.Cap != nil {
		n = rep.Cap.Eligible
	}
	if n == 0 && t.confirmed.Count() == 0 {
		fmt.Fprintln(env.Stderr, "run: nothing would be released or stopped.")
		return nil
	}
	n = max(n, t.confirmed.Count()) // with the EIP hand-overs shown
	regions := rep.Regions
	want := strconv.Itoa(n)
	prompt := fmt.Sprintf("Type the number of releases and stops (%d) to do them", n)
	if len(rep.Accounts) > 1 {
		prompt += " in accounts " + sweptAccounts(rep)
	}
	if len(regions) == 1 && len(rep.Accounts) <= 1 {
		want = regions[0].Region
		prompt = fmt.Sprintf("Type the region (%s) to do these %d releases and stops", want, n)
	}
	fmt.Fprintf(env.Stderr, "%s, or anything else to stop: ", prompt)
	line, ok := readLine(ctx, env.Stdin)
	if !ok {
		fmt.Fprintln(env.Stderr)
		if ctx.Err() != nil {
			return errInterruptedPrompt
		}
		return errNotConfirmed
	}
	if strings.TrimSpace(line) != want {
		return errNotConfirmed
	}
	// Never more than the operator saw.
	t.cfg.MaxRelease = min(t.cfg.MaxRelease, n)
	t.cfg.OrgMaxRelease = min(t.cfg.OrgMaxRelease, n)
	return nil
}

// sweptAccounts names the accounts a plan would write to.
func sweptAccounts(rep *report.Report) string {
	var ids []string
	for _, a := range rep.Accounts {
		if a.Status == report.AccountSwept {
			ids = append(ids, a.Account)
		}
	}
	return strings.Join(ids, ", ")
}

// confirmSchedule asks once before `schedule --release` releases on every
// tick: the operator types the regions as given.
func confirmSchedule(ctx context.Context, env *Env, t *target, yes bool) error {
	if yes {
		return nil
	}
	if !isTerminal(env.Stdin) {
		return fmt.Errorf("%w: schedule --release releases for real on every tick and there is no terminal to confirm on: pass --yes", errUsage)
	}
	want := regionsOf(t)
	where := want
	if sel, _ := t.cfg.Accounts(); sel.Multi() {
		where += " of the accounts " + sel.String() + " (each through its member role)"
	}
	fmt.Fprintf(env.Stderr, "schedule will release expired instances in %s on every tick (at most %d each), and stop or delete what the settings sweep; no plan is shown: each tick acts on what is due then.\nType %q to start, or anything else to stop: ", where, t.cfg.MaxRelease, want)
	line, ok := readLine(ctx, env.Stdin)
	if !ok && ctx.Err() != nil {
		fmt.Fprintln(env.Stderr)
		return errInterruptedPrompt
	}
	if strings.TrimSpace(line) != want {
		return errNotConfirmed
	}
	return nil
}

// writePlanSummary prints what the plan would release or stop, by
// region, with the first few instances of each, and the resources of
// each kind it would delete.
func writePlanSummary(w io.Writer, rep *report.Report, width int) {
	const shown = 10
	if len(rep.Accounts) > 1 {
		fmt.Fprintln(w, "run: the accounts of the plan:")
		for _, a := range rep.Accounts {
			why := ""
			if a.Error != nil {
				why = ": " + a.Error.Code + ", nothing is written there"
			}
			fmt.Fprintf(w, "  %s  %s%s\n", a.Account, a.Status, why)
		}
	}
	fmt.Fprintln(w, "run: the plan (a dry run) would:")
	for _, r := range rep.Regions {
		for _, o := range []verdict.Outcome{verdict.WouldRelease, verdict.WouldStop} {
			var items []report.Item
			for _, g := range r.Groups {
				if g.Outcome == o {
					items = append(items, g.Instances...)
				}
			}
			if len(items) == 0 {
				continue
			}
			verb := "release"
			if o == verdict.WouldStop {
				verb = "stop"
			}
			fmt.Fprintf(w, "  %s: %s %d\n", where(rep, r), verb, len(items))
			for i, it := range items {
				if i == shown {
					fmt.Fprintf(w, "    … and %d more\n", len(items)-shown)
					break
				}
				name := ""
				if it.Facts != nil {
					name = it.Facts.Name
				}
				// What matters first; the row is cut to the terminal's width.
				row := fmt.Sprintf("    %s  expired %s  owner %s  %s", it.ID, orDash(it.Facts.Expires()), cut(orDash(it.Owner), 24), orDash(name))
				fmt.Fprintln(w, cut(row, width-1))
			}
		}
		for _, k := range kinds.All {
			sec := struct {
				verb, kind string
				s          *report.Section
			}{k.Verb, k.Plural, r.Section(k.Name)}
			if sec.s == nil || sec.s.Counts[string(verdict.WouldRelease)] == 0 {
				continue
			}
			fmt.Fprintf(w, "  %s: %s %d %s\n", where(rep, r), sec.verb, sec.s.Counts[string(verdict.WouldRelease)], sec.kind)
			// Only these IDs may be written once confirmed: show them.
			listed := 0
			for _, g := range sec.s.Groups {
				if g.Outcome != verdict.WouldRelease {
					continue
				}
				for _, it := range g.Instances {
					if listed == shown {
						break
					}
					fmt.Fprintln(w, cut(fmt.Sprintf("    %s  %s", it.ID, orDash(it.Detail)), width-1))
					listed++
				}
			}
			if n := sec.s.Counts[string(verdict.WouldRelease)]; n > listed {
				fmt.Fprintf(w, "    … and %d more\n", n-listed)
			}
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
