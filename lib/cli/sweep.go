package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/handler"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// sweepFlags are the flags shared by demo, plan, run and schedule.
type sweepFlags struct {
	json    bool
	region  string
	verbose bool
	profile string
	only    string // outcomes to list
	all     bool   // every row in the table
	wide    bool   // no cell cut to the terminal's width
	by      string // "owner": one line per owner
	// accounts overrides REAPER_ACCOUNTS: the caller's credentials
	// assume the member role in each.
	accounts string
}

const runSettingsNote = `Credentials, as the Alibaba Cloud CLI finds them (never printed): --profile
(a profile of ~/.aliyun/config.json), else ALIBABA_CLOUD_ACCESS_KEY_ID and
ALIBABA_CLOUD_ACCESS_KEY_SECRET (and ALIBABA_CLOUD_SECURITY_TOKEN), else OIDC
(ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN,
ALIBABA_CLOUD_OIDC_TOKEN_FILE), else ALIBABA_CLOUD_PROFILE or the CLI's current
profile, else the ECS instance RAM role named by ALIBABA_CLOUD_ECS_METADATA.
Region: --region, else REAPER_REGIONS, else FC_REGION or ALIBABA_CLOUD_REGION_ID.`

func runDemo(ctx context.Context, env *Env, args []string) int {
	fs := flagSet(env, "demo", "[--dry-run] [--fleet FILE] [--json] [--region LIST] [-v]", `
Starts the in-repo ECS double on 127.0.0.1 with a built-in sample fleet
(cn-hangzhou, cn-shanghai, ap-southeast-1; one instance per decision case),
runs a real sweep through the real Alibaba Cloud SDK against it, prints the
decisions, the DeleteInstances batches and a summary, and then what the
double actually released. Nothing leaves your machine; no account is needed.
The REAPER_* settings apply (REAPER_ECS_ENDPOINT is replaced by the double).`, `
  ./reaper demo
  ./reaper demo --dry-run
  REAPER_FORCE=true ./reaper demo     # running instances go too
  ./reaper demo --fleet testdata/fleets/small.json   # your own fleet
  ./reaper demo --json | jq .totals`, true)
	var f sweepFlags
	dryRun := fs.Bool("dry-run", false, "ask ECS with DryRun=true and release nothing")
	fleet := fs.String("fleet", "", "serve this fleet (JSON, the format of testdata/fleets/small.json) instead of the built-in one")
	addSweepFlags(fs, &f)
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	cfg, err := loadSweepSettings(env, f)
	if err != nil {
		return fail(env, "demo", err)
	}
	if *dryRun {
		cfg.DryRun = true
	}
	t, err := demoTarget(cfg, *fleet)
	if err != nil {
		return fail(env, "demo", err)
	}
	defer t.close()
	rep, code := sweepOnce(ctx, env, "demo", t, f)
	if rep != nil && !f.json {
		writeDoubleReleased(env, t, f.wide)
	}
	return code
}

// writeDoubleReleased says what the ECS double actually released: the
// double's own record, not the report's.
// A list wider than the terminal is a count unless wide.
func writeDoubleReleased(env *Env, t *target, wide bool) {
	released := t.double.Released()
	switch {
	case len(released) > 0:
		line := fmt.Sprintf("The ECS double released %d instances: %s", len(released), strings.Join(released, ", "))
		if !wide && len(line) >= env.width() {
			line = fmt.Sprintf("The ECS double released %d instances (--wide lists them).", len(released))
		}
		fmt.Fprintf(env.Stdout, "\n%s\n", line)
	case t.cfg.DryRun:
		fmt.Fprintln(env.Stdout, "\nThe ECS double released nothing (dry run).")
	default:
		fmt.Fprintln(env.Stdout, "\nThe ECS double released nothing.")
	}
}

