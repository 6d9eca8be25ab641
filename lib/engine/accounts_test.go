package engine_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// org is a fleet of accounts, each with its own in-memory ECS.
type org map[string]*fake.Cloud

func (o org) targets(regions ...string) []engine.Target {
	var out []engine.Target
	for _, account := range slices.Sorted(func(yield func(string) bool) {
		for a := range o {
			if !yield(a) {
				return
			}
		}
	}) {
		for _, r := range regions {
			out = append(out, engine.Target{Scope: cloud.Scope{Account: account, Region: r}, API: o[account]})
		}
	}
	return out
}

func accountStatus(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, a := range rep.Accounts {
		out[a.Account] = a.Status
	}
	return out
}

// An account over its own cap writes nothing; the others are swept; the
// run fails naming the account and the numbers.
func TestAccountOverItsCapIsHeldAlone(t *testing.T) {
	o := org{"111": fake.New(stopped("r-1", "a", 3)), "222": fake.New(stopped("r-1", "b", 10))}
	opts := options()
	opts.MaxRelease = 5
	rep, err := engine.New(opts, nil).Run(t.Context(), o.targets("r-1"))
	if !errors.Is(err, engine.ErrCapExceeded) || !strings.Contains(err.Error(), "account 222: 10 instances eligible") || !strings.Contains(err.Error(), "the count cap of 5") {
		t.Fatalf("err %v: want the cap exceeded, naming account 222 and its numbers", err)
	}
	if len(o["111"].Released()) != 3 || len(o["222"].Released()) != 0 || o["222"].Count(ecsapi.ActionDeleteInstances) != 0 {
		t.Fatalf("released %v and %v: want 111's three and nothing of 222", o["111"].Released(), o["222"].Released())
	}
	if st := accountStatus(rep); st["111"] != report.AccountSwept || st["222"] != report.AccountHeldByCap {
		t.Errorf("statuses %v", st)
	}
	for _, a := range rep.Accounts {
		if a.Cap == nil || a.Cap.MaxRelease != 5 || a.Cap.Exceeded != (a.Account == "222") {
			t.Errorf("account %s cap %+v", a.Account, a.Cap)
		}
	}
	if rep.Cap != nil || rep.Error != err.Error() || rep.Totals.Reasons["not-attempted/cap-exceeded"] != 10 {
		t.Errorf("report cap %+v error %q reasons %v: no organisation cap set, the run's error, 222's ten held", rep.Cap, rep.Error, rep.Totals.Reasons)
	}
}

