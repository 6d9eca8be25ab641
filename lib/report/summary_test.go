package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// worstReport is as large as a summary can be asked to say: many accounts'
// regions, all failed with long messages, thousands of failed instances and
// disks with long IDs and codes, long error and warning, many unsent owners
// with long names.
func worstReport() *report.Report {
	long := func(c string, n int) string { return strings.Repeat(c, n) }
	rep := &report.Report{RunID: "timer@" + long("t", 300), Error: long("e\"<", 5000), Warning: long("w", 5000),
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Notices: &report.Notices{Owed: 9000, Owners: 900},
		Cap: &report.CapCheck{Eligible: 5000, OptedIn: 6000, MaxRelease: 100, MaxReleasePercent: 50, Percent: 83.3, Exceeded: true, CountExceeded: true, PercentExceeded: true,
			Kinds: map[string]*report.KindCheck{"disks": {Eligible: 10, OptedIn: 10, Percent: 100, Exceeded: true}}}}
	for i := range 40 {
		rep.Notices.AddUnsent(fmt.Sprintf("%03d%s", i, long("o", 300)), "deadline")
	}
	for a := range 5 {
		for r := range 30 {
			region := report.NewRegion(fmt.Sprintf("region-%s-%02d", long("r", 200), r))
			region.Account = fmt.Sprintf("acct-%d-%s", a, long("a", 200))
			region.Seen, region.OptedIn = 100, 100
			region.Error = &verdict.Failure{Code: "Code." + long("c", 300), Message: long("m\\", 3000)}
			for i := range 40 {
				region.Add(report.OutcomeFailed, "", report.Item{ID: fmt.Sprintf("i-%s-%d", long("i", 300), i), Code: long("C", 300), Message: long("M", 2000)})
				region.Add(report.OutcomeReleased, "", report.Item{ID: fmt.Sprintf("i-ok-%d", i)})
			}
			region.Sections = report.Sections{"disks": &report.Section{}}
			region.Section("disks").Add(report.OutcomeFailed, "", report.Item{ID: "d-" + long("d", 300), Code: long("D", 300)})
			region.Finish()
			rep.Regions = append(rep.Regions, region)
		}
	}
	rep.Total()
	return rep
}

// TestSummaryIsBounded: whatever the report, its summary's JSON stays
// under MaxSummaryBytes, names at most SummaryFailures failures and
// SummaryRegions regions, counts the rest, and its totals are the report's.
func TestSummaryIsBounded(t *testing.T) {
	rep := worstReport()
	sum := report.Summarise(rep, "req-1", 12345)
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := json.Marshal(rep)
	t.Logf("summary %d bytes, for a report of %d", len(b), len(whole))
	if len(b) > report.MaxSummaryBytes {
		t.Errorf("summary is %d bytes, over MaxSummaryBytes %d", len(b), report.MaxSummaryBytes)
	}
	failed := 5 * 30 * 41
	if n := len(sum.Failures); n == 0 || n > report.SummaryFailures || n+sum.FailuresOmitted != failed {
		t.Errorf("%d failures named and %d omitted, want at most %d named and %d in all", n, sum.FailuresOmitted, report.SummaryFailures, failed)
	}
	if f := sum.Failures[0]; f.Kind != report.KindInstances || f.Region == "" || f.ID == "" || f.Code == "" || len(f.ID) > 200 {
		t.Errorf("first failure %+v: want kind, region, ID and code, cut", f)
	}
	if n := len(sum.Regions); n == 0 || n > report.SummaryRegions || n+sum.RegionsOmitted != 150 || sum.RegionStatus[report.RegionFailed] != 150 {
		t.Errorf("%d regions listed, %d omitted, status %v", len(sum.Regions), sum.RegionsOmitted, sum.RegionStatus)
	}
	if sum.Outcome != report.RunFailed || !strings.HasPrefix(sum.Error, "e\"<") || !strings.Contains(sum.Error, "the log has it whole") {
		t.Errorf("outcome %q, error %.40q...: want failed and the error cut, saying so", sum.Outcome, sum.Error)
	}
	if len(sum.Notices.Unsent) > 5 || sum.Notices.UnsentOwners != 40 || sum.Notices.UnsentItems != 40 || len(rep.Notices.Unsent) != 20 {
		t.Errorf("notices %+v: want at most 5 owners named, the counts whole, the report's list untouched", sum.Notices)
	}
	if !sum.Cap.Exceeded || sum.Cap.MaxRelease != 100 {
		t.Errorf("cap %+v", sum.Cap)
	}
	checkTotals(t, sum, rep)
}

