package fanout_test

import (
	"context"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// A refused digest fails the run in its report even when no Execute
// worker met the notice again; a record rewritten to hide it (its seal
// no longer verifies) fails the run too, rather than let it succeed.
func TestRunReportDistrustsAForgedNoticeRecord(t *testing.T) {
	const secret = "report-mark-secret-report-mark-secret"
	for _, forge := range []bool{false, true} {
		srv := startOSS(t)
		st := newStore(t, srv, testSecret)
		ctx := context.Background()
		if _, err := st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, manifest(accA)); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, run, accA, fanout.DocPlan, withPart(planOf(accA, 3, 40), 40)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := fanout.RunDecide(ctx, st, run, caps); err != nil {
			t.Fatal(err)
		}
		rec := fanout.NoticeRecord{Run: run, Channel: "dingtalk", Owners: []fanout.OwnerNotice{{Run: run, Owner: "alice", Status: fanout.NoticeFailed, Why: "refused",
			Notices: []fanout.NoticeRef{{Account: accA, Region: "cn-hangzhou", ID: "i-x", Action: "release"}}}}}
		if err := rec.Seal(secret); err != nil {
			t.Fatal(err)
		}
		if forge {
			rec.Owners = []fanout.OwnerNotice{}
		}
		if err := st.Put(ctx, run, fanout.OrgAccount, fanout.DocNotices, rec); err != nil {
			t.Fatal(err)
		}
		part := accountReport(accA, 3, 37).Accounts[0]
		if err := st.Put(ctx, run, accA, fanout.DocReport, accountReport(accA, 3, 37)); err != nil {
			t.Fatal(err)
		}
		if err := st.Put(ctx, run, accA, fanout.DocExecute, fanout.ExecuteResult{Run: run, Account: accA, Status: fanout.Executed, Released: 3, Part: part}); err != nil {
			t.Fatal(err)
		}
		rep, status, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{Now: reportNow, MarkSecrets: []string{secret, ""}})
		if err != nil {
			t.Fatal(err)
		}
		want := "notice to alice (1) not delivered: refused"
		if forge {
			want = "notices' record is not trusted"
		}
		if status != fanout.ReportFailed || !strings.Contains(rep.Error, want) {
			t.Errorf("forged %v: status %s, error %q; want failed naming %q", forge, status, rep.Error, want)
		}
	}
}

// A channel's answer that is not UTF-8 (kept in a failed owner's Why)
// changes when stored as JSON: the seal still verifies once read back.
func TestNoticeRecordSealSurvivesStorage(t *testing.T) {
	const secret = "storage-mark-secret-storage-mark-secret"
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	rec := fanout.NoticeRecord{Run: run, Channel: "dingtalk", Owners: []fanout.OwnerNotice{
		{Run: run, Owner: "bob", Status: fanout.NoticeFailed, Why: "HTTP 502: \xff\xfe <gateway> & more", Notices: []fanout.NoticeRef{}},
		{Run: run, Owner: "alice", Status: fanout.NoticeDelivered, Notices: []fanout.NoticeRef{{Account: accA, Region: "cn-hangzhou", ID: "i-1", Action: "release"}}}}}
	if err := rec.Seal(secret); err != nil {
		t.Fatal(err)
	}
	if err := st.Put(ctx, run, fanout.OrgAccount, fanout.DocNotices, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := fanout.ReadNotices(ctx, st, run, secret); err != nil {
		t.Errorf("a sealed record read back: %v", err)
	}
}
