package handler

import (
	"reflect"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// A Plan worker's due notices go into its plan by region, counted, with
// the mark they imply; none in a region that failed closed. Notify reads
// back the same notices, and an Execute worker's gate answers from the
// record.
func TestPlanNoticesRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	n := func(region, id, owner string) engine.Notice {
		return engine.Notice{Account: "1000000000000111", Region: region, Notice: plan.Notice{ID: id, Name: "web-" + id, Owner: owner, ExpiresAt: at,
			Action: "release", When: at.Add(24 * time.Hour), Facts: report.NewFacts("web-"+id, "Stopped", "PostPaid", at)}}
	}
	due := []engine.Notice{n("cn-hangzhou", "i-1", "alice"), n("cn-hangzhou", "i-2", ""), n("cn-beijing", "i-3", "bob")}
	p := fanout.Plan{Run: "20261206T090000Z", Account: "1000000000000111", Status: fanout.PlanPlanned, Regions: []fanout.RegionPlan{
		{Region: "cn-hangzhou", OptedIn: 2, Notices: 2}, {Region: "cn-beijing", Closed: true}}}
	withNotices(&p, due, "reaper-notified")
	if r := p.Regions[0]; r.Notices != 2 || len(r.Owed) != 2 || r.Owed[0].Mark != "reaper-notified" {
		t.Fatalf("hangzhou %+v: want its two notices, counted, with their mark", r)
	}
	if r := p.Regions[1]; r.Notices != 0 || len(r.Owed) != 0 {
		t.Errorf("a closed region plans notices: %+v", r)
	}
	if err := p.Validate(p.Run, p.Account); err != nil {
		t.Fatalf("the plan is not valid: %v", err)
	}
	if back := noticesOf(p); !reflect.DeepEqual(back, due[:2]) {
		t.Errorf("read back %+v\nwant %+v", back, due[:2])
	}
	rec := &fanout.NoticeRecord{Run: p.Run, Owners: []fanout.OwnerNotice{
		ownerNotice(p.Run, engine.OwnerTold{Owner: "alice", Status: engine.Delivered, Notices: due[:1]}),
		ownerNotice(p.Run, engine.OwnerTold{Owner: "", Status: engine.DeliveryFailed, Why: "HTTP 500", Notices: due[1:2]}),
		ownerNotice(p.Run, engine.OwnerTold{Owner: "bob", Status: engine.Delivered, WouldNotify: true, Notices: due[2:]}),
	}}
	gate := deliveredBy(rec)
	moved := due[0]
	moved.Owner = "mallory"
	// The expiry tag changed after the digest named the old one.
	redated := due[0]
	redated.ExpiresAt = redated.ExpiresAt.Add(-time.Hour)
	for _, tc := range []struct {
		n    engine.Notice
		want engine.Delivery
		why  string
	}{{due[0], engine.Delivered, ""}, {due[1], engine.DeliveryFailed, "HTTP 500"}, {moved, engine.NotTold, ""}, {redated, engine.NotTold, ""},
		{due[2], engine.DeliveryUnsent, "Notify ran as a dry run and sent nothing"}} {
		if got, why := gate(tc.n); got != tc.want || why != tc.why {
			t.Errorf("%s owned by %q: %v %q, want %v %q", tc.n.ID, tc.n.Owner, got, why, tc.want, tc.why)
		}
	}
}
