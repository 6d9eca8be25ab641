package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// bigFleet is n opted-in instances over two regions, one in a hundred
// expired.
func bigFleet(n int) (string, []string) {
	var b strings.Builder
	var expired []string
	b.WriteString(`{"instances": [`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		region, expiry := "cn-hangzhou", "2099-01-01"
		if i%2 == 1 {
			region = "cn-shanghai"
		}
		id := fmt.Sprintf("i-bp1big%011d", i)
		if i%100 == 0 {
			expiry = "2025-02-01"
			expired = append(expired, id)
		}
		fmt.Fprintf(&b, `{"id": %q, "region": %q, "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": %q}}`, id, region, expiry)
	}
	b.WriteString("]}")
	return b.String(), expired
}

// loggedSummary is the summary the invocation logged (a failed
// invocation's answer is FC's error, so the log is where its summary is).
func loggedSummary(t *testing.T, proc *fcdouble.Process, requestID string) *report.Summary {
	t.Helper()
	readLogged(t, proc, "", requestID) // waits for the record
	sc := bufio.NewScanner(strings.NewReader(proc.Stdout()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct {
			Msg       string          `json:"msg"`
			RequestID string          `json:"request_id"`
			Summary   *report.Summary `json:"summary"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "summary" && rec.RequestID == requestID && rec.Summary != nil {
			if len(sc.Bytes()) > report.MaxSummaryBytes+1024 {
				t.Errorf("the summary record is %d bytes", len(sc.Bytes()))
			}
			return rec.Summary
		}
	}
	t.Fatalf("no summary record for %s", requestID)
	return nil
}

// TestLargeFleetAnswersASummary: at 20,000 opted-in instances the answer
// stays within its bound while the log holds every instance; a failed
// invocation names at most 20 failures and logs its summary.
func TestLargeFleetAnswersASummary(t *testing.T) {
	if testing.Short() {
		t.Skip("20,000 instances through the binary")
	}
	const n = 20000
	fleet, expired := bigFleet(n)
	s := startFleetStack(t, binary(t), fleet, "REAPER_MAX_RELEASE=1000", "REAPER_MAX_RELEASE_PERCENT=5")

	dry := s.invoke(t, "big-dry", timerEvent(`{"dryRun": true}`))
	t.Logf("the answer is %d bytes", len(dry.Body))
	if len(dry.Body) > 16<<10 {
		t.Fatalf("the answer is %d bytes, over 16 KiB", len(dry.Body))
	}
	checkSummarySchema(t, dry.Body)
	rep := decodeReport(t, dry) // and the summary's totals are the report's
	// It lists what it would release and the first skipped of each
	// region; it counts the rest, whose decisions are in the page records.
	unlisted := 0
	for _, r := range rep.Regions {
		unlisted += r.Unlisted["skipped/not-expired"]
	}
	if got, listed := len(rep.Instances.All()), len(expired)+2*report.ListedSkips; got != listed || got+unlisted != n {
		t.Errorf("the logged report lists %d instances and counts %d more, want %d listed and all %d accounted for", got, unlisted, listed, n)
	}
	if body, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	} else {
		checkSchema(t, reportSchema(t), body) // with its regions' unlisted counts
	}
	if got := rep.IDs(report.OutcomeWouldRelease); len(got) != len(expired) {
		t.Errorf("%d would-release, want %d", len(got), len(expired))
	}
	sum := decodeSummary(t, dry)
	if sum.Outcome != report.RunOK || sum.Totals[report.KindInstances]["would-release"] != len(expired) ||
		sum.Totals[report.KindInstances]["skipped/not-expired"] != n-len(expired) || sum.RegionStatus[report.RegionComplete] != 2 {
		t.Errorf("summary outcome %q, totals %v, regions %v", sum.Outcome, sum.Totals, sum.RegionStatus)
	}

	s.ecs.Inject(ecsdouble.Rule{Action: "DeleteInstances", Fault: ecsdouble.Error(400, "InvalidParameter")})
	failed := s.invoke(t, "big-fail", timerEvent(""))
	wantError(t, failed, "instances failed")
	if len(s.ecs.Released()) != 0 {
		t.Fatalf("released %d with every DeleteInstances refused", len(s.ecs.Released()))
	}
	fsum := loggedSummary(t, s.proc, "big-fail")
	frep := readLogged(t, s.proc, fsum.RunID, "big-fail")
	checkSummary(t, fsum, frep)
	if got := len(frep.IDs(report.OutcomeFailed)); got != len(expired) {
		t.Errorf("the logged report has %d failed, want %d", got, len(expired))
	}
	if fsum.Outcome != report.RunFailed || fsum.Error == "" || len(fsum.Failures) != report.SummaryFailures || fsum.FailuresOmitted != len(expired)-report.SummaryFailures {
		t.Errorf("failed run's summary: outcome %q, error %q, %d failures named, %d omitted; want failed, the error, %d and %d",
			fsum.Outcome, fsum.Error, len(fsum.Failures), fsum.FailuresOmitted, report.SummaryFailures, len(expired)-report.SummaryFailures)
	}
	for _, f := range fsum.Failures {
		if f.Kind != report.KindInstances || f.Code != "InvalidParameter" || !strings.HasPrefix(f.ID, "i-bp1big") || f.Region == "" {
			t.Errorf("failure %+v", f)
		}
	}
}
