package fanout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

const (
	accE = "1000000000000005"
	accF = "1000000000000006"
)

var reportNow = func() time.Time { return time.Date(2026, 12, 6, 9, 5, 0, 0, time.UTC) }

// withPart is p with its read-only run's part: the eligible would be
// released, the rest skipped.
func withPart(p *fanout.Plan, seen int) *fanout.Plan {
	eligible := 0
	for _, r := range p.Regions {
		for _, g := range r.Release {
			eligible += len(g.IDs)
		}
	}
	p.Part = &report.Account{Account: p.Account, Status: report.AccountSwept, Regions: []string{"cn-hangzhou"}, Seen: seen, OptedIn: p.Regions[0].OptedIn,
		Complete: true, Outcomes: map[string]int{}}
	if eligible > 0 {
		p.Part.Outcomes["would-release"] = eligible
	}
	if rest := seen - eligible; rest > 0 {
		p.Part.Outcomes["skipped"] = rest
	}
	return p
}

// accountReport is what an Execute worker stores: its account's whole
// report, released and skipped instances listed.
func accountReport(account string, released, skipped int) *report.Report {
	r := report.NewRegion("cn-hangzhou")
	r.Account = account
	r.Seen, r.OptedIn, r.Complete = released+skipped, released+skipped, true
	for i := range released {
		r.Add(verdict.Released, "", report.Item{ID: fmt.Sprintf("i-%s-%03d", account[12:], i)})
	}
	for i := range skipped {
		r.Add(verdict.Skipped, "not-expired", report.Item{ID: fmt.Sprintf("i-%s-s%02d", account[12:], i)})
	}
	r.Finish()
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: run.WorkerRunID(account), Regions: []*report.Region{r}, Calls: map[string]int{"AssumeRole": 1}}
	rep.Total()
	return rep
}

func checkReportSchema(t *testing.T, b []byte) {
	t.Helper()
	raw, err := os.ReadFile("../../docs/report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("report.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("report.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(v); err != nil {
		t.Fatalf("the organisation's report does not match docs/report.schema.json: %v\n%s", err, b)
	}
}

func byAccount(rep *report.Report) map[string]*report.Account {
	out := map[string]*report.Account{}
	for _, a := range rep.Accounts {
		out[a.Account] = a
	}
	return out
}

// The organisation's report is the one-invocation mode's report, from
// what is in OSS: every account's part with its status (executed, held by
// its cap, plan-failed, unreachable, nothing to do, failed in Execute),
// the executed accounts' regions listing what was released, the totals,
// the organisation's cap check and an error naming every failure. It is
// schema-valid, stored at the run's key, and a retry stores the same.
func TestRunReportIsTheOrganisationsReport(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	accounts := []string{accA, accB, accC, accD, accE, accF}
	if _, err := st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, manifest(accounts...)); err != nil {
		t.Fatal(err)
	}
	unreachable := &fanout.Plan{Run: run, Account: accD, Status: fanout.PlanUnreachable, Problem: "role missing", Regions: []fanout.RegionPlan{},
		Part: &report.Account{Account: accD, Status: report.AccountUnreachable, Error: &verdict.Failure{Code: "EntityNotExist.Role", Message: "role missing"}, Regions: []string{}, Outcomes: map[string]int{}}}
	for _, p := range []*fanout.Plan{withPart(planOf(accA, 3, 40), 40), withPart(planOf(accB, 12, 40), 40), unreachable,
		withPart(planOf(accE, 0, 5), 5), withPart(planOf(accF, 2, 40), 40)} {
		if err := st.Put(ctx, run, p.Account, fanout.DocPlan, p); err != nil {
			t.Fatal(err)
		}
	}
	// accC has no plan (its worker crashed); accF's Execute worker failed
	// after its retry (no result). Notify told nobody.
	if _, _, err := fanout.RunDecide(ctx, st, run, caps); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, run, fanout.OrgAccount, fanout.DocNotices, fanout.NoticeRecord{Run: run, Owners: []fanout.OwnerNotice{}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, run, accA, fanout.DocReport, accountReport(accA, 3, 37)); err != nil {
		t.Fatal(err)
	}
	part := accountReport(accA, 3, 37).Accounts[0]
	if err := st.Put(ctx, run, accA, fanout.DocExecute, fanout.ExecuteResult{Run: run, Account: accA, Status: fanout.Executed, Released: 3, Part: part}); err != nil {
		t.Fatal(err)
	}
	rc := fanout.ReportContext{Settings: map[string]any{"max_release": 10}, Now: reportNow}
	rep, status, err := fanout.RunReport(ctx, st, run, rc)
	if err != nil {
		t.Fatal(err)
	}
	stored, ok := srv.Object(bucket, st.Key(run, fanout.OrgAccount, fanout.DocReport))
	if !ok {
		t.Fatal("the report was not stored")
	}
	checkReportSchema(t, stored)
	if status != fanout.ReportFailed || rep.Complete || !strings.HasPrefix(rep.Error, "the run failed (4): ") {
		t.Errorf("status %s, complete %v, error %q", status, rep.Complete, rep.Error)
	}
	for _, w := range []string{accB + " held by its cap", accC + " plan-failed", accD + " unreachable", accF + " failed in Execute"} {
		if !strings.Contains(rep.Error, w) {
			t.Errorf("the error %q does not name %q", rep.Error, w)
		}
	}
	parts := byAccount(rep)
	type want struct {
		status, code string
		outcomes     map[string]int
	}
	for account, w := range map[string]want{
		accA: {report.AccountSwept, "", map[string]int{"released": 3, "skipped": 37}},
		accB: {report.AccountHeldByCap, "", map[string]int{"not-attempted": 12, "skipped": 28}},
		accC: {report.AccountFailed, fanout.CodePlanFailed, map[string]int{}},
		accD: {report.AccountUnreachable, "EntityNotExist.Role", map[string]int{}},
		accE: {report.AccountSwept, "", map[string]int{"skipped": 5}},
		accF: {report.AccountFailed, fanout.CodeExecuteFailed, map[string]int{}},
	} {
		a := parts[account]
		if a == nil {
			t.Errorf("account %s is not in the report", account)
			continue
		}
		code := ""
		if a.Error != nil {
			code = a.Error.Code
		}
		if a.Status != w.status || code != w.code || !maps.Equal(a.Outcomes, w.outcomes) {
			t.Errorf("account %s: %s %q %v, want %s %q %v", account, a.Status, code, a.Outcomes, w.status, w.code, w.outcomes)
		}
		if a.Cap == nil && w.status != report.AccountFailed && w.status != report.AccountUnreachable {
			t.Errorf("account %s has no cap check", account)
		}
	}
	if got := rep.IDs(verdict.Released); !slices.Equal(got, []string{"i-0001-000", "i-0001-001", "i-0001-002"}) {
		t.Errorf("released %v", got)
	}
	if len(rep.Regions) != 1 || rep.Regions[0].Unlisted["skipped/not-expired"] != 37 {
		t.Errorf("regions %+v: want accA's, its skips counted, not listed", rep.Regions)
	}
	if rep.Totals.Seen != 40+40+5 || rep.Totals.Outcomes["released"] != 3 || rep.Totals.Outcomes["not-attempted"] != 12 || rep.Cap == nil || rep.Cap.Instances != 3+2 {
		t.Errorf("totals %+v, cap %+v", rep.Totals, rep.Cap)
	}
	if rep.RunID != string(run) || rep.StartedAt.Format(time.RFC3339) != "2026-12-06T09:00:00Z" || rep.Settings["max_release"] == nil || rep.Calls["AssumeRole"] != 1 {
		t.Errorf("run %s started %s settings %v calls %v", rep.RunID, rep.StartedAt, rep.Settings, rep.Calls)
	}
	// Report is a pure function of OSS: a retry overwrites the same key
	// with the same report.
	if _, _, err := fanout.RunReport(ctx, st, run, rc); err != nil {
		t.Fatal(err)
	}
	if again, _ := srv.Object(bucket, st.Key(run, fanout.OrgAccount, fanout.DocReport)); !bytes.Equal(again, stored) {
		t.Errorf("a retry stored another report:\n%s\n%s", again, stored)
	}
}

