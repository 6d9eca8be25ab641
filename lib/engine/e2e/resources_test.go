package e2e_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// resourceFleet: disks, snapshots and EIPs that carry the opt-in tag
// themselves, one per safety case.
func resourceFleet() ecsdouble.Fleet {
	expired := map[string]string{optIn: "2026-11-01"}
	tags := func(extra ...string) map[string]string {
		m := map[string]string{optIn: "2026-11-01"}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	in := stopped("cn-hangzhou", "r", 1)
	in[0].Status, in[0].Tags = "Running", nil // an instance that is not ours
	return ecsdouble.Fleet{
		Instances: in,
		Disks: []ecsdouble.Disk{
			{ID: "d-expired-free", Region: "cn-hangzhou", Tags: expired, SizeGiB: 100},
			{ID: "d-expired-inuse", Region: "cn-hangzhou", Instance: in[0].ID, Tags: expired},
			{ID: "d-expired-kept", Region: "cn-hangzhou", Tags: tags(keep, "")},
			{ID: "d-expired-system", Region: "cn-hangzhou", Type: "system", Tags: expired},
			{ID: "d-later", Region: "cn-hangzhou", Tags: map[string]string{optIn: "2099-01-01"}},
			{ID: "d-untagged", Region: "cn-hangzhou"},
		},
		Snapshots: []ecsdouble.Snapshot{
			{ID: "s-expired-free", Region: "cn-hangzhou", Disk: "d-untagged", Tags: expired},
			{ID: "s-expired-image", Region: "cn-hangzhou", Disk: "d-untagged", Usage: "image", Tags: expired},
			{ID: "s-expired-disk", Region: "cn-hangzhou", Disk: "d-untagged", Usage: "disk", Tags: expired},
		},
		EIPs: []ecsdouble.EIP{
			{AllocationID: "eip-expired-free", Address: "47.0.1.1", Region: "cn-hangzhou", Tags: expired},
			{AllocationID: "eip-expired-kept", Address: "47.0.1.2", Region: "cn-hangzhou", Tags: tags(keep, "1")},
			{AllocationID: "eip-expired-protected", Address: "47.0.1.3", Region: "cn-hangzhou", DeletionProtection: true, Tags: expired},
			{AllocationID: "eip-expired-bound", Address: "47.0.1.4", Region: "cn-hangzhou", Instance: in[0].ID, Tags: expired},
		},
	}
}

func sectionOutcomes(sec *report.Section) map[string]string {
	out := map[string]string{}
	if sec == nil {
		return out
	}
	for _, g := range sec.Groups {
		for _, it := range g.Instances {
			out[it.ID] = string(g.Outcome) + "/" + string(g.Reason)
		}
	}
	return out
}

func TestResourcesSweptByTheirOwnTag(t *testing.T) {
	e := newEnv(t, resourceFleet())
	opts := options()
	opts.Resources = kinds.Names()
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Regions[0]
	want := map[string]string{
		"d-expired-free":        "released/",
		"d-expired-inuse":       "skipped/in-use",
		"d-expired-kept":        "skipped/excluded",
		"d-expired-system":      "skipped/system-disk",
		"d-later":               "skipped/not-expired",
		"s-expired-free":        "released/",
		"s-expired-image":       "skipped/in-use",
		"s-expired-disk":        "skipped/in-use",
		"eip-expired-free":      "released/",
		"eip-expired-kept":      "skipped/excluded",
		"eip-expired-protected": "skipped/deletion-protected",
		"eip-expired-bound":     "skipped/in-use",
	}
	got := sectionOutcomes(r.Section("disks"))
	for k, v := range sectionOutcomes(r.Section("snapshots")) {
		got[k] = v
	}
	for k, v := range sectionOutcomes(r.Section("eips")) {
		got[k] = v
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if _, ok := got["d-untagged"]; ok {
		t.Error("an untagged disk was even considered")
	}
	// The double agrees: only the three free ones are gone.
	for _, id := range []string{"d-expired-inuse", "d-expired-kept", "d-expired-system", "d-later", "d-untagged"} {
		if _, ok := e.srv.Disk(id); !ok {
			t.Errorf("disk %s was deleted", id)
		}
	}
	if _, ok := e.srv.Disk("d-expired-free"); ok {
		t.Error("the expired Available disk is still there")
	}
	for _, id := range []string{"s-expired-image", "s-expired-disk"} {
		if _, ok := e.srv.Snapshot(id); !ok {
			t.Errorf("snapshot %s in use was deleted", id)
		}
	}
	for _, id := range []string{"eip-expired-kept", "eip-expired-protected", "eip-expired-bound"} {
		if _, _, ok := e.srv.EIP(id); !ok {
			t.Errorf("EIP %s was released", id)
		}
	}
	if rep.Cap.Kinds["disks"] == nil || rep.Cap.Kinds["disks"].Eligible != 1 || rep.Cap.Eligible != 3 {
		t.Errorf("cap %+v kinds %+v: the count cap holds every write together", rep.Cap, rep.Cap.Kinds)
	}
	if rep.Totals.Kinds["disks"]["released"] != 1 || rep.Totals.Kinds["snapshots"]["released"] != 1 || rep.Totals.Kinds["eips"]["released"] != 1 {
		t.Errorf("totals %+v", rep.Totals)
	}
}

func TestResourceCapsCountEachKind(t *testing.T) {
	f := resourceFleet()
	e := newEnv(t, f)
	opts := options()
	opts.Resources = []string{kinds.Disks.Name}
	opts.MaxReleasePercent, opts.PercentCapFrom = 10, 1 // 1 of 5 tagged disks is 20 %
	rep, err := run(t, e, opts, "cn-hangzhou")
	if !errors.Is(err, engine.ErrCapExceeded) || !strings.Contains(err.Error(), "by disks (1 of 5") {
		t.Fatalf("err %v: want the percent cap tripped by the disks' own share", err)
	}
	if _, ok := e.srv.Disk("d-expired-free"); !ok {
		t.Fatal("deleted over the cap")
	}
	if got := sectionOutcomes(rep.Regions[0].Section("disks"))["d-expired-free"]; got != "not-attempted/cap-exceeded" {
		t.Errorf("held disk: %s", got)
	}
}

func TestResourceListingThatFailsClosesTheScope(t *testing.T) {
	e := newEnv(t, resourceFleet())
	e.srv.Inject(ecsdouble.Rule{Action: "DescribeSnapshots", Fault: ecsdouble.Internal()})
	opts := options()
	opts.Resources = kinds.Names()
	rep, err := run(t, e, opts, "cn-hangzhou")
	if !errors.Is(err, engine.ErrRegionFailed) || rep.Regions[0].Error == nil || !strings.Contains(rep.Regions[0].Error.Message, "snapshots") {
		t.Fatalf("err %v: want the region failed closed, naming the snapshot listing", err)
	}
	if _, ok := e.srv.Disk("d-expired-free"); !ok {
		t.Fatal("a disk was deleted in a region whose listing failed")
	}
}

func TestThrottledDeleteIsRetried(t *testing.T) {
	e := newEnv(t, resourceFleet())
	e.srv.Inject(ecsdouble.Rule{Action: "DeleteDisk", Times: 2, Fault: ecsdouble.Throttle()})
	opts := options()
	opts.Resources = []string{kinds.Disks.Name}
	if _, err := run(t, e, opts, "cn-hangzhou"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.srv.Disk("d-expired-free"); ok || e.srv.CallCount("DeleteDisk") != 3 {
		t.Fatalf("DeleteDisk called %d times; disk still there: %v", e.srv.CallCount("DeleteDisk"), ok)
	}
}

func TestResourcesOnlyLeaveInstancesAlone(t *testing.T) {
	f := resourceFleet()
	f.Instances = stopped("cn-hangzhou", "x", 2) // expired instances
	e := newEnv(t, f)
	opts := options()
	opts.Resources, opts.SkipInstances = []string{kinds.Disks.Name}, true
	if _, err := run(t, e, opts, "cn-hangzhou"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.srv.Released()); n != 1 {
		t.Fatalf("released %v: want the disk only, no instance", e.srv.Released())
	}
}
