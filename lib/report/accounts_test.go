package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// orgReport is a run over four accounts: 111 swept with leftovers, 222
// with a region failed closed, 333 unreachable (no regions), 444 held by
// its cap.
func orgReport() *report.Report {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rec := report.NewRecorder("timer@2026-01-02T03:04:05Z", false, func() time.Time { return start }, nil)
	ok := rec.Scope(scope("111", "cn-hangzhou"))
	ok.Listed("tag-filter", 4, 3, true)
	ok.Outcome(verdict.Released, "", report.Item{ID: "i-ok"})
	ok.Leftover(&report.Leftover{InstanceID: "i-ok", Disks: []report.LeftDisk{{ID: "d-1", SizeGiB: 40}}})
	ok.LeftoversListed(nil)
	ok.Done()
	bad := rec.Scope(scope("222", "cn-beijing"))
	bad.Fail(&verdict.Failure{Code: "Forbidden.RAM", Message: "no permission"})
	bad.Done()
	held := rec.Scope(scope("444", "cn-hangzhou"))
	held.Listed("tag-filter", 10, 10, true)
	held.Outcome(verdict.NotAttempted, verdict.CapExceeded, report.Item{ID: "i-held"})
	held.Done()
	rec.Account("333", report.AccountUnreachable, &verdict.Failure{Code: "NoPermission", Message: "You are not authorized to assume the role"}, nil)
	rec.Account("444", report.AccountHeldByCap, nil, &report.CapCheck{Eligible: 10, Instances: 10, OptedIn: 10, MaxRelease: 5, Percent: 100, Exceeded: true, CountExceeded: true})
	rec.Account("111", "", nil, &report.CapCheck{Eligible: 1, Instances: 1, OptedIn: 3, MaxRelease: 5, Percent: 33.3})
	rep := rec.Finish(nil, "accounts failed")
	rep.AccountsSkipped = []report.SkippedAccount{{Account: "555", Reason: "excluded"}, {Account: "666", Reason: "not-joined", Status: "InviteFailed"}}
	return rep
}

// TestReportAccountLevel: every account of a run over several is in the
// report, sorted, with its status, error, cap check and leftovers; one
// without regions (unreachable) too; the totals count them by status.
func TestReportAccountLevel(t *testing.T) {
	rep := orgReport()
	var got []string
	for _, a := range rep.Accounts {
		got = append(got, a.Account+":"+a.Status)
	}
	if want := "111:swept 222:failed 333:unreachable 444:held-by-cap"; strings.Join(got, " ") != want {
		t.Fatalf("accounts %v, want %s", got, want)
	}
	ok, bad, unreachable, held := rep.Accounts[0], rep.Accounts[1], rep.Accounts[2], rep.Accounts[3]
	if !ok.Complete || ok.Seen != 4 || ok.OptedIn != 3 || ok.Outcomes["released"] != 1 || ok.Cap == nil || ok.Cap.MaxRelease != 5 || ok.Leftovers == nil || ok.Leftovers.Instances != 1 {
		t.Errorf("swept account %+v", ok)
	}
	if bad.Complete || len(bad.Regions) != 1 {
		t.Errorf("failed account %+v", bad)
	}
	if unreachable.Complete || len(unreachable.Regions) != 0 || unreachable.Regions == nil || unreachable.Error == nil || unreachable.Error.Code != "NoPermission" {
		t.Errorf("unreachable account %+v: want no regions (an empty list), not complete, its error", unreachable)
	}
	if held.Complete || held.Cap == nil || !held.Cap.Exceeded || held.Outcomes["not-attempted"] != 1 {
		t.Errorf("held account %+v", held)
	}
	if c := rep.Totals.Accounts; c["swept"] != 1 || c["failed"] != 1 || c["unreachable"] != 1 || c["held-by-cap"] != 1 {
		t.Errorf("account totals %v", c)
	}
	if rep.Complete {
		t.Error("a run with an unreachable account is complete")
	}
	b, _ := json.Marshal(rep)
	if rep.SchemaVersion != 3 || !bytes.Contains(b, []byte(`"schemaVersion":3`)) || !bytes.Contains(b, []byte(`"account":"333","status":"unreachable","error":{"code":"NoPermission"`)) {
		t.Errorf("JSON: %s", b)
	}
}

// TestReadLogKeepsAccounts: the account level survives the log, an
// account without regions too; a version 2 report (accounts without a
// status) still reads.
func TestReadLogKeepsAccounts(t *testing.T) {
	rep := orgReport()
	var buf bytes.Buffer
	report.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), rep)
	got, err := report.ReadLog(strings.NewReader(buf.String()), rep.RunID, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Accounts) != 4 || got.Accounts[2].Status != report.AccountUnreachable || got.Accounts[2].Error == nil || got.Accounts[3].Cap == nil {
		t.Errorf("accounts read back: %+v", got.Accounts)
	}
	old := strings.ReplaceAll(buf.String(), `"schemaVersion":3`, `"schemaVersion":2`)
	for _, st := range []string{"swept", "failed", "unreachable", "held-by-cap"} {
		old = strings.ReplaceAll(old, `"status":"`+st+`",`, "")
	}
	v2, err := report.ReadLog(strings.NewReader(old), rep.RunID, "")
	if err != nil || v2.SchemaVersion != 2 || len(v2.Accounts) != 4 || v2.Accounts[0].Status != "" {
		t.Fatalf("a version 2 log: %v, %+v", err, v2)
	}
	var text strings.Builder
	if err := report.WriteText(&text, v2); err != nil || !strings.Contains(text.String(), "Accounts") {
		t.Errorf("a version 2 report as text: %v\n%s", err, text.String())
	}
}

