package cli

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

func runReport(_ context.Context, env *Env, args []string) int {
	fs := flagSet(env, "report", "--logs FILE|- [--run-id ID] [--request-id ID] [--text]", `
Puts a run's whole report back together from the function's logs. On FC the
invocation answers only its summary (a few KB, docs/summary.schema.json);
the whole report is logged in records of at most about 32 KB ("report",
"report instances", "report batches", "report leftovers"), each with the
run ID (run_id) and FC's request ID (request_id). Save the log's lines to a
file (s logs, or an export of the SLS query the summary gives) and this
prints the report as JSON (docs/report.schema.json) or, with --text, as a
table. A record missing from the log is an error, never a smaller report.`, `
  s logs -s 2026-12-01T00:00:00Z -e 2026-12-01T01:00:00Z > fn.log
  go run ./function report --logs fn.log --run-id 'hourly@2026-12-01T00:00:00Z'
  go run ./function report --logs fn.log --run-id 'hourly@2026-12-01T00:00:00Z' --request-id 1-674c...   # an FC retry ran the same run ID
  go run ./function invoke --demo --logs fn.log && go run ./function report --logs fn.log --text`, false)
	logs := fs.String("logs", "", "the function's logs, one JSON record a line (- for stdin)")
	runID := fs.String("run-id", "", "the run's ID, the summary's runId (default: the only run in the logs)")
	requestID := fs.String("request-id", "", "FC's request ID, the summary's requestId, when the logs hold the run twice")
	asText := fs.Bool("text", false, "print the report as a table instead of JSON")
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	var in io.Reader
	switch *logs {
	case "":
		return fail(env, "report", fmt.Errorf("%w: --logs FILE (or - for stdin) is required", errUsage))
	case "-":
		in = env.stdin()
	default:
		f, err := os.Open(*logs)
		if err != nil {
			return fail(env, "report", fmt.Errorf("%w: %w", errUsage, err))
		}
		defer f.Close()
		in = f
	}
	rep, err := report.ReadLog(in, *runID, *requestID)
	if err != nil {
		return fail(env, "report", err)
	}
	if err := printReport(env.Stdout, env.width(), rep, sweepFlags{json: !*asText, all: true}); err != nil {
		return fail(env, "report", err)
	}
	return ExitOK
}
