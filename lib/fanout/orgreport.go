package fanout

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// The organisation's report of a fanned-out run is the one-invocation
// mode's report (report.Report, docs/report.schema.json), assembled by
// Report from what is in OSS: the decision, and per account its Execute
// result and whole report, or its plan's part. It stays bounded however
// large the organisation and whatever the caps allow:
//   - accounts: every account's part (at most MaxFlowAccounts);
//   - regions: the executed accounts' regions with their counts, calls,
//     errors and leftover summaries, listing by ID only what the budget
//     below allows (report.Region.WritesView, in the decision's account
//     order); the rest is counted ("unlisted", "unlistedBatches",
//     "leftoverSummary.unlisted", the report's "partial");
//   - each account's whole report stays in its own document
//     (<prefix><run>/<account>/report.json) and the Execute worker's log.
//
// The budget: a listed record costs about 300 bytes held (the item, its
// ID and facts) and 250 bytes of JSON, a listed batch about 100 IDs. So
// the 10,000 writes, 1,000 other records, 200 batches and 1,000
// leftovers are a few MB held and written, far inside 128 MB, while the
// default organisation cap (REAPER_ORG_MAX_RELEASE, 500) stays wholly
// listed.

// MaxListedWrites bounds the records of released or stopped instances and
// resources (would-, in a dry run) the organisation's report lists by ID.
const MaxListedWrites = 10_000

// MaxListedOthers bounds the records of failed, held-back, vanished or
// interrupted writes the organisation's report lists by ID.
const MaxListedOthers = 1000

// MaxListedBatches and MaxListedFailedBatches bound the successful and
// the failed write calls it lists (each with its up to 100 IDs), so that
// failures are listed however many writes succeeded first.
const (
	MaxListedBatches       = 100
	MaxListedFailedBatches = 100
)

// MaxListedLeftovers bounds the released instances whose leftovers it
// lists; each region's leftover summary counts them all.
const MaxListedLeftovers = 1000

// MaxReportedFailures bounds the failures the organisation's report's
// error names; every one is also in its account's part.
const MaxReportedFailures = 20

// Codes of an account's error in the organisation's report when its
// worker left no report of its own.
const (
	CodePlanFailed    = "plan-failed"    // no trusted plan: nothing was written there
	CodeExecuteFailed = "execute-failed" // its Execute worker failed after its retry
	CodeRunHeld       = "run-held"       // the failure limit held the run: nothing was written anywhere
	CodeUnreachable   = "unreachable"    // its role could not be assumed (a plan without its part)
)

// ReportContext is what the organisation's report takes from the Report
// worker rather than from OSS.
type ReportContext struct {
	Settings    map[string]any
	Credentials string
	DryRun      bool
	Now         func() time.Time
	// MarkSecrets (current, previous) verify Notify's record: one forged
	// to hide a refused digest must not let the run succeed.
	MarkSecrets []string
}

// RunReport is the Report worker's work: it reads the decision and, one
// account at a time, each account's result, report or plan; assembles the
// organisation's report; writes it to DocReport under OrgAccount (one key
// per run, overwritten by a retry) and returns it with the run's status
// (ok or failed) for the flow's Outcome. It is a pure function of what is
// in OSS. A decision that cannot be read, or a report that cannot be
// written, fails the invocation (CloudFlow retries it). An account's
// document that cannot be read is reported (the account failed, or its
// writes not listed) and fails the run, not the invocation: one bad object
// does not keep the organisation's report from being written.
func RunReport(ctx context.Context, store *Store, run RunID, rc ReportContext) (*report.Report, string, error) {
	var d Decision
	found, err := store.Get(ctx, run, OrgAccount, DocDecision, &d)
	if err != nil {
		return nil, "", fmt.Errorf("report: read the decision: %w", err)
	}
	a := newAssembly(run, rc)
	switch {
	case !found:
		a.failures = []string{"no decision: Decide never finished"}
	case d.Run != run:
		a.failures = []string{fmt.Sprintf("the decision names run %s: not trusted", quote(string(d.Run)))}
	default:
		a.accounts(ctx, store, d)
	}
	rep, status := a.finish(d)
	if a.budget.Cut.Any() {
		cut := a.budget.Cut
		cut.Note = cut.Explain(store.Key(run, "<account>", DocReport))
		rep.Partial = &cut
	}
	// The accounts the selection left out, as the coordinator recorded
	// them (only listed: a manifest that cannot be read leaves none).
	var m Manifest
	if found, err := store.Get(ctx, run, OrgAccount, DocManifest, &m); err == nil && found && m.Run == run {
		rep.AccountsSkipped = m.Skipped
	}
	if err := store.Put(ctx, run, OrgAccount, DocReport, rep); err != nil {
		return nil, "", fmt.Errorf("report: write the report: %w", err)
	}
	return rep, status, nil
}

