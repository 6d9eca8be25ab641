package fanout_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

func TestRunDecideAndOutcomeThroughOSS(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	if _, err := st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, fanout.Manifest{Run: run, Accounts: []string{accA, accB, accC, accD}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*fanout.Plan{planOf(accA, 3, 40), planOf(accB, 2, 40), planOf(accD, 0, 40)} {
		if err := st.Put(ctx, run, p.Account, fanout.DocPlan, p); err != nil {
			t.Fatal(err)
		}
	}
	// accC's worker crashed: no plan. Nothing is held (1 failure of 4).
	answer, d, err := fanout.RunDecide(ctx, st, run, caps)
	if err != nil {
		t.Fatal(err)
	}
	if answer.Status != fanout.DecisionProceed || len(answer.Accounts) != 2 || answer.Accounts[0].Account != accA || answer.Accounts[1].Account != accB {
		t.Fatalf("answer %+v", answer)
	}
	if _, ok := srv.Object(bucket, st.Key(run, fanout.OrgAccount, fanout.DocDecision)); !ok {
		t.Fatal("the decision was not written")
	}
	// A retried Decide decides the same.
	if _, again, err := fanout.RunDecide(ctx, st, run, caps); err != nil || !reflect.DeepEqual(again, d) {
		t.Errorf("retry: %v\n%+v\n%+v", err, again, d)
	}
	// accA executed, accB's worker failed twice: the run fails, naming
	// accB and the plan-failed accC.
	if err := st.Put(ctx, run, accA, fanout.DocExecute, fanout.ExecuteResult{Run: run, Account: accA, Status: fanout.Executed, Released: 3}); err != nil {
		t.Fatal(err)
	}
	// Without Notify's record the run fails naming it; with it, a digest
	// the channel refused fails the run too, and the report carries the
	// run's notices.
	if rep, _, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{}); err != nil || !strings.Contains(rep.Error, "Notify did not finish") {
		t.Errorf("no notices' record: %q %v", rep.Error, err)
	}
	rec := fanout.NoticeRecord{Run: run, Channel: "dingtalk", Owners: []fanout.OwnerNotice{
		{Run: run, Owner: "alice", Status: fanout.NoticeDelivered, Notices: []fanout.NoticeRef{{Account: accA, Region: "cn-hangzhou", ID: "i-1", Action: "release"}}},
		{Run: run, Owner: "bob", Status: fanout.NoticeFailed, Why: "HTTP 500", Notices: []fanout.NoticeRef{{Account: accB, Region: "cn-hangzhou", ID: "i-2", Action: "release"}}},
	}}
	const markSecret = "phases-mark-secret-phases-mark-secret"
	if err := rec.Seal(markSecret); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, run, fanout.OrgAccount, fanout.DocNotices, rec); err != nil {
		t.Fatal(err)
	}
	rep, status, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{MarkSecrets: []string{markSecret}})
	if err != nil || status != fanout.ReportFailed || !strings.HasPrefix(rep.Error, "the run failed (3): ") ||
		!strings.Contains(rep.Error, accB+" failed in Execute") || !strings.Contains(rep.Error, accC+" plan-failed") ||
		!strings.Contains(rep.Error, "notice to bob (1) not delivered: HTTP 500") {
		t.Errorf("outcome %s %v %v", status, rep, err)
	}
	if n := rep.Notices; n == nil || n.Owners != 2 || n.Owed != 2 || n.Delivered != 1 {
		t.Errorf("the report's notices %+v: want 2 owners, 2 owed, 1 delivered", n)
	}
}

func TestRunDecideDistrustsAnUnreadablePlan(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	_, _ = st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, fanout.Manifest{Run: run, Accounts: []string{accA, accB}})
	_ = st.Put(ctx, run, accA, fanout.DocPlan, planOf(accA, 1, 10))
	srv.Put(bucket, st.Key(run, accB, fanout.DocPlan), []byte(`{"run":`))
	_, d, err := fanout.RunDecide(ctx, st, run, caps)
	if err != nil || d.Accounts[1].Status != fanout.AccountPlanFailed || !strings.Contains(d.Accounts[1].Reason, "not a valid plan document") {
		t.Errorf("%v %+v", err, d.Accounts)
	}
}

func TestRunDecideWithoutManifestFails(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	if _, _, err := fanout.RunDecide(context.Background(), st, run, caps); err == nil || !strings.Contains(err.Error(), "never recorded") {
		t.Errorf("%v", err)
	}
	rep, status, err := fanout.RunReport(context.Background(), st, run, fanout.ReportContext{})
	if err != nil || status != fanout.ReportFailed || !strings.Contains(rep.Error, "no decision") {
		t.Errorf("no decision: %s %v %v", status, rep, err)
	}
}
