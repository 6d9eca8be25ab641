package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/ecs-reaper/ecs-reaper/lib/handler"
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
var errNotConfirmed = fmt.Errorf("%w: not confirmed: nothing was released", errUsage)

// confirmRelease stands between `run` and a live release. With --yes it
// lets the run go. On a terminal it shows the plan (a dry run) and asks
// the operator to type the region, or with several regions the number of
// instances; the live run is then capped at that number, so it cannot
// release more than was shown. Without a terminal it refuses.
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
	rep, err := handler.Sweep(ctx, api, plan, t.defaultRegion, "confirm@"+time.Now().UTC().Format(time.RFC3339), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return fmt.Errorf("the plan before the release failed, so nothing was released: %w", err)
	}
	n := writePlanSummary(env.Stderr, rep)
	if n == 0 {
		fmt.Fprintln(env.Stderr, "run: nothing would be released.")
		return errNothingToRelease
	}
	regions := rep.Regions
	want := strconv.Itoa(n)
	prompt := fmt.Sprintf("Type the number of instances (%d) to release them", n)
	if len(regions) == 1 {
		want = regions[0].Region
		prompt = fmt.Sprintf("Type the region (%s) to release these %d instances", want, n)
	}
	fmt.Fprintf(env.Stderr, "%s, or anything else to stop: ", prompt)
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(env.Stderr)
		return errNotConfirmed
	}
	if strings.TrimSpace(line) != want {
		return errNotConfirmed
	}
	// Never more than the operator saw.
	t.cfg.MaxRelease = min(t.cfg.MaxRelease, n)
	return nil
}

// errNothingToRelease ends a confirmed run early with success.
var errNothingToRelease = fmt.Errorf("nothing to release")

// confirmSchedule asks once before `schedule --release` releases on every
// tick: the operator types the regions as given.
func confirmSchedule(env *Env, t *target, yes bool) error {
	if yes {
		return nil
	}
	if !isTerminal(env.Stdin) {
		return fmt.Errorf("%w: schedule --release releases for real on every tick and there is no terminal to confirm on: pass --yes", errUsage)
	}
	want := describeRegions(t)
	fmt.Fprintf(env.Stderr, "schedule will release expired instances in %s on every tick (at most %d each).\nType %q to start, or anything else to stop: ", want, t.cfg.MaxRelease, want)
	line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
	if strings.TrimSpace(line) != want {
		return errNotConfirmed
	}
	return nil
}

// writePlanSummary prints what the plan would release, by region, with
// the first few instances of each, and returns how many.
func writePlanSummary(w io.Writer, rep *report.Report) int {
	const shown = 10
	total := 0
	fmt.Fprintln(w, "run: the plan (a dry run) would release:")
	for _, r := range rep.Regions {
		var ids []report.Item
		for _, g := range r.Groups {
			if g.Outcome == verdict.WouldRelease {
				ids = append(ids, g.Instances...)
			}
		}
		total += len(ids)
		fmt.Fprintf(w, "  %s: %d\n", r.Region, len(ids))
		for i, it := range ids {
			if i == shown {
				fmt.Fprintf(w, "    … and %d more\n", len(ids)-shown)
				break
			}
			name := ""
			if it.Facts != nil {
				name = it.Facts.Name
			}
			fmt.Fprintf(w, "    %s  %s  owner %s  expired %s\n", it.ID, orDash(name), orDash(it.Owner), orDash(it.Facts.Expires()))
		}
	}
	return total
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