// assembly is the organisation's report while its accounts are read.
type assembly struct {
	run      RunID
	rc       ReportContext
	budget   report.ListBudget
	regions  []*report.Region
	swept    []*report.Account // parts whose regions the report holds
	others   []*report.Account // parts without them
	calls    map[string]int
	dryRun   bool
	warnings []string
	results  map[string]*ExecuteResult
	notices  *report.Notices // Notify's record, as the report's summary
	failures []string
	unread   []string // documents that could not be read: each fails the run
}

func newAssembly(run RunID, rc ReportContext) *assembly {
	return &assembly{run: run, rc: rc, budget: newBudget(), calls: map[string]int{}, dryRun: rc.DryRun, results: map[string]*ExecuteResult{}}
}

func newBudget() report.ListBudget {
	return report.ListBudget{Writes: MaxListedWrites, Others: MaxListedOthers, Batches: MaxListedBatches,
		FailedBatches: MaxListedFailedBatches, Leftovers: MaxListedLeftovers}
}

// accounts reads each account's documents in the decision's order.
func (a *assembly) accounts(ctx context.Context, store *Store, d Decision) {
	for _, ad := range d.Accounts {
		if slices.Contains(d.Execute, ad.Account) {
			a.executed(ctx, store, ad)
			continue
		}
		a.others = append(a.others, a.notExecuted(ctx, store, d, ad))
	}
	status, failures := Outcome(d, a.results)
	if status == ReportFailed && len(failures) == 0 {
		failures = []string{"the run was held: " + d.Reason}
	}
	a.failures = append(failures, a.unread...)
	if d.Status == DecisionProceed && len(d.Execute) > 0 {
		// A digest the channel refused fails the run even when no Execute
		// worker met its notice again on its fresh read.
		rec, err := ReadNotices(ctx, store, a.run, a.rc.MarkSecrets...)
		if err != nil {
			a.failures = append(a.failures, oneLine(err))
			return
		}
		a.notices = rec.Summary()
		a.failures = append(a.failures, rec.Failures()...)
	}
}

// executed takes an executed account's result and whole report.
func (a *assembly) executed(ctx context.Context, store *Store, ad AccountDecision) {
	var r ExecuteResult
	found, err := store.Get(ctx, a.run, ad.Account, DocExecute, &r)
	if err != nil {
		// Outcome names it failed in Execute; the part says why.
		a.others = append(a.others, failedPart(ad, CodeExecuteFailed, "its result could not be read: "+oneLine(err)))
		return
	}
	if !found || r.Run != a.run || r.Account != ad.Account || r.Status != Executed {
		// Outcome names it; the part says so.
		a.others = append(a.others, failedPart(ad, CodeExecuteFailed,
			fmt.Sprintf("its Execute worker failed after its retry: what it wrote is in that worker's log (run ID %s)", a.run.WorkerRunID(ad.Account))))
		return
	}
	a.results[ad.Account] = &ExecuteResult{Run: r.Run, Account: r.Account, Status: r.Status, Released: r.Released, Failed: r.Failed}
	a.dryRun = a.dryRun || r.DryRun
	if r.Warning != "" {
		a.warnings = append(a.warnings, "account "+ad.Account+": "+r.Warning)
	}
	var whole report.Report
	found, err = store.Get(ctx, a.run, ad.Account, DocReport, &whole)
	if err != nil {
		// What it wrote is not listed here: the run fails, naming it.
		a.unread = append(a.unread, fmt.Sprintf("account %s's report could not be read (its writes are not listed here; its Execute worker's log has them): %s", ad.Account, oneLine(err)))
		found = false
	}
	if found && whole.RunID != a.run.WorkerRunID(ad.Account) {
		a.unread = append(a.unread, fmt.Sprintf("account %s's report is run %s's: not trusted, not listed", ad.Account, quote(whole.RunID)))
		found = false
	}
	for _, reg := range whole.Regions {
		if found && reg.Account != ad.Account {
			a.unread = append(a.unread, fmt.Sprintf("account %s's report holds region %s of account %s: not trusted, not listed", ad.Account, reg.Region, quote(reg.Account)))
			found = false
		}
	}
	part := r.Part
	if found && len(whole.Accounts) == 1 && whole.Accounts[0].Account == ad.Account {
		part = whole.Accounts[0]
	}
	if part == nil {
		part = &report.Account{Account: ad.Account, Status: report.AccountSwept}
	}
	if part.Cap == nil {
		part.Cap = ad.Cap
	}
	if !found || len(whole.Regions) == 0 {
		a.others = append(a.others, part)
		return
	}
	for _, reg := range whole.Regions {
		a.regions = append(a.regions, reg.WritesView(&a.budget))
	}
	for k, n := range whole.Calls {
		a.calls[k] += n
	}
	a.swept = append(a.swept, part)
}

