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
	DocNotices  = string(PhaseNotify)
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
