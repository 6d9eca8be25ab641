package fanout

import (
	"context"
	"errors"
	"fmt"
)

// Run documents besides the phases' own.
const (
	DocPlan     = string(PhasePlan)
	DocDecision = string(PhaseDecide)
	DocExecute  = string(PhaseExecute)
	DocReport   = string(PhaseReport)
)

// RunDecide is the Decide worker's work: it reads the run's manifest and
// every account's plan from the store, decides, writes the decision and
// returns Decide's answer for the flow. A plan that cannot be read or
// parsed makes its account plan-failed; a missing manifest or a store that
// cannot be written fails the invocation (CloudFlow retries Decide, which
// gives the same decision from the same documents).
func RunDecide(ctx context.Context, store *Store, run RunID, caps Caps) (DecideAnswer, Decision, error) {
	var m Manifest
	found, err := store.Get(ctx, run, OrgAccount, DocManifest, &m)
	switch {
	case err != nil:
		return DecideAnswer{}, Decision{}, fmt.Errorf("decide: read the run's accounts: %w", err)
	case !found:
		return DecideAnswer{}, Decision{}, errors.New("decide: the run's accounts were never recorded: the coordinator did not start this run")
	case m.Run != run:
		return DecideAnswer{}, Decision{}, fmt.Errorf("decide: the manifest names run %s", quote(string(m.Run)))
	}
	// One plan at a time: Decide keeps each account's counts, not its IDs.
	var assessed []Assessed
	for _, a := range m.accounts() {
		var p Plan
		found, err := store.Get(ctx, run, a, DocPlan, &p)
		var got *Plan
		if found {
			got = &p
		}
		assessed = append(assessed, Assess(run, a, got, err, caps))
	}
	d := Combine(run, assessed, caps)
	if err := store.Put(ctx, run, OrgAccount, DocDecision, d); err != nil {
		return DecideAnswer{}, d, fmt.Errorf("decide: write the decision: %w", err)
	}
	return DecideSummary(d), d, nil
}

// RunOutcome is the Report worker's verdict: the decision and every
// executed account's result, read from the store, and Outcome over them.
// (The organisation's report itself is the composition's: it assembles the
// accounts' report parts.)
func RunOutcome(ctx context.Context, store *Store, run RunID) (status string, failures []string, d Decision, err error) {
	found, err := store.Get(ctx, run, OrgAccount, DocDecision, &d)
	switch {
	case err != nil:
		return "", nil, d, fmt.Errorf("report: read the decision: %w", err)
	case !found:
		return ReportFailed, []string{"no decision: Decide never finished"}, d, nil
	}
	results := map[string]*ExecuteResult{}
	for _, a := range d.Execute {
		var r ExecuteResult
		found, err := store.Get(ctx, run, a, DocExecute, &r)
		switch {
		case err != nil:
			return "", nil, d, fmt.Errorf("report: read account %s's result: %w", a, err)
		case found:
			results[a] = &r
		}
	}
	status, failures = Outcome(d, results)
	return status, failures, d, nil
}
