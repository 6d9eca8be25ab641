package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
)

func due(account, id, owner string, expires time.Time) engine.Notice {
	return engine.Notice{Account: account, Region: "r-1", Notice: plan.Notice{ID: id, Owner: owner, ExpiresAt: expires, Action: "release", When: expires.Add(24 * time.Hour)}}
}

// The fan-out's Notify step: one digest per owner across accounts,
// earliest due first; an owner an earlier attempt told is not sent again;
// each delivery is recorded before the next owner is told; a refusal is
// the owner's outcome with the channel's answer, and is not recorded.
func TestTellOneDigestPerOwnerAcrossAccounts(t *testing.T) {
	notices := []engine.Notice{
		due("111", "i-a1", "alice", day0.Add(48*time.Hour)),
		due("222", "i-a2", "alice", day0.Add(24*time.Hour)),
		due("111", "i-b1", "bob", day0.Add(12*time.Hour)),
		due("222", "i-c1", "carol", day0.Add(72*time.Hour)),
	}
	n := &notifier{}
	var recorded []string
	out, err := engine.Tell(t.Context(), engine.TellOptions{Notifier: n,
		Told:   func(owner string) bool { return owner == "carol" },
		Record: func(o engine.OwnerTold) error { recorded = append(recorded, o.Owner); return nil }}, notices)
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, x := range n.notices {
		owners = append(owners, x.Owner)
	}
	if !slices.Equal(owners, []string{"bob", "alice"}) || !slices.Equal(recorded, owners) || len(out) != 2 {
		t.Fatalf("sent to %v, recorded %v, answered %d: want bob then alice (earliest due first), carol not again", owners, recorded, len(out))
	}
	var items []string
	for _, it := range n.notices[1].Items {
		items = append(items, it.Account+"/"+it.Region+"/"+it.InstanceID)
	}
	if !slices.Equal(items, []string{"111/r-1/i-a1", "222/r-1/i-a2"}) {
		t.Errorf("alice's digest names %v: want both accounts' instances", items)
	}
	if out[1].Status != engine.Delivered || len(out[1].Notices) != 2 || out[1].Notices[0].ID != "i-a2" {
		t.Errorf("alice's outcome %+v: delivered, her two notices earliest due first", out[1])
	}

	// The channel refuses: failed with its answer, not recorded.
	n = &notifier{failNext: 1}
	recorded = nil
	out, err = engine.Tell(t.Context(), engine.TellOptions{Notifier: n,
		Record: func(o engine.OwnerTold) error { recorded = append(recorded, o.Owner); return nil }}, notices[:2])
	if err != nil || len(out) != 1 || out[0].Status != engine.DeliveryFailed || !strings.Contains(out[0].Why, "sign not match") || len(recorded) != 0 {
		t.Errorf("refused: %+v, recorded %v, %v", out, recorded, err)
	}

	// A record that cannot be written ends Tell: its retry resends only
	// what was not recorded.
	n = &notifier{}
	_, err = engine.Tell(t.Context(), engine.TellOptions{Notifier: n,
		Record: func(engine.OwnerTold) error { return errors.New("oss PutObject: ServiceUnavailable") }}, notices)
	if err == nil || len(n.notices) != 1 {
		t.Errorf("record failed: %v after %d sent; want the error after the first owner", err, len(n.notices))
	}
}

