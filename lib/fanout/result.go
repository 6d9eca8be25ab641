package fanout

import (
	"slices"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// Summary is what a worker returns to CloudFlow: small, because every
// iteration's answer is kept in the Map's output (a state's input and
// output are at most 64 KiB) and in the execution's events. The data is in
// OSS; the summary says where the flow goes next.
type Summary struct {
	Phase   Phase  `json:"phase"`
	Account string `json:"account,omitempty"`
	// Status: plan: planned or unreachable; execute: executed; decide:
	// proceed or held; report: ok or failed (the flow's Outcome state
	// fails the execution unless it is ok).
	Status string `json:"status"`
}

// DecideAnswer is Decide's summary, which Notify repeats (phase notify)
// for the next state: Execute's Map reads its accounts,
// which are always present (an empty list when the run is held).
type DecideAnswer struct {
	Phase    Phase  `json:"phase"`
	Status   string `json:"status"`
	Accounts []Item `json:"accounts"`
}

// MaxAccountSummaryBytes bounds a Plan or Execute worker's summary; the
// flow's Maps keep MaxFlowAccounts of them within a state's 64 KiB.
const MaxAccountSummaryBytes = 96

// Report statuses: the flow's Outcome state reads them.
const (
	ReportOK     = "ok"
	ReportFailed = "failed"
)

// DecideSummary is Decide's answer: Execute's Map reads its accounts.
func DecideSummary(d Decision) DecideAnswer {
	s := DecideAnswer{Phase: PhaseDecide, Status: d.Status, Accounts: []Item{}}
	for _, a := range d.Execute {
		s.Accounts = append(s.Accounts, Item{Account: a})
	}
	return s
}

// Execute results.
const (
	Executed = "executed" // every write the plan allowed was attempted; see Failed
)

// ExecuteResult is what one account's Execute worker wrote to OSS.
type ExecuteResult struct {
	Run     RunID  `json:"run"`
	Account string `json:"account"`
	Status  string `json:"status"`
	// Released and the like are counts; the account's report part holds
	// the IDs (the composition's report).
	Released int `json:"released"`
	// Failed names writes that failed; any fails the run.
	Failed []string `json:"failed,omitempty"`
	// IDs are the instances released; DryRun says none really was.
	IDs    []string `json:"ids,omitempty"`
	DryRun bool     `json:"dryRun,omitempty"`
	// Part is the account's part of the report (its level in a run over
	// several accounts); the account's whole report is its own document
	// (DocReport under the account).
	Part *report.Account `json:"part,omitempty"`
	// Warning says why the account was not swept to the end (the
	// deadline): not a failure, the next run continues.
	Warning string `json:"warning,omitempty"`
}

// Outcome is the run's status for Report, as a pure function of the
// decision and the Execute results: ok only when the decision proceeded
// with no failure and every account it allowed executed without one.
// Everything else is named in failures, and fails the execution.
func Outcome(d Decision, results map[string]*ExecuteResult) (status string, failures []string) {
	failures = slices.Clone(d.Failures)
	for _, a := range d.Execute {
		r := results[a]
		switch {
		case r == nil || r.Run != d.Run || r.Account != a || r.Status != Executed:
			failures = append(failures, "account "+a+" failed in Execute: no result after its retry")
		case len(r.Failed) > 0:
			for _, f := range r.Failed {
				failures = append(failures, "account "+a+": "+f)
			}
		}
	}
	if d.Status != DecisionProceed || len(failures) > 0 {
		return ReportFailed, failures
	}
	return ReportOK, nil
}