// checkTotals: the summary's totals are the report's.
func checkTotals(t *testing.T, sum *report.Summary, rep *report.Report) {
	t.Helper()
	inst := map[string]int{}
	maps.Copy(inst, rep.Totals.Outcomes)
	maps.Copy(inst, rep.Totals.Reasons)
	if !maps.Equal(sum.Totals[report.KindInstances], inst) {
		t.Errorf("instance totals %v, want %v", sum.Totals[report.KindInstances], inst)
	}
	for kind, want := range rep.Totals.Kinds {
		if !maps.Equal(sum.Totals[kind], want) {
			t.Errorf("%s totals %v, want %v", kind, sum.Totals[kind], want)
		}
	}
	if sum.Seen != rep.Totals.Seen || sum.OptedIn != rep.Totals.OptedIn || sum.Batches != rep.Totals.Batches || !maps.Equal(sum.Calls, rep.Totals.Calls) {
		t.Errorf("summary seen %d opted in %d batches %d calls %v, want the report's %+v", sum.Seen, sum.OptedIn, sum.Batches, sum.Calls, rep.Totals)
	}
}

func TestSummaryOfASmallRun(t *testing.T) {
	rep := sampleReport()
	sum := report.Summarise(rep, "req-7", 5)
	if sum.SchemaVersion != report.SummarySchemaVersion || sum.RunID != rep.RunID || sum.RequestID != "req-7" || sum.Outcome != report.RunFailed || sum.Error != rep.Error {
		t.Errorf("summary %+v", sum)
	}
	if len(sum.Failures) != 1 || sum.Failures[0] != (report.SummaryFailure{Kind: "instances", Region: "cn-hangzhou", ID: "i-c", Code: "InvalidOperation.EniLinked"}) || sum.FailuresOmitted != 0 {
		t.Errorf("failures %+v (+%d)", sum.Failures, sum.FailuresOmitted)
	}
	// Both regions failed: one's listing (its code), the other's write
	// (the failed item's code), although its listing was complete.
	byRegion := map[string]report.SummaryRegion{}
	for _, r := range sum.Regions {
		byRegion[r.Region] = r
	}
	if sh, hz := byRegion["cn-shanghai"], byRegion["cn-hangzhou"]; len(sum.Regions) != 2 || sh.Status != report.RegionFailed || sh.Code != "Forbidden.RAM" ||
		hz.Status != report.RegionFailed || hz.Code != "InvalidOperation.EniLinked" || hz.Outcomes["released"] != 1 {
		t.Errorf("regions %+v", sum.Regions)
	}
	if !sum.Report.Log || sum.Report.Records != 5 || !strings.Contains(sum.Report.Query, rep.RunID) {
		t.Errorf("report location %+v", sum.Report)
	}
	checkTotals(t, sum, rep)

	// A failed write of another kind fails its region too.
	disk := &report.Report{RunID: "r", Error: "1 writes failed", Regions: []*report.Region{{Region: "cn-beijing", Complete: true,
		Sections: report.Sections{"disks": &report.Section{Groups: []*report.Group{{Outcome: verdict.Failed, Reason: "IncorrectDiskStatus", Instances: []report.Item{{ID: "d-1", Code: "IncorrectDiskStatus"}}}}}}}}}
	disk.Total()
	if s := report.Summarise(disk, "", 1); len(s.Regions) != 1 || s.Regions[0].Status != report.RegionFailed || s.Regions[0].Code != "IncorrectDiskStatus" {
		t.Errorf("a region whose disk delete failed: %+v", s.Regions)
	}

	ok := &report.Report{RunID: "r", Complete: true}
	ok.Total()
	if s := report.Summarise(ok, "", 0); s.Outcome != report.RunOK || s.Report.Log {
		t.Errorf("a run without error: outcome %q, logged %v", s.Outcome, s.Report.Log)
	}
	ok.Warning = "deadline"
	if s := report.Summarise(ok, "", 1); s.Outcome != report.RunIncomplete {
		t.Errorf("a run with a warning: outcome %q", s.Outcome)
	}
}