// Over the organisation's cap nothing is written anywhere, though every
// account is within its own; the organisation's cap counts the accounts
// within their own caps.
func TestOrganisationCapHoldsEveryAccount(t *testing.T) {
	t.Run("count", func(t *testing.T) {
		o := org{"111": fake.New(stopped("r-1", "a", 6)), "222": fake.New(stopped("r-1", "b", 6))}
		opts := options()
		opts.MaxRelease, opts.OrgCaps = 10, &engine.Caps{MaxRelease: 10}
		rep, err := engine.New(opts, nil).Run(t.Context(), o.targets("r-1"))
		if !errors.Is(err, engine.ErrCapExceeded) || !strings.Contains(err.Error(), "the organisation's cap: 12 instances eligible") || !strings.Contains(err.Error(), "count cap of 10") {
			t.Fatalf("err %v", err)
		}
		if len(o["111"].Released())+len(o["222"].Released()) != 0 {
			t.Fatal("released under the organisation's cap")
		}
		if st := accountStatus(rep); st["111"] != report.AccountHeldByCap || st["222"] != report.AccountHeldByCap {
			t.Errorf("statuses %v", st)
		}
		if rep.Cap == nil || !rep.Cap.Exceeded || rep.Cap.Eligible != 12 || rep.Accounts[0].Cap.Exceeded {
			t.Errorf("organisation cap %+v, account cap %+v", rep.Cap, rep.Accounts[0].Cap)
		}
	})
	t.Run("percent only", func(t *testing.T) {
		o := org{"111": fake.New(stopped("r-1", "a", 6)), "222": fake.New(stopped("r-1", "b", 6))}
		opts := options()
		opts.OrgCaps = &engine.Caps{MaxRelease: -1, MaxReleasePercent: 50}
		rep, err := engine.New(opts, nil).Run(t.Context(), o.targets("r-1"))
		if !errors.Is(err, engine.ErrCapExceeded) || len(o["111"].Released()) != 0 || rep.Cap.CountExceeded || !rep.Cap.PercentExceeded {
			t.Fatalf("err %v cap %+v", err, rep.Cap)
		}
	})
	t.Run("held accounts do not count", func(t *testing.T) {
		o := org{"111": fake.New(stopped("r-1", "a", 3)), "222": fake.New(stopped("r-1", "b", 10))}
		opts := options()
		opts.MaxRelease, opts.OrgCaps = 5, &engine.Caps{MaxRelease: 5}
		rep, err := engine.New(opts, nil).Run(t.Context(), o.targets("r-1"))
		if !errors.Is(err, engine.ErrCapExceeded) || strings.Contains(err.Error(), "organisation") || len(o["111"].Released()) != 3 || rep.Cap.Exceeded {
			t.Fatalf("err %v, released %v, organisation cap %+v: 222 held by its own cap, 111 within both", err, o["111"].Released(), rep.Cap)
		}
	})
	t.Run("within", func(t *testing.T) {
		o := org{"111": fake.New(stopped("r-1", "a", 3)), "222": fake.New(stopped("r-1", "b", 3))}
		opts := options()
		opts.OrgCaps = &engine.Caps{MaxRelease: 6}
		rep, err := engine.New(opts, nil).Run(t.Context(), o.targets("r-1"))
		if err != nil || len(o["111"].Released())+len(o["222"].Released()) != 6 || rep.Cap.Exceeded || rep.Totals.Accounts[report.AccountSwept] != 2 {
			t.Fatalf("err %v cap %+v", err, rep.Cap)
		}
	})
}

// An account whose role could not be assumed is unreachable: the others
// are swept, the run fails naming it and its code, and the report keeps
// it though it has no regions.
func TestUnreachableAccount(t *testing.T) {
	o := org{"111": fake.New(stopped("r-1", "a", 3))}
	e := engine.New(options(), nil)
	e.Unreachable("333", fake.Err("AssumeRole", "", "EntityNotExist.Role", 404))
	e.AccountFailed("444", fake.Err(ecsapi.ActionDescribeRegions, "", "Forbidden.RAM", 403))
	rep, err := e.Run(t.Context(), o.targets("r-1"))
	if !errors.Is(err, engine.ErrAccountUnreachable) || !errors.Is(err, engine.ErrRegionFailed) || !strings.Contains(err.Error(), "333 (EntityNotExist.Role)") || !strings.Contains(err.Error(), "444 (Forbidden.RAM)") {
		t.Fatalf("err %v: want 333 unreachable and 444 failed, named with their codes", err)
	}
	if len(o["111"].Released()) != 3 {
		t.Fatalf("released %v: the reachable account is swept", o["111"].Released())
	}
	st := accountStatus(rep)
	if st["111"] != report.AccountSwept || st["333"] != report.AccountUnreachable || st["444"] != report.AccountFailed {
		t.Errorf("statuses %v", st)
	}
	if rep.Complete || rep.Error == "" || rep.Accounts[1].Error.Code != "EntityNotExist.Role" {
		t.Errorf("complete %v error %q account %+v", rep.Complete, rep.Error, rep.Accounts[1])
	}
}

