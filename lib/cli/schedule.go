package cli

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ecs-reaper/ecs-reaper/lib/schedule"
)

func runSchedule(ctx context.Context, env *Env, args []string) int {
	fs := flagSet(env, "schedule", "[--cron EXPR] [--release] [--demo | --fleet FILE] [--once] [flags]", `
Runs a sweep on every tick of a cron schedule until interrupted (Ctrl-C), as
the timer trigger would on FC. The expression has FC's timer syntax: six
fields with seconds ("0 0 */1 * * *"), a descriptor ("@hourly",
"@every 5m"), optionally after "CRON_TZ=<IANA zone> "; without CRON_TZ it
is evaluated in UTC, as on FC. By default it is the cronExpression of the
timer trigger in s.yaml (found from the current directory upwards, or in
--dir); outside a clone, pass --cron.

For safety each tick is a DRY RUN like 'plan' unless --release is given;
with --release each tick is 'run' (REAPER_DRY_RUN still applies), after you
type the regions once on a terminal (--yes skips that; without a terminal
and without --yes it refuses). Credentials
and regions are as for 'plan'; --demo sweeps the demo fleet (--fleet FILE,
your own) on a local ECS double instead (the double keeps its state between
ticks).`, `
  ./reaper schedule --demo --cron '@every 10s'
  ./reaper schedule --region cn-hangzhou                  # s.yaml's schedule, dry run
  ./reaper schedule --release --cron 'CRON_TZ=Asia/Shanghai 0 0 4 * * *'
  ./reaper schedule --demo --cron '@every 1s' --once      # one tick, then exit`, true)
	var f sweepFlags
	var d doubleFlags
	addDoubleFlags(fs, &d)
	expr := fs.String("cron", "", "FC timer cron expression (default: s.yaml's timer trigger)")
	dir := fs.String("dir", "", "repository root holding s.yaml (default: found from the current directory)")
	release := fs.Bool("release", false, "release for real on each tick (default: dry run)")
	once := fs.Bool("once", false, "run only the next tick, then exit with its exit code")
	yes := fs.Bool("yes", false, "with --release: start without asking (for scripts; a terminal is asked once)")
	addSweepFlags(fs, &f)
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	source := "--cron"
	if *expr == "" {
		root := *dir
		var err error
		if root == "" {
			if root, err = findRepoRoot("."); err != nil {
				return fail(env, "schedule", fmt.Errorf("%w: %w; pass --cron or --dir", errUsage, err))
			}
		}
		entry, err := defaultCron(root)
		if err != nil {
			return fail(env, "schedule", fmt.Errorf("%w: %w; pass --cron", errUsage, err))
		}
		*expr, source = entry.Expr, entry.File+" "+entry.Path
	}
	sched, err := schedule.Parse(*expr)
	if err != nil {
		return fail(env, "schedule", fmt.Errorf("%w: %w", errUsage, err))
	}

	cfg, err := loadSweepSettings(env, f)
	if err != nil {
		return fail(env, "schedule", err)
	}
	if !*release {
		cfg.DryRun = true
	}
	t, err := d.target(env, cfg, f.profile)
	if err != nil {
		return fail(env, "schedule", err)
	}
	defer t.close()
	if !t.cfg.DryRun && t.double == nil {
		if err := confirmSchedule(ctx, env, t, *yes); err != nil {
			return fail(env, "schedule", err)
		}
	}

	mode := "dry run (pass --release to release)"
	if !t.cfg.DryRun {
		mode = "RELEASING expired instances"
	}
	fmt.Fprintf(env.Stderr, "schedule: %q from %s; %s in %s\n", *expr, source, mode, describeRegions(t))
	fmt.Fprintf(env.Stderr, "schedule: next tick at %s\n", sched.Next(time.Now()).Format(time.RFC3339))

	// robfig/cron runs the ticks; a tick still running when the next one
	// is due is skipped, as one sweep at a time is the function's rule too.
	var (
		mu       sync.Mutex
		lastCode = ExitOK
		ticked   = make(chan struct{}, 1)
	)
	c := cron.New(cron.WithLocation(time.UTC), cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	var ran atomic.Bool
	c.Schedule(sched, cron.FuncJob(func() {
		if *once && ran.Swap(true) {
			return // a second tick that began before Stop
		}
		fmt.Fprintf(env.Stderr, "schedule: tick at %s\n", time.Now().UTC().Format(time.RFC3339))
		_, code := sweepOnce(ctx, env, "schedule", t, f)
		mu.Lock()
		lastCode = code
		mu.Unlock()
		if !*once {
			fmt.Fprintf(env.Stderr, "schedule: next tick at %s\n", sched.Next(time.Now()).Format(time.RFC3339))
		}
		select {
		case ticked <- struct{}{}:
		default:
		}
	}))
	c.Start()
	select {
	case <-ctx.Done():
	case <-onceDone(*once, ticked):
	}
	<-c.Stop().Done()
	if *once {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil {
			return ExitInterrupted // before the tick, or during it
		}
		return lastCode
	}
	fmt.Fprintln(env.Stderr, "schedule: stopped")
	mu.Lock()
	defer mu.Unlock()
	if lastCode == ExitInterrupted {
		return ExitInterrupted // Ctrl-C cut a tick short: say so
	}
	return ExitOK // stopped between ticks: its normal end
}

// onceDone is ticked when running --once, and a channel that never fires
// otherwise.
func onceDone(once bool, ticked chan struct{}) <-chan struct{} {
	if once {
		return ticked
	}
	return nil
}
