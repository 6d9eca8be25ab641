package e2e_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// leftoverFleet: one expired instance with an EIP, a system disk released
// with it, two data disks kept (DeleteWithInstance=false), and automatic
// and manual snapshots; a second instance keeps nothing.
func leftoverFleet() ecsdouble.Fleet {
	in := stopped("cn-hangzhou", "l", 2)
	return ecsdouble.Fleet{
		Instances: in,
		Disks: []ecsdouble.Disk{
			{ID: "d-sys0", Region: "cn-hangzhou", Instance: in[0].ID, Type: "system", SizeGiB: 40, DeleteWithInstance: true, DeleteAutoSnapshot: true},
			{ID: "d-data1", Region: "cn-hangzhou", Instance: in[0].ID, SizeGiB: 100, Category: "cloud_essd"},
			{ID: "d-data2", Region: "cn-hangzhou", Instance: in[0].ID, SizeGiB: 200, Category: "cloud_auto"},
			{ID: "d-sys1", Region: "cn-hangzhou", Instance: in[1].ID, Type: "system", SizeGiB: 40, DeleteWithInstance: true, DeleteAutoSnapshot: true},
		},
		Snapshots: []ecsdouble.Snapshot{
			{ID: "s-auto-sys0", Region: "cn-hangzhou", Disk: "d-sys0", Type: "auto", SizeGiB: 40},    // goes with its disk
			{ID: "s-user-sys0", Region: "cn-hangzhou", Disk: "d-sys0", Type: "user", SizeGiB: 40},    // manual: stays
			{ID: "s-auto-data1", Region: "cn-hangzhou", Disk: "d-data1", Type: "auto", SizeGiB: 100}, // its disk stays
			{ID: "s-auto-sys1", Region: "cn-hangzhou", Disk: "d-sys1", Type: "auto", SizeGiB: 40},
		},
		EIPs: []ecsdouble.EIP{
			{AllocationID: "eip-a", Address: "47.0.0.1", Region: "cn-hangzhou", Instance: in[0].ID},
			{AllocationID: "eip-free", Address: "47.0.0.9", Region: "cn-hangzhou"}, // someone else's, unbound
		},
	}
}

func TestLeftoverReportNamesWhatStaysBilled(t *testing.T) {
	f := leftoverFleet()
	e := newEnv(t, f)
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Regions[0]
	if len(r.Leftovers) != 1 || r.Leftovers[0].InstanceID != f.Instances[0].ID {
		t.Fatalf("leftovers %+v: want one entry, for the instance with an EIP and kept disks", r.Leftovers)
	}
	l := r.Leftovers[0]
	if len(l.EIPs) != 1 || l.EIPs[0].AllocationID != "eip-a" || l.EIPs[0].Address != "47.0.0.1" {
		t.Errorf("EIPs %+v", l.EIPs)
	}
	var disks, snaps []string
	for _, d := range l.Disks {
		disks = append(disks, d.ID)
	}
	for _, s := range l.Snapshots {
		snaps = append(snaps, s.ID+"/"+s.Type)
	}
	if !slices.Equal(disks, []string{"d-data1", "d-data2"}) {
		t.Errorf("kept disks %v", disks)
	}
	if !slices.Equal(snaps, []string{"s-auto-data1/automatic", "s-user-sys0/manual"}) {
		t.Errorf("surviving snapshots %v", snaps)
	}
	want := report.LeftoverSummary{Complete: true, Instances: 1, EIPs: 1, Disks: 2, DiskGiB: 300, Snapshots: 2, SnapshotGiB: 140}
	if *r.LeftoverSummary != want || *rep.Leftovers != want {
		t.Errorf("summary %+v, total %+v, want %+v", *r.LeftoverSummary, *rep.Leftovers, want)
	}
	// What the double kept matches what the report said it would.
	for _, id := range []string{"d-data1", "d-data2"} {
		if d, ok := e.srv.Disk(id); !ok || d.Instance != "" {
			t.Errorf("kept disk %s: %+v %v", id, d, ok)
		}
	}
	if _, ok := e.srv.Disk("d-sys0"); ok {
		t.Error("the system disk was kept")
	}
	if _, _, ok := e.srv.EIP("eip-a"); !ok {
		t.Error("the EIP was released without REAPER_RELEASE_EIPS")
	}
	var text strings.Builder
	if err := report.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Left behind, still billed: 1 instances leave 1 EIPs, 2 disks (300 GiB) and 2 snapshots (140 GiB)",
		"EIP eip-a (47.0.0.1)", "disk d-data1 (100 GiB cloud_essd)", "manual snapshot s-user-sys0 (40 GiB)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text report lacks %q:\n%s", want, text.String())
		}
	}
	// No per-instance calls: one page of each listing for the region.
	for _, action := range []string{"DescribeDisks", "DescribeSnapshots", "DescribeEipAddresses"} {
		if n := r.Calls[action]; n != 1 {
			t.Errorf("%s called %d times, want one region-wide page", action, n)
		}
	}
}

