package fanout_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// The flow's Maps keep every iteration's answer: at MaxFlowAccounts the
// largest summaries must fit a state's 64 KiB.
func TestSummariesFitTheMapOutput(t *testing.T) {
	largest := fanout.Summary{Phase: fanout.PhaseExecute, Account: "12345678901234567890", Status: fanout.PlanUnreachable}
	b, _ := json.Marshal(largest)
	if len(b) > fanout.MaxAccountSummaryBytes {
		t.Fatalf("%d bytes: %s", len(b), b)
	}
	if total := fanout.MaxFlowAccounts * (fanout.MaxAccountSummaryBytes + 16); total > 64<<10 {
		t.Errorf("%d accounts' summaries take %d bytes, more than 64 KiB", fanout.MaxFlowAccounts, total)
	}
	d := fanout.Decision{Status: fanout.DecisionProceed}
	for range fanout.MaxFlowAccounts {
		d.Execute = append(d.Execute, "12345678901234567890")
	}
	if b, _ := json.Marshal(fanout.DecideSummary(d)); len(b) > 64<<10 {
		t.Errorf("Decide's answer for %d accounts: %d bytes", fanout.MaxFlowAccounts, len(b))
	}
}

// Execute's Map reads {"accounts": [{"account": ...}]} from Decide's
// answer; a held run gives it an empty list, never null.
func TestDecideSummaryFeedsExecute(t *testing.T) {
	b, _ := json.Marshal(fanout.DecideSummary(fanout.Decision{Status: fanout.DecisionProceed, Execute: []string{accA, accB}}))
	if string(b) != `{"phase":"decide","status":"proceed","accounts":[{"account":"`+accA+`"},{"account":"`+accB+`"}]}` {
		t.Errorf("%s", b)
	}
	b, _ = json.Marshal(fanout.DecideSummary(fanout.Decision{Status: fanout.DecisionHeld, Execute: []string{}}))
	var back map[string]any
	_ = json.Unmarshal(b, &back)
	if l, ok := back["accounts"].([]any); back["status"] != "held" || !ok || len(l) != 0 {
		t.Errorf("%s", b)
	}
}

func TestOutcome(t *testing.T) {
	d := fanout.Decision{Run: run, Status: fanout.DecisionProceed, Execute: []string{accA, accB}}
	ok := func(a string) *fanout.ExecuteResult {
		return &fanout.ExecuteResult{Run: run, Account: a, Status: fanout.Executed, Released: 2}
	}
	if s, f := fanout.Outcome(d, map[string]*fanout.ExecuteResult{accA: ok(accA), accB: ok(accB)}); s != fanout.ReportOK || f != nil {
		t.Errorf("all executed: %s %v", s, f)
	}
	s, f := fanout.Outcome(d, map[string]*fanout.ExecuteResult{accA: ok(accA)})
	if s != fanout.ReportFailed || len(f) != 1 || !strings.Contains(f[0], accB+" failed in Execute") {
		t.Errorf("one missing: %s %v", s, f)
	}
	bad := ok(accB)
	bad.Failed = []string{"DeleteInstances in cn-hangzhou: IncorrectInstanceStatus"}
	if s, f := fanout.Outcome(d, map[string]*fanout.ExecuteResult{accA: ok(accA), accB: bad}); s != fanout.ReportFailed || !slices.ContainsFunc(f, func(x string) bool { return strings.Contains(x, "IncorrectInstanceStatus") }) {
		t.Errorf("failed writes: %s %v", s, f)
	}
	other := ok(accB)
	other.Run = "20261206T100000Z"
	if s, _ := fanout.Outcome(d, map[string]*fanout.ExecuteResult{accA: ok(accA), accB: other}); s != fanout.ReportFailed {
		t.Error("another run's result counted")
	}
	held := fanout.Decision{Run: run, Status: fanout.DecisionHeld, Failures: []string{"the organisation: over"}, Execute: []string{}}
	if s, f := fanout.Outcome(held, nil); s != fanout.ReportFailed || len(f) != 1 {
		t.Errorf("held: %s %v", s, f)
	}
	withFailure := d
	withFailure.Failures = []string{"account X unreachable"}
	if s, _ := fanout.Outcome(withFailure, map[string]*fanout.ExecuteResult{accA: ok(accA), accB: ok(accB)}); s != fanout.ReportFailed {
		t.Error("an unreachable account did not fail the run")
	}
}
