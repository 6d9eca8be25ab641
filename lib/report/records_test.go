package report_test

import (
	"encoding/json"
	"reflect"
	"testing"

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
