package engine_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

const handOverKey = "reaper-notified-released-with"

// handOverEIP is an EIP handed over by instance at, bound to boundTo ("":
// Available).
func handOverEIP(id, instance, boundTo string, at time.Time) cloud.EIP {
	e := cloud.EIP{AllocationID: id, Address: "47.0.0.9", Region: "r-1", Status: "Available", ChargeType: "PostPaid",
		Tags: map[string]string{handOverKey: testMarks.HandOver(id, handOverKey, instance, at)}}
	if boundTo != "" {
		e.Status, e.InstanceID, e.InstanceType = "InUse", boundTo, "EcsInstance"
	}
	return e
}

func handOverOptions() engine.Options {
	opts := options()
	opts.Lifecycle.Marks = testMarks
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, handOverKey, time.Millisecond
	return opts
}

func eipOutcomes(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Regions {
		if r.Section("eips") == nil {
			continue
		}
		for _, g := range r.Section("eips").Groups {
			for _, it := range g.Instances {
				out[it.ID] = string(g.Outcome) + "/" + string(g.Reason)
			}
		}
	}
	return out
}

func eipTags(c *fake.Cloud, id string) (map[string]string, bool) {
	for _, e := range c.EIPs() {
		if e.AllocationID == id {
			return e.Tags, true
		}
	}
	return nil, false
}

// A handed-over EIP found bound to another instance keeps nothing of the
// hand-over: its mark is removed (whatever its age), so a later unbinding
// releases nothing. A dry run says so and removes nothing.
func TestHandOverEndsWhenBoundAgain(t *testing.T) {
	for _, dry := range []bool{true, false} {
		c := fake.New([]cloud.Instance{instance("i-live", "Running", "2099-01-01", "amy")})
		c.SetResources(fake.Resources{EIPs: []cloud.EIP{
			handOverEIP("eip-old", "i-gone", "i-live", now.Add(-90*24*time.Hour)),
			handOverEIP("eip-new", "i-gone", "i-live", now.Add(-time.Hour)),
		}})
		opts := handOverOptions()
		opts.DryRun = dry
		rep, err := runOne(t, c, opts, "r-1")
		if err != nil {
			t.Fatal(err)
		}
		out := eipOutcomes(rep)
		for _, id := range []string{"eip-old", "eip-new"} {
			tags, ok := eipTags(c, id)
			if !ok {
				t.Fatalf("dry %v: %s released", dry, id)
			}
			if _, marked := tags[handOverKey]; marked != dry {
				t.Errorf("dry %v: %s still marked %v", dry, id, marked)
			}
			if out[id] != "skipped/decision-changed" {
				t.Errorf("dry %v: %s: %q", dry, id, out[id])
			}
		}
		if want := map[bool]int{true: 0, false: 1}[dry]; c.Count("UnTagEIPs") != want {
			t.Errorf("dry %v: %d UnTagEIPs calls, want %d", dry, c.Count("UnTagEIPs"), want)
		}
	}
}

// A removal that fails fails the run, naming the EIP.
func TestHandOverRemovalFailureFailsTheRun(t *testing.T) {
	c := fake.New([]cloud.Instance{instance("i-live", "Running", "2099-01-01", "amy")})
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{handOverEIP("eip-a", "i-gone", "i-live", now.Add(-time.Hour))}})
	c.Fault = func(action string, _ any) error {
		if action == "UnTagEIPs" {
			return fake.Err(ecsapi.ActionUnTagEIPs, "r-1", "OperationDenied.QuotaExceed", 400)
		}
		return nil
	}
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("err %v, want a failed write", err)
	}
	if got := eipOutcomes(rep)["eip-a"]; got != "failed/OperationDenied.QuotaExceed" {
		t.Errorf("eip-a: %q", got)
	}
	if rep.Error == "" {
		t.Error("the report's error is empty")
	}
}

// A hand-over older than a week releases nothing: skipped/stale-mark. A
// younger one still releases.
func TestStaleHandOverReleasesNothing(t *testing.T) {
	c := fake.New(nil, "r-1")
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{
		handOverEIP("eip-stale", "i-gone", "", now.Add(-90*24*time.Hour)),
		handOverEIP("eip-week", "i-gone2", "", now.Add(-engine.HandOverMaxAge-time.Minute)),
		handOverEIP("eip-fresh", "i-gone3", "", now.Add(-6*24*time.Hour)),
	}})
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if err != nil {
		t.Fatal(err)
	}
	out := eipOutcomes(rep)
	for _, id := range []string{"eip-stale", "eip-week"} {
		if _, ok := eipTags(c, id); !ok {
			t.Errorf("%s released on a stale hand-over", id)
		}
		if out[id] != "skipped/stale-mark" {
			t.Errorf("%s: %q", id, out[id])
		}
	}
	if _, ok := eipTags(c, "eip-fresh"); ok || out["eip-fresh"] != "released/" {
		t.Errorf("eip-fresh: %q, still there %v", out["eip-fresh"], ok)
	}
}

