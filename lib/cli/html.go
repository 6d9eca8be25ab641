package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/handler"
	"github.com/ecs-reaper/ecs-reaper/lib/htmlreport"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// defaultPageHorizon is the timeline of plan --html without --horizon.
const defaultPageHorizon = 7 * 24 * time.Hour

// planPage is plan --html: the dry run (printed as plan prints it) and
// the forecast over horizon, written together as one page.
func planPage(ctx context.Context, env *Env, t *target, horizonFlag, path string, f sweepFlags) int {
	horizon := defaultPageHorizon
	if horizonFlag != "" {
		var err error
		if horizon, err = parseHorizon(horizonFlag); err != nil {
			return fail(env, "plan", err)
		}
	}
	out, err := createPage(path)
	if err != nil {
		return fail(env, "plan", err)
	}
	defer out.discard()
	rep, code := sweepOnce(ctx, env, "plan", t, f)
	if rep == nil {
		return code
	}
	p := htmlreport.FromReport("ecs-reaper plan", rep)
	api, err := t.api()
	if err != nil {
		return fail(env, "plan", err)
	}
	fc, err := handler.Forecast(ctx, api, t.cfg, t.defaultRegion, horizon, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		return fail(env, "plan", err)
	}
	htmlreport.AddForecast(p, fc)
	if err := out.write(p); err != nil {
		return fail(env, "plan", err)
	}
	fmt.Fprintf(env.Stderr, "plan: wrote %s\n", path)
	if code == ExitOK && len(fc.Errors) > 0 {
		fmt.Fprintf(env.Stderr, "plan: %d regions could not be listed; the forecast leaves them out\n", len(fc.Errors))
		return ExitFailed
	}
	return code
}

// reportPage is report --html: a finished run's page (no forecast).
func reportPage(env *Env, rep *report.Report, path string) int {
	out, err := createPage(path)
	if err != nil {
		return fail(env, "report", err)
	}
	defer out.discard()
	if err := out.write(htmlreport.FromReport("ecs-reaper run "+rep.RunID, rep)); err != nil {
		return fail(env, "report", err)
	}
	fmt.Fprintf(env.Stderr, "report: wrote %s\n", path)
	return ExitOK
}

// pageFile is where --html goes: a temporary file beside the page, made
// before the sweep so that a path that cannot be written fails at once,
// and renamed over the page once it is written whole.
type pageFile struct {
	path string
	tmp  *os.File
}

func createPage(path string) (*pageFile, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, fmt.Errorf("%w: --html %s: %w", errUsage, path, err)
	}
	return &pageFile{path: path, tmp: tmp}, nil
}

// write renders p and puts it in place.
func (f *pageFile) write(p *htmlreport.Page) error {
	err := htmlreport.Write(f.tmp, p)
	if err == nil {
		err = f.tmp.Chmod(0o644)
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		return fmt.Errorf("--html %s: %w", f.path, err)
	}
	return nil
}

// discard removes the temporary file (after a rename, there is none).
func (f *pageFile) discard() {
	f.tmp.Close()
	os.Remove(f.tmp.Name())
}
