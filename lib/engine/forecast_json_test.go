package engine_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
)

// TestForecastDayJSONHasNoEmptyOwner: the part of a day without an owner
// tag is noOwner in the JSON, never an owner "", and reads back the same.
func TestForecastDayJSONHasNoEmptyOwner(t *testing.T) {
	day := engine.ForecastDay{Date: "2026-12-07", Owners: map[string]*engine.ForecastOwner{
		"":    {Counts: engine.ForecastCounts{Releases: 2}, Released: []string{"i-2", "i-3"}},
		"ana": {Counts: engine.ForecastCounts{Notices: 1}, Notified: []string{"i-1"}},
	}, Totals: engine.ForecastCounts{Notices: 1, Releases: 2}}
	b, err := json.Marshal(day)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"":`) || !strings.Contains(string(b), `"noOwner":{`) || !strings.Contains(string(b), `"ana":{`) {
		t.Errorf("JSON %s: want owners without \"\", and noOwner", b)
	}
	var back engine.ForecastDay
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, day) {
		t.Errorf("read back %+v, want %+v", back, day)
	}
	// A day whose every part has an owner has no noOwner.
	delete(day.Owners, "")
	if b, _ := json.Marshal(day); strings.Contains(string(b), "noOwner") {
		t.Errorf("JSON %s", b)
	}
}
