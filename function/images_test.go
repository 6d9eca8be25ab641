package main

import (
	"strings"
	"sync"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// Custom images through the function binary (REAPER_RESOURCES=images):
// the expired image is deleted with DeleteImage, never with Force, and its
// snapshot stays as an ordinary one; the shared image is kept.
const imageFleet = `{
 "images": [
  {"id": "m-bp1expired", "region": "cn-hangzhou", "name": "old-build", "snapshots": ["s-bp1of-image"], "tags": {"reaper-expires": "2026-11-01"}},
  {"id": "m-bp1shared", "region": "cn-hangzhou", "sharedWith": ["1234567890"], "tags": {"reaper-expires": "2026-11-01"}},
  {"id": "m-bp1untagged", "region": "cn-hangzhou"}
 ],
 "snapshots": [
  {"id": "s-bp1of-image", "region": "cn-hangzhou", "disk": "d-bp1gone", "type": "user", "usage": "image", "size": 40}
 ]
}`

func TestBinaryReleasesAnExpiredImageAndKeepsASharedOne(t *testing.T) {
	s := startFleetStack(t, binary(t), imageFleet, "REAPER_REGIONS=cn-hangzhou", "REAPER_RESOURCES=images")
	var mu sync.Mutex
	var deletes []map[string]string
	s.ecs.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == "DeleteImage" {
			mu.Lock()
			deletes = append(deletes, c.Params)
			mu.Unlock()
		}
		return nil
	})
	res := s.invoke(t, "images", timerEvent(""))
	checkSchema(t, reportSchema(t), reportBody(t, res))
	rep := decodeReport(t, res)

	if _, ok := s.ecs.Image("m-bp1expired"); ok {
		t.Fatalf("the expired image is still there: %+v", rep.Regions[0].Section("images"))
	}
	if _, ok := s.ecs.Image("m-bp1shared"); !ok {
		t.Fatal("the shared image was deleted")
	}
	if _, ok := s.ecs.Image("m-bp1untagged"); !ok {
		t.Fatal("an image without the opt-in tag was deleted")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(deletes) != 1 || deletes[0]["ImageId"] != "m-bp1expired" || (deletes[0]["Force"] != "" && deletes[0]["Force"] != "false") {
		t.Errorf("DeleteImage calls %v: want one, for m-bp1expired, never with Force", deletes)
	}
	if sn, ok := s.ecs.Snapshot("s-bp1of-image"); !ok || sn.Usage != "none" {
		t.Errorf("the deleted image's snapshot: %+v (kept %v), want it kept with Usage none", sn, ok)
	}
	sec := rep.Regions[0].Section("images")
	if sec == nil || sec.Counts["released"] != 1 || sec.Counts["skipped/in-use"] != 1 {
		t.Fatalf("images section %+v", sec)
	}
	for _, g := range sec.Groups {
		for _, it := range g.Instances {
			if it.ID == "m-bp1expired" && !strings.Contains(it.Detail, "s-bp1of-image") {
				t.Errorf("the deleted image's item does not name the snapshot that stays: %q", it.Detail)
			}
		}
	}
}
