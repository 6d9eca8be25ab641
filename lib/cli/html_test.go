package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

func readPage(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no page: %v", err)
	}
	return string(b)
}

// TestPlanHTML: plan --html prints the dry run as plan does and writes the
// page of the dry run and of the forecast over --horizon (default 7d).
func TestPlanHTML(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plan.html")
	env := map[string]string{"REAPER_GRACE": "1d", "REAPER_MARK_SECRET": cliMarkSecret}
	r := run(t, env, "", "plan", "--demo", "--html", file)
	r.must(t, cli.ExitOK, "Summary", "plan: wrote "+file)
	html := readPage(t, file)
	for _, s := range []string{
		"<title>ecs-reaper plan</title>", "dry run: nothing written",
		`<svg class="timeline timeline-notices"`, `<svg class="timeline timeline-releases"`, `<svg class="leftovers"`,
		"i-bp1demorunning0004", // expired but Running: in the attention list
		`data-owner="(no owner tag)" data-day=`, "5 notices on ", "5 releases on ",
		"releases leave nothing billed", // they are notified today, released tomorrow
	} {
		if !strings.Contains(html, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	if n := strings.Count(html, `<text class="date"`); n != 4*8 {
		t.Errorf("%d day labels, want 8 days on each of 4 charts", n)
	}
	if leftover, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftover) > 0 {
		t.Errorf("temporary files left: %v", leftover)
	}

	r = run(t, env, "", "plan", "--demo", "--html", file, "--horizon", "2d")
	r.must(t, cli.ExitOK)
	if n := strings.Count(readPage(t, file), `<text class="date"`); n != 4*3 {
		t.Errorf("--horizon 2d: %d day labels, want 3 days (a part day at each end) on each of 4 charts", n)
	}
	run(t, env, "", "plan", "--demo", "--html", file, "--horizon", "soon").must(t, cli.ExitUsage, "--horizon")

	// A dry run the caps refuse fails, and its page says why.
	r = run(t, map[string]string{"REAPER_MAX_RELEASE": "1"}, "", "plan", "--demo", "--html", file)
	r.must(t, cli.ExitFailed, "plan: wrote "+file)
	if html := readPage(t, file); !strings.Contains(html, `<tr class="kind-cap">`) || !strings.Contains(html, "REAPER_MAX_RELEASE to 5") {
		t.Errorf("the page of a refused dry run does not name the cap and the value to raise")
	}
	if html := readPage(t, file); !strings.Contains(html, `<rect class="refused"`) || !strings.Contains(html, "REAPER_MAX_RELEASE is at least 5") {
		t.Errorf("the forecast's refused runs are not marked on the page's timeline")
	}

	// A page that cannot be written fails before the sweep.
	r = run(t, env, "", "plan", "--demo", "--html", filepath.Join(dir, "no-such-dir", "plan.html"))
	r.must(t, cli.ExitUsage, "--html", "no-such-dir")
	if r.stdout != "" {
		t.Errorf("plan swept although the page cannot be written:\n%s", r.stdout)
	}
}

// TestReportHTML: report --json reads a JSON report, and --html writes a
// finished run's page (no timeline) instead of printing it.
func TestReportHTML(t *testing.T) {
	dir := t.TempDir()
	plan := run(t, nil, "", "plan", "--demo", "--json")
	plan.must(t, cli.ExitOK)
	reportFile, file := filepath.Join(dir, "plan.json"), filepath.Join(dir, "run.html")
	if err := os.WriteFile(reportFile, []byte(plan.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "", "report", "--json", reportFile, "--html", file)
	r.must(t, cli.ExitOK, "report: wrote "+file)
	if r.stdout != "" {
		t.Errorf("report --html printed the report too:\n%.300s", r.stdout)
	}
	html := readPage(t, file)
	for _, s := range []string{"<title>ecs-reaper run plan@", `<svg class="leftovers"`, ">cn-hangzhou</text>", `<rect class="bar bar-snapshots"`, "would-release 5", "i-uf6demosecurity007"} {
		if !strings.Contains(html, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	if strings.Contains(html, `class="timeline`) {
		t.Errorf("a finished run's page has a timeline")
	}

	// From the function's logs: the same page.
	var rep report.Report
	if err := json.Unmarshal([]byte(plan.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	report.Log(t.Context(), slog.New(slog.NewJSONHandler(&logs, nil)), &rep)
	fromLogs := filepath.Join(dir, "logs.html")
	run(t, nil, logs.String(), "report", "--logs", "-", "--html", fromLogs).must(t, cli.ExitOK, "report: wrote "+fromLogs)
	if a, b := readPage(t, fromLogs), readPage(t, file); stripWritten(a) != stripWritten(b) {
		t.Errorf("the page from the logs differs from the page from the JSON report")
	}

	// --json alone prints the report as it read it; --text as a table.
	run(t, nil, plan.stdout, "report", "--json", "-").must(t, cli.ExitOK, fmt.Sprintf(`"schemaVersion": %d`, report.SchemaVersion), "i-bp1demostoprfc0001")
	run(t, nil, plan.stdout, "report", "--json", "-", "--text").must(t, cli.ExitOK, "Summary", "Region cn-hangzhou")

	run(t, nil, "{not json", "report", "--json", "-").must(t, cli.ExitFailed, "--json: not a JSON report")
	run(t, nil, `{"schemaVersion": 1, "regions": []}`, "report", "--json", "-").must(t, cli.ExitFailed, "schema version 1")
	run(t, nil, "", "report", "--json", reportFile, "--logs", reportFile).must(t, cli.ExitUsage, "give one")
	run(t, nil, "", "report", "--json", filepath.Join(dir, "missing.json")).must(t, cli.ExitUsage, "--json", "missing.json")
	run(t, nil, "", "report", "--json", reportFile, "--html", filepath.Join(dir, "no-such-dir", "x.html")).must(t, cli.ExitUsage, "--html")
}

var writtenLine = regexp.MustCompile(`<p class="sub">Written [^<]*</p>`)

// stripWritten drops the time the page was written.
func stripWritten(html string) string { return writtenLine.ReplaceAllString(html, "") }