// TestReadLogPutsTheReportBack: the records Log wrote for a
// 20,000-instance report read back as the same report.
func TestReadLogPutsTheReportBack(t *testing.T) {
	rep := largeReport()
	rep.Regions = rep.Regions[:4]
	for i, r := range rep.Regions[:2] { // two accounts with the same region
		r.Account, r.Region = fmt.Sprintf("acct-%d", i), "cn-same"
	}
	// Resource sections: many disks, a few EIPs, snapshots swept and none found.
	hz := rep.Regions[2]
	hz.Sections = report.Sections{"disks": &report.Section{}, "eips": &report.Section{}, "snapshots": &report.Section{}}
	for i := range 3000 {
		hz.Section("disks").Add(report.OutcomeSkipped, "not-expired", report.Item{ID: fmt.Sprintf("d-bp1%016d", i), Detail: "expires 2099-01-01T00:00:00Z"})
	}
	hz.Section("disks").Add(report.OutcomeFailed, "", report.Item{ID: "d-bp1failed", Code: "IncorrectDiskStatus"})
	hz.Section("eips").Add(report.OutcomeReleased, "", report.Item{ID: "eip-bp1released"})
	rep.Total()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	records := report.Log(context.Background(), logger.With("request_id", "req-1"), rep)
	buf.WriteString("a line the SDK printed\n")
	other := sampleReport()
	report.Log(context.Background(), logger.With("request_id", "req-2"), other)
	if records < 20 {
		t.Fatalf("Log says it wrote %d records", records)
	}
	log := buf.String()
	for _, line := range strings.Split(log, "\n") {
		if len(line) > report.MaxLogRecordBytes+1024 {
			t.Fatalf("a %.60q record is %d bytes, over the bound of %d", line, len(line), report.MaxLogRecordBytes)
		}
	}
	got, err := report.ReadLog(strings.NewReader(log), rep.RunID, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(rep)
	back, _ := json.Marshal(got)
	if !bytes.Equal(want, back) {
		t.Errorf("the report read back differs: %d bytes, want %d", len(back), len(want))
	}
	if got, err := report.ReadLog(strings.NewReader(log), "", "req-2"); err != nil || got.RunID != other.RunID || len(got.IDs(report.OutcomeFailed)) != 1 {
		t.Errorf("by request ID: %v, %v", got, err)
	}
	// An FC retry logs the same run ID again: the request ID tells them apart.
	for _, runID := range []string{"", rep.RunID} {
		if _, err := report.ReadLog(strings.NewReader(log), runID, ""); err == nil || !strings.Contains(err.Error(), "2 reports") || !strings.Contains(err.Error(), "req-2") {
			t.Errorf("two invocations, run ID %q and no request ID: %v, want an error naming both", runID, err)
		}
	}
	if _, err := report.ReadLog(strings.NewReader(log), "nope", ""); err == nil || !strings.Contains(err.Error(), "no report of run nope") {
		t.Errorf("an unknown run: %v", err)
	}
	// Any record lost is an error, never a smaller report.
	lines := strings.SplitAfter(log, "\n")
	for _, drop := range []string{`"msg":"report instances"`, `"msg":"report batches"`, `"part":2,`, `"msg":"report resources"`, `"kind":"eips"`} {
		for i, l := range lines {
			if strings.Contains(l, drop) && strings.Contains(l, `"request_id":"req-1"`) {
				cut := strings.Join(lines[:i], "") + strings.Join(lines[i+1:], "")
				if _, err := report.ReadLog(strings.NewReader(cut), rep.RunID, "req-1"); err == nil || !strings.Contains(err.Error(), "missing") && !strings.Contains(err.Error(), "out of order") && !strings.Contains(err.Error(), "misses") {
					t.Errorf("without a %s record: %v, want an error", drop, err)
				}
				break
			}
		}
	}
}

// TestSummaryOfManyRegions: with plain values the lists hold their
// bounds exactly, the regions not complete first.
func TestSummaryOfManyRegions(t *testing.T) {
	rep := &report.Report{RunID: "timer@2026-01-02T03:04:05Z"}
	for r := range 60 {
		region := report.NewRegion(fmt.Sprintf("region-%02d", r))
		region.Account, region.Seen, region.OptedIn, region.Complete = "1234567890123456", 10, 10, r%3 != 0
		if r%3 == 0 {
			region.Error = &verdict.Failure{Code: "Throttling", Message: "slow down"}
		}
		for i := range 3 {
			id := fmt.Sprintf("i-bp1%02d%015d", r, i)
			if r%3 == 0 { // a failed write fails its region too: only the failed regions have them
				region.Add(report.OutcomeFailed, "", report.Item{ID: id, Code: "InvalidOperation.EniLinked"})
			} else {
				region.Add(report.OutcomeReleased, "", report.Item{ID: id})
			}
		}
		region.Finish()
		rep.Regions = append(rep.Regions, region)
	}
	rep.Total()
	sum := report.Summarise(rep, "1-6789abcd-0123456789abcdef0123", 400)
	b, _ := json.Marshal(sum)
	if len(b) > report.MaxSummaryBytes {
		t.Errorf("%d bytes", len(b))
	}
	if len(sum.Regions) != report.SummaryRegions || sum.RegionsOmitted != 60-report.SummaryRegions || len(sum.Failures) != report.SummaryFailures || sum.FailuresOmitted != 60-report.SummaryFailures {
		t.Fatalf("%d regions (+%d), %d failures (+%d)", len(sum.Regions), sum.RegionsOmitted, len(sum.Failures), sum.FailuresOmitted)
	}
	for i, r := range sum.Regions {
		if want := i < 20; (r.Status == report.RegionFailed) != want || (r.Status == report.RegionFailed && r.Code != "Throttling") {
			t.Errorf("region %d: %+v; want the 20 failed ones first, with their code", i, r)
		}
	}
	if sum.RegionStatus[report.RegionFailed] != 20 || sum.RegionStatus[report.RegionComplete] != 40 {
		t.Errorf("region status %v", sum.RegionStatus)
	}
}

// An interrupted run's summary says interrupted, not failed, and so does
// the region whose writes it interrupted.
func TestSummaryOfAnInterruptedRun(t *testing.T) {
	region := report.NewRegion("cn-hangzhou")
	region.Add(report.OutcomeReleased, "", report.Item{ID: "i-done"})
	region.Add(verdict.Interrupted, verdict.NotStarted, report.Item{ID: "i-undone"})
	region.Finish()
	rep := &report.Report{RunID: "run@x", Error: "interrupted: 1 writes or notices interrupted", Regions: []*report.Region{region}}
	rep.Total()
	sum := report.Summarise(rep, "", 1)
	if sum.Outcome != report.RunInterrupted || sum.RegionStatus[report.RegionInterrupted] != 1 || len(sum.Failures) != 0 {
		t.Fatalf("outcome %q, regions %v, failures %v", sum.Outcome, sum.RegionStatus, sum.Failures)
	}
	if sum.Totals[report.KindInstances]["interrupted/not-started"] != 1 {
		t.Fatalf("totals %v", sum.Totals)
	}
}