func runPlan(ctx context.Context, env *Env, args []string) int {
	fs := flagSet(env, "plan", "[--region LIST] [--demo | --fleet FILE] [--horizon D] [--json] [-v]", `
A dry run against your account: lists the opted-in instances, decides each,
and sends every release with DryRun=true so ECS checks permissions and
parameters without releasing anything. REAPER_DRY_RUN is forced on.

`+runSettingsNote, `
  export ALIBABA_CLOUD_ACCESS_KEY_ID=... ALIBABA_CLOUD_ACCESS_KEY_SECRET=...
  ./reaper plan --region cn-hangzhou
  REAPER_REGIONS=all ./reaper plan --json > plan.json
  REAPER_NOTIFY_URL=... ./reaper plan --horizon 7d   # the coming week, per day and owner
  ./reaper plan --demo --horizon 7d
  ./reaper plan --fleet testdata/fleets/small.json`, true)
	var f sweepFlags
	var d doubleFlags
	addSweepFlags(fs, &f)
	addDoubleFlags(fs, &d)
	horizon := fs.String("horizon", "", "instead of a dry run, forecast the coming days (e.g. 7d): what will be notified, stopped and released, per day and owner")
	html := fs.String("html", "", "also write the plan and a forecast over --horizon (default 7d) as one self-contained HTML page to this file (docs/html.md)")
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	cfg, err := loadSweepSettings(env, f)
	if err != nil {
		return fail(env, "plan", err)
	}
	cfg.DryRun = true
	t, err := d.target(env, cfg, f.profile)
	if err != nil {
		return fail(env, "plan", err)
	}
	defer t.close()
	if *html != "" {
		return planPage(ctx, env, t, *horizon, *html, f)
	}
	if *horizon != "" {
		if sel, _ := t.cfg.Accounts(); sel.Multi() {
			return fail(env, "plan", fmt.Errorf("%w: --horizon forecasts one account: leave out --accounts (and REAPER_ACCOUNTS)", errUsage))
		}
		return forecast(ctx, env, t, *horizon, f)
	}
	_, code := sweepOnce(ctx, env, "plan", t, f)
	return code
}

// parseHorizon reads --horizon: a Go duration or whole days or weeks.
func parseHorizon(flag string) (time.Duration, error) {
	horizon, err := time.ParseDuration(flag)
	if err != nil {
		if horizon, err = decide.ParseTTL(flag); err != nil {
			return 0, fmt.Errorf("%w: --horizon %q: want a duration greater than zero, such as 7d or 72h", errUsage, flag)
		}
	}
	if horizon <= 0 {
		return 0, fmt.Errorf("%w: --horizon %q: the forecast needs a horizon greater than zero, such as 7d or 72h", errUsage, flag)
	}
	return horizon, nil
}

// forecast prints what the coming days will bring.
func forecast(ctx context.Context, env *Env, t *target, horizonFlag string, f sweepFlags) int {
	horizon, err := parseHorizon(horizonFlag)
	if err != nil {
		return fail(env, "plan", err)
	}
	api, err := t.api()
	if err != nil {
		return fail(env, "plan", err)
	}
	fc, err := handler.Forecast(ctx, api, t.cfg, t.defaultRegion, horizon, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return fail(env, "plan", err)
	}
	if f.json {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(fc); err != nil {
			return fail(env, "plan", err)
		}
	} else {
		writeForecast(env.Stdout, fc, env.width(), f.wide)
	}
	if len(fc.Errors) > 0 {
		fmt.Fprintf(env.Stderr, "plan: %d regions could not be listed; the forecast leaves them out\n", len(fc.Errors))
		return ExitFailed
	}
	return ExitOK
}

