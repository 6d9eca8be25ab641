package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// Per-resource refusals, busy answers, regions and partial answers,
// through the real SDK against the double.

const (
	markKey  = "reaper-notified"
	ownerKey = "owner"
)

var lifecycle = decide.Lifecycle{On: true, Notice: 24 * time.Hour, Grace: 24 * time.Hour, MarkKey: markKey,
	StopMarkKey: markKey + "-stopped", OwnerKey: ownerKey, Marks: testMarks}

// notices records what owners were told.
type notices struct {
	mu  sync.Mutex
	ids []string
}

func (n *notices) Kind() string { return "test" }

func (n *notices) Notify(_ context.Context, x notify.Notice) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, it := range x.Items {
		n.ids = append(n.ids, it.InstanceID)
	}
	return nil
}

func (n *notices) Report(context.Context, notify.Summary) error { return nil }

// itemsOf returns every reported item of groups by ID, with its
// "outcome/reason".
func itemsOf(groups []*report.Group) map[string]struct {
	report.Item
	Result string
} {
	out := map[string]struct {
		report.Item
		Result string
	}{}
	for _, g := range groups {
		for _, it := range g.Instances {
			out[it.ID] = struct {
				report.Item
				Result string
			}{it, string(g.Outcome) + "/" + string(g.Reason)}
		}
	}
	return out
}

// fullOfTags carries 19 tags besides the opt-in tag: the mark would be
// its 21st.
func fullOfTags(expiry string) map[string]string {
	tags := map[string]string{optIn: expiry, ownerKey: "alice"}
	for i := len(tags); i < 20; i++ {
		tags[fmt.Sprintf("team-%02d", i)] = "x"
	}
	return tags
}

// The disk and snapshot notice path: the owner is told, the mark is
// written with TagResources ResourceType=disk/snapshot, and the delete
// waits for the grace. A disk already carrying 20 tags fails alone, with
// ECS's code, and its neighbours in the batch are marked.
func TestDiskAndSnapshotNoticesMarkThenDelete(t *testing.T) {
	owned := map[string]string{optIn: "2026-11-01", ownerKey: "alice"}
	fleet := ecsdouble.Fleet{
		Disks: []ecsdouble.Disk{
			{ID: "d-a", Region: "cn-hangzhou", Tags: owned},
			{ID: "d-b", Region: "cn-hangzhou", Tags: owned},
			{ID: "d-full", Region: "cn-hangzhou", Tags: fullOfTags("2026-11-01")},
			{ID: "d-c", Region: "cn-hangzhou", Tags: owned},
		},
		Snapshots: []ecsdouble.Snapshot{
			{ID: "s-a", Region: "cn-hangzhou", Disk: "d-gone", Tags: owned},
			{ID: "s-b", Region: "cn-hangzhou", Disk: "d-gone", Tags: owned},
		},
	}
	clock := newMovingClock(testNow) // the double's: the marks' and the grace's
	e := newEnv(t, fleet, ecsdouble.WithClock(clock.Now))
	told := &notices{}
	opts := options()
	opts.Resources, opts.SkipInstances = []string{kinds.Disks.Name, kinds.Snapshots.Name}, true
	opts.Lifecycle, opts.Notifier = lifecycle, told

	// Whether a failed resource mark fails the run is the outcome table's
	// business; here only a failure of another kind would be wrong.
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil && !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("day 0: %v", err)
	}
	disks, snaps := itemsOf(rep.Regions[0].Section("disks").Groups), itemsOf(rep.Regions[0].Section("snapshots").Groups)
	for _, id := range []string{"d-a", "d-b", "d-c"} {
		if disks[id].Result != "notified/" {
			t.Errorf("day 0: disk %s %s (%s), want notified", id, disks[id].Result, disks[id].Message)
		}
		if d, _ := e.srv.Disk(id); d.Tags[markKey] == "" {
			t.Errorf("day 0: disk %s carries no mark: %v", id, d.Tags)
		}
	}
	for _, id := range []string{"s-a", "s-b"} {
		if snaps[id].Result != "notified/" {
			t.Errorf("day 0: snapshot %s %s (%s), want notified", id, snaps[id].Result, snaps[id].Message)
		}
		if s, _ := e.srv.Snapshot(id); s.Tags[markKey] == "" {
			t.Errorf("day 0: snapshot %s carries no mark: %v", id, s.Tags)
		}
	}
	if got := disks["d-full"]; !strings.HasPrefix(got.Result, "failed/") || got.Code != "OperationDenied.QuotaExceed" {
		t.Errorf("day 0: the disk with 20 tags: %s code %q, want failed with OperationDenied.QuotaExceed", got.Result, got.Code)
	}
	if len(e.srv.Released()) != 0 {
		t.Fatalf("day 0: deleted %v before any grace", e.srv.Released())
	}

	opts.Now = func() time.Time { return testNow.Add(25 * time.Hour) }
	clock.Set(testNow.Add(25 * time.Hour))
	opts.RunID = "day-1"
	rep, err = run(t, e, opts, "cn-hangzhou")
	if err != nil && !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("day 1: %v", err)
	}
	for _, id := range []string{"d-a", "d-b", "d-c"} {
		if _, ok := e.srv.Disk(id); ok {
			t.Errorf("day 1: disk %s is still there after its grace", id)
		}
	}
	for _, id := range []string{"s-a", "s-b"} {
		if _, ok := e.srv.Snapshot(id); ok {
			t.Errorf("day 1: snapshot %s is still there after its grace", id)
		}
	}
	if _, ok := e.srv.Disk("d-full"); !ok {
		t.Error("day 1: the disk that was never marked was deleted")
	}
	if got := itemsOf(rep.Regions[0].Section("disks").Groups)["d-full"]; got.Code != "OperationDenied.QuotaExceed" {
		t.Errorf("day 1: the disk with 20 tags: %s code %q", got.Result, got.Code)
	}
}

