package org_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/org"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		accounts, tag, exclude string
		want                   org.Selection
		wantErr                string
	}{
		{"", "", "", org.Selection{Self: true}, ""},
		{" self ", "", "", org.Selection{Self: true}, ""},
		{"22, 11", "", "", org.Selection{IDs: []string{"11", "22"}}, ""},
		{"rd", "team=qa", "", org.Selection{RD: true, TagKey: "team", TagValue: "qa"}, ""},
		{"RD:fd-Ab1", "", "5", org.Selection{RD: true, Folder: "fd-Ab1", Exclude: []string{"5"}}, ""},
		{"rd,self,7", "k=v", "", org.Selection{RD: true, Self: true, IDs: []string{"7"}, TagKey: "k", TagValue: "v"}, ""},
		{"rd", "", "", org.Selection{}, "would sweep every member"},
		{"rd,rd:fd-1", "k=v", "", org.Selection{}, "more than once"},
		{"11,", "", "", org.Selection{}, "empty entry"},
		{"11", "k=v", "", org.Selection{}, "needs REAPER_ACCOUNTS=rd"},
		{"rd", "=v", "", org.Selection{}, "key=value"},
		{"rd", "k=", "", org.Selection{}, "key=value"},
		{"rd", "k=v\x01", "", org.Selection{}, "control"},
		{"self", "", "11", org.Selection{}, "own account only"},
		{"11", "", "1x", org.Selection{}, "not an account ID"},
		{"acc-1", "", "", org.Selection{}, "neither an account ID"},
		{"123456789012345678901", "", "", org.Selection{}, "neither an account ID"},
	} {
		got, err := org.Parse(tc.accounts, tc.tag, tc.exclude)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q, %q, %q) = %v, want error %q", tc.accounts, tc.tag, tc.exclude, err, tc.wantErr)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) || !slices.Equal(got.IDs, tc.want.IDs) || got.Self != tc.want.Self ||
			got.RD != tc.want.RD || got.Folder != tc.want.Folder || got.TagKey != tc.want.TagKey || got.TagValue != tc.want.TagValue ||
			!slices.Equal(got.Exclude, tc.want.Exclude) {
			t.Errorf("Parse(%q, %q, %q) = %+v, %v; want %+v", tc.accounts, tc.tag, tc.exclude, got, err, tc.want)
		}
	}
}

func members(n int) []orgdouble.Member {
	var out []orgdouble.Member
	for i := n; i >= 1; i-- { // the directory's order is not the sweep's
		out = append(out, orgdouble.Member{ID: fmt.Sprintf("20000000000%05d", i), Name: fmt.Sprintf("team-%d", i), Tags: map[string]string{"ecs-reaper": "on"}})
	}
	return out
}