// writeForecast prints the forecast: the refusal first (what needs a
// person), then a table of days, then each day's owners with counts;
// wide lists every owner and ID, otherwise the busiest owners of a day
// are shown and the rest counted.
func writeForecast(w io.Writer, fc *engine.Forecast, width int, wide bool) {
	fmt.Fprintf(w, "Forecast from %s for %s (hourly ticks, every notice delivered, the caps kept as the run keeps them)\n", fc.From.Format(time.RFC3339), fc.Horizon)
	if len(fc.Kinds) > 0 {
		fmt.Fprintf(w, "Swept: instances, %s\n", strings.Join(fc.Kinds, ", "))
	}
	for _, e := range fc.Errors {
		fmt.Fprintf(w, "NOT LISTED (left out of the forecast): %s\n", fitLine(e, width-40, wide))
	}
	if r := fc.Refused; r != nil {
		fmt.Fprintf(w, "REFUSED from %s: %d writes are due at once; the run releases nothing, and every later run refuses too, until %s.\n",
			r.At.Format("2006-01-02 15:04 UTC"), r.Eligible, r.Advice())
		fmt.Fprintf(w, "  %s\n", fitLine(r.Explain, width-3, wide))
	}
	if len(fc.Days) == 0 {
		fmt.Fprintln(w, "Nothing is due.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DATE\tNOTICES\tSTOPS\tRELEASES\tREFUSED\t")
	for _, d := range fc.Days {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", d.Date, d.Totals.Notices, d.Totals.Stops, d.Totals.Releases, d.Totals.Refused)
	}
	fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t\n", fc.Totals.Notices, fc.Totals.Stops, fc.Totals.Releases, fc.Totals.Refused)
	_ = tw.Flush()
	const owners = 10
	for _, d := range fc.Days {
		fmt.Fprintf(w, "\n%s", d.Date)
		if d.Refused != nil {
			fmt.Fprint(w, " (refused by the caps)")
		}
		fmt.Fprintln(w)
		names := slices.Collect(maps.Keys(d.Owners))
		total := func(o *engine.ForecastOwner) int {
			return o.Counts.Notices + o.Counts.Stops + o.Counts.Releases + o.Counts.Refused
		}
		slices.SortFunc(names, func(a, b string) int {
			if n := total(d.Owners[b]) - total(d.Owners[a]); n != 0 {
				return n
			}
			return strings.Compare(a, b)
		})
		for i, o := range names {
			if !wide && i == owners {
				fmt.Fprintf(w, "  … and %d more owners (--wide for every owner and ID, --json for the data)\n", len(names)-owners)
				break
			}
			x := d.Owners[o]
			name := o
			if name == "" {
				name = "(no owner tag)"
			}
			line := fmt.Sprintf("  %-24s notices %d, stops %d, releases %d", cut(name, 24), x.Counts.Notices, x.Counts.Stops, x.Counts.Releases)
			if len(x.ByKind) > 1 || (len(x.ByKind) == 1 && x.ByKind[engine.KindInstances] == 0) {
				var kinds []string
				for _, k := range slices.Sorted(maps.Keys(x.ByKind)) {
					kinds = append(kinds, fmt.Sprintf("%d %s", x.ByKind[k], k))
				}
				line += " (" + strings.Join(kinds, ", ") + ")"
			}
			if x.Counts.Refused > 0 {
				line += fmt.Sprintf(", refused %d", x.Counts.Refused)
			}
			fmt.Fprintln(w, line)
			if !wide {
				continue
			}
			for _, part := range []struct {
				what string
				ids  []string
			}{{"notified", x.Notified}, {"stopped", x.Stopped}, {"released", x.Released}, {"refused", x.Refused}} {
				if len(part.ids) > 0 {
					fmt.Fprintf(w, "    %-9s %s\n", part.what, strings.Join(part.ids, " "))
				}
			}
		}
	}
}

// fitLine cuts s to width columns, marking the cut, unless wide.
func fitLine(s string, width int, wide bool) string {
	if wide || width <= 1 {
		return s
	}
	return cut(s, width)
}

// cut shortens s to n runes, marking the cut with "…".
func cut(s string, n int) string {
	r := []rune(s)
	if n < 1 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func runRun(ctx context.Context, env *Env, args []string) int {
	fs := flagSet(env, "run", "[--region LIST] [--demo | --fleet FILE] [--yes] [--json] [-v]", `
Sweeps your account as the function would and RELEASES the expired
instances (unless REAPER_DRY_RUN=true). On a terminal it first shows the
plan (a dry run) and asks you to type the region (with several regions, the
number of releases and stops); the count cap is then lowered to that number,
so a run that finds more than you saw releases nothing. --yes
skips the question for scripts; without a terminal and without --yes it
refuses. The caps REAPER_MAX_RELEASE and REAPER_MAX_RELEASE_PERCENT apply:
when more are eligible, nothing is released and the exit code is 1. An
answer other than the one asked releases nothing (exit code 3). --demo or
--fleet runs it, question included, against a local ECS double.

`+runSettingsNote, `
  ./reaper plan --region cn-hangzhou     # look first
  ./reaper run --region cn-hangzhou
  ./reaper run --region cn-hangzhou --yes   # from a script
  ./reaper run --demo                       # try it on the demo fleet`, true)
	var f sweepFlags
	var d doubleFlags
	addSweepFlags(fs, &f)
	addDoubleFlags(fs, &d)
	yes := fs.Bool("yes", false, "release without asking (for scripts; a terminal is asked to confirm)")
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	cfg, err := loadSweepSettings(env, f)
	if err != nil {
		return fail(env, "run", err)
	}
	t, err := d.target(env, cfg, f.profile)
	if err != nil {
		return fail(env, "run", err)
	}
	defer t.close()
	if !cfg.DryRun {
		if err := confirmRelease(ctx, env, t, *yes); err != nil {
			return fail(env, "run", err)
		}
		fmt.Fprintf(env.Stderr, "run: WARNING: releasing expired instances for real in %s (at most %d, %.4g%% of opted-in)\n",
			describeRegions(t), t.cfg.MaxRelease, cfg.MaxReleasePercent)
	}
	rep, code := sweepOnce(ctx, env, "run", t, f)
	if t.double != nil && !f.json {
		writeDoubleReleased(env, t, f.wide)
	}
	if n := countReason(rep, verdict.NotConfirmed); n > 0 && code == ExitOK {
		// The run did less than the account now calls for: say so in the
		// exit code too.
		fmt.Fprintf(env.Stderr, "run: %d found since the plan was shown were not written to (skipped/not-confirmed); run again to see and confirm them\n", n)
		return ExitFailed
	}
	return code
}

// countReason counts the instances and the resources of every kind the
// report gives reason.
func countReason(rep *report.Report, reason verdict.Reason) int {
	if rep == nil {
		return 0
	}
	n := 0
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			if g.Reason == reason {
				n += len(g.Instances)
			}
		}
		for _, sec := range r.Sections {
			for _, g := range sec.Groups {
				if g.Reason == reason {
					n += len(g.Instances)
				}
			}
		}
	}
	return n
}