// An EIP handed over by an instance that still exists is reported, not
// left out; a failed check of whether its instance is gone fails the run.
func TestHandOverOfALiveInstanceIsReported(t *testing.T) {
	c := fake.New([]cloud.Instance{instance("i-live", "Stopped", "2099-01-01", "amy")})
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{handOverEIP("eip-a", "i-live", "", now.Add(-time.Hour))}})
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := eipOutcomes(rep)["eip-a"]; got != "skipped/hand-over-pending" {
		t.Errorf("eip-a: %q", got)
	}

	c.Fault = func(action string, in any) error {
		if d, ok := in.(ecsapi.DescribeInput); ok && action == ecsapi.ActionDescribeInstances && len(d.InstanceIDs) > 0 {
			return fake.Err(action, "r-1", "InternalError", 500)
		}
		return nil
	}
	rep, err = runOne(t, c, handOverOptions(), "r-1")
	if !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("err %v, want the failed check to fail the run", err)
	}
	if got := eipOutcomes(rep)["eip-a"]; got != "failed/InternalError" {
		t.Errorf("eip-a after a failed check: %q", got)
	}
	if _, ok := eipTags(c, "eip-a"); !ok {
		t.Error("released without its check")
	}
}

// The count cap counts every release by its kind: the EIPs released after
// their instances in the same run and those handed over by earlier runs,
// and its message says which is which (an EIP is never an instance).
func TestCountCapCountsEveryReleaseByKind(t *testing.T) {
	fleet := func() *fake.Cloud {
		c := fake.New([]cloud.Instance{
			{ID: "i-1", Region: "r-1", Status: "Stopped", ChargeType: "PostPaid", Tags: map[string]string{optIn: "2026-01-01"}},
			{ID: "i-2", Region: "r-1", Status: "Stopped", ChargeType: "PostPaid", Tags: map[string]string{optIn: "2026-01-01"}},
		})
		c.SetResources(fake.Resources{EIPs: []cloud.EIP{
			{AllocationID: "eip-of-i-1", Address: "47.0.0.1", Region: "r-1", Status: "InUse", InstanceID: "i-1", InstanceType: "EcsInstance", ChargeType: "PostPaid"},
			handOverEIP("eip-handed", "i-gone", "", now.Add(-time.Hour)),
		}})
		return c
	}
	c := fleet()
	opts := handOverOptions()
	opts.MaxRelease = 3
	rep, err := runOne(t, c, opts, "r-1")
	if !errors.Is(err, engine.ErrCapExceeded) {
		t.Fatalf("err %v: 2 instances, the EIP of one and a hand-over are 4 releases, over a cap of 3", err)
	}
	if len(c.Released()) != 0 || len(c.EIPs()) != 2 {
		t.Fatalf("released %v, %d EIPs left", c.Released(), len(c.EIPs()))
	}
	for _, want := range []string{"2 instances eligible (100.0% of 2 opted in)", "4 writes counted by the count cap (2 instances, 1 EIPs of those instances, 1 EIPs handed over by earlier runs)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if rep.Cap == nil || rep.Cap.Eligible != 4 || rep.Cap.Instances != 2 || rep.Cap.InstanceEIPs != 1 || rep.Cap.HandOvers != 1 {
		t.Errorf("cap %+v", rep.Cap)
	}

	c = fleet()
	opts.MaxRelease = 4
	if _, err := runOne(t, c, opts, "r-1"); err != nil {
		t.Fatal(err)
	}
	if len(c.Released()) != 4 || len(c.EIPs()) != 0 {
		t.Fatalf("within the cap: released %v, EIPs left %v", c.Released(), c.EIPs())
	}
}

// With REAPER_RELEASE_EIPS on, the EIPs of the instances to release are
// part of what the run writes: when they cannot be listed, releasing the
// instances would leave their EIPs bound to nothing, unmarked and billed
// for ever. The region fails closed and the run fails; other regions go on.
func TestEIPListingThatFailsHoldsTheReleases(t *testing.T) {
	c := fake.New([]cloud.Instance{instance("i-1", "Stopped", "2020-01-01", "amy")})
	bound := cloud.EIP{AllocationID: "eip-1", Address: "47.0.0.1", Region: "r-1", Status: "InUse", ChargeType: "PostPaid",
		InstanceID: "i-1", InstanceType: "EcsInstance"}
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{bound}})
	c.Fault = func(action string, in any) error {
		if eip, ok := in.(ecsapi.EIPInput); ok && action == ecsapi.ActionDescribeEipAddresses && eip.TagKey == "" && len(eip.AllocationIDs) == 0 {
			return fake.Err(ecsapi.ActionDescribeEipAddresses, "r-1", "Forbidden.RAM", 403)
		}
		return nil
	}
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if err == nil || rep.Error == "" {
		t.Fatalf("err %v, report error %q: want the run to fail", err, rep.Error)
	}
	if len(c.Released()) != 0 {
		t.Fatalf("released %v with their EIPs out of sight", c.Released())
	}
	if f := rep.Regions[0].Error; f == nil || !strings.Contains(f.Message, "EIPs of the instances to release could not be listed") {
		t.Errorf("region error %+v does not say why", f)
	}
}

