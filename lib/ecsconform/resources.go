package ecsconform

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// disk is a pay-as-you-go data disk, In_use when it names an instance.
func disk(region, id, instanceID string, tags map[string]string) cloud.Disk {
	d := cloud.Disk{ID: id, Region: region, Status: "Available", Type: "data", Category: "cloud_essd", ChargeType: "PostPaid",
		SizeGiB: 40, InstanceID: instanceID, CreationTime: "2026-01-01T00:00Z", Tags: tags}
	if instanceID != "" {
		d.Status = "In_use"
	}
	return d
}

// snapshot is a manual snapshot nothing was made from.
func snapshot(region, id, diskID string, tags map[string]string) cloud.Snapshot {
	return cloud.Snapshot{ID: id, Region: region, SourceDiskID: diskID, Type: "user", Usage: "none", Status: "accomplished",
		SizeGiB: 40, CreationTime: "2026-01-01T00:00Z", Tags: tags}
}

// eip is a pay-as-you-go EIP, InUse when it names an instance.
func eip(region, id, instanceID string, tags map[string]string) cloud.EIP {
	e := cloud.EIP{AllocationID: id, Address: "192.0.2.1", Region: region, Status: "Available", ChargeType: "PostPaid", Tags: tags}
	if instanceID != "" {
		e.Status, e.InstanceID, e.InstanceType = "InUse", instanceID, "EcsInstance"
	}
	return e
}

func tagged(i int) map[string]string {
	if i%3 == 0 {
		return map[string]string{optIn: "2026-11-01"}
	}
	return nil
}

func listDisks(t *testing.T, api API, in ecsapi.ListInput) []cloud.Disk {
	t.Helper()
	var all []cloud.Disk
	for range maxPages {
		page, err := api.DescribeDisks(ctx(t), in)
		noErr(t, "DescribeDisks", err)
		if len(page.Disks) > ecsapi.MaxDiskPage {
			t.Fatalf("a DescribeDisks page of %d", len(page.Disks))
		}
		all = append(all, page.Disks...)
		if page.NextToken == "" {
			return all
		}
		in.NextToken = page.NextToken
	}
	t.Fatalf("DescribeDisks: more than %d pages", maxPages)
	return nil
}

func listSnapshots(t *testing.T, api API, in ecsapi.ListInput) []cloud.Snapshot {
	t.Helper()
	var all []cloud.Snapshot
	for range maxPages {
		page, err := api.DescribeSnapshots(ctx(t), in)
		noErr(t, "DescribeSnapshots", err)
		if len(page.Snapshots) > ecsapi.MaxSnapshotPage {
			t.Fatalf("a DescribeSnapshots page of %d", len(page.Snapshots))
		}
		all = append(all, page.Snapshots...)
		if page.NextToken == "" {
			return all
		}
		in.NextToken = page.NextToken
	}
	t.Fatalf("DescribeSnapshots: more than %d pages", maxPages)
	return nil
}

// listEIPs reads every page by number, as far as TotalCount says.
func listEIPs(t *testing.T, api API, in ecsapi.EIPInput) []cloud.EIP {
	t.Helper()
	var all []cloud.EIP
	for in.Page = 1; in.Page <= maxPages; in.Page++ {
		page, err := api.DescribeEipAddresses(ctx(t), in)
		noErr(t, "DescribeEipAddresses", err)
		if len(page.EIPs) > ecsapi.MaxEIPPage {
			t.Fatalf("a DescribeEipAddresses page of %d", len(page.EIPs))
		}
		all = append(all, page.EIPs...)
		if len(all) >= page.TotalCount || len(page.EIPs) == 0 {
			if len(all) != page.TotalCount {
				t.Fatalf("listed %d EIPs, TotalCount %d", len(all), page.TotalCount)
			}
			return all
		}
	}
	t.Fatalf("DescribeEipAddresses: more than %d pages", maxPages)
	return nil
}

func ids[T interface{ ResourceID() string }](list []T) []string {
	out := make([]string, len(list))
	for i, r := range list {
		out[i] = r.ResourceID()
	}
	return out
}