func addSweepFlags(fs *flag.FlagSet, f *sweepFlags) {
	fs.BoolVar(&f.json, "json", false, "print the JSON report instead of the table")
	fs.StringVar(&f.region, "region", "", "comma-separated region IDs to sweep (overrides REAPER_REGIONS)")
	fs.StringVar(&f.accounts, "accounts", "", "the accounts to sweep, as REAPER_ACCOUNTS (overrides it): self, account IDs, rd or rd:<folder-id>; your credentials assume REAPER_ROLE_NAME in each")
	fs.StringVar(&f.profile, "profile", "", "the aliyun CLI profile to take credentials from (default: $ALIBABA_CLOUD_PROFILE, after the environment's AccessKey)")
	fs.Func("by", "add a roll-up: owner (one line per owner with the counts of their outcomes)", func(v string) error {
		if v != "owner" {
			return fmt.Errorf("%q: the roll-up is by owner", v)
		}
		f.by = v
		return nil
	})
	fs.Func("only", "list only these outcomes, each alone or as outcome/reason as the summary prints them, comma-separated (e.g. failed,skipped/invalid-expiry); totals stay whole", func(v string) error {
		_, err := report.ParseOutcomes(v)
		f.only = v
		return err
	})
	fs.BoolVar(&f.wide, "wide", false, "show everything: no cell cut to the terminal's width, every ID listed")
	fs.BoolVar(&f.all, "all", false, "print every instance row (the table shows the first 50 per region)")
	fs.BoolVar(&f.verbose, "v", false, "write the JSON logs (one record per decision and batch) to stderr")
}