func TestLeftoverListingThatFailsHoldsNothingBack(t *testing.T) {
	e := newEnv(t, leftoverFleet())
	e.srv.Inject(ecsdouble.Rule{Action: "DescribeDisks", Fault: ecsdouble.Internal()})
	rep, err := run(t, e, options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v: a failed leftover listing must not fail or block the releases", err)
	}
	if n := len(e.srv.Released()); n != 2 {
		t.Fatalf("released %d, want both", n)
	}
	if s := rep.Regions[0].LeftoverSummary; s == nil || s.Complete || !strings.Contains(s.Error, "InternalError") {
		t.Errorf("leftover summary %+v: want incomplete, saying why", s)
	}
	if !strings.Contains(rep.Warning, "leftover report is incomplete") {
		t.Errorf("warning %q", rep.Warning)
	}
}

func TestEIPsAreReleasedAfterTheirInstance(t *testing.T) {
	f := leftoverFleet()
	f.EIPs = append(f.EIPs,
		ecsdouble.EIP{AllocationID: "eip-kept", Address: "47.0.0.2", Region: "cn-hangzhou", Instance: f.Instances[1].ID, Tags: map[string]string{keep: ""}})
	e := newEnv(t, f)
	opts := options()
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, "reaper-notified-released-with", time.Millisecond
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := e.srv.EIP("eip-a"); ok {
		t.Fatal("the released instance's EIP is still there")
	}
	for _, id := range []string{"eip-kept", "eip-free"} {
		if _, _, ok := e.srv.EIP(id); !ok {
			t.Errorf("%s was released", id)
		}
	}
	// Not before: the instance's release comes first.
	calls := e.srv.Calls()
	del := slices.IndexFunc(calls, func(c ecsdouble.Call) bool { return c.Action == "DeleteInstances" && c.Code == "" })
	rel := slices.IndexFunc(calls, func(c ecsdouble.Call) bool { return c.Action == "ReleaseEipAddress" })
	if del < 0 || rel < 0 || rel < del {
		t.Fatalf("DeleteInstances at %d, ReleaseEipAddress at %d: the EIP must go after its instance", del, rel)
	}
	sec := rep.Regions[0].Section("eips")
	if sec == nil || sec.Counts["released"] != 1 || sec.Counts["skipped/excluded"] != 1 {
		t.Errorf("EIP section %+v", sec)
	}
}

func TestEIPThatNeverBecomesAvailableIsTaggedForALaterRun(t *testing.T) {
	f := leftoverFleet()
	f.EIPs[0].StaysUnassociating = true
	e := newEnv(t, f)
	opts := options()
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, "reaper-notified-released-with", time.Millisecond
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	eip, status, ok := e.srv.EIP("eip-a")
	if instance, at, st := testMarks.ReadHandOver("eip-a", "reaper-notified-released-with", eip.Tags); !ok || status != "Unassociating" ||
		st != mark.Valid || instance != f.Instances[0].ID || !at.Equal(testNow) {
		t.Fatalf("EIP %+v %s %v: want it kept and tagged with its instance", eip, status, ok)
	}
	if sec := rep.Regions[0].Section("eips"); sec == nil || sec.Counts["not-attempted/eip-not-available"] != 1 {
		t.Errorf("EIP section %+v", sec)
	}
	// It settles; the next run (nothing else to release) finds it by its tag.
	e.srv.SetEIPStatus("eip-a", "Available")
	opts.RunID = "next-run"
	if _, err := run(t, e, opts, "cn-hangzhou"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := e.srv.EIP("eip-a"); ok {
		t.Fatal("the tagged EIP was not released once Available")
	}
}

func TestProtectedEIPIsNeverReleased(t *testing.T) {
	f := leftoverFleet()
	f.EIPs[0].DeletionProtection = true
	e := newEnv(t, f)
	opts := options()
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, "reaper-notified-released-with", time.Millisecond
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := e.srv.EIP("eip-a"); !ok || e.srv.CallCount("ReleaseEipAddress") != 0 {
		t.Fatal("a deletion-protected EIP was released (or tried)")
	}
	if sec := rep.Regions[0].Section("eips"); sec == nil || sec.Counts["skipped/deletion-protected"] != 1 {
		t.Errorf("EIP section %+v", sec)
	}
}