// An account whose calls are slow (throttled, retried) holds only its own
// scopes: another account is listed and released meanwhile.
func TestSlowAccountNeverHoldsAnother(t *testing.T) {
	slow := fake.New(stopped("r-1", "a", 2), "r-2")
	fast := fake.New(stopped("r-1", "b", 2), "r-2")
	var once sync.Once
	fastDone := make(chan struct{})
	starved := false
	slow.Fault = func(action string, _ any) error {
		if action != ecsapi.ActionDescribeInstances {
			return nil
		}
		select {
		case <-fastDone:
		case <-time.After(5 * time.Second):
			starved = true
		}
		return nil
	}
	fast.Fault = func(_ string, in any) error {
		// Its second region listed: the whole account listed.
		if d, ok := in.(ecsapi.DescribeInput); ok && d.Region == "r-2" {
			once.Do(func() { close(fastDone) })
		}
		return nil
	}
	opts := options()
	opts.RegionConcurrency, opts.AccountConcurrency = 1, 2
	targets := org{"111": slow, "222": fast}.targets("r-1", "r-2")
	if _, err := engine.New(opts, nil).Run(t.Context(), targets); err != nil {
		t.Fatal(err)
	}
	if starved {
		t.Fatal("the slow account's listing held the other account's sweep")
	}
	if len(slow.Released()) != 2 || len(fast.Released()) != 2 {
		t.Errorf("released %v %v", slow.Released(), fast.Released())
	}
}

// One digest per owner across accounts, each instance with its account;
// each mark written with its own account's API.
func TestNoticesAcrossAccounts(t *testing.T) {
	a := fake.New([]cloud.Instance{instance("i-a1", "Stopped", "2026-11-01", "alice"), instance("i-b1", "Stopped", "2026-11-01", "bob")})
	b := fake.New([]cloud.Instance{instance("i-a2", "Stopped", "2026-11-02", "alice")})
	n := &notifier{}
	opts := options()
	opts.Lifecycle, opts.Notifier = lifecycle, n
	opts.Now = func() time.Time { return day0 }
	rep, err := engine.New(opts, nil).Run(t.Context(), org{"111": a, "222": b}.targets("r-1"))
	if err != nil {
		t.Fatal(err)
	}
	var alice []string
	for _, x := range n.notices {
		if x.Owner == "alice" {
			for _, it := range x.Items {
				alice = append(alice, it.Account+"/"+it.InstanceID)
			}
		}
	}
	if len(n.notices) != 2 || !slices.Equal(alice, []string{"111/i-a1", "222/i-a2"}) {
		t.Fatalf("%d notices, alice's items %v: want one digest per owner, alice's naming both accounts", len(n.notices), alice)
	}
	for c, id := range map[*fake.Cloud]string{a: "i-a1", b: "i-a2"} {
		if inst, _ := c.Instance(id); inst.Tags[lifecycle.MarkKey] == "" {
			t.Errorf("%s has no mark in its own account", id)
		}
	}
	for c, want := range map[*fake.Cloud][]string{a: {"i-a1", "i-b1"}, b: {"i-a2"}} {
		var tagged []string
		for _, call := range c.Calls() {
			if call.Action == ecsapi.ActionTagResources {
				tagged = append(tagged, call.IDs...)
			}
		}
		if slices.Sort(tagged); !slices.Equal(tagged, want) {
			t.Errorf("tagged %v through one account's API, want %v: each mark through its own account's", tagged, want)
		}
	}
	if rep.Notices.Delivered != 2 {
		t.Errorf("notices %+v", rep.Notices)
	}
}