func describeRegions(t *target) string {
	if sel, _ := t.cfg.Accounts(); sel.Multi() {
		return regionsOf(t) + " of the accounts " + sel.String()
	}
	return regionsOf(t)
}

func regionsOf(t *target) string {
	switch {
	case t.cfg.AllRegions:
		return "every region"
	case len(t.cfg.Regions) > 0:
		return strings.Join(t.cfg.Regions, ", ")
	}
	return t.defaultRegion
}

// sweepOnce runs one sweep, prints its report and returns the exit code.
func sweepOnce(ctx context.Context, env *Env, name string, t *target, f sweepFlags) (*report.Report, int) {
	api, err := t.api()
	if err != nil {
		return nil, fail(env, name, err)
	}
	logger := slog.New(slog.DiscardHandler)
	var prog *progress
	switch {
	case f.verbose:
		logger = slog.New(slog.NewJSONHandler(env.Stderr, nil))
	case isTerminal(env.Stderr):
		prog = newProgress(env.Stderr, env.widthOf(env.Stderr), len(t.cfg.Regions), t.cfg.DryRun)
		logger = slog.New(prog)
	}
	runID := name + "@" + time.Now().UTC().Format(time.RFC3339)
	runCtx, stop := interruptible(ctx, env.Stderr)
	rep, err := t.sweep(runCtx, api, t.cfg, runID, logger, func(o *engine.Options) { o.Confirmed = t.confirmed })
	stop()
	if prog != nil {
		prog.done()
	}
	if rep != nil {
		rep.Credentials = t.sourceName
		if perr := printReport(env.Stdout, env.width(), rep, f); perr != nil {
			return rep, fail(env, name, perr)
		}
	}
	switch {
	case errors.Is(err, engine.ErrInterrupted) || (err != nil && ctx.Err() != nil):
		fmt.Fprintf(env.Stderr, "%s: %s\n", name, strings.ReplaceAll(err.Error(), "\n", "\n  "))
		return rep, ExitInterrupted
	case errors.Is(err, handler.ErrSettings):
		return rep, fail(env, name, fmt.Errorf("%w: %w", errUsage, err))
	case err != nil:
		return rep, fail(env, name, err)
	case rep != nil && rep.Warning != "":
		// The same table as the function's: held back only by the
		// deadline after every region was listed is not a failure.
		fmt.Fprintf(env.Stderr, "%s: warning: %s\n", name, rep.Warning)
	}
	return rep, ExitOK
}

func printReport(w io.Writer, width int, rep *report.Report, f sweepFlags) error {
	only, _ := report.ParseOutcomes(f.only) // checked when the flags were read
	rep = report.Only(rep, only)
	if !f.json {
		rows := 0
		if f.all {
			rows = -1
		}
		return report.WriteTextWith(w, rep, report.TextOptions{Rows: rows, Width: width, Wide: f.wide, ByOwner: f.by == "owner", Only: f.only})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// fail prints err for the command and returns its exit code: 3 for a
// release not confirmed, 2 for usage and settings problems, 1 otherwise.
func fail(env *Env, name string, err error) int {
	msg := err.Error()
	if errors.Is(err, errUsage) {
		msg = strings.TrimPrefix(msg, errUsage.Error()+": ")
	}
	// errors.Join puts one problem per line; indent them under the command.
	fmt.Fprintf(env.Stderr, "%s: %s\n", name, strings.ReplaceAll(msg, "\n", "\n  "))
	switch {
	case errors.Is(err, errNotConfirmed):
		return ExitNotConfirmed
	case errors.Is(err, errUsage):
		return ExitUsage
	}
	return ExitFailed
}