func testDisks(t *testing.T, newModel NewModel) {
	var fleet, want []cloud.Disk
	for i := range 600 {
		d := disk(hz, fmt.Sprintf("d-%05d", i), "", tagged(i))
		fleet = append(fleet, d)
		if d.Tags != nil {
			want = append(want, d)
		}
	}
	fleet[1].InstanceID, fleet[1].Status = "i-owner", "In_use"
	fleet[2].ChargeType = "PrePaid"
	fleet[4].Type, fleet[4].Category, fleet[4].DeleteWithInstance, fleet[4].DeleteAutoSnapshot = "system", "cloud_auto", true, true
	fleet[0].DeleteAutoSnapshot = true
	auto, manual := snapshot(hz, "s-auto", fleet[0].ID, nil), snapshot(hz, "s-manual", fleet[0].ID, nil)
	auto.Type = "auto"
	m := newModel(t, Fleet{Instances: []cloud.Instance{instance(hz, "i-owner", nil)},
		Disks: append(slices.Clone(fleet), disk(sh, "d-other", "", tagged(0))), Snapshots: []cloud.Snapshot{auto, manual}})

	all := listDisks(t, m.API, ecsapi.ListInput{Region: hz})
	once(t, "DescribeDisks", ids(all))
	sameIDs(t, "DescribeDisks", ids(all), ids(fleet))
	for _, d := range all[:6] {
		i := slices.IndexFunc(fleet, func(f cloud.Disk) bool { return f.ID == d.ID })
		if !reflect.DeepEqual(d, fleet[i]) {
			t.Errorf("disk as listed\n got %+v\nwant %+v", d, fleet[i])
		}
	}
	sameIDs(t, "DescribeDisks by tag", ids(listDisks(t, m.API, ecsapi.ListInput{Region: hz, TagKey: optIn})), ids(want))
	sameIDs(t, "DescribeDisks by ID", ids(listDisks(t, m.API, ecsapi.ListInput{Region: hz, IDs: []string{"d-00007", "d-none", "d-other"}})), []string{"d-00007"})

	_, err := m.API.DeleteDisk(ctx(t), hz, fleet[1].ID)
	wantCode(t, "delete an attached disk", err, "DiskStillAttached", ecsapi.ClassInstance)
	_, err = m.API.DeleteDisk(ctx(t), hz, fleet[2].ID)
	wantCode(t, "delete a subscription disk", err, "InvalidDiskChargeType.NotSupported", ecsapi.ClassInstance)
	id, err := m.API.DeleteDisk(ctx(t), hz, fleet[0].ID)
	if err != nil || id == "" {
		t.Fatalf("delete an Available disk: %q, %s", id, describe(err))
	}
	_, err = m.API.DeleteDisk(ctx(t), hz, fleet[0].ID)
	noErr(t, "delete a missing disk (documented: ignored)", err)
	left := ids(listDisks(t, m.API, ecsapi.ListInput{Region: hz, IDs: []string{fleet[0].ID, fleet[1].ID, fleet[2].ID}}))
	sameIDs(t, "disks after the deletes", left, []string{fleet[1].ID, fleet[2].ID})
	// Its automatic snapshots went with it (DeleteAutoSnapshot); manual ones stay.
	sameIDs(t, "snapshots after the disk's delete", ids(listSnapshots(t, m.API, ecsapi.ListInput{Region: hz})), []string{manual.ID})
}