// notExecuted is the part of an account Execute did not run in: its
// plan's part, with the decision's status, cap check and reason.
func (a *assembly) notExecuted(ctx context.Context, store *Store, d Decision, ad AccountDecision) *report.Account {
	if ad.Status == AccountPlanFailed {
		return failedPart(ad, CodePlanFailed, ad.Reason)
	}
	var p Plan
	// A plan that cannot be read leaves the part without its counts (its
	// status and cap check are the decision's): nothing was written there.
	found, err := store.Get(ctx, a.run, ad.Account, DocPlan, &p)
	var part *report.Account
	if err == nil && found && p.Part != nil && p.Validate(a.run, ad.Account) == nil {
		part = clonePart(p.Part)
	}
	switch ad.Status {
	case AccountUnreachable:
		if part == nil || part.Error == nil {
			part = &report.Account{Account: ad.Account, Error: &verdict.Failure{Code: CodeUnreachable, Message: ad.Reason}}
		}
		part.Status = report.AccountUnreachable
		return part
	case AccountHeld:
		if !heldByOrgCap(d) {
			part = failedPart(ad, CodeRunHeld, d.Reason)
			break
		}
		fallthrough
	case AccountHeldByCap:
		if part == nil {
			part = &report.Account{Account: ad.Account}
		}
		held(part)
	default: // nothing to do
		if part == nil {
			part = &report.Account{Account: ad.Account, Status: report.AccountSwept, Complete: true}
		}
		if heldByOrgCap(d) && part.Status == report.AccountSwept {
			// The one-invocation mode holds every account within its own
			// cap when the organisation's trips.
			held(part)
		}
	}
	if part.Cap == nil {
		part.Cap = ad.Cap
	}
	return part
}

// heldByOrgCap: the organisation's cap held the run (the failure limit,
// checked first, did not).
func heldByOrgCap(d Decision) bool {
	return d.Status == DecisionHeld && d.PlanFailures <= d.PlanFailureLimit && d.Org != nil && d.Org.Exceeded
}

// held turns a plan's part (a read-only run without the caps) into a held
// account's: what it would have written was not attempted, as the engine
// reports an account over a cap.
func held(part *report.Account) {
	part.Status = report.AccountHeldByCap
	part.Complete = false
	part.Leftovers = nil
	for _, o := range []verdict.Outcome{verdict.WouldRelease, verdict.WouldStop, verdict.WouldNotify} {
		if n := part.Outcomes[string(o)]; n > 0 {
			part.Outcomes[string(verdict.NotAttempted)] += n
			delete(part.Outcomes, string(o))
		}
	}
}

func failedPart(ad AccountDecision, code, message string) *report.Account {
	return &report.Account{Account: ad.Account, Status: report.AccountFailed, Error: &verdict.Failure{Code: code, Message: message}, Cap: ad.Cap}
}

func clonePart(p *report.Account) *report.Account {
	c := *p
	c.Regions = slices.Clone(p.Regions)
	c.Outcomes = maps.Clone(p.Outcomes)
	if c.Outcomes == nil {
		c.Outcomes = map[string]int{}
	}
	return &c
}

// finish closes the report: its totals as the one-invocation mode's
// (report.Report.Total over the regions it holds, then the other accounts'
// parts), the organisation's cap check, the error naming the failures
// and the status for the flow.
func (a *assembly) finish(d Decision) (*report.Report, string) {
	now := time.Now
	if a.rc.Now != nil {
		now = a.rc.Now
	}
	finished := now().UTC()
	started := finished
	if t, err := time.Parse(runLayout, string(a.run)); err == nil && !t.After(finished) {
		started = t
	}
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: string(a.run), DryRun: a.dryRun,
		StartedAt: started, FinishedAt: finished, DurationMS: finished.Sub(started).Milliseconds(),
		Settings: a.rc.Settings, Credentials: a.rc.Credentials, Cap: d.Org,
		Regions: a.regions, Accounts: a.swept, Notices: a.notices}
	if rep.Regions == nil {
		rep.Regions = []*report.Region{}
	}
	if len(a.calls) > 0 {
		rep.Calls = a.calls
	}
	status := ReportOK
	if len(a.failures) > 0 {
		status = ReportFailed
		shown := a.failures[:min(len(a.failures), MaxReportedFailures)]
		rep.Error = fmt.Sprintf("the run failed (%d): %s", len(a.failures), strings.Join(shown, "; "))
		if more := len(a.failures) - len(shown); more > 0 {
			rep.Error += fmt.Sprintf("; and %d more (each in its account's part)", more)
		}
	}
	if len(a.warnings) > 0 {
		rep.Warning = strings.Join(a.warnings[:min(len(a.warnings), MaxReportedFailures)], "; ")
		if more := len(a.warnings) - MaxReportedFailures; more > 0 {
			rep.Warning += fmt.Sprintf("; and %d more", more)
		}
	}
	rep.Total()
	for _, part := range a.others {
		rep.AddAccount(part)
	}
	return rep, status
}
