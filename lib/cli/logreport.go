package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

func runReport(_ context.Context, env *Env, args []string) int {
	fs := flagSet(env, "report", "--logs FILE|- [--run-id ID] [--request-id ID] | --json FILE|- [--text | --html FILE]", `
Puts a run's whole report back together from the function's logs. On FC the
invocation answers only its summary (a few KB, docs/summary.schema.json);
the whole report is logged in records of at most about 32 KB ("report",
"report instances", "report batches", "report leftovers"), each with the
run ID (run_id) and FC's request ID (request_id). Save the log's lines to a
file (s logs, or an export of the SLS query the summary gives) and this
prints the report as JSON (docs/report.schema.json) or, with --text, as a
table. A record missing from the log is an error, never a smaller report.
--json reads a report that run --json or plan --json printed instead; --html
writes either as one self-contained HTML page (docs/html.md).`, `
  s logs -s 2026-12-01T00:00:00Z -e 2026-12-01T01:00:00Z > fn.log
  ./reaper report --logs fn.log --run-id 'hourly@2026-12-01T00:00:00Z'
  ./reaper report --logs fn.log --run-id 'hourly@2026-12-01T00:00:00Z' --request-id 1-674c...   # an FC retry ran the same run ID
  ./reaper invoke --demo --logs fn.log && ./reaper report --logs fn.log --text
  ./reaper report --logs fn.log --html run.html    # a page to look at
  ./reaper run --json > run.json; ./reaper report --json run.json --html run.html`, false)
	logs := fs.String("logs", "", "the function's logs, one JSON record a line (- for stdin)")
	runID := fs.String("run-id", "", "the run's ID, the summary's runId (default: the only run in the logs)")
	requestID := fs.String("request-id", "", "FC's request ID, the summary's requestId, when the logs hold the run twice")
	asText := fs.Bool("text", false, "print the report as a table instead of JSON")
	fromJSON := fs.String("json", "", "read a JSON report (run --json, plan --json) instead of --logs (- for stdin)")
	html := fs.String("html", "", "write the report as one self-contained HTML page to this file instead of printing it (docs/html.md)")
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	source, name := *logs, "--logs"
	switch {
	case *logs != "" && *fromJSON != "":
		return fail(env, "report", fmt.Errorf("%w: --logs and --json both name a report; give one", errUsage))
	case *fromJSON != "":
		source, name = *fromJSON, "--json"
	case *logs == "":
		return fail(env, "report", fmt.Errorf("%w: --logs FILE or --json FILE (or - for stdin) is required", errUsage))
	}
	in := env.stdin()
	if source != "-" {
		f, err := os.Open(source)
		if err != nil {
			return fail(env, "report", fmt.Errorf("%w: %s: %w", errUsage, name, err))
		}
		defer f.Close()
		in = f
	}
	var rep *report.Report
	var err error
	if *fromJSON != "" {
		rep, err = readReportJSON(in)
	} else {
		rep, err = report.ReadLog(in, *runID, *requestID)
	}
	if err != nil {
		return fail(env, "report", err)
	}
	if *html != "" {
		return reportPage(env, rep, *html)
	}
	if err := printReport(env.Stdout, env.width(), rep, sweepFlags{json: !*asText, all: true}); err != nil {
		return fail(env, "report", err)
	}
	return ExitOK
}

// readReportJSON reads one JSON report, as run --json and plan --json print
// it.
func readReportJSON(in io.Reader) (*report.Report, error) {
	var rep report.Report
	if err := json.NewDecoder(in).Decode(&rep); err != nil {
		return nil, fmt.Errorf("--json: not a JSON report: %w", err)
	}
	if rep.SchemaVersion != report.SchemaVersion {
		return nil, fmt.Errorf("--json: a report of schema version %d; this reads version %d", rep.SchemaVersion, report.SchemaVersion)
	}
	return &rep, nil
}
