package ecsconform

import (
	"fmt"
	"maps"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// readInstance re-reads one instance by ID; ok is false when it is gone.
func readInstance(t *testing.T, api API, region, id string) (cloud.Instance, bool) {
	t.Helper()
	page, err := api.DescribeInstances(ctx(t), ecsapi.DescribeInput{Region: region, InstanceIDs: []string{id}, MaxResults: 100})
	noErr(t, "re-read "+id, err)
	for _, in := range page.Instances {
		if in.ID == id {
			return in, true
		}
	}
	return cloud.Instance{}, false
}

func testThrottling(t *testing.T, newModel NewModel) {
	fleet := instances(hz, "h", 3, true)
	m := newModel(t, Fleet{Instances: fleet, EIPs: []cloud.EIP{eip(hz, "eip-h", "", nil)}})
	in := ecsapi.DescribeInput{Region: hz, MaxResults: 100}

	m.FailNext(ecsapi.ActionDescribeInstances, 2, 400, "Throttling.User")
	_, err := m.API.DescribeInstances(ctx(t), in)
	wantCode(t, "a throttled DescribeInstances", err, "Throttling.User", ecsapi.ClassThrottled)
	c, n := newCaller()
	var page ecsapi.DescribePage
	err = c.Do(ctx(t), ecsapi.ActionDescribeInstances, nil, func() error {
		var err error
		page, err = m.API.DescribeInstances(ctx(t), in)
		return err
	})
	noErr(t, "DescribeInstances retried after throttling", err)
	if len(page.Instances) != 3 || n.count(ecsapi.ActionDescribeInstances) != 2 {
		t.Errorf("retried: %d instances after %d attempts, want 3 after 2 (one throttled)", len(page.Instances), n.count(ecsapi.ActionDescribeInstances))
	}

	// A write answered 503 changed nothing, and its retry goes through.
	m.FailNext(ecsapi.ActionDeleteInstances, 1, 503, "ServiceUnavailable")
	del := ecsapi.DeleteInput{Region: hz, InstanceIDs: []string{fleet[0].ID}, ClientToken: "conform-503"}
	_, err = m.API.DeleteInstances(ctx(t), del)
	wantCode(t, "DeleteInstances answered 503", err, "ServiceUnavailable", ecsapi.ClassRetryable)
	if _, ok := readInstance(t, m.API, hz, fleet[0].ID); !ok {
		t.Fatalf("a DeleteInstances answered 503 released %s", fleet[0].ID)
	}
	_, err = m.API.DeleteInstances(ctx(t), del)
	noErr(t, "DeleteInstances retried", err)
	if _, ok := readInstance(t, m.API, hz, fleet[0].ID); ok {
		t.Fatalf("the retried DeleteInstances left %s", fleet[0].ID)
	}

	// The VPC API throttles the same way.
	m.FailNext(ecsapi.ActionDescribeEipAddresses, 1, 400, "Throttling")
	_, err = m.API.DescribeEipAddresses(ctx(t), ecsapi.EIPInput{Region: hz, Page: 1})
	wantCode(t, "a throttled DescribeEipAddresses", err, "Throttling", ecsapi.ClassThrottled)
	got, err := m.API.DescribeEipAddresses(ctx(t), ecsapi.EIPInput{Region: hz, Page: 1})
	noErr(t, "DescribeEipAddresses after throttling", err)
	if len(got.EIPs) != 1 {
		t.Errorf("%d EIPs after throttling, want 1", len(got.EIPs))
	}
}

func testNotFoundAfterRelease(t *testing.T, newModel NewModel) {
	fleet := instances(hz, "g", 2, true)
	fleet[1].Status = "Running"
	m := newModel(t, Fleet{Instances: fleet})
	id, running := fleet[0].ID, fleet[1].ID
	_, err := m.API.DeleteInstances(ctx(t), ecsapi.DeleteInput{Region: hz, InstanceIDs: []string{id}})
	noErr(t, "release", err)
	if _, ok := readInstance(t, m.API, hz, id); ok {
		t.Fatalf("%s still listed after its release", id)
	}
	_, err = m.API.DeleteInstances(ctx(t), ecsapi.DeleteInput{Region: hz, InstanceIDs: []string{id}})
	wantCode(t, "DeleteInstances of a released instance", err, "InvalidInstanceIds.NotFound", ecsapi.ClassNotFound)
	_, err = m.API.DeleteInstances(ctx(t), ecsapi.DeleteInput{Region: hz, InstanceIDs: []string{running, id}, Force: true})
	wantCode(t, "DeleteInstances of a batch with a released instance", err, "InvalidInstanceIds.NotFound", ecsapi.ClassNotFound)
	if _, ok := readInstance(t, m.API, hz, running); !ok {
		t.Fatalf("a batch refused NotFound released %s", running)
	}
	_, err = m.API.TagResources(ctx(t), ecsapi.TagInput{Region: hz, InstanceIDs: []string{id}, Tags: map[string]string{"k": "v"}})
	wantCode(t, "TagResources of a released instance", err, "InvalidResourceId.NotFound", ecsapi.ClassNotFound)
	_, err = m.API.StopInstances(ctx(t), ecsapi.StopInput{Region: hz, InstanceIDs: []string{id}, StoppedMode: "KeepCharging"})
	wantCode(t, "StopInstances of a released instance", err, "InvalidInstanceId.NotFound", ecsapi.ClassNotFound)
}

func testDeleteInstances(t *testing.T, newModel NewModel) {
	ok := instance(hz, "i-ok", nil)
	protected := instance(hz, "i-protected", nil)
	protected.DeletionProtection = true
	locked := instance(hz, "i-locked", nil)
	locked.LockReasons = []string{"security"}
	running := instance(hz, "i-running", nil)
	running.Status = "Running"
	expired := instance(hz, "i-expired", nil)
	expired.ChargeType, expired.ExpiredTime, expired.LockReasons = "PrePaid", "2026-01-10T16:00Z", []string{"financial"}
	pending := instance(hz, "i-pending", nil)
	pending.Status = "Pending"
	current := instance(hz, "i-current", nil)
	current.ChargeType, current.ExpiredTime = "PrePaid", "2099-01-10T16:00Z"
	m := newModel(t, Fleet{Instances: []cloud.Instance{ok, protected, locked, running, expired, pending, current}, Regions: []string{sh}})
	del := func(flags ecsapi.DeleteInput, ids ...string) error {
		flags.Region, flags.InstanceIDs = hz, ids
		_, err := m.API.DeleteInstances(ctx(t), flags)
		return err
	}
	for _, tc := range []struct {
		id, code string
		flags    ecsapi.DeleteInput
	}{
		{protected.ID, "InvalidOperation.DeletionProtection", ecsapi.DeleteInput{}},
		{locked.ID, "InstanceLockedForSecurity", ecsapi.DeleteInput{}},
		{running.ID, "IncorrectInstanceStatus", ecsapi.DeleteInput{}},
		{expired.ID, "ChargeTypeViolation", ecsapi.DeleteInput{}},
		{pending.ID, "IncorrectInstanceStatus", ecsapi.DeleteInput{Force: true}},
		{current.ID, "ChargeTypeViolation", ecsapi.DeleteInput{TerminateSubscription: true}},
	} {
		wantCode(t, "DeleteInstances "+tc.id, del(tc.flags, tc.id), tc.code, ecsapi.ClassInstance)
		if _, ok := readInstance(t, m.API, hz, tc.id); !ok {
			t.Fatalf("the refused %s was released", tc.id)
		}
	}
	// An instance of another region is refused, not taken for gone.
	_, err := m.API.DeleteInstances(ctx(t), ecsapi.DeleteInput{Region: sh, InstanceIDs: []string{ok.ID}})
	wantCode(t, "DeleteInstances in another region", err, "InvalidParameter.CrossRegionNotSupport", ecsapi.ClassFatal)
	// All or nothing: one refused instance keeps the whole batch.
	wantCode(t, "a batch with a protected instance", del(ecsapi.DeleteInput{}, ok.ID, protected.ID), "InvalidOperation.DeletionProtection", ecsapi.ClassInstance)
	if _, found := readInstance(t, m.API, hz, ok.ID); !found {
		t.Fatalf("a refused batch released %s", ok.ID)
	}
	// A dry run answers as the call would, and releases nothing.
	out, err := m.API.DeleteInstances(ctx(t), ecsapi.DeleteInput{Region: hz, InstanceIDs: []string{ok.ID}, DryRun: true})
	if err != nil || !out.DryRunPassed || out.RequestID == "" {
		t.Fatalf("dry run: %+v, %s; want DryRunPassed with a RequestId", out, describe(err))
	}
	wantCode(t, "a dry run of a protected instance", del(ecsapi.DeleteInput{DryRun: true}, protected.ID), "InvalidOperation.DeletionProtection", ecsapi.ClassInstance)
	if _, found := readInstance(t, m.API, hz, ok.ID); !found {
		t.Fatalf("a dry run released %s", ok.ID)
	}
	// The flags that release what needs them.
	noErr(t, "Force on a Running instance", del(ecsapi.DeleteInput{Force: true, ForceStop: true}, running.ID))
	noErr(t, "TerminateSubscription on an expired subscription", del(ecsapi.DeleteInput{TerminateSubscription: true}, expired.ID))
	// A ClientToken replays the first answer, and refuses other parameters.
	first := ecsapi.DeleteInput{Region: hz, InstanceIDs: []string{ok.ID}, ClientToken: "conform-token"}
	answer, err := m.API.DeleteInstances(ctx(t), first)
	noErr(t, "release with a ClientToken", err)
	replay, err := m.API.DeleteInstances(ctx(t), first)
	noErr(t, "the same call again (an idempotent replay)", err)
	if replay.RequestID != answer.RequestID {
		t.Errorf("the replay answered RequestId %q, want the first call's %q", replay.RequestID, answer.RequestID)
	}
	other := first
	other.InstanceIDs = []string{protected.ID}
	_, err = m.API.DeleteInstances(ctx(t), other)
	wantCode(t, "the ClientToken with other IDs", err, "IdempotentParameterMismatch", ecsapi.ClassFatal)
}

func testStop(t *testing.T, newModel NewModel) {
	running := instance(hz, "i-run", nil)
	running.Status = "Running"
	locked := running
	locked.ID, locked.LockReasons = "i-run-locked", []string{"security"}
	stopped := instance(hz, "i-stopped", nil)
	lapsed := running
	lapsed.ID, lapsed.ChargeType, lapsed.ExpiredTime = "i-run-lapsed", "PrePaid", "2026-01-10T16:00Z"
	m := newModel(t, Fleet{Instances: []cloud.Instance{running, locked, stopped, lapsed}})
	stop := func(dry bool, ids ...string) (ecsapi.StopOutput, error) {
		return m.API.StopInstances(ctx(t), ecsapi.StopInput{Region: hz, InstanceIDs: ids, StoppedMode: "KeepCharging", DryRun: dry})
	}
	out, err := stop(true, running.ID)
	if err != nil || !out.DryRunPassed {
		t.Fatalf("dry-run stop: %+v, %s", out, describe(err))
	}
	_, err = stop(false, stopped.ID)
	wantCode(t, "stop a Stopped instance", err, "IncorrectInstanceStatus", ecsapi.ClassInstance)
	_, err = stop(false, locked.ID)
	wantCode(t, "stop a security-locked instance", err, "InstanceLockedForSecurity", ecsapi.ClassInstance)
	_, err = stop(false, lapsed.ID)
	wantCode(t, "stop an expired subscription", err, "InstanceExpiredOrInArrears", ecsapi.ClassInstance)
	_, err = stop(false, running.ID, stopped.ID)
	wantCode(t, "stop a batch with a Stopped instance", err, "IncorrectInstanceStatus", ecsapi.ClassInstance)
	if in, _ := readInstance(t, m.API, hz, running.ID); in.Status != "Running" {
		t.Fatalf("a dry run or a refused batch stopped %s: %s", running.ID, in.Status)
	}
	out, err = stop(false, running.ID)
	if err != nil || out.DryRunPassed || out.RequestID == "" {
		t.Fatalf("stop: %+v, %s", out, describe(err))
	}
	if in, _ := readInstance(t, m.API, hz, running.ID); in.Status != "Stopped" && in.Status != "Stopping" {
		t.Fatalf("%s is %s after its stop", running.ID, in.Status)
	}
}

func testTag(t *testing.T, newModel NewModel) {
	inst := instance(hz, "i-tag", map[string]string{optIn: "2026-11-01", "mark": "old"})
	full := instance(hz, "i-full", map[string]string{})
	for i := range 20 {
		full.Tags[fmt.Sprintf("k%02d", i)] = "v"
	}
	d := disk(hz, "d-tag", "", map[string]string{optIn: "2026-11-01"})
	sn := snapshot(hz, "s-tag", "d-tag", map[string]string{optIn: "2026-11-01"})
	m := newModel(t, Fleet{Instances: []cloud.Instance{inst, full}, Disks: []cloud.Disk{d}, Snapshots: []cloud.Snapshot{sn}})
	mark := map[string]string{"mark": "2026-11-25T12:00Z", "new": ""}
	tag := func(typ string, ids ...string) error {
		_, err := m.API.TagResources(ctx(t), ecsapi.TagInput{Region: hz, InstanceIDs: ids, Tags: mark, ResourceType: typ})
		return err
	}
	noErr(t, "tag an instance", tag("", inst.ID))
	got, _ := readInstance(t, m.API, hz, inst.ID)
	want := map[string]string{optIn: "2026-11-01", "mark": "2026-11-25T12:00Z", "new": ""}
	if !maps.Equal(got.Tags, want) {
		t.Errorf("instance tags %v, want %v (a key overwritten, one added)", got.Tags, want)
	}
	noErr(t, "tag a disk", tag("disk", d.ID))
	noErr(t, "tag a snapshot", tag("snapshot", sn.ID))
	disks, err := m.API.DescribeDisks(ctx(t), ecsapi.ListInput{Region: hz, IDs: []string{d.ID}})
	noErr(t, "re-read the disk", err)
	if len(disks.Disks) != 1 || !maps.Equal(disks.Disks[0].Tags, map[string]string{optIn: "2026-11-01", "mark": "2026-11-25T12:00Z", "new": ""}) {
		t.Errorf("disk after TagResources: %+v", disks.Disks)
	}
	snaps, err := m.API.DescribeSnapshots(ctx(t), ecsapi.ListInput{Region: hz, IDs: []string{sn.ID}})
	noErr(t, "re-read the snapshot", err)
	if len(snaps.Snapshots) != 1 || snaps.Snapshots[0].Tags["mark"] != "2026-11-25T12:00Z" {
		t.Errorf("snapshot after TagResources: %+v", snaps.Snapshots)
	}
	// A resource of another type is not found; nor is one of another region.
	wantCode(t, "tag a disk ID as an instance", tag("", d.ID), "InvalidResourceId.NotFound", ecsapi.ClassNotFound)
	wantCode(t, "tag an instance ID as a disk", tag("disk", inst.ID), "InvalidResourceId.NotFound", ecsapi.ClassNotFound)
	// All or nothing: the 21st tag is refused, and the batch writes nothing.
	wantCode(t, "tag a batch with a full instance", tag("", inst.ID, full.ID), "OperationDenied.QuotaExceed", ecsapi.ClassInstance)
	if got, _ := readInstance(t, m.API, hz, full.ID); len(got.Tags) != 20 {
		t.Errorf("the full instance carries %d tags", len(got.Tags))
	}
	_, err = m.API.TagResources(ctx(t), ecsapi.TagInput{Region: hz, InstanceIDs: []string{inst.ID, "i-unknown"}, Tags: map[string]string{"only": "if-all"}})
	wantCode(t, "tag a batch with an unknown instance", err, "InvalidResourceId.NotFound", ecsapi.ClassNotFound)
	if got, _ := readInstance(t, m.API, hz, inst.ID); got.Tags["only"] != "" {
		t.Errorf("a refused TagResources tagged %s", inst.ID)
	}
}