// A dry run sends nothing; a deadline that leaves no time to send leaves
// every owner owed, nothing sent.
func TestTellDryRunAndDeadline(t *testing.T) {
	notices := []engine.Notice{due("111", "i-a1", "alice", day0), due("222", "i-b1", "bob", day0)}
	n := &notifier{}
	out, err := engine.Tell(t.Context(), engine.TellOptions{Notifier: n, DryRun: true}, notices)
	if err != nil || len(n.notices) != 0 || len(out) != 2 || !out[0].WouldNotify {
		t.Errorf("dry run: sent %d, %+v, %v", len(n.notices), out, err)
	}
	// No channel: nothing is sent or recorded, and every owner counts as
	// told (the marks are written without a notice).
	recorded := 0
	out, err = engine.Tell(t.Context(), engine.TellOptions{Record: func(engine.OwnerTold) error { recorded++; return nil }}, notices)
	if err != nil || recorded != 0 || len(out) != 2 || out[0].Status != engine.Delivered || out[1].Status != engine.Delivered {
		t.Errorf("no channel: recorded %d, %+v, %v", recorded, out, err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	out, err = engine.Tell(ctx, engine.TellOptions{Notifier: n, DeadlineMargin: 5 * time.Second}, notices)
	if err != nil || len(n.notices) != 0 || len(out) != 2 || out[0].Status != engine.DeliveryUnsent || !strings.Contains(out[0].Why, "too little time") {
		t.Errorf("no time: sent %d, %+v, %v", len(n.notices), out, err)
	}
}

// The fan-out's Execute worker: it sends no notice, marks only what the
// Notify step delivered, fails naming the channel's answer for what it
// refused, and leaves alone what no digest named.
func TestDeliveredMarksOnlyWhatWasDelivered(t *testing.T) {
	c := fake.New([]cloud.Instance{instance("i-a1", "Stopped", "2026-11-01", "alice"), instance("i-b1", "Stopped", "2026-11-01", "bob"),
		instance("i-c1", "Stopped", "2026-11-01", "carol"), instance("i-d1", "Stopped", "2026-11-01", "dave")})
	n := &notifier{}
	opts := options()
	opts.Lifecycle, opts.Notifier = lifecycle, n
	opts.Now = func() time.Time { return day0 }
	var asked []string
	opts.Delivered = func(x engine.Notice) (engine.Delivery, string) {
		asked = append(asked, x.Account+"/"+x.Region+"/"+x.ID)
		switch x.Owner {
		case "alice":
			return engine.Delivered, ""
		case "bob":
			return engine.DeliveryFailed, "dingtalk: errcode 310000 sign not match"
		case "carol":
			return engine.DeliveryUnsent, "too little time left before the deadline to send the owner's digest"
		}
		return engine.NotTold, ""
	}
	rep, err := engine.New(opts, nil).Run(t.Context(), org{"111": c}.targets("r-1"))
	if !errors.Is(err, engine.ErrNoticeFailed) || !strings.Contains(err.Error(), "sign not match") {
		t.Errorf("error %v: want the notice failure with the channel's answer", err)
	}
	if len(n.notices) != 0 {
		t.Errorf("sent %d notices: the Execute worker sends none", len(n.notices))
	}
	if !slices.Contains(asked, "111/r-1/i-a1") {
		t.Errorf("asked about %v: want each notice with its scope", asked)
	}
	var tagged []string
	for _, call := range c.Calls() {
		if call.Action == ecsapi.ActionTagResources {
			tagged = append(tagged, call.IDs...)
		}
	}
	if inst, _ := c.Instance("i-a1"); !slices.Equal(tagged, []string{"i-a1"}) || inst.Tags[lifecycle.MarkKey] == "" {
		t.Errorf("tagged %v: want only the delivered i-a1 marked", tagged)
	}
	want := map[string]string{"i-a1": "notified/", "i-b1": "failed/notice-not-delivered", "i-c1": "not-attempted/deadline", "i-d1": "skipped/not-confirmed"}
	if got := outcomes(rep); !mapsEqual(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	if rep.Notices == nil || rep.Notices.Delivered != 1 || rep.Notices.Owed != 4 || rep.Notices.UnsentItems != 2 {
		t.Errorf("notices %+v", rep.Notices)
	}
}

// The planned notices, with their scopes: what the fan-out's Plan worker
// records.
func TestPlannedNotices(t *testing.T) {
	a := fake.New([]cloud.Instance{instance("i-a1", "Stopped", "2026-11-01", "alice")})
	b := fake.New([]cloud.Instance{instance("i-a2", "Stopped", "2026-11-02", "alice")})
	opts := options()
	opts.Lifecycle, opts.DryRun = lifecycle, true
	opts.Now = func() time.Time { return day0 }
	var due []engine.Notice
	opts.Planned = func(p []engine.Planned) { due = engine.PlannedNotices(p) }
	if _, err := engine.New(opts, nil).Run(t.Context(), org{"111": a, "222": b}.targets("r-1")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range due {
		got = append(got, x.Account+"/"+x.Region+"/"+x.ID+"/"+x.Owner+"/"+x.Action)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"111/r-1/i-a1/alice/release", "222/r-1/i-a2/alice/release"}) {
		t.Errorf("kept %v", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