// rd pages through ListAccounts with the tag filter sent and checks it
// again; members that have not finished joining, the exclusions and the
// own account are skipped; the accounts come out sorted.
func TestResolveDirectory(t *testing.T) {
	ms := members(230)
	ms[0].Status = "PromoteVerifying"
	ms[1].Status = "InviteSuccess"
	ms[2].Status = "PromoteSuccess"
	ms[3].Tags = map[string]string{"ecs-reaper": "off"}
	ms = append(ms, orgdouble.Member{ID: mgmt, Name: "management", Tags: map[string]string{"ecs-reaper": "on"}})
	w := newWorld(t, nil, orgdouble.WithMembers(ms...))
	sel, err := org.Parse("rd", "ecs-reaper=on", ms[5].ID)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := org.Resolve(context.Background(), sel, mgmt, w.caller)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(plan.Targets); n != 230-3 {
		t.Fatalf("%d targets, want 227 (230 tagged, one not joined, one excluded, one tagged off)", n)
	}
	if !slices.IsSortedFunc(plan.Targets, func(a, b org.Target) int { return strings.Compare(a.ID, b.ID) }) {
		t.Fatal("targets not sorted")
	}
	for _, tg := range plan.Targets {
		if tg.ID == mgmt || tg.ID == ms[0].ID || tg.ID == ms[5].ID || tg.Self {
			t.Fatalf("target %+v should be skipped", tg)
		}
	}
	skipped := map[string]org.Skipped{}
	for _, s := range plan.Skipped {
		skipped[s.ID] = s
	}
	if s := skipped[ms[0].ID]; s.Reason != org.SkipNotJoined || s.Status != "PromoteVerifying" {
		t.Errorf("not joined: %+v", s)
	}
	if s := skipped[ms[5].ID]; s.Reason != org.SkipExcluded {
		t.Errorf("excluded: %+v", s)
	}
	if s := skipped[mgmt]; s.Reason != org.SkipSelf {
		t.Errorf("own account: %+v", s)
	}
	// ms[3] is tagged off: the filter keeps it out of the answer.
	if _, ok := skipped[ms[3].ID]; ok {
		t.Errorf("the filtered member is reported: %+v", skipped[ms[3].ID])
	}
	calls := w.org.ListCalls()
	if len(calls) != 3 {
		t.Fatalf("%d ListAccounts pages, want 3 (230 members at 100)", len(calls))
	}
	for i, c := range calls {
		if c.PageNumber != fmt.Sprint(i+1) || c.PageSize != "100" || c.Tags["ecs-reaper"] != "on" || c.IncludeTags != "true" {
			t.Errorf("page %d sent %+v", i+1, c)
		}
	}
}

// A service that ignored the tag filter still sweeps tagged members only.
func TestResolveChecksTheTagOnTheAnswer(t *testing.T) {
	ms := members(3)
	ms[1].Tags = nil
	w := newWorld(t, nil, orgdouble.WithMembers(ms...), orgdouble.IgnoreTagFilter())
	sel, _ := org.Parse("rd", "ecs-reaper=on", "")
	plan, err := org.Resolve(context.Background(), sel, mgmt, w.caller)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plan.IDs(), []string{ms[2].ID, ms[0].ID}) || len(plan.Skipped) != 1 || plan.Skipped[0].Reason != org.SkipUntagged {
		t.Fatalf("plan %+v", plan)
	}
}

// rd:<folder> keeps the members in the folder or below it.
func TestResolveFolder(t *testing.T) {
	ms := members(4)
	ms[0].FolderID = "fd-team"
	ms[1].FolderID, ms[1].Path = "fd-sub", "rd-1/r-1/fd-team/fd-sub/"+ms[1].ID
	ms[2].FolderID, ms[2].Path = "fd-other", "rd-1/r-1/fd-other/"+ms[2].ID
	w := newWorld(t, nil, orgdouble.WithMembers(ms...))
	sel, _ := org.Parse("rd:fd-team", "ecs-reaper=on", "")
	plan, err := org.Resolve(context.Background(), sel, mgmt, w.caller)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plan.IDs(), []string{ms[1].ID, ms[0].ID}) {
		t.Fatalf("folder plan %v", plan.IDs())
	}
}

