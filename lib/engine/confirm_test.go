package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

func sectionOutcomes(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, r := range rep.Regions {
		for _, sec := range []*report.Section{r.Section("disks"), r.Section("snapshots"), r.Section("eips")} {
			if sec == nil {
				continue
			}
			for _, g := range sec.Groups {
				for _, it := range g.Instances {
					out[it.ID] = string(g.Outcome) + "/" + string(g.Reason)
				}
			}
		}
	}
	return out
}

// The live run writes only to what the dry run showed (by ID and kind),
// and only what still qualifies: a shown instance kept meanwhile stays, an
// unshown one that expired meanwhile waits for the next confirmation, and
// so do a new disk and an EIP hand-over nobody was shown.
func TestConfirmedRunWritesOnlyWhatWasShown(t *testing.T) {
	const region = "cn-hangzhou"
	inst := func(id, expires string) cloud.Instance {
		return cloud.Instance{ID: id, Region: region, Status: "Stopped", ChargeType: "PostPaid", CreationTime: "2026-01-01T00:00Z",
			Tags: map[string]string{optIn: expires}}
	}
	disk := func(id, expires string) cloud.Disk {
		return cloud.Disk{ID: id, Region: region, Status: "Available", Type: "data", Category: "cloud_essd", ChargeType: "PostPaid",
			CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{optIn: expires}}
	}
	eip := func(id, instance string, tags map[string]string) cloud.EIP {
		status := "InUse"
		if instance == "" {
			status = "Available"
		}
		return cloud.EIP{AllocationID: id, Region: region, Status: status, InstanceID: instance, InstanceType: "EcsInstance",
			ChargeType: "PostPaid", AllocationTime: "2026-01-01T00:00Z", Tags: tags}
	}
	const handOver = "reaper-notified-released-with"
	c := fake.New([]cloud.Instance{inst("i-shown-kept", "2026-11-01"), inst("i-shown-still", "2026-11-01"), inst("i-unshown", "2099-01-01")})
	res := fake.Resources{
		Disks: []cloud.Disk{disk("d-shown", "2026-11-01"), disk("d-unshown", "2099-01-01")},
		EIPs:  []cloud.EIP{eip("eip-shown", "i-shown-still", nil), eip("eip-unshown", "i-unshown", nil)},
	}
	c.SetResources(res)
	opts := options()
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.Resources = true, handOver, []string{kinds.Disks.Name}
	opts.Lifecycle.Marks = testMarks // hand-over marks are signed

	dry := opts
	dry.DryRun = true
	plan, err := runOne(t, c, dry, region)
	if err != nil {
		t.Fatal(err)
	}
	confirmed := engine.ConfirmationOf(plan)
	if got := outcomes(plan); got["i-shown-kept"] != "would-release/" || got["i-shown-still"] != "would-release/" || got["i-unshown"] != "skipped/not-expired" {
		t.Fatalf("the plan: %v", got)
	}
	if confirmed.Count() != 4 || !confirmed.Resources[kinds.EIPs.Name]["eip-shown"] || !confirmed.Resources[kinds.Disks.Name]["d-shown"] {
		t.Fatalf("confirmation %+v", confirmed)
	}

	// Between the plan and the run: a shown instance is kept, the unshown
	// one and the unshown disk expire, and an EIP nobody was shown carries
	// a hand-over mark (its instance gone).
	c.Mutate("i-shown-kept", func(in *cloud.Instance) { in.Tags[keep] = "true" })
	c.Mutate("i-unshown", func(in *cloud.Instance) { in.Tags[optIn] = "2026-11-01" })
	res.Disks[1].Tags = map[string]string{optIn: "2026-11-01"}
	res.EIPs = append(res.EIPs, eip("eip-forgotten", "", map[string]string{handOver: testMarks.HandOver("eip-forgotten", handOver, "i-gone", now)}))
	c.SetResources(res)

	live := opts
	live.Confirmed = confirmed
	live.MaxRelease = confirmed.Count() // as the CLI lowers it
	rep, err := runOne(t, c, live, region)
	if err != nil {
		t.Fatal(err)
	}
	released := c.Released()
	slices.Sort(released)
	if want := []string{"d-shown", "eip-shown", "i-shown-still"}; !slices.Equal(released, want) {
		t.Errorf("released %v, want only %v", released, want)
	}
	got, sections := outcomes(rep), sectionOutcomes(rep)
	for id, want := range map[string]string{"i-shown-kept": "skipped/excluded", "i-shown-still": "released/", "i-unshown": "skipped/not-confirmed"} {
		if got[id] != want {
			t.Errorf("%s: %s, want %s", id, got[id], want)
		}
	}
	for id, want := range map[string]string{"d-shown": "released/", "d-unshown": "skipped/not-confirmed", "eip-shown": "released/", "eip-forgotten": "skipped/not-confirmed"} {
		if sections[id] != want {
			t.Errorf("%s: %s, want %s", id, sections[id], want)
		}
	}
	if !strings.Contains(rep.Warning, "not-confirmed") || !strings.Contains(rep.Warning, "i-unshown") {
		t.Errorf("warning %q does not say what was left for the next confirmation", rep.Warning)
	}
	for _, e := range c.EIPs() {
		if e.AllocationID == "eip-unshown" && e.Tags[handOver] != "" {
			t.Errorf("the EIP of an unconfirmed instance was tagged for a hand-over")
		}
	}

	// Without a confirmation (--yes, the function) nothing changes.
	if _, err := runOne(t, c, opts, region); err != nil {
		t.Fatal(err)
	}
	if r := c.Released(); !slices.Contains(r, "i-unshown") || !slices.Contains(r, "d-unshown") || !slices.Contains(r, "eip-forgotten") {
		t.Errorf("an unconfirmed run released %v", r)
	}
}

// What the operator confirmed includes how each instance is released: one
// shown stopped (a plain release) and started since is not force-released
// under REAPER_RUNNING=force (Force stops a running machine) but waits for
// the next confirmation, not-attempted/decision-changed; one whose flags
// are unchanged is released.
func TestConfirmedRunKeepsTheFlagsShown(t *testing.T) {
	const region = "cn-hangzhou"
	inst := func(id string) cloud.Instance {
		return cloud.Instance{ID: id, Region: region, Status: "Stopped", ChargeType: "PostPaid", CreationTime: "2026-01-01T00:00Z",
			Tags: map[string]string{optIn: "2026-11-01"}}
	}
	c := fake.New([]cloud.Instance{inst("i-started"), inst("i-same")})
	opts := options()
	opts.Rules.Force = true
	dry := opts
	dry.DryRun = true
	plan, err := runOne(t, c, dry, region)
	if err != nil {
		t.Fatal(err)
	}
	confirmed := engine.ConfirmationOf(plan)
	if confirmed.Count() != 2 {
		t.Fatalf("confirmation %+v", confirmed)
	}
	c.Mutate("i-started", func(in *cloud.Instance) { in.Status = "Running" })
	opts.Confirmed = confirmed
	rep, err := runOne(t, c, opts, region)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Released(); !slices.Equal(got, []string{"i-same"}) {
		t.Errorf("released %v, want only i-same", got)
	}
	if got := outcomes(rep)["i-started"]; got != "not-attempted/decision-changed" {
		t.Errorf("i-started: %q", got)
	}
}
