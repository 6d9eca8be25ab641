package handler

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// report is the Report phase: the organisation's report, the
// one-invocation mode's report.Report assembled from what is in OSS
// (fanout.RunReport), goes to OSS and, as the one-invocation mode logs
// it, to the log: report.Log's records, then the bounded summary. The
// answer is small: the status the flow's Outcome state reads (failed
// fails the execution).
func (w *worker) report(ctx context.Context, run fanout.RunID) (any, error) {
	rep, status, err := fanout.RunReport(ctx, w.store, run, w.reportContext())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorker, err)
	}
	records := report.Log(ctx, w.base, rep) // each record carries the run ID
	sum := report.Summarise(rep, w.fctx.RequestID, records)
	level := slog.LevelInfo
	if sum.Outcome != report.RunOK || status != fanout.ReportOK {
		level = slog.LevelWarn
	}
	w.log.LogAttrs(ctx, level, "summary", slog.Any("summary", sum), slog.String("report", w.reportURL(run)))
	return fanout.Summary{Phase: fanout.PhaseReport, Status: status}, nil
}

func (w *worker) reportContext() fanout.ReportContext {
	return fanout.ReportContext{Settings: settingsMap(w.cfg), Credentials: "the FC invocation (the function's role, STS); member accounts by STS AssumeRole",
		DryRun: w.cfg.DryRun, Now: w.now, MarkSecrets: []string{w.cfg.MarkSecret, w.cfg.MarkSecretPrev}}
}

func (w *worker) reportURL(run fanout.RunID) string {
	return "oss://" + w.cfg.ResultBucket + "/" + w.store.Key(run, fanout.OrgAccount, fanout.DocReport)
}

// reportEarly writes the organisation's report at Decide when Execute's
// Map has no account (a held run, or nothing to write): no source says
// whether CloudFlow runs a Map over an empty list or fails the execution
// there, before Report. Either way the report is in OSS (Report, if it
// runs, writes the same again and logs it).
func (w *worker) reportEarly(ctx context.Context, run fanout.RunID) error {
	_, status, err := fanout.RunReport(ctx, w.store, run, w.reportContext())
	if err != nil {
		return fmt.Errorf("%w: %w", ErrWorker, err)
	}
	w.log.Info("report written: Execute has no account", "status", status, "report", w.reportURL(run))
	return nil
}

// unreachablePart is an unreachable account's part, as the one-invocation
// mode reports it (engine.Unreachable): the whole error as its message.
func unreachablePart(account string, err error) *report.Account {
	f := call.Failure(err)
	f.Message = err.Error()
	return &report.Account{Account: account, Status: report.AccountUnreachable, Error: f, Regions: []string{}, Outcomes: map[string]int{}}
}