// A held run: over the organisation's cap every account within its own
// cap is held-by-cap, as in the one-invocation mode, those with nothing
// to write included; over the failure limit the accounts that would
// have written failed with run-held.
func TestRunReportOfAHeldRun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		plans []*fanout.Plan
		want  map[string]string
	}{
		{"organisation's cap", []*fanout.Plan{withPart(planOf(accA, 9, 40), 40), withPart(planOf(accB, 9, 40), 40), withPart(planOf(accC, 9, 40), 40), withPart(planOf(accD, 0, 5), 5)},
			map[string]string{accA: report.AccountHeldByCap, accB: report.AccountHeldByCap, accC: report.AccountHeldByCap, accD: report.AccountHeldByCap}},
		{"failure limit", []*fanout.Plan{withPart(planOf(accA, 1, 40), 40), withPart(planOf(accD, 0, 5), 5)},
			map[string]string{accA: report.AccountFailed, accB: report.AccountFailed, accC: report.AccountFailed, accD: report.AccountSwept}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startOSS(t)
			st := newStore(t, srv, testSecret)
			ctx := context.Background()
			_, _ = st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, manifest(accA, accB, accC, accD))
			for _, p := range tc.plans {
				_ = st.Put(ctx, run, p.Account, fanout.DocPlan, p)
			}
			if _, d, err := fanout.RunDecide(ctx, st, run, caps); err != nil || d.Status != fanout.DecisionHeld {
				t.Fatalf("decide %v %+v", err, d)
			}
			rep, status, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{Now: reportNow})
			if err != nil || status != fanout.ReportFailed {
				t.Fatalf("%v %s", err, status)
			}
			b, _ := json.Marshal(rep)
			checkReportSchema(t, b)
			got := map[string]string{}
			for _, a := range rep.Accounts {
				got[a.Account] = a.Status
				if a.Outcomes["would-release"] != 0 {
					t.Errorf("account %s: a held account's outcomes %v", a.Account, a.Outcomes)
				}
			}
			if !maps.Equal(got, tc.want) || len(rep.Regions) != 0 || rep.Totals.Outcomes["released"] != 0 {
				t.Errorf("accounts %v, want %v; regions %d", got, tc.want, len(rep.Regions))
			}
		})
	}
}

