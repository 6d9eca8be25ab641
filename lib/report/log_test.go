package report_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// largeReport is a 100,000-instance run over 20 regions, with long failure
// messages on some instances.
func largeReport() *report.Report {
	rep := &report.Report{RunID: "timer@2026-01-02T03:04:05Z"}
	for r := range 20 {
		region := report.NewRegion(fmt.Sprintf("region-%02d", r))
		region.Seen, region.OptedIn, region.Complete = 5000, 5000, true
		var batch *report.Batch
		for i := range 5000 {
			id := fmt.Sprintf("i-bp1%02d%015d", r, i)
			switch {
			case i%5 == 0:
				region.Add(report.OutcomeSkipped, decide.ReasonNotExpired, report.Item{ID: id, Detail: "expires 2027-01-01T00:00:00Z"})
			case i%97 == 0:
				region.Add(report.OutcomeFailed, "", report.Item{ID: id, Code: "InvalidOperation.EniLinked",
					Message: strings.Repeat("<ENI \"linked\"> ", 18), RequestID: "4E6B3D8A-1111-2222-3333-444455556666"})
			default:
				region.Add(report.OutcomeReleased, "", report.Item{ID: id, Detail: "expired 2026-01-01T00:00:00Z; stopped", Owner: "team-" + strings.Repeat("o", 60),
					Facts: report.NewFacts(strings.Repeat("n", 128), "Stopped", "PostPaid", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))})
				if batch == nil || len(batch.InstanceIDs) == 100 {
					batch = &report.Batch{ClientToken: fmt.Sprintf("tok-%d-%d", r, i), Attempts: 1, Result: "released",
						RequestIDs: []string{"4E6B3D8A-1111-2222-3333-444455556666"}}
					region.Batches = append(region.Batches, batch)
				}
				batch.InstanceIDs = append(batch.InstanceIDs, id)
			}
		}
		region.Finish()
		rep.Regions = append(rep.Regions, region)
	}
	rep.Total()
	return rep
}

type logLine struct {
	Msg     string          `json:"msg"`
	RunID   string          `json:"run_id"`
	Region  string          `json:"region"`
	Outcome report.Outcome  `json:"outcome"`
	Reason  string          `json:"reason"`
	Part    int             `json:"part"`
	Parts   int             `json:"parts"`
	Items   []report.Item   `json:"items"`
	Batches []*report.Batch `json:"batches"`
	Report  *report.Head    `json:"report"`
}

// TestLogSplitsLargeReports: no record of a 100,000-instance report is much
// over the bound, and the records put back together are the whole report.
func TestLogSplitsLargeReports(t *testing.T) {
	rep := largeReport()
	whole, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	report.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), rep)

	type groupKey struct {
		region  string
		outcome report.Outcome
		reason  string
	}
	items := map[groupKey][]report.Item{}
	batches := map[string][]*report.Batch{}
	nextPart := map[string]int{}
	var summary *report.Head
	records := 0
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		records++
		line := sc.Bytes()
		if len(line) > report.MaxLogRecordBytes+1024 {
			t.Fatalf("a %q record is %d bytes, over the bound of %d", line[:60], len(line), report.MaxLogRecordBytes)
		}
		var l logLine
		if err := json.Unmarshal(line, &l); err != nil {
			t.Fatalf("record %d: %v", records, err)
		}
		partKey := l.Msg + "/" + l.Region + "/" + string(l.Outcome) + "/" + l.Reason
		switch l.Msg {
		case "report":
			summary = l.Report
			continue
		case "report instances":
			k := groupKey{l.Region, l.Outcome, l.Reason}
			items[k] = append(items[k], l.Items...)
		case "report batches":
			batches[l.Region] = append(batches[l.Region], l.Batches...)
		default:
			t.Fatalf("unexpected record %q", l.Msg)
		}
		if l.RunID != rep.RunID {
			t.Errorf("record %d has run_id %q", records, l.RunID)
		}
		if nextPart[partKey]++; l.Part != nextPart[partKey] || l.Part > l.Parts {
			t.Errorf("%s: part %d of %d, want part %d", partKey, l.Part, l.Parts, nextPart[partKey])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d-byte report logged as %d records", len(whole), records)
	if records < len(whole)/report.MaxLogRecordBytes {
		t.Errorf("%d records for a %d-byte report", records, len(whole))
	}
	if summary == nil || !reflect.DeepEqual(summary.Totals, rep.Totals) || len(summary.Regions) != len(rep.Regions) ||
		summary.Regions[3].Batches != len(rep.Regions[3].Batches) || summary.Regions[3].Counts["released"] != rep.Regions[3].Count(report.OutcomeReleased) {
		t.Fatalf("summary does not match the report: %+v", summary)
	}
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			if got := items[groupKey{r.Region, g.Outcome, string(g.Reason)}]; !reflect.DeepEqual(got, g.Instances) {
				t.Errorf("%s %s/%s: %d items logged, want the %d of the report", r.Region, g.Outcome, g.Reason, len(got), len(g.Instances))
			}
		}
		if got := batches[r.Region]; !reflect.DeepEqual(got, r.Batches) {
			t.Errorf("%s: %d batches logged, want the %d of the report", r.Region, len(got), len(r.Batches))
		}
	}
}

func TestLogSmallReportAndNil(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	report.Log(context.Background(), logger, nil)
	if buf.Len() != 0 {
		t.Fatalf("nil report logged: %s", buf.String())
	}
	rep := sampleReport()
	report.Log(context.Background(), logger, rep)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// The summary, one record per group (3 in cn-hangzhou), one for its
	// batches; cn-shanghai has neither.
	if len(lines) != 5 || !strings.Contains(lines[0], `"msg":"report"`) || !strings.Contains(lines[0], `"code":"Forbidden.RAM"`) {
		t.Fatalf("records:\n%s", buf.String())
	}
}