// One instance ECS will not tag (20 tags already; a type that cannot be
// tagged) fails alone: the other marks of its batch are written.
func TestTagRefusalFailsOnlyItsInstance(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "m", 6)}
	for i := range fleet.Instances {
		fleet.Instances[i].Tags[ownerKey] = "alice"
	}
	fleet.Instances[2].Tags = fullOfTags("2026-11-01")
	e := newEnv(t, fleet)
	refused := fleet.Instances[4].ID
	e.srv.RefuseTags(refused, 403, "InvalidResourceId.NotSupported")
	opts := options()
	opts.Lifecycle, opts.Notifier = lifecycle, &notices{}

	rep, err := run(t, e, opts, "cn-hangzhou")
	if !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("err %v, want the two refused marks to fail the run", err)
	}
	got := itemsOf(rep.Regions[0].Groups)
	want := map[string]string{fleet.Instances[2].ID: "OperationDenied.QuotaExceed", refused: "InvalidResourceId.NotSupported"}
	for _, in := range fleet.Instances {
		it := got[in.ID]
		if code, bad := want[in.ID]; bad {
			if !strings.HasPrefix(it.Result, "failed/") || it.Code != code {
				t.Errorf("%s: %s code %q, want failed with %s", in.ID, it.Result, it.Code, code)
			}
			continue
		}
		if it.Result != "notified/" {
			t.Errorf("%s: %s (%s %s), want notified: a refusal of another instance sank it", in.ID, it.Result, it.Code, it.Message)
		}
		if inst, _ := e.srv.Instance(in.ID); inst.Tags[markKey] == "" {
			t.Errorf("%s carries no mark", in.ID)
		}
	}
}