// A held account's notices are not sent: a notice is a write (its mark).
func TestHeldAccountSendsNoNotices(t *testing.T) {
	a := fake.New([]cloud.Instance{instance("i-a1", "Stopped", "2026-11-01", "alice")})
	// 222: three told long ago (verified marks, past the grace) to
	// release, over its cap of 2, and one to tell.
	var fleet []cloud.Instance
	for _, id := range []string{"i-b2", "i-b3", "i-b4"} {
		in := instance(id, "Stopped", "2026-11-01", "carol")
		in.Tags[lifecycle.MarkKey] = testMarks.Time(id, lifecycle.MarkKey, day0.Add(-72*time.Hour))
		fleet = append(fleet, in)
	}
	b := fake.New(append(fleet, instance("i-b1", "Stopped", "2026-11-01", "bob")))
	n := &notifier{}
	opts := options()
	opts.Lifecycle, opts.Notifier, opts.MaxRelease = lifecycle, n, 2
	opts.Now = func() time.Time { return day0 }
	_, err := engine.New(opts, nil).Run(t.Context(), org{"111": a, "222": b}.targets("r-1"))
	if !errors.Is(err, engine.ErrCapExceeded) {
		t.Fatalf("err %v", err)
	}
	if told := n.told(); !slices.Equal(told, []string{"i-a1"}) || b.Count(ecsapi.ActionTagResources) != 0 {
		t.Errorf("told %v, %d marks in 222: want only 111's notice", told, b.Count(ecsapi.ActionTagResources))
	}
}

// A run that released nothing because its only other account was
// unreachable still tells the chat: a failed run is never quiet.
func TestUnreachableOnlyRunPostsItsSummary(t *testing.T) {
	o := org{"111": fake.New(nil)}
	n := &notifier{}
	opts := options()
	opts.Notifier = n
	e := engine.New(opts, nil)
	e.Unreachable("333", fake.Err("AssumeRole", "", "EntityNotExist.Role", 404))
	rep, err := e.Run(t.Context(), o.targets("r-1"))
	if !errors.Is(err, engine.ErrAccountUnreachable) {
		t.Fatalf("err %v: want account 333 unreachable", err)
	}
	if len(n.reports) != 1 || n.reports[0].Error != rep.Error || !strings.Contains(n.reports[0].Error, "333") {
		t.Fatalf("summaries %+v: want one, carrying the run's error naming 333", n.reports)
	}
}

// An invocation without time still reports its unreachable accounts.
func TestUnreachableReportedWithoutTime(t *testing.T) {
	opts := options()
	opts.DeadlineMargin = time.Second
	e := engine.New(opts, nil)
	e.Unreachable("333", fake.Err("AssumeRole", "", "NoPermission", 403))
	ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	rep, err := e.Run(ctx, org{"111": fake.New(stopped("r-1", "a", 1))}.targets("r-1"))
	if !errors.Is(err, engine.ErrNoTime) || accountStatus(rep)["333"] != report.AccountUnreachable {
		t.Fatalf("err %v, accounts %v", err, accountStatus(rep))
	}
}

// Accounts configured but one swept (a payload narrowed them): the
// organisation's cap still holds the run.
func TestOrganisationCapWithOneAccount(t *testing.T) {
	o := org{"111": fake.New(stopped("r-1", "a", 3))}
	opts := options()
	opts.OrgCaps = &engine.Caps{MaxRelease: 2}
	rep, err := engine.New(opts, nil).Run(t.Context(), o.targets("r-1"))
	if !errors.Is(err, engine.ErrCapExceeded) || !strings.Contains(err.Error(), "organisation") || len(o["111"].Released()) != 0 || accountStatus(rep)["111"] != report.AccountHeldByCap {
		t.Fatalf("err %v, released %v", err, o["111"].Released())
	}
}

// A run that fails because the function's timeout leaves no time to sweep
// still tells the chat: a failed run is never quiet.
func TestNoTimeRunPostsItsSummary(t *testing.T) {
	n := &notifier{}
	opts := options()
	opts.Notifier, opts.DeadlineMargin = n, time.Minute
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	rep, err := engine.New(opts, nil).Run(ctx, org{"111": fake.New(stopped("r-1", "a", 1))}.targets("r-1"))
	if !errors.Is(err, engine.ErrNoTime) {
		t.Fatalf("err %v: want no time", err)
	}
	if len(n.reports) != 1 || n.reports[0].Error == "" || n.reports[0].Error != rep.Error {
		t.Fatalf("summaries %+v: want one, carrying the run's error %q", n.reports, rep.Error)
	}
}
