package report_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// The flat list is written from the groups and read back into them.
func TestRecordsRoundTrip(t *testing.T) {
	rep := sampleReport()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var flat struct {
		SchemaVersion int              `json:"schemaVersion"`
		Instances     []report.Record  `json:"instances"`
		Regions       []map[string]any `json:"regions"`
	}
	if err := json.Unmarshal(b, &flat); err != nil {
		t.Fatal(err)
	}
	if len(flat.Instances) != 3 || !reflect.DeepEqual(flat.Instances, rep.Instances.All()) {
		t.Fatalf("instances %+v, want %+v", flat.Instances, rep.Instances.All())
	}
	if f := flat.Instances[1]; f.ID != "i-c" || f.Outcome != report.OutcomeFailed || f.Code != "InvalidOperation.EniLinked" || f.Region != "cn-hangzhou" {
		t.Errorf("the failed record %+v", f)
	}
	if _, grouped := flat.Regions[0]["instances"]; grouped {
		t.Error("regions still carry the grouped instance lists")
	}

	var back report.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.IDs(report.OutcomeFailed), []string{"i-c"}) || !reflect.DeepEqual(back.Regions[0].IDs(report.OutcomeSkipped), []string{"i-b"}) {
		t.Errorf("decoded groups: failed %v, skipped %v", back.IDs(report.OutcomeFailed), back.Regions[0].IDs(report.OutcomeSkipped))
	}
	if back.Regions[0].Count(report.OutcomeReleased) != 1 {
		t.Errorf("decoded counts %v: the records must not be counted twice", back.Regions[0].Counts)
	}
	again, err := json.Marshal(&back)
	if err != nil || string(again) != string(b) {
		t.Errorf("re-encoded report differs:\n%s\n%s", again, b)
	}

	if err := json.Unmarshal([]byte(`{"regions":[],"instances":[{"id":"i-x","region":"nowhere","outcome":"released"}]}`), &back); err == nil {
		t.Error("a record naming a region the report lacks was accepted")
	}
}

// A large run's table: the summary first, at most Rows instance rows per
// region with the rest counted, and no endless lines.
func TestTextScales(t *testing.T) {
	hz := report.NewRegion("cn-hangzhou")
	hz.Seen, hz.OptedIn, hz.Complete = 2000, 2000, true
	for i := range 2000 {
		hz.Add(report.OutcomeSkipped, verdictReason(i), report.Item{ID: "i-" + strings.Repeat("x", 3) + strconv.Itoa(i), Facts: &report.Facts{Name: "box", Status: "Stopped"},
			Detail: strings.Repeat("a long explanation ", 20)})
	}
	hz.Finish()
	rep := &report.Report{RunID: "big", Regions: []*report.Region{hz}}
	rep.Total()
	var b strings.Builder
	if err := report.WriteTextWith(&b, rep, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Index(out, "Summary") > strings.Index(out, "Region cn-hangzhou") {
		t.Error("the summary is not first")
	}
	if rows := strings.Count(out, "  i-xxx"); rows != report.DefaultRows {
		t.Errorf("%d rows, want %d", rows, report.DefaultRows)
	}
	if !strings.Contains(out, "… and 1950 more") {
		t.Error("the cut rows are not counted")
	}
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 300 {
			t.Errorf("a line of %d characters: %.80q…", len([]rune(line)), line)
		}
	}
	b.Reset()
	if err := report.WriteTextWith(&b, rep, report.TextOptions{Rows: -1}); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(b.String(), "  i-xxx"); rows != 2000 {
		t.Errorf("all rows: %d", rows)
	}
}

func verdictReason(i int) report.Reason {
	return report.Reason("reason-number-" + strconv.Itoa(i%300))
}

// Every value a record carries fits the report's schema: an undocumented
// charge type is "" (unknown), and a time without a four-digit year is "".
func TestRecordValuesFitTheSchema(t *testing.T) {
	for _, ct := range []string{"Spot", "prepaid", "PrePaid ", "预付费", "\x00"} {
		if f := report.NewFacts("n", "Stopped", ct, time.Time{}); f.ChargeType != "" {
			t.Errorf("charge type %q recorded as %q", ct, f.ChargeType)
		}
	}
	if f := report.NewFacts("n", "Stopped", "PrePaid", time.Time{}); f.ChargeType != "PrePaid" {
		t.Errorf("PrePaid recorded as %q", f.ChargeType)
	}
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{time.Date(2026, 12, 1, 8, 0, 0, 500, time.FixedZone("x", 3600)), "2026-12-01T07:00:00Z"},
		{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), ""},
		{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), ""},
		{time.Time{}, ""},
	} {
		if got := report.Time(tc.at); got != tc.want {
			t.Errorf("Time(%v) = %q, want %q", tc.at, got, tc.want)
		}
	}
	f := &report.Facts{ExpiresAt: time.Date(10000, 1, 1, 13, 59, 59, 0, time.UTC).Unix()}
	if got := f.Expires(); got != "" {
		t.Errorf("an expiry in the year 10000 reads %q", got)
	}
}