// A stop batch whose stop mark ECS refuses for one instance stops the
// others; the refused one fails with the code and stays Running.
func TestStopBatchSurvivesOneRefusedTag(t *testing.T) {
	fleet := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "s", 5)}
	for i := range fleet.Instances {
		fleet.Instances[i].Status = "Running"
		fleet.Instances[i].Tags[ownerKey] = "bob"
	}
	clock := newMovingClock(testNow)
	e := newEnv(t, fleet, ecsdouble.WithClock(clock.Now))
	opts := options()
	opts.Lifecycle, opts.Notifier = lifecycle, &notices{}
	opts.Lifecycle.Stop = true
	if _, err := run(t, e, opts, "cn-hangzhou"); err != nil {
		t.Fatalf("day 0: %v", err)
	}
	refused := fleet.Instances[1].ID
	e.srv.RefuseTags(refused, 403, "QuotaExceed.Tags")
	opts.Now = func() time.Time { return testNow.Add(25 * time.Hour) }
	clock.Set(testNow.Add(25 * time.Hour))
	opts.RunID = "day-1"
	rep, err := run(t, e, opts, "cn-hangzhou")
	if !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("day 1: err %v, want the refused stop to fail the run", err)
	}
	got := itemsOf(rep.Regions[0].Groups)
	for _, in := range fleet.Instances {
		inst, _ := e.srv.Instance(in.ID)
		if in.ID == refused {
			if it := got[in.ID]; !strings.HasPrefix(it.Result, "failed/") || it.Code != "QuotaExceed.Tags" || inst.Status != "Running" {
				t.Errorf("refused %s: %s code %q, status %s", in.ID, it.Result, it.Code, inst.Status)
			}
			continue
		}
		if got[in.ID].Result != "stopped/" || inst.Status != "Stopped" {
			t.Errorf("%s: %s, status %s: want stopped despite its neighbour", in.ID, got[in.ID].Result, inst.Status)
		}
	}
}

// Busy answers are retried: DeleteSnapshot's Operation.Conflict, the VPC
// API's SystemBusy and TaskConflict family.
func TestBusyAnswersAreRetried(t *testing.T) {
	e := newEnv(t, resourceFleet())
	e.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDeleteSnapshot, Times: 1, Fault: ecsdouble.Error(403, "Operation.Conflict")})
	e.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionReleaseEipAddress, Times: 1, Fault: ecsdouble.Error(400, "SystemBusy")})
	e.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionReleaseEipAddress, Times: 1, Fault: ecsdouble.Error(400, "TaskConflict.AssociateGlobalAccelerationInstance")})
	e.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionReleaseEipAddress, Times: 1, Fault: ecsdouble.Error(400, "TaskConflict")})
	opts := options()
	opts.Resources = []string{kinds.Snapshots.Name, kinds.EIPs.Name}
	if _, err := run(t, e, opts, "cn-hangzhou"); err != nil {
		t.Fatalf("a busy answer failed the run: %v", err)
	}
	if _, ok := e.srv.Snapshot("s-expired-free"); ok {
		t.Error("the snapshot was not deleted after Operation.Conflict")
	}
	if _, _, ok := e.srv.EIP("eip-expired-free"); ok {
		t.Error("the EIP was not released after SystemBusy and TaskConflict")
	}
	if n := e.srv.CallCount(ecsapi.ActionReleaseEipAddress); n != 4 {
		t.Errorf("ReleaseEipAddress called %d times, want 4 (three busy answers, then the release)", n)
	}
}

