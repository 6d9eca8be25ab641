package main

import (
	"encoding/json"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// What a release leaves behind, through the function binary: the
// instance's EIP, kept data disk and surviving snapshots are named in the
// report; with REAPER_RELEASE_EIPS the EIP goes after the instance; with
// REAPER_RESOURCES the disks that carry the opt-in tag themselves are
// swept by their own safety.
const leftoverFleet = `{
 "instances": [
  {"id": "i-bp1left00000001", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01"}}
 ],
 "disks": [
  {"id": "d-bp1sys", "region": "cn-hangzhou", "instance": "i-bp1left00000001", "type": "system", "size": 40, "deleteWithInstance": true, "deleteAutoSnapshot": true},
  {"id": "d-bp1kept", "region": "cn-hangzhou", "instance": "i-bp1left00000001", "size": 200, "category": "cloud_essd"},
  {"id": "d-bp1own-expired", "region": "cn-hangzhou", "size": 100, "tags": {"reaper-expires": "2026-11-01"}},
  {"id": "d-bp1own-inuse", "region": "cn-hangzhou", "instance": "i-bp1left00000001", "size": 20, "tags": {"reaper-expires": "2026-11-01"}, "deleteWithInstance": false}
 ],
 "snapshots": [
  {"id": "s-bp1auto-kept", "region": "cn-hangzhou", "disk": "d-bp1kept", "type": "auto", "size": 200},
  {"id": "s-bp1manual-sys", "region": "cn-hangzhou", "disk": "d-bp1sys", "type": "user", "size": 40},
  {"id": "s-bp1auto-sys", "region": "cn-hangzhou", "disk": "d-bp1sys", "type": "auto", "size": 40}
 ],
 "eips": [
  {"allocationId": "eip-bp1bound", "address": "47.1.2.3", "region": "cn-hangzhou", "instance": "i-bp1left00000001"}
 ]
}`

func TestBinaryLeftoversAndResources(t *testing.T) {
	s := startFleetStack(t, binary(t), leftoverFleet,
		"REAPER_REGIONS=cn-hangzhou", "REAPER_RELEASE_EIPS=true", "REAPER_RESOURCES=instances,disks", "REAPER_MARK_SECRET="+fnMarkSecret)

	// The EIP must not be released while its instance still holds it.
	released := false
	s.ecs.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		switch c.Action {
		case "DeleteInstances":
			released = true
		case "ReleaseEipAddress":
			if !released {
				t.Errorf("ReleaseEipAddress before the instance's release")
			}
		}
		return nil
	})
	rep := decodeReport(t, s.invoke(t, "leftovers", timerEvent("")))

	if _, ok := s.ecs.Instance("i-bp1left00000001"); ok {
		t.Fatalf("the expired instance was not released: %v", s.ecs.Released())
	}
	r := rep.Regions[0]
	if len(r.Leftovers) != 1 {
		t.Fatalf("leftovers %+v", r.Leftovers)
	}
	left := r.Leftovers[0]
	if len(left.EIPs) != 1 || left.EIPs[0].AllocationID != "eip-bp1bound" || left.EIPs[0].Address != "47.1.2.3" {
		t.Errorf("leftover EIPs %+v", left.EIPs)
	}
	disks := map[string]report.LeftDisk{}
	for _, d := range left.Disks {
		disks[d.ID] = d
	}
	if d, ok := disks["d-bp1kept"]; !ok || d.SizeGiB != 200 || d.Category != "cloud_essd" || len(disks) != 2 {
		t.Errorf("leftover disks %+v, want d-bp1kept (200 GiB cloud_essd) and d-bp1own-inuse", left.Disks)
	}
	snaps := map[string]string{}
	for _, sn := range left.Snapshots {
		snaps[sn.ID] = sn.Type
	}
	if snaps["s-bp1auto-kept"] != "automatic" || snaps["s-bp1manual-sys"] != "manual" || len(snaps) != 2 {
		t.Errorf("leftover snapshots %v: want the kept disk's automatic one and the manual one, not the automatic snapshot deleted with its disk", snaps)
	}
	if sum := rep.Leftovers; sum == nil || !sum.Complete || sum.EIPs != 1 || sum.Disks != 2 || sum.DiskGiB != 220 || sum.Snapshots != 2 || sum.SnapshotGiB != 240 {
		t.Errorf("leftover totals %+v", sum)
	}

	// The EIP went after its instance; the kept disk stays; the disk that
	// carries the tag itself and is Available went; the one that was in
	// use when listed stays for a later run.
	if _, _, ok := s.ecs.EIP("eip-bp1bound"); ok {
		t.Error("the released instance's EIP is still allocated")
	}
	if _, ok := s.ecs.Disk("d-bp1kept"); !ok {
		t.Fatal("a kept disk was deleted because its instance was released")
	}
	if _, ok := s.ecs.Disk("d-bp1own-expired"); ok {
		t.Error("the expired Available disk is still there")
	}
	if _, ok := s.ecs.Disk("d-bp1own-inuse"); !ok {
		t.Error("a disk that was In_use when listed was deleted")
	}
	if rep.Totals.Kinds["disks"]["released"] != 1 || rep.Totals.Kinds["eips"]["released"] != 1 {
		t.Errorf("disk outcomes %v, EIP outcomes %v", rep.Totals.Kinds["disks"], rep.Totals.Kinds["eips"])
	}
}