// An account's document that cannot be read fails the run, named in the
// report, which is still written; a decision that cannot be read fails
// the invocation (the flow retries Report).
func TestRunReportOfUnreadableDocuments(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	_, _ = st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, manifest(accA, accB))
	_ = st.Put(ctx, run, accA, fanout.DocPlan, withPart(planOf(accA, 1, 40), 40))
	_ = st.Put(ctx, run, accB, fanout.DocPlan, withPart(planOf(accB, 1, 40), 40))
	if _, _, err := fanout.RunDecide(ctx, st, run, caps); err != nil {
		t.Fatal(err)
	}
	for _, acc := range []string{accA, accB} {
		_ = st.Put(ctx, run, acc, fanout.DocExecute, fanout.ExecuteResult{Run: run, Account: acc, Status: fanout.Executed, Released: 1})
	}
	srv.Put(bucket, st.Key(run, accA, fanout.DocReport), []byte(`{"schemaVersion":`))
	srv.Put(bucket, st.Key(run, accB, fanout.DocExecute), []byte(`{"run":`))
	rep, status, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{Now: reportNow})
	if err != nil || status != fanout.ReportFailed {
		t.Fatalf("%v %s", err, status)
	}
	if !strings.Contains(rep.Error, "account "+accA+"'s report could not be read") || !strings.Contains(rep.Error, accB+" failed in Execute") {
		t.Errorf("error %q", rep.Error)
	}
	if b := byAccount(rep)[accB]; b == nil || b.Status != report.AccountFailed || !strings.Contains(b.Error.Message, "could not be read") {
		t.Errorf("account %s: %+v", accB, b)
	}
	stored, ok := srv.Object(bucket, st.Key(run, fanout.OrgAccount, fanout.DocReport))
	if !ok {
		t.Fatal("no report stored")
	}
	checkReportSchema(t, stored)

	srv.Put(bucket, st.Key(run, fanout.OrgAccount, fanout.DocDecision), []byte(`{"run":`))
	if _, _, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{}); err == nil || !strings.Contains(err.Error(), "read the decision") {
		t.Errorf("an unreadable decision: %v", err)
	}
}

// An account's report of another run, or holding another account's
// regions, is not listed: the run fails, naming it.
func TestRunReportDistrustsAnotherRunsAccountReport(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	_, _ = st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, manifest(accA, accB))
	_ = st.Put(ctx, run, accA, fanout.DocPlan, withPart(planOf(accA, 1, 40), 40))
	_ = st.Put(ctx, run, accB, fanout.DocPlan, withPart(planOf(accB, 1, 40), 40))
	if _, _, err := fanout.RunDecide(ctx, st, run, caps); err != nil {
		t.Fatal(err)
	}
	old := accountReport(accA, 1, 0)
	old.RunID = "20261206T080000Z/" + accA
	foreign := accountReport(accA, 1, 0)
	foreign.RunID = run.WorkerRunID(accB)
	for acc, rep := range map[string]*report.Report{accA: old, accB: foreign} {
		_ = st.Put(ctx, run, acc, fanout.DocExecute, fanout.ExecuteResult{Run: run, Account: acc, Status: fanout.Executed, Released: 1})
		_ = st.Put(ctx, run, acc, fanout.DocReport, rep)
	}
	rep, status, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{Now: reportNow})
	if err != nil || status != fanout.ReportFailed || len(rep.Regions) != 0 ||
		!strings.Contains(rep.Error, "account "+accA+"'s report is run") || !strings.Contains(rep.Error, "account "+accB+"'s report holds region") {
		t.Errorf("%v %s regions %d error %q", err, status, len(rep.Regions), rep.Error)
	}
}

// Held by the failure limit while over the organisation's cap too: the
// accounts that would have written failed with run-held (the limit is
// what held the run), not held by a cap.
func TestRunReportFailureLimitBeforeTheCap(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	_, _ = st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, manifest(accA, accB, accC, accD, accE))
	for _, acc := range []string{accA, accB, accC} {
		_ = st.Put(ctx, run, acc, fanout.DocPlan, withPart(planOf(acc, 9, 40), 40))
	}
	_, d, err := fanout.RunDecide(ctx, st, run, caps)
	if err != nil || d.Status != fanout.DecisionHeld || !d.Org.Exceeded || d.PlanFailures <= d.PlanFailureLimit {
		t.Fatalf("decide %v %+v: want held by the failure limit, over the organisation's cap too", err, d)
	}
	rep, _, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{Now: reportNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, acc := range []string{accA, accB, accC} {
		if a := byAccount(rep)[acc]; a == nil || a.Status != report.AccountFailed || a.Error == nil || a.Error.Code != fanout.CodeRunHeld {
			t.Errorf("account %s: %+v, want failed, run-held", acc, a)
		}
	}
}