// A region the VPC API does not know fails closed, named as a region
// problem; the other regions go on.
func TestRegionNotFoundFailsOnlyThatRegion(t *testing.T) {
	expired := map[string]string{optIn: "2026-11-01"}
	fleet := ecsdouble.Fleet{EIPs: []ecsdouble.EIP{
		{AllocationID: "eip-hz", Address: "47.0.2.1", Region: "cn-hangzhou", Tags: expired},
		{AllocationID: "eip-sh", Address: "47.0.2.2", Region: "cn-shanghai", Tags: expired},
	}}
	e := newEnv(t, fleet)
	e.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionReleaseEipAddress, Region: "cn-shanghai", Fault: ecsdouble.Error(404, "Forbidden.RegionNotFound")})
	opts := options()
	opts.Resources, opts.SkipInstances = []string{kinds.EIPs.Name}, true
	rep, err := run(t, e, opts, "cn-hangzhou", "cn-shanghai")
	if !errors.Is(err, engine.ErrRegionFailed) {
		t.Fatalf("err %v, want the region failed", err)
	}
	sh := regionOf(rep, "cn-shanghai")
	if sh.Error == nil || sh.Error.Code != "Forbidden.RegionNotFound" || !strings.Contains(sh.Error.Message, "region") ||
		strings.Contains(strings.ToLower(sh.Error.Message), "credential") {
		t.Fatalf("cn-shanghai error %+v: want Forbidden.RegionNotFound named as a region problem", sh.Error)
	}
	if !strings.Contains(sh.Error.Message, "not open to this account") {
		t.Errorf("cn-shanghai error %q: want it to say the region is not open to the account", sh.Error.Message)
	}
	if hz := regionOf(rep, "cn-hangzhou"); hz.Error != nil {
		t.Errorf("cn-hangzhou failed too: %+v", hz.Error)
	}
	if _, _, ok := e.srv.EIP("eip-hz"); ok {
		t.Error("cn-hangzhou's EIP was not released")
	}
	if _, _, ok := e.srv.EIP("eip-sh"); !ok {
		t.Error("cn-shanghai's EIP is gone")
	}
}

// Disks and snapshots whose answer lacks a fact the rules need are
// invalid-data and stay, through the SDK's decoding of the double's
// partial answers.
func TestPartialResourceAnswersAreNeverDeleted(t *testing.T) {
	expired := func() map[string]string { return map[string]string{optIn: "2026-11-01"} }
	fleet := ecsdouble.Fleet{
		Disks: []ecsdouble.Disk{
			{ID: "d-whole", Region: "cn-hangzhou", Tags: expired()},
			{ID: "d-no-type", Region: "cn-hangzhou", Tags: expired(), Omit: []string{"Type"}},
			{ID: "d-no-status", Region: "cn-hangzhou", Tags: expired(), Omit: []string{"Status"}},
			{ID: "d-no-category", Region: "cn-hangzhou", Tags: expired(), Omit: []string{"Category"}},
			{ID: "d-no-charge", Region: "cn-hangzhou", Tags: expired(), Omit: []string{"DiskChargeType"}},
		},
		Snapshots: []ecsdouble.Snapshot{
			{ID: "s-whole", Region: "cn-hangzhou", Disk: "d-x", Tags: expired()},
			{ID: "s-no-usage", Region: "cn-hangzhou", Disk: "d-x", Tags: expired(), Omit: []string{"Usage"}},
			{ID: "s-no-status", Region: "cn-hangzhou", Disk: "d-x", Tags: expired(), Omit: []string{"Status"}},
		},
	}
	e := newEnv(t, fleet)
	opts := options()
	opts.Resources, opts.SkipInstances = []string{kinds.Disks.Name, kinds.Snapshots.Name}, true
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	got := itemsOf(rep.Regions[0].Section("disks").Groups)
	for id, it := range itemsOf(rep.Regions[0].Section("snapshots").Groups) {
		got[id] = it
	}
	for _, id := range []string{"d-whole", "s-whole"} {
		if got[id].Result != "released/" {
			t.Errorf("%s: %s, want released (the test's control)", id, got[id].Result)
		}
	}
	for _, id := range []string{"d-no-type", "d-no-status", "d-no-category", "d-no-charge", "s-no-usage", "s-no-status"} {
		if got[id].Result != "skipped/invalid-data" {
			t.Errorf("%s: %s (%s), want skipped/invalid-data", id, got[id].Result, got[id].Detail)
		}
		_, disk := e.srv.Disk(id)
		_, snap := e.srv.Snapshot(id)
		if !disk && !snap {
			t.Errorf("%s was deleted on a partial answer", id)
		}
	}
}
