package report_test

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// A section is a field of its region under its kind's name, and its
// counts a field of the totals, as when each kind had its own field; a
// report read back has the same sections.
func TestSectionsAreFieldsOfTheirRegion(t *testing.T) {
	rep := &report.Report{RunID: "r", Regions: []*report.Region{{Region: "cn-hangzhou", Counts: map[string]int{}}}}
	rep.Regions[0].Sections = report.Sections{"disks": &report.Section{}, "images": &report.Section{}}
	rep.Regions[0].Section("disks").Add(report.OutcomeReleased, "", report.Item{ID: "d-1"})
	rep.Regions[0].Section("images").Add(report.OutcomeSkipped, "in-use", report.Item{ID: "m-1"})
	rep.Total()
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var shape struct {
		Totals  map[string]json.RawMessage   `json:"totals"`
		Regions []map[string]json.RawMessage `json:"regions"`
	}
	if err := json.Unmarshal(b, &shape); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"disks", "images"} {
		if !strings.Contains(string(shape.Regions[0][name]), `"counts"`) || shape.Totals[name] == nil {
			t.Errorf("%s: region field %s, totals field %s", name, shape.Regions[0][name], shape.Totals[name])
		}
	}
	var back report.Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got := back.Regions[0].Section("images")
	if got == nil || len(got.Groups) != 1 || got.Groups[0].Instances[0].ID != "m-1" || !maps.Equal(back.Totals.Kinds["disks"], rep.Totals.Kinds["disks"]) {
		t.Fatalf("read back: images %+v, disk totals %v", got, back.Totals.Kinds["disks"])
	}
	if back.Regions[0].Section("counts") != nil || back.Regions[0].Section("calls") != nil {
		t.Fatal("a region's own field read as a section")
	}
}
