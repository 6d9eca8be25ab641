package kinds_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
)

const (
	optIn = "reaper-expires"
	keep  = "reaper-keep"
)

// Custom images are swept by their own tag through the list: the whole,
// unused, expired one is deleted (saying its snapshots stay), each one a
// rule holds is kept with its reason, and only the deleted one is asked.
func TestImagesSweptByTheirOwnTag(t *testing.T) {
	no, yes := false, true
	img := func(id string, edit func(*cloud.Image)) cloud.Image {
		im := cloud.Image{ID: id, Region: "r-1", Status: "Available", OwnerAlias: "self", Usage: "none", SelfShared: "false",
			IsPublic: &no, CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{optIn: "2026-11-01"}}
		if edit != nil {
			edit(&im)
		}
		return im
	}
	c := fake.New(nil, "r-1")
	c.SetResources(fake.Resources{
		Images: []cloud.Image{
			img("m-expired", func(i *cloud.Image) { i.SnapshotIDs = []string{"s-of-image"} }),
			img("m-used", func(i *cloud.Image) { i.Usage = "instance" }),
			img("m-shared", func(i *cloud.Image) { i.SelfShared = "true" }),
			img("m-public", func(i *cloud.Image) { i.IsPublic = &yes }),
			img("m-failed", func(i *cloud.Image) { i.Status = "CreateFailed" }),
			img("m-no-public", func(i *cloud.Image) { i.IsPublic = nil }),
			img("m-kept", func(i *cloud.Image) { i.Tags[keep] = "" }),
			img("m-later", func(i *cloud.Image) { i.Tags[optIn] = "2099-01-01" }),
		},
		Snapshots: []cloud.Snapshot{{ID: "s-of-image", Region: "r-1", Usage: "image", Status: "accomplished", Type: "user"}},
	})
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	opts := engine.Options{Rules: decide.Rules{OptInKey: optIn, KeepKey: keep}, MaxRelease: 100, MaxReleasePercent: 100,
		Resources: []string{kinds.Images.Name}, SkipInstances: true, Now: func() time.Time { return now },
		Retry: engine.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
	rep, err := engine.New(opts, nil).RunRegions(t.Context(), c, "", []string{"r-1"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	detail := ""
	for _, g := range rep.Regions[0].Section(kinds.Images.Name).Groups {
		for _, it := range g.Instances {
			got[it.ID] = string(g.Outcome) + "/" + string(g.Reason)
			if it.ID == "m-expired" {
				detail = it.Detail
			}
		}
	}
	want := map[string]string{
		"m-expired": "released/", "m-used": "skipped/in-use", "m-shared": "skipped/in-use", "m-public": "skipped/in-use",
		"m-failed": "skipped/transitional-state", "m-no-public": "skipped/invalid-data", "m-kept": "skipped/excluded",
		"m-later": "skipped/not-expired",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if !strings.Contains(detail, "s-of-image") || !strings.Contains(detail, "snapshots kind") {
		t.Errorf("the deleted image's item does not say its snapshots stay: %q", detail)
	}
	if n := c.Count(ecsapi.ActionDeleteImage); n != 1 {
		t.Errorf("%d DeleteImage calls, want 1 (the expired image only)", n)
	}
	if rep.Totals.Kinds[kinds.Images.Name]["released"] != 1 {
		t.Errorf("image totals %v", rep.Totals.Kinds[kinds.Images.Name])
	}
}