// The EIPs an earlier run handed over cannot be listed: they would stay
// billed without a word. The region fails closed, as when the EIPs of the
// instances to release cannot be listed, and the run fails, naming why.
func TestHandOverListingThatFailsFailsTheRun(t *testing.T) {
	c := fake.New([]cloud.Instance{instance("i-1", "Stopped", "2020-01-01", "amy")})
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{handOverEIP("eip-9", "i-gone", "", time.Now().Add(-time.Hour))}})
	c.Fault = func(action string, in any) error {
		if eip, ok := in.(ecsapi.EIPInput); ok && action == ecsapi.ActionDescribeEipAddresses && eip.TagKey == handOverKey {
			return fake.Err(ecsapi.ActionDescribeEipAddresses, "r-1", "ServiceUnavailable", 503)
		}
		return nil
	}
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if err == nil || rep.Error == "" {
		t.Fatalf("err %v, report error %q: want the run to fail", err, rep.Error)
	}
	if len(c.Released()) != 0 || c.Count(ecsapi.ActionReleaseEipAddress) != 0 {
		t.Fatalf("released %v and %d EIPs in a region it could not see whole", c.Released(), c.Count(ecsapi.ActionReleaseEipAddress))
	}
	if f := rep.Regions[0].Error; f == nil || f.Code != "ServiceUnavailable" || !strings.Contains(f.Message, "handed over by an earlier run could not be listed") {
		t.Errorf("region error %+v does not say why", f)
	}
}

// An EIP still not Available at a later run keeps the mark it was handed
// over with: no new write, and the mark's age still tells how long it has
// waited, so the week's bound can end it.
func TestHandOverStillUnavailableKeepsItsMark(t *testing.T) {
	c := fake.New(nil, "r-1")
	eip := handOverEIP("eip-stuck", "i-gone", "", now.Add(-3*24*time.Hour))
	eip.Status = "Unassociating"
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{eip}})
	before := eip.Tags[handOverKey]
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if got := eipOutcomes(rep)["eip-stuck"]; got != "not-attempted/eip-not-available" {
		t.Errorf("eip-stuck: %q", got)
	}
	if n := c.Count("TagEIPs"); n != 0 {
		t.Errorf("%d TagResources calls: the mark it carries stays", n)
	}
	if tags, _ := eipTags(c, "eip-stuck"); tags[handOverKey] != before {
		t.Errorf("mark rewritten: %q, was %q", tags[handOverKey], before)
	}
}

// An EIP handed over by an earlier run whose status could not be read
// (DescribeEipAddresses failed) is not "not Available yet": the read
// failed, and that fails the run, naming the EIP. Its mark stays.
func TestHandOverUnreadableFailsTheRun(t *testing.T) {
	c := fake.New(nil, "r-1")
	eip := handOverEIP("eip-stuck", "i-gone", "", now.Add(-3*24*time.Hour))
	eip.Status = "Unassociating"
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{eip}})
	before := eip.Tags[handOverKey]
	c.Fault = func(action string, in any) error {
		if e, ok := in.(ecsapi.EIPInput); ok && len(e.AllocationIDs) > 0 {
			return fake.Err(ecsapi.ActionDescribeEipAddresses, "r-1", "Forbidden.RAM", 403)
		}
		return nil
	}
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if err == nil || rep.Error == "" {
		t.Fatalf("err %v, report error %q: the run must fail", err, rep.Error)
	}
	if got := eipOutcomes(rep)["eip-stuck"]; got != "failed/Forbidden.RAM" {
		t.Errorf("eip-stuck: %q", got)
	}
	if tags, _ := eipTags(c, "eip-stuck"); tags[handOverKey] != before {
		t.Errorf("mark rewritten: %q, was %q", tags[handOverKey], before)
	}
}

// An EIP found Available by the poll right before its release is released
// only if what that read shows allows it: one given the keep tag while the
// run went on (after the listing that made it a candidate) is kept.
func TestHandOverKeptSinceListingIsKept(t *testing.T) {
	c := fake.New(nil, "r-1")
	eip := handOverEIP("eip-a", "i-gone", "", now.Add(-time.Hour))
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{eip}})
	tagged := false
	c.Fault = func(action string, in any) error {
		if e, ok := in.(ecsapi.EIPInput); ok && len(e.AllocationIDs) > 0 && !tagged {
			tagged = true
			kept := eip
			kept.Tags = map[string]string{handOverKey: eip.Tags[handOverKey], keep: ""}
			c.SetResources(fake.Resources{EIPs: []cloud.EIP{kept}})
		}
		return nil
	}
	rep, err := runOne(t, c, handOverOptions(), "r-1")
	if err != nil {
		t.Fatal(err)
	}
	if !tagged {
		t.Fatal("the poll never ran")
	}
	if _, ok := eipTags(c, "eip-a"); !ok {
		t.Fatal("eip-a released, kept since the listing")
	}
	if got := eipOutcomes(rep)["eip-a"]; got != "skipped/excluded" {
		t.Errorf("eip-a: %q", got)
	}
}