// A listed own account is swept as itself; exclusion wins over a list.
func TestResolveList(t *testing.T) {
	sel, _ := org.Parse(acctB+","+mgmt+","+acctA, "", acctB)
	plan, err := org.Resolve(context.Background(), sel, mgmt, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []org.Target{{ID: mgmt, Self: true}, {ID: acctA}}
	if !slices.Equal(plan.Targets, want) || len(plan.Skipped) != 1 || plan.Skipped[0].ID != acctB {
		t.Fatalf("plan %+v", plan)
	}
	self, _ := org.Parse("", "", "")
	plan, err = org.Resolve(context.Background(), self, "", nil)
	if err != nil || len(plan.Targets) != 1 || !plan.Targets[0].Self {
		t.Fatalf("self plan %+v, %v", plan, err)
	}
	if _, err := org.Resolve(context.Background(), sel, "", nil); err == nil {
		t.Fatal("several accounts without the own account's ID")
	}
	// An exclusion written with a leading zero still wins.
	padded, _ := org.Parse(acctA+","+acctB, "", "0"+acctB)
	if plan, err := org.Resolve(context.Background(), padded, mgmt, nil); err != nil || !slices.Equal(plan.IDs(), []string{acctA}) {
		t.Fatalf("exclusion 0%s: plan %v, %v", acctB, plan.IDs(), err)
	}
}

// Under rd too, a directory member excluded with a leading zero is not swept.
func TestResolveDirectoryExclusionLeadingZero(t *testing.T) {
	ms := members(3)
	w := newWorld(t, nil, orgdouble.WithMembers(ms...))
	sel, err := org.Parse("rd", "ecs-reaper=on", "00"+ms[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := org.Resolve(context.Background(), sel, mgmt, w.caller)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(plan.IDs(), ms[1].ID) || len(plan.Targets) != 2 {
		t.Fatalf("excluded %s swept: %v", ms[1].ID, plan.IDs())
	}
}

// Only the management account may list the directory: the error says so.
func TestResolveDirectoryDenied(t *testing.T) {
	w := newWorld(t, nil, orgdouble.WithMembers(members(2)...), orgdouble.WithManagement("1999999999999999"))
	sel, _ := org.Parse("rd", "ecs-reaper=on", "")
	_, err := org.Resolve(context.Background(), sel, mgmt, w.caller)
	if err == nil || !strings.Contains(err.Error(), "NoPermission") || strings.Contains(err.Error(), callerSecret) {
		t.Fatalf("Resolve by a member = %v", err)
	}
}

func TestNarrow(t *testing.T) {
	plan := org.Plan{Targets: []org.Target{{ID: mgmt, Self: true}, {ID: acctA}, {ID: acctB}}}
	got, err := org.Narrow(plan, []string{acctB, "self"})
	if err != nil || !slices.Equal(got.IDs(), []string{mgmt, acctB}) {
		t.Fatalf("Narrow = %v, %v", got.IDs(), err)
	}
	// The accounts narrowed away are in the report, with why.
	if len(got.Skipped) != 1 || got.Skipped[0].ID != acctA || got.Skipped[0].Reason != org.SkipNotRequested {
		t.Fatalf("Narrow skipped %+v: want %s, not requested", got.Skipped, acctA)
	}
	if got, err := org.Narrow(plan, nil); err != nil || len(got.Targets) != 3 {
		t.Fatalf("Narrow(nil) = %v, %v", got.IDs(), err)
	}
	if _, err := org.Narrow(plan, []string{acctA, acctC}); err == nil || !strings.Contains(err.Error(), acctC) || !strings.Contains(err.Error(), "never widen") {
		t.Fatalf("widening: %v", err)
	}
	ids, err := org.ParseIDs(" 2,1,self,1")
	if err != nil || !slices.Equal(ids, []string{"1", "2", "self"}) {
		t.Fatalf("ParseIDs = %v, %v", ids, err)
	}
}

func FuzzSessionName(f *testing.F) {
	for _, s := range []string{"", "1-2-3", "req id/ä ☃", strings.Repeat("x", 200), "a@b.c_d-e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, run string) {
		name := org.SessionName(run)
		if !org.ValidSessionName(name) || !strings.HasPrefix(name, org.Tool) {
			t.Fatalf("SessionName(%q) = %q", run, name)
		}
	})
}

// pages is a Lister answering fixed pages.
type pages []ecsapi.AccountsPage

func (p pages) ListAccounts(_ context.Context, in ecsapi.ListAccountsInput) (ecsapi.AccountsPage, error) {
	if in.PageNumber > len(p) {
		return ecsapi.AccountsPage{TotalCount: p[0].TotalCount}, nil
	}
	return p[in.PageNumber-1], nil
}

// A directory listing that does not add up sweeps nothing.
func TestResolveDirectoryInconsistent(t *testing.T) {
	acct := func(id string) ecsapi.Account {
		return ecsapi.Account{ID: id, Status: "CreateSuccess", Tags: map[string]string{"k": "v"}}
	}
	sel, _ := org.Parse("rd", "k=v", "")
	for name, tc := range map[string]struct {
		lister pages
		want   string
	}{
		"a member twice":   {pages{{TotalCount: 3, Accounts: []ecsapi.Account{acct("1"), acct("2")}}, {TotalCount: 3, Accounts: []ecsapi.Account{acct("2")}}}, "twice"},
		"short":            {pages{{TotalCount: 3, Accounts: []ecsapi.Account{acct("1")}}}, "empty after 1 of 3"},
		"a negative count": {pages{{TotalCount: -1}}, "TotalCount -1"},
		"an absurd count":  {pages{{TotalCount: 2_000_000}}, "TotalCount 2000000"},
	} {
		if _, err := org.Resolve(context.Background(), sel, mgmt, tc.lister); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Resolve = %v, want %q", name, err, tc.want)
		}
	}
}

// Whatever the settings say, a selection Parse accepts is safe: rd has a
// tag or exclusions, and every ID is an account ID.
func FuzzParse(f *testing.F) {
	f.Add("rd", "k=v", "1")
	f.Add("rd:fd-1,self,12", "", "3,4")
	f.Add("self", "", "")
	f.Fuzz(func(t *testing.T, accounts, tag, exclude string) {
		sel, err := org.Parse(accounts, tag, exclude)
		if err != nil {
			return
		}
		if sel.RD && sel.TagKey == "" && len(sel.Exclude) == 0 {
			t.Fatalf("rd without a tag or exclusions: %+v", sel)
		}
		if sel.TagKey != "" && (!sel.RD || sel.TagValue == "") {
			t.Fatalf("a tag without rd or value: %+v", sel)
		}
		for _, id := range append(slices.Clone(sel.IDs), sel.Exclude...) {
			if !ecsapi.ValidAccountID(id) {
				t.Fatalf("ID %q accepted", id)
			}
		}
		if !sel.Multi() && len(sel.Exclude) > 0 {
			t.Fatalf("exclusions without several accounts: %+v", sel)
		}
	})
}

// trickle is a directory whose every page lists one new member while its
// TotalCount says a thousand.
type trickle struct{ calls int }

func (l *trickle) ListAccounts(_ context.Context, in ecsapi.ListAccountsInput) (ecsapi.AccountsPage, error) {
	l.calls++
	id := fmt.Sprint(100000 + in.PageNumber)
	return ecsapi.AccountsPage{TotalCount: 1000, Accounts: []ecsapi.Account{{ID: id, Status: "CreateSuccess", Tags: map[string]string{"k": "v"}}}}, nil
}

// The directory listing goes through the shared pager: a listing that
// trickles stops at the pages its TotalCount can need, and a page over
// its own total is refused, not taken as the whole directory.
func TestResolveDirectoryThroughThePager(t *testing.T) {
	sel, _ := org.Parse("rd", "k=v", "")
	l := &trickle{}
	if _, err := org.Resolve(context.Background(), sel, mgmt, l); err == nil || !strings.Contains(err.Error(), "page-bound") {
		t.Errorf("a trickling directory: Resolve = %v, want the page-bound guard", err)
	}
	if l.calls > 21 {
		t.Errorf("%d pages read; the 1,000 members need 10, and the bound is 21", l.calls)
	}
	acct := func(id string) ecsapi.Account {
		return ecsapi.Account{ID: id, Status: "CreateSuccess", Tags: map[string]string{"k": "v"}}
	}
	over := pages{{TotalCount: 1, Accounts: []ecsapi.Account{acct("1"), acct("2")}}}
	if plan, err := org.Resolve(context.Background(), sel, mgmt, over); err == nil || !strings.Contains(err.Error(), "over-total") {
		t.Errorf("a page over its own total: Resolve = %+v, %v, want the over-total guard", plan, err)
	}
}
