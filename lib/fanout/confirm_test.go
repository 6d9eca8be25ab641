package fanout_test

import (
	"reflect"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

func TestConfirmReleasesOnlyWhatIsPlannedAndStillEligible(t *testing.T) {
	force := decide.Flags{Force: true}
	r := fanout.RegionPlan{Region: "cn-hangzhou", OptedIn: 10, Release: []fanout.Group{
		{IDs: []string{"i-1", "i-2", "i-3"}},
		{Flags: force, IDs: []string{"i-4", "i-5"}},
	}}
	fresh := map[string]decide.Flags{
		"i-1": {},    // still eligible
		"i-3": force, // now eligible only with Force: not what was planned
		"i-4": force, // still eligible
		"i-9": {},    // eligible now, but not in the plan (created since, or over the cap)
	}
	keep, dropped := fanout.Confirm(r, fresh)
	want := []fanout.Group{{IDs: []string{"i-1"}}, {Flags: force, IDs: []string{"i-4"}}}
	if !reflect.DeepEqual(keep, want) {
		t.Errorf("keep %+v, want %+v", keep, want)
	}
	if !reflect.DeepEqual(dropped, []string{"i-2", "i-3", "i-5"}) {
		t.Errorf("dropped %v", dropped)
	}
	if keep, _ := fanout.Confirm(r, nil); keep != nil {
		t.Errorf("nothing eligible any more: %+v", keep)
	}
}
