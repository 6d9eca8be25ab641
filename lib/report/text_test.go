package report_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

func sampleReport() *report.Report {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	hz := report.NewRegion("cn-hangzhou")
	hz.Seen, hz.OptedIn, hz.Complete, hz.Discovery = 3, 3, true, "tag-filter"
	hz.Add(report.OutcomeReleased, "", report.Item{ID: "i-a", Detail: "expired 2025-01-01T00:00:00Z; stopped"})
	hz.Add(report.OutcomeSkipped, decide.ReasonRunning, report.Item{ID: "i-b", Detail: "running and\tforce is off"})
	hz.Add(report.OutcomeFailed, "", report.Item{ID: "i-c", Code: "InvalidOperation.EniLinked", Message: "ENI\nlinked", RequestID: "req-9"})
	hz.Calls["DescribeInstances"] = 1
	hz.Calls["DeleteInstances"] = 2
	stop := true
	hz.Batches = []*report.Batch{
		{InstanceIDs: []string{"i-a"}, Flags: &decide.Flags{TerminateSubscription: true}, ClientToken: "tok-1", Attempts: 1, RequestIDs: []string{"req-1"}, Result: "released"},
		{InstanceIDs: []string{"i-c"}, Flags: &decide.Flags{Force: true}, ForceStop: &stop, ClientToken: "tok-2", Attempts: 2, Result: "failed", Code: "InvalidOperation.EniLinked"},
		{Action: "TagResources", InstanceIDs: []string{"i-d"}, Tags: map[string]string{"reaper-notified-stopped": "signed-value"}, Attempts: 1, Result: "written"},
	}
	hz.Finish()
	sh := report.NewRegion("cn-shanghai")
	sh.Error = &verdict.Failure{Code: "Forbidden.RAM", Message: "no permission", RequestID: "req-x"}
	sh.Finish()
	rep := &report.Report{
		RunID: "timer@2026-01-02T03:04:05Z", StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond), DurationMS: 1500,
		Regions: []*report.Region{hz, sh},
		Cap:     &report.CapCheck{Eligible: 2, OptedIn: 3, MaxRelease: 100, MaxReleasePercent: 50, Percent: 66.7, Exceeded: true},
		Error:   "release cap exceeded: 2 instances eligible",
	}
	rep.Total()
	return rep
}

func TestWriteText(t *testing.T) {
	var b strings.Builder
	if err := report.WriteText(&b, sampleReport()); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"Run timer@2026-01-02T03:04:05Z (release), started 2026-01-02T03:04:05Z",
		"Region cn-hangzhou: 3 seen, 3 opted in, complete, listed by tag-filter",
		"INSTANCE", "OUTCOME", "REASON", "DETAIL",
		"i-a", "released", "expired 2025-01-01T00:00:00Z; stopped",
		"skipped", "running and force is off",
		"InvalidOperation.EniLinked: ENI linked (request req-9)",
		"TerminateSubscription=true Force=false DryRun=false", "tok-1", "req-1",
		"TerminateSubscription=false Force=true ForceStop=true DryRun=false", "failed (InvalidOperation.EniLinked)",
		"TagResources tag reaper-notified-stopped DryRun=false",
		"Region cn-shanghai: 0 seen, 0 opted in, FAILED",
		"error: Forbidden.RAM: no permission (request req-x)",
		"the region failed (the error above): nothing was decided or written here",
		"outcomes:   failed 1, released 1, skipped 1",
		"reasons:    skipped/running 1",
		"API calls:  DeleteInstances 2, DescribeInstances 1; 3 write batches",
		"cap check:  2 eligible of 3 opted in (66.7%); caps 100 instances and 50%: EXCEEDED, nothing released",
		"duration:   1.5s",
		"complete:   NO",
		"error:      release cap exceeded: 2 instances eligible",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Every table row is one line: messages with newlines or tabs are flattened.
	if strings.Contains(out, "ENI\nlinked") || strings.Contains(out, "\t") {
		t.Errorf("a table row spans lines or keeps a tab:\n%s", out)
	}
}

func TestWriteTextDryRunAndNil(t *testing.T) {
	rep := &report.Report{RunID: "r", DryRun: true}
	rep.Total()
	var b strings.Builder
	if err := report.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.Contains(out, "(dry run)") || !strings.Contains(out, "complete:   yes") || !strings.Contains(out, "outcomes:   none") {
		t.Errorf("dry-run report:\n%s", out)
	}
	b.Reset()
	if err := report.WriteText(&b, nil); err != nil || b.String() != "no report\n" {
		t.Errorf("nil report: %q, %v", b.String(), err)
	}
}

func TestWriteTextNotices(t *testing.T) {
	rep := sampleReport()
	rep.Notices = &report.Notices{Owed: 3, Owners: 3, Delivered: 1}
	rep.Notices.AddUnsent("bob", "deadline")
	rep.Notices.AddUnsent("", "deadline")
	var b strings.Builder
	if err := report.WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	want := "notices:    3 owed to 3 owners; 1 owners told and marked; NOT SENT: 2 of 3 notices owed were not sent (2 deadline), to 2 of 3 owners: bob, (no owner tag)"
	if out := b.String(); !strings.Contains(out, want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}