func testSnapshots(t *testing.T, newModel NewModel) {
	var fleet, want []cloud.Snapshot
	for i := range 150 {
		s := snapshot(hz, fmt.Sprintf("s-%05d", i), "d-gone", tagged(i))
		fleet = append(fleet, s)
		if s.Tags != nil {
			want = append(want, s)
		}
	}
	fleet[1].Usage = "image"
	fleet[2].Usage = "disk"
	fleet[3].Type = "auto"
	m := newModel(t, Fleet{Snapshots: append(slices.Clone(fleet), snapshot(sh, "s-other", "d-x", tagged(0)))})
	all := listSnapshots(t, m.API, ecsapi.ListInput{Region: hz})
	once(t, "DescribeSnapshots", ids(all))
	sameIDs(t, "DescribeSnapshots", ids(all), ids(fleet))
	for _, s := range all[:5] {
		i := slices.IndexFunc(fleet, func(f cloud.Snapshot) bool { return f.ID == s.ID })
		if !reflect.DeepEqual(s, fleet[i]) {
			t.Errorf("snapshot as listed\n got %+v\nwant %+v", s, fleet[i])
		}
	}
	sameIDs(t, "DescribeSnapshots by tag", ids(listSnapshots(t, m.API, ecsapi.ListInput{Region: hz, TagKey: optIn})), ids(want))
	sameIDs(t, "DescribeSnapshots by ID", ids(listSnapshots(t, m.API, ecsapi.ListInput{Region: hz, IDs: []string{"s-00009", "s-none", "s-other"}})), []string{"s-00009"})

	_, err := m.API.DeleteSnapshot(ctx(t), hz, fleet[1].ID)
	wantCode(t, "delete a snapshot an image was made from", err, "SnapshotCreatedImage", ecsapi.ClassInstance)
	_, err = m.API.DeleteSnapshot(ctx(t), hz, fleet[2].ID)
	wantCode(t, "delete a snapshot a disk was made from (never with Force)", err, "SnapshotCreatedDisk", ecsapi.ClassInstance)
	_, err = m.API.DeleteSnapshot(ctx(t), hz, fleet[0].ID)
	noErr(t, "delete a snapshot", err)
	_, err = m.API.DeleteSnapshot(ctx(t), hz, fleet[0].ID)
	noErr(t, "delete a missing snapshot (documented: ignored)", err)
	left := ids(listSnapshots(t, m.API, ecsapi.ListInput{Region: hz, IDs: []string{fleet[0].ID, fleet[1].ID, fleet[2].ID}}))
	sameIDs(t, "snapshots after the deletes", left, []string{fleet[1].ID, fleet[2].ID})
}