// TestTextLeadsWithAccounts: a run over several accounts starts with one
// line per account; regions are named with their account.
func TestTextLeadsWithAccounts(t *testing.T) {
	var b strings.Builder
	if err := report.WriteText(&b, orgReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	// What needs a person comes first, then the accounts, before the
	// summary and the regions.
	at := slices.Index(lines, "Accounts")
	if at < 0 || at > slices.Index(lines, "Summary") || !strings.Contains(lines[at+1], "ACCOUNT") {
		t.Fatalf("the table does not lead with the accounts:\n%s", out)
	}
	if !strings.Contains(out, "ACCOUNTS NOT SWEPT: 3 accounts") || !strings.Contains(out, "333 (unreachable, NoPermission)") {
		t.Errorf("the attention list does not name the accounts not swept:\n%s", out)
	}
	for i, want := range []string{"111 swept", "222 failed", "333 unreachable", "444 held-by-cap"} {
		if !strings.HasPrefix(strings.Join(strings.Fields(lines[at+2+i]), " "), want) {
			t.Errorf("account line %d %q, want it to start %q", i, lines[at+2+i], want)
		}
	}
	for _, want := range []string{"NoPermission: You are not authorized", "10 of 5 / 0% EXCEEDED", "accounts:   failed 1, held-by-cap 1, swept 1, unreachable 1", "Region 222/cn-beijing:", "not swept: 555 (excluded), 666 (not-joined)"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
}

// TestSingleAccountTextHasNoAccountLevel: one account's run reads as
// before: no account lines, regions named alone.
func TestSingleAccountTextHasNoAccountLevel(t *testing.T) {
	rep := sampleReport()
	for _, r := range rep.Regions {
		r.Account = "111"
	}
	rep.Total()
	var b strings.Builder
	if err := report.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "Accounts") || strings.Contains(out, "accounts:") || strings.Contains(out, "organisation") || !strings.Contains(out, "Region cn-hangzhou:") {
		t.Errorf("a single account's text:\n%s", out)
	}
	sum := report.Summarise(rep, "req", 1)
	if sum.Accounts != nil || sum.AccountStatus != nil || rep.Totals.Accounts != nil {
		t.Errorf("a single account's summary lists accounts: %+v %v", sum.Accounts, sum.AccountStatus)
	}
}

// TestSummaryAccounts: the summary lists the accounts not swept first,
// each with the code that explains it, and counts them by status.
func TestSummaryAccounts(t *testing.T) {
	sum := report.Summarise(orgReport(), "req", 3)
	var got []string
	for _, a := range sum.Accounts {
		got = append(got, a.Account+":"+a.Status+":"+a.Code)
	}
	if want := "222:failed:Forbidden.RAM 333:unreachable:NoPermission 444:held-by-cap:cap-exceeded 111:swept:"; strings.Join(got, " ") != want {
		t.Errorf("summary accounts %v, want %s", got, want)
	}
	if !sum.Accounts[2].CapExceeded || sum.AccountStatus["unreachable"] != 1 || sum.AccountsOmitted != 0 {
		t.Errorf("summary %+v %v", sum.Accounts, sum.AccountStatus)
	}
}

// TestSummaryOfManyAccounts: many accounts with long IDs and errors keep
// the summary within its bound, the rest counted.
func TestSummaryOfManyAccounts(t *testing.T) {
	rep := worstReport()
	for i := range 300 {
		rep.Accounts = append(rep.Accounts, &report.Account{Account: fmt.Sprintf("%04d%s", i, strings.Repeat("a", 300)), Status: report.AccountUnreachable,
			Error: &verdict.Failure{Code: strings.Repeat("C", 300), Message: strings.Repeat("m", 3000)}})
	}
	rep.Total()
	sum := report.Summarise(rep, "req", 1)
	b, _ := json.Marshal(sum)
	if len(b) > report.MaxSummaryBytes {
		t.Errorf("summary is %d bytes, over %d", len(b), report.MaxSummaryBytes)
	}
	if n := len(sum.Accounts); n > report.SummaryAccounts || n+sum.AccountsOmitted != 305 || sum.AccountStatus[report.AccountUnreachable] != 300 {
		t.Errorf("%d accounts listed, %d omitted, status %v", n, sum.AccountsOmitted, sum.AccountStatus)
	}
}

func scope(account, region string) cloud.Scope { return cloud.Scope{Account: account, Region: region} }
