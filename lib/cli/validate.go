package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/deployfiles"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout/flowcheck"
	"github.com/ecs-reaper/ecs-reaper/lib/schedule"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

func runValidate(ctx context.Context, env *Env, args []string) int {
	fs := flagSet(env, "validate", "[--dir DIR]", `
Checks, without calling any API:
  - the REAPER_* settings in this environment (printed as the function
    would log them: the effective configuration);
  - the timer cron expressions of s.yaml and template.yaml, with FC's syntax
    (the next runs are shown);
  - the fan-out's CloudFlow definition (lib/fanout/flow.yaml): every next
    state exists, the Maps read the accounts, each task's payload validates
    against docs/worker-payload.schema.json;
  - s.yaml, template.yaml, docs/ram-policy.json and docs/member-role.yaml
    (the member accounts' role) against the program: the fc3 schema, the
    settings it reads, the ECS actions it calls, the grants for other
    accounts.
Exit code 2 when anything is wrong; every problem is listed.`, `
  ./reaper validate
  REAPER_MAX_RELEASE=-1 ./reaper validate     # shows the problem
  ./reaper validate --dir /path/to/clone`, true)
	dir := fs.String("dir", "", "repository root (default: found from the current directory upwards)")
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	out := env.Stdout
	problems := 0

	fmt.Fprintln(out, "Settings (environment):")
	cfg, err := settings.FromEnv(env.Lookup)
	err = errors.Join(err, settings.CheckNames(env.Environ))
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(out, "  PROBLEM %s\n", line)
			problems++
		}
	} else {
		for _, a := range cfg.Describe() {
			fmt.Fprintf(out, "  %-20s %s\n", a.Key, a.Value.String())
		}
	}

	root := *dir
	if root != "" {
		if root, err = filepath.Abs(root); err != nil {
			return fail(env, "validate", fmt.Errorf("%w: --dir: %w", errUsage, err))
		}
	} else {
		if root, err = findRepoRoot("."); err != nil {
			fmt.Fprintf(out, "\nDeployment files:\n  PROBLEM %v; pass --dir\n", err)
			return summary(env, problems+1)
		}
	}
	fmt.Fprintf(out, "\nTimer schedules (%s):\n", root)
	for _, file := range []string{sYAMLPath, templatePath} {
		crons, err := readCrons(root, file)
		if err != nil {
			fmt.Fprintf(out, "  PROBLEM %v\n", err)
			problems++
			continue
		}
		if len(crons) == 0 {
			fmt.Fprintf(out, "  %s: no timer trigger\n", file)
		}
		for _, c := range crons {
			fmt.Fprintf(out, "  %s %s = %q\n", c.File, c.Path, c.Expr)
			sched, err := schedule.Parse(c.Expr)
			if err != nil {
				fmt.Fprintf(out, "    PROBLEM %v\n", err)
				problems++
				continue
			}
			next := sched.Next(time.Now())
			fmt.Fprintf(out, "    next runs %s, %s\n", next.Format(time.RFC3339), sched.Next(next).Format(time.RFC3339))
		}
	}

	timeoutWarnings(out, root)

	fmt.Fprintf(out, "\nDeployment files (%s, %s, %s, %s):\n", sYAMLPath, templatePath, ramPolicyPath, deployfiles.MemberRolePath)
	n, err := deployCheck(ctx, root, out)
	if err != nil {
		fmt.Fprintf(out, "  PROBLEM the deployment files could not be loaded: %v\n", err)
		n = 1
	} else if n == 0 {
		fmt.Fprintln(out, "  ok")
	}
	return summary(env, problems+n+flowCheck(root, out))
}

// deployCheck runs lib/deployfiles' checks on root and prints each
// problem. It returns the number of problems; err means the files could not
// be loaded. It runs in this process: the FC build (-tags fc) does not link
// the command line, so the schema library's start-up costs the deployed
// function nothing.
func deployCheck(_ context.Context, root string, out io.Writer) (int, error) {
	files, err := deployfiles.Load(root)
	if err != nil {
		return 0, err
	}
	problems := files.Check()
	for _, p := range problems {
		fmt.Fprintf(out, "  PROBLEM %s\n", p.Error())
	}
	return len(problems), nil
}

// flowCheck checks the fan-out's flow definition against the worker
// payload's schema: root's files when root holds them (a clone), else the
// ones this binary carries. It prints each problem and returns how many.
func flowCheck(root string, out io.Writer) int {
	def, schema := fanout.FlowDefinition(), flowcheck.Schema()
	from := "built in"
	if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(fanout.FlowPath))); err == nil {
		def, from = b, root
		if sb, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(flowcheck.SchemaPath))); err == nil {
			schema = sb
		}
	}
	fmt.Fprintf(out, "\nFan-out flow (%s, %s; %s):\n", fanout.FlowPath, flowcheck.SchemaPath, from)
	problems := flowcheck.Check(def, schema)
	for _, p := range problems {
		fmt.Fprintf(out, "  PROBLEM %s\n", p.Error())
	}
	if len(problems) == 0 {
		fmt.Fprintln(out, "  ok")
	}
	return len(problems)
}

func summary(env *Env, problems int) int {
	if problems == 0 {
		fmt.Fprintln(env.Stdout, "\nvalidate: ok")
		return ExitOK
	}
	plural := "s"
	if problems == 1 {
		plural = ""
	}
	fail(env, "validate", fmt.Errorf("%w: %d problem%s", errUsage, problems, plural))
	return ExitUsage
}

// timeoutWarnings warns about each function timeout in the deployment
// files that leaves less than settings.MinWorkingTime beyond the deadline margin
// (the file's REAPER_DEADLINE_MARGIN, else the default): such a function
// fails every run for lack of time, or sweeps too little.
func timeoutWarnings(out io.Writer, root string) {
	fmt.Fprintln(out, "\nFunction timeouts:")
	for _, file := range []string{sYAMLPath, templatePath} {
		found, err := readKeys(root, file, "timeout", "Timeout", settings.EnvDeadlineMargin)
		if err != nil {
			continue // reported with the schedules
		}
		margin := settings.Default().DeadlineMargin
		for _, f := range found {
			if s, ok := f.Value.(string); ok && f.Key == settings.EnvDeadlineMargin {
				if d, err := time.ParseDuration(strings.TrimSpace(s)); err == nil {
					margin = d
				}
			}
		}
		for _, f := range found {
			seconds, ok := f.Value.(int)
			if !ok || f.Key == settings.EnvDeadlineMargin {
				continue
			}
			timeout := time.Duration(seconds) * time.Second
			if timeout < margin+settings.MinWorkingTime {
				fmt.Fprintf(out, "  WARNING %s %s = %ds: less than the deadline margin (%v) plus %v of working time; raise it (FC allows up to 86400 s)\n",
					file, f.Path, seconds, margin, settings.MinWorkingTime)
				continue
			}
			fmt.Fprintf(out, "  %s %s = %ds: ok (margin %v)\n", file, f.Path, seconds, margin)
		}
	}
}