func testEIPs(t *testing.T, newModel NewModel) {
	var fleet, want []cloud.EIP
	for i := range 150 {
		e := eip(hz, fmt.Sprintf("eip-%05d", i), "", tagged(i))
		fleet = append(fleet, e)
		if e.Tags != nil {
			want = append(want, e)
		}
	}
	fleet[1] = eip(hz, fleet[1].AllocationID, "i-bound", fleet[1].Tags)
	fleet[2].DeletionProtection = true
	fleet[4].ChargeType = "PrePaid"
	m := newModel(t, Fleet{Instances: []cloud.Instance{instance(hz, "i-bound", nil)},
		EIPs: append(slices.Clone(fleet), eip(sh, "eip-other", "", tagged(0)))})
	all := listEIPs(t, m.API, ecsapi.EIPInput{Region: hz})
	once(t, "DescribeEipAddresses", ids(all))
	sameIDs(t, "DescribeEipAddresses", ids(all), ids(fleet))
	for _, e := range all[:5] {
		i := slices.IndexFunc(fleet, func(f cloud.EIP) bool { return f.AllocationID == e.AllocationID })
		if !reflect.DeepEqual(e, fleet[i]) {
			t.Errorf("EIP as listed\n got %+v\nwant %+v", e, fleet[i])
		}
	}
	sameIDs(t, "DescribeEipAddresses by tag", ids(listEIPs(t, m.API, ecsapi.EIPInput{Region: hz, TagKey: optIn})), ids(want))
	sameIDs(t, "DescribeEipAddresses by ID", ids(listEIPs(t, m.API, ecsapi.EIPInput{Region: hz, AllocationIDs: []string{"eip-00009", "eip-none", "eip-other"}})), []string{"eip-00009"})

	for _, tc := range []struct{ id, code string }{
		{fleet[1].AllocationID, "IncorrectEipStatus"},
		{fleet[2].AllocationID, "InvalidOperation.DeletionProtection"},
		{fleet[4].AllocationID, "Forbidden.ChargeTypeIsPrepaid"},
		{"eip-none", "InvalidAllocationId.NotFound"},
	} {
		_, err := m.API.ReleaseEipAddress(ctx(t), hz, tc.id)
		if ecsapi.Code(err) != tc.code {
			t.Errorf("release %s: %s, want %s", tc.id, describe(err), tc.code)
		}
	}
	_, err := m.API.ReleaseEipAddress(ctx(t), hz, fleet[0].AllocationID)
	noErr(t, "release an Available EIP", err)
	_, err = m.API.ReleaseEipAddress(ctx(t), hz, fleet[0].AllocationID)
	wantCode(t, "release it again", err, "InvalidAllocationId.NotFound", ecsapi.ClassNotFound)

	_, err = m.API.TagEIPs(ctx(t), hz, []string{fleet[3].AllocationID}, map[string]string{"mark": "now"})
	noErr(t, "TagEIPs", err)
	got := listEIPs(t, m.API, ecsapi.EIPInput{Region: hz, AllocationIDs: []string{fleet[3].AllocationID}})
	if len(got) != 1 || got[0].Tags["mark"] != "now" || !maps.Equal(got[0].Tags, map[string]string{"mark": "now", optIn: "2026-11-01"}) {
		t.Errorf("EIP after TagEIPs: %+v", got)
	}
	_, err = m.API.TagEIPs(ctx(t), hz, []string{fleet[3].AllocationID, "eip-none"}, map[string]string{"other": "x"})
	wantCode(t, "TagEIPs with an unknown EIP", err, "InvalidResourceId.NotFound", ecsapi.ClassNotFound)
	if got := listEIPs(t, m.API, ecsapi.EIPInput{Region: hz, AllocationIDs: []string{fleet[3].AllocationID}}); len(got) == 1 && got[0].Tags["other"] != "" {
		t.Errorf("a refused TagEIPs tagged %s", fleet[3].AllocationID)
	}
}

// Releasing an instance takes the disks that go with it (and their
// automatic snapshots when so set), keeps the others as Available
// pay-as-you-go disks, and unbinds its EIPs.
func testReleaseFreesResources(t *testing.T, newModel NewModel) {
	in := instance(hz, "i-host", nil)
	sys := disk(hz, "d-sys", in.ID, nil)
	sys.Type, sys.DeleteWithInstance, sys.DeleteAutoSnapshot = "system", true, true
	data := disk(hz, "d-data", in.ID, nil)
	data.ChargeType = "PrePaid"
	auto := snapshot(hz, "s-auto", sys.ID, nil)
	auto.Type = "auto"
	manual := snapshot(hz, "s-manual", sys.ID, nil)
	m := newModel(t, Fleet{Instances: []cloud.Instance{in}, Disks: []cloud.Disk{sys, data},
		Snapshots: []cloud.Snapshot{auto, manual}, EIPs: []cloud.EIP{eip(hz, "eip-host", in.ID, nil)}})
	_, err := m.API.DeleteInstances(ctx(t), ecsapi.DeleteInput{Region: hz, InstanceIDs: []string{in.ID}})
	noErr(t, "release", err)
	disks := listDisks(t, m.API, ecsapi.ListInput{Region: hz})
	if len(disks) != 1 || disks[0].ID != data.ID || disks[0].Status != "Available" || disks[0].InstanceID != "" || disks[0].ChargeType != "PostPaid" {
		t.Errorf("disks after the release: %+v; want only %s, Available, unattached, pay-as-you-go", disks, data.ID)
	}
	sameIDs(t, "snapshots after the release", ids(listSnapshots(t, m.API, ecsapi.ListInput{Region: hz})), []string{manual.ID})
	eips := listEIPs(t, m.API, ecsapi.EIPInput{Region: hz})
	if len(eips) != 1 || eips[0].Status != "Available" || eips[0].InstanceID != "" {
		t.Errorf("EIP after the release: %+v; want Available and unbound", eips)
	}
}
