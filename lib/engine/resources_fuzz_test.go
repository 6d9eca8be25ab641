package engine

import (
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

var fuzzNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// fuzzEngine decides like a run with notices and a day's grace (lifecycle
// true) or without.
func fuzzEngine(lifecycle bool) *Engine {
	opts := Options{Rules: decide.Rules{OptInKey: "reaper-expires", KeepKey: "reaper-keep", Location: time.UTC}}
	if lifecycle {
		opts.Lifecycle = decide.Lifecycle{On: true, Notice: 24 * time.Hour, Grace: 24 * time.Hour, MarkKey: "reaper-notified", OwnerKey: "owner"}
	}
	return &Engine{opts: opts}
}

func fuzzTags(expiry, mark string, keep bool) map[string]string {
	tags := map[string]string{"reaper-expires": expiry, "reaper-notified": mark, "owner": "alice"}
	if keep {
		tags["reaper-keep"] = ""
	}
	return tags
}

// checkPartial: a resource whose answer lacks a fact the rules need is
// never eligible, neither when listed nor when re-read before its delete,
// and says invalid-data unless an earlier rule (no opt-in, the keep tag)
// already holds it.
func checkPartial(t *testing.T, it kinds.Resource, missing string, lifecycle bool) {
	t.Helper()
	e := fuzzEngine(lifecycle)
	d := decide.DecideResource(it.Decision(), e.opts.Rules, fuzzNow)
	if missing == "" {
		return
	}
	if d.Release {
		t.Fatalf("an answer without %s is eligible: %+v (held %q %q)", missing, d, it.Held, it.HeldDetail)
	}
	if _, keep := it.Tags["reaper-keep"]; !keep && d.Reason != verdict.InvalidData {
		t.Fatalf("an answer without %s: reason %q (%s), want %s", missing, d.Reason, d.Detail, verdict.InvalidData)
	}
	if v := e.recheckResource(it, fuzzNow); v.Keep {
		t.Fatalf("an answer without %s passes the re-read before the delete", missing)
	}
}

// The seed corpus is testdata/fuzz/FuzzDiskDecision: a whole answer and
// one without each fact.
func FuzzDiskDecision(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, status, typ, category, charge, expiry, mark string, keep, lifecycle bool) {
		disk := cloud.Disk{ID: id, Region: "cn-hangzhou", Status: status, Type: typ, Category: category, ChargeType: charge,
			CreationTime: "2026-01-01T00:00Z", Tags: fuzzTags(expiry, mark, keep)}
		var missing string
		switch {
		case typ == "":
			missing = "Type"
		case status == "":
			missing = "Status"
		case category == "":
			missing = "Category"
		case charge == "":
			missing = "DiskChargeType"
		}
		it := kinds.DiskResource(disk)
		checkPartial(t, it, missing, lifecycle)
		// Whatever the answer holds, only an Available pay-as-you-go data
		// disk can ever be eligible.
		d := decide.DecideResource(it.Decision(), fuzzEngine(lifecycle).opts.Rules, fuzzNow)
		if d.Release && (typ != "data" || status != "Available" || charge != decide.ChargePostPaid || category == "") {
			t.Fatalf("eligible: %+v", disk)
		}
	})
}

// The seed corpus is testdata/fuzz/FuzzSnapshotDecision.
func FuzzSnapshotDecision(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, usage, status, expiry, mark string, keep, lifecycle bool) {
		snap := cloud.Snapshot{ID: id, Region: "cn-hangzhou", Usage: usage, Status: status, Type: "user",
			CreationTime: "2026-01-01T00:00Z", Tags: fuzzTags(expiry, mark, keep)}
		var missing string
		switch {
		case usage == "":
			missing = "Usage"
		case status == "":
			missing = "Status"
		}
		it := kinds.SnapshotResource(snap)
		checkPartial(t, it, missing, lifecycle)
		d := decide.DecideResource(it.Decision(), fuzzEngine(lifecycle).opts.Rules, fuzzNow)
		if d.Release && (usage != "none" || status != "accomplished") {
			t.Fatalf("eligible: %+v", snap)
		}
	})
}

// The fuzz invariants can fail: a whole answer is eligible, and each
// missing fact alone holds it as invalid-data.
func TestPartialDiskAndSnapshotAnswersAreHeld(t *testing.T) {
	rules := fuzzEngine(false).opts.Rules
	whole := cloud.Disk{ID: "d-bp1aaaa", Status: "Available", Type: "data", Category: "cloud_essd", ChargeType: "PostPaid",
		CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{"reaper-expires": "2026-11-01"}}
	decideDisk := func(d cloud.Disk) decide.Decision {
		it := kinds.DiskResource(d)
		return decide.DecideResource(it.Decision(), rules, fuzzNow)
	}
	if !decideDisk(whole).Release {
		t.Fatalf("a whole expired disk is not eligible: %+v", decideDisk(whole))
	}
	for field, edit := range map[string]func(*cloud.Disk){
		"Type": func(d *cloud.Disk) { d.Type = "" }, "Status": func(d *cloud.Disk) { d.Status = "" },
		"Category": func(d *cloud.Disk) { d.Category = "" }, "DiskChargeType": func(d *cloud.Disk) { d.ChargeType = "" },
	} {
		d := whole
		edit(&d)
		if got := decideDisk(d); got.Release || got.Reason != verdict.InvalidData {
			t.Errorf("disk without %s: %+v, want invalid-data", field, got)
		}
	}
	snap := cloud.Snapshot{ID: "s-bp1aaaa", Usage: "none", Status: "accomplished", CreationTime: "2026-01-01T00:00Z",
		Tags: map[string]string{"reaper-expires": "2026-11-01"}}
	decideSnap := func(s cloud.Snapshot) decide.Decision {
		it := kinds.SnapshotResource(s)
		return decide.DecideResource(it.Decision(), rules, fuzzNow)
	}
	if !decideSnap(snap).Release {
		t.Fatalf("a whole expired snapshot is not eligible: %+v", decideSnap(snap))
	}
	for field, edit := range map[string]func(*cloud.Snapshot){
		"Usage": func(s *cloud.Snapshot) { s.Usage = "" }, "Status": func(s *cloud.Snapshot) { s.Status = "" },
	} {
		s := snap
		edit(&s)
		if got := decideSnap(s); got.Release || got.Reason != verdict.InvalidData {
			t.Errorf("snapshot without %s: %+v, want invalid-data", field, got)
		}
	}
}
