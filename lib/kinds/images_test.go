package kinds_test

import (
	"errors"
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

// Images are held to the caps like every kind: their own share under the
// percent cap, and every image delete under the count cap; over either,
// no image is deleted.
func TestImagesAreCappedOnTheirOwnShare(t *testing.T) {
	no := false
	var images []cloud.Image
	for _, id := range []string{"m-1", "m-2", "m-3", "m-4"} {
		tag := "2026-11-01"
		if id == "m-4" {
			tag = "2099-01-01"
		}
		images = append(images, cloud.Image{ID: id, Region: "r-1", Status: "Available", OwnerAlias: "self", Usage: "none", SelfShared: "false",
			IsPublic: &no, CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{optIn: tag}})
	}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name             string
		count            int
		percent          float64
		exceeded, quotas bool
	}{
		{"under both caps", 3, 75, false, false},
		{"over the percent cap (3 of 4 images)", 100, 50, true, false},
		{"over the count cap", 2, 100, true, true},
	} {
		c := fake.New(nil, "r-1")
		c.SetResources(fake.Resources{Images: images})
		opts := engine.Options{Rules: decide.Rules{OptInKey: optIn, KeepKey: keep}, MaxRelease: tc.count, MaxReleasePercent: tc.percent, PercentCapFrom: 1,
			Resources: []string{kinds.Images.Name}, SkipInstances: true, Now: func() time.Time { return now },
			Retry: engine.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}}
		rep, err := engine.New(opts, nil).RunRegions(t.Context(), c, "", []string{"r-1"})
		deletes := c.Count(ecsapi.ActionDeleteImage)
		switch {
		case tc.exceeded && (!errors.Is(err, engine.ErrCapExceeded) || deletes != 0):
			t.Errorf("%s: err %v, %d deletes; want the cap exceeded and none", tc.name, err, deletes)
		case !tc.exceeded && (err != nil || deletes != 3):
			t.Errorf("%s: err %v, %d deletes; want 3", tc.name, err, deletes)
		}
		if k := rep.Cap.Kinds[kinds.Images.Name]; k == nil || k.Eligible != 3 || k.OptedIn != 4 || k.Exceeded != (tc.exceeded && !tc.quotas) {
			t.Errorf("%s: the cap check's images %+v", tc.name, k)
		}
	}
}
