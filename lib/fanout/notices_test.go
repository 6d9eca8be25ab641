package fanout_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

func notice(id, owner string) fanout.Notice {
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	return fanout.Notice{ID: id, Owner: owner, ExpiresAt: at, Action: "release", When: at.Add(24 * time.Hour), Mark: "reaper-notified"}
}

func planWithNotices(account string, notices ...fanout.Notice) *fanout.Plan {
	return &fanout.Plan{Run: run, Account: account, Status: fanout.PlanPlanned,
		Regions: []fanout.RegionPlan{{Region: "cn-hangzhou", OptedIn: len(notices), Notices: len(notices), Owed: notices}}}
}

// An account whose plan owes only notices is executed (its marks are
// writes), and its plan passes Validate.
func TestDecideExecutesAnAccountThatOnlyOwesNotices(t *testing.T) {
	p := planWithNotices(accA, notice("i-1", "alice"), notice("i-2", "bob"))
	d := fanout.Decide(manifest(accA), map[string]*fanout.Plan{accA: p}, nil, caps)
	if !slices.Equal(d.Execute, []string{accA}) || d.Org.Eligible != 0 {
		t.Errorf("execute %v, org eligible %d: want the account executed, nothing counted against the caps", d.Execute, d.Org.Eligible)
	}
}

// A plan's notices that break their rules make the plan untrusted.
func TestValidateRefusesBadNotices(t *testing.T) {
	good := notice("i-1", "alice")
	mod := func(f func(*fanout.Notice)) fanout.Notice { n := good; f(&n); return n }
	miscounted := planWithNotices(accA, good)
	miscounted.Regions[0].Notices = 0
	closed := planWithNotices(accA, good)
	closed.Regions[0].Closed = true
	released := planWithNotices(accA, good)
	released.Regions[0].Release = []fanout.Group{{IDs: []string{"i-1"}}}
	released.Regions[0].OptedIn = 2
	for name, tc := range map[string]struct {
		p    *fanout.Plan
		want string
	}{
		"count differs":         {miscounted, "1 notices listed but 0 marks counted"},
		"closed region":         {closed, "failed closed, yet plans notices"},
		"listed twice":          {planWithNotices(accA, good, good), "listed twice"},
		"also released":         {released, "listed twice"},
		"no ID":                 {planWithNotices(accA, mod(func(n *fanout.Notice) { n.ID = "" })), "not a resource ID"},
		"unknown kind":          {planWithNotices(accA, mod(func(n *fanout.Notice) { n.Kind = "widgets" })), `kind "widgets" is unknown`},
		"unknown action":        {planWithNotices(accA, mod(func(n *fanout.Notice) { n.Action = "delete" })), `action "delete"`},
		"no time":               {planWithNotices(accA, mod(func(n *fanout.Notice) { n.When = time.Time{} })), "no time"},
		"owner too long":        {planWithNotices(accA, mod(func(n *fanout.Notice) { n.Owner = strings.Repeat("a", 257) })), "not text within 256"},
		"control in owner":      {planWithNotices(accA, mod(func(n *fanout.Notice) { n.Owner = "alice\nbob" })), "not text within"},
		"invalid UTF-8 in name": {planWithNotices(accA, mod(func(n *fanout.Notice) { n.Name = "\xff" })), "not text within"},
		"no mark":               {planWithNotices(accA, mod(func(n *fanout.Notice) { n.Mark = "" })), "is not a tag key"},
	} {
		err := tc.p.Validate(run, accA)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if err := planWithNotices(accA, good, notice("i-2", "")).Validate(run, accA); err != nil {
		t.Errorf("a good plan refused: %v", err)
	}
}

// The Execute worker's view of Notify's record: a notice is delivered
// only for the owner whose digest named it, in its account, region, kind
// and action.
func TestNoticeRecordDeliveries(t *testing.T) {
	ref := fanout.NoticeRef{Account: accA, Region: "cn-hangzhou", ID: "i-1", Action: "release"}
	rec := fanout.NoticeRecord{Run: run, Owners: []fanout.OwnerNotice{
		{Owner: "alice", Status: fanout.NoticeDelivered, Notices: []fanout.NoticeRef{ref}},
		{Owner: "bob", Status: fanout.NoticeFailed, Why: "HTTP 500", Notices: []fanout.NoticeRef{{Account: accB, Region: "cn-hangzhou", ID: "i-2", Action: "stop"}}},
		{Owner: "carol", Status: fanout.NoticeUnsent, Why: "too little time", Notices: []fanout.NoticeRef{{Account: accB, Region: "cn-hangzhou", ID: "i-3", Action: "stop"}}},
	}}
	d := rec.Deliveries()
	if o := d.Of(ref, "alice"); o == nil || o.Status != fanout.NoticeDelivered {
		t.Errorf("alice's notice: %+v", o)
	}
	other := ref
	other.Account = accB
	stop := ref
	stop.Action = "stop"
	for name, got := range map[string]*fanout.OwnerNotice{
		"another owner now": d.Of(ref, "mallory"),
		"another account":   d.Of(other, "alice"),
		"another action":    d.Of(stop, "alice"),
	} {
		if got != nil {
			t.Errorf("%s: %+v, want not told", name, got)
		}
	}
	s := rec.Summary()
	if s.Owners != 3 || s.Owed != 3 || s.Delivered != 1 || s.UnsentItems != 1 {
		t.Errorf("summary %+v", s)
	}
	if f := rec.Failures(); len(f) != 1 || !strings.Contains(f[0], "notice to bob (1) not delivered: HTTP 500") {
		t.Errorf("failures %q", f)
	}
	if fanout.OwnerDoc("alice") == fanout.OwnerDoc("bob") || strings.Contains(fanout.OwnerDoc("alice"), "alice") {
		t.Errorf("owner docs %s %s: want one per owner, hashed", fanout.OwnerDoc("alice"), fanout.OwnerDoc("bob"))
	}
}