// A leftover listing that fails does not hold the release back, and the
// run says the leftover section is incomplete.
func TestBinaryLeftoverListingFails(t *testing.T) {
	s := startFleetStack(t, binary(t), leftoverFleet, "REAPER_REGIONS=cn-hangzhou")
	s.ecs.FailNext("DescribeEipAddresses", 100, ecsdouble.Unavailable())
	rep := decodeReport(t, s.invoke(t, "leftovers-fail", timerEvent("")))
	if _, ok := s.ecs.Instance("i-bp1left00000001"); ok {
		t.Fatalf("a failed leftover listing held the release back: %v", s.ecs.Released())
	}
	if sum := rep.Leftovers; sum == nil || sum.Complete {
		t.Fatalf("leftover totals %+v: want incomplete", sum)
	}
	if rep.Warning == "" {
		t.Error("no warning for the incomplete leftover section")
	}
	if _, _, ok := s.ecs.EIP("eip-bp1bound"); !ok {
		t.Error("an EIP was released without REAPER_RELEASE_EIPS")
	}
}

// Each leftover names its instance's owner, so the bill left behind is
// joined to a person without a second lookup; an instance without an
// owner tag has no owner at all in the JSON (not "").
func TestBinaryLeftoversCarryTheOwner(t *testing.T) {
	const fleet = `{
 "instances": [
  {"id": "i-bp1owned0000001", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01", "owner": "ana@example.com"}},
  {"id": "i-bp1ownerless002", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01"}}
 ],
 "disks": [
  {"id": "d-bp1owned-kept", "region": "cn-hangzhou", "instance": "i-bp1owned0000001", "size": 50, "category": "cloud_essd"}
 ],
 "eips": [
  {"allocationId": "eip-bp1ownerless", "address": "47.1.2.4", "region": "cn-hangzhou", "instance": "i-bp1ownerless002"}
 ]
}`
	s := startFleetStack(t, binary(t), fleet, "REAPER_REGIONS=cn-hangzhou")
	body := reportBody(t, s.invoke(t, "leftover-owners", timerEvent("")))
	checkSchema(t, reportSchema(t), body)
	var rep struct {
		Instances []map[string]any `json:"instances"`
		Regions   []struct {
			Leftovers []map[string]any `json:"leftovers"`
		} `json:"regions"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	owners := map[string]any{}
	for _, in := range rep.Instances {
		owners[in["id"].(string)] = in["owner"]
	}
	if owners["i-bp1owned0000001"] != "ana@example.com" {
		t.Errorf("the owned instance's owner is %v", owners["i-bp1owned0000001"])
	}
	for _, in := range rep.Instances {
		if _, has := in["owner"]; has && in["id"] == "i-bp1ownerless002" {
			t.Errorf("the instance without an owner tag carries an owner field: %v", in)
		}
	}
	if len(rep.Regions) != 1 || len(rep.Regions[0].Leftovers) != 2 {
		t.Fatalf("leftovers %+v", rep.Regions)
	}
	for _, l := range rep.Regions[0].Leftovers {
		owner, has := l["owner"]
		switch l["instanceId"] {
		case "i-bp1owned0000001":
			if owner != "ana@example.com" {
				t.Errorf("the owned instance's leftover has owner %v", owner)
			}
		case "i-bp1ownerless002":
			if has {
				t.Errorf("the ownerless instance's leftover has owner %q, want no owner field", owner)
			}
		default:
			t.Errorf("unexpected leftover %v", l)
		}
	}
}
