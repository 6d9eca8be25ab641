package fanout_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

const (
	accA = "1000000000000001"
	accB = "1000000000000002"
	accC = "1000000000000003"
	accD = "1000000000000004"
)

var caps = fanout.Caps{
	Account: plan.Caps{MaxRelease: 10, MaxReleasePercent: 50, PercentCapFrom: 10},
	Org:     plan.Caps{MaxRelease: 25, MaxReleasePercent: 50, PercentCapFrom: 10},
}

// planOf is an account's plan with n eligible instances of optedIn in one
// region (two flag groups when n > 1).
func planOf(account string, n, optedIn int) *fanout.Plan {
	r := fanout.RegionPlan{Region: "cn-hangzhou", OptedIn: optedIn}
	var plain, forced []string
	for i := range n {
		id := fmt.Sprintf("i-%s-%03d", account[12:], i)
		if i%2 == 0 {
			plain = append(plain, id)
		} else {
			forced = append(forced, id)
		}
	}
	if len(plain) > 0 {
		r.Release = append(r.Release, fanout.Group{IDs: plain})
	}
	if len(forced) > 0 {
		r.Release = append(r.Release, fanout.Group{Flags: decide.Flags{Force: true}, IDs: forced})
	}
	return &fanout.Plan{Run: run, Account: account, Status: fanout.PlanPlanned, Regions: []fanout.RegionPlan{r}}
}

// withRegion is planOf(account, 4, 10) with its region edited.
func withRegion(account string, edit func(*fanout.RegionPlan)) *fanout.Plan {
	p := planOf(account, 4, 10)
	edit(&p.Regions[0])
	return p
}

func manifest(accounts ...string) fanout.Manifest {
	return fanout.Manifest{Run: run, Accounts: accounts}
}

func statuses(d fanout.Decision) map[string]string {
	out := map[string]string{}
	for _, a := range d.Accounts {
		out[a.Account] = a.Status
	}
	return out
}

func TestDecideExecutesOnlyAccountsWithWrites(t *testing.T) {
	plans := map[string]*fanout.Plan{accA: planOf(accA, 3, 40), accB: planOf(accB, 0, 40), accC: planOf(accC, 5, 40)}
	d := fanout.Decide(manifest(accC, accA, accB), plans, nil, caps)
	if d.Status != fanout.DecisionProceed || !slices.Equal(d.Execute, []string{accA, accC}) || len(d.Failures) != 0 {
		t.Fatalf("%+v", d)
	}
	if s := statuses(d); s[accB] != fanout.AccountNothing {
		t.Errorf("statuses %v", s)
	}
	// The organisation's share counts B's opted-in instances too, as one
	// invocation does: B is swept within its own caps.
	if d.Org.Instances != 8 || d.Org.OptedIn != 120 || d.Org.Exceeded {
		t.Errorf("org check %+v", d.Org)
	}
}

func TestDecidePlanFailuresUpToTheLimit(t *testing.T) {
	plans := map[string]*fanout.Plan{accA: planOf(accA, 3, 40), accC: planOf(accC, 2, 40)}
	d := fanout.Decide(manifest(accA, accB, accC), plans, nil, caps)
	if d.Status != fanout.DecisionProceed || !slices.Equal(d.Execute, []string{accA, accC}) || d.PlanFailures != 1 || d.PlanFailureLimit != 1 {
		t.Fatalf("one of three failed: %+v", d)
	}
	if s := statuses(d); s[accB] != fanout.AccountPlanFailed || !strings.Contains(d.Failures[0], accB+" plan-failed") {
		t.Errorf("statuses %v, failures %v", s, d.Failures)
	}
	// A second failure passes the limit: nothing is written anywhere.
	d = fanout.Decide(manifest(accA, accB, accC), map[string]*fanout.Plan{accA: planOf(accA, 3, 40)}, map[string]error{accC: errors.New("oss GetObject: ServiceUnavailable")}, caps)
	if d.Status != fanout.DecisionHeld || len(d.Execute) != 0 || !strings.Contains(d.Reason, "2 of 3 accounts failed planning, more than the 1 allowed") {
		t.Fatalf("two of three failed: %+v", d)
	}
	if s := statuses(d); s[accA] != fanout.AccountHeld {
		t.Errorf("statuses %v", s)
	}
}

func TestPlanFailureLimit(t *testing.T) {
	for n, want := range map[int]int{1: 1, 3: 1, 39: 1, 40: 2, 100: 5, 400: 20} {
		if got := fanout.PlanFailureLimit(n); got != want {
			t.Errorf("%d accounts: %d, want %d", n, got, want)
		}
	}
}

// A plan that breaks its own rules is not trusted: its account is
// plan-failed, whatever it says.
func TestDecideDistrustsBrokenPlans(t *testing.T) {
	wrongAccount := planOf(accA, 1, 5)
	wrongAccount.Account = accB
	wrongRun := planOf(accB, 1, 5)
	wrongRun.Run = "20261206T100000Z"
	twice := planOf(accC, 2, 5)
	twice.Regions[0].Release[1].IDs = twice.Regions[0].Release[0].IDs
	overOptedIn := planOf(accD, 5, 4)
	for name, tc := range map[string]struct {
		account string
		p       *fanout.Plan
		want    string
	}{
		"another account's plan": {accA, wrongAccount, "not run"},
		"another run's plan":     {accB, wrongRun, "not run"},
		"an ID twice":            {accC, twice, "listed twice"},
		"more than opted in":     {accD, overOptedIn, "5 instances to write but 4 opted in"},
		"unknown status":         {accA, &fanout.Plan{Run: run, Account: accA, Status: "done"}, "status"},
		"closed region with writes": {accA, &fanout.Plan{Run: run, Account: accA, Status: fanout.PlanPlanned,
			Regions: []fanout.RegionPlan{{Region: "cn-hangzhou", Closed: true, OptedIn: 1, Stop: []string{"i-1"}}}}, "failed closed, yet"},
		"unknown kind": {accA, &fanout.Plan{Run: run, Account: accA, Status: fanout.PlanPlanned,
			Regions: []fanout.RegionPlan{{Region: "cn-hangzhou", Kinds: map[string]fanout.KindPlan{"widgets": {OptedIn: 1, Eligible: []string{"w-1"}}}}}}, "kind \"widgets\""},
		"bad region": {accA, &fanout.Plan{Run: run, Account: accA, Status: fanout.PlanPlanned,
			Regions: []fanout.RegionPlan{{Region: "Hangzhou"}}}, "not a region ID"},
		"an empty release group": {accA, withRegion(accA, func(r *fanout.RegionPlan) {
			r.Release = append(r.Release, fanout.Group{Flags: decide.Flags{TerminateSubscription: true}})
		}), "a release group is empty"},
		"two groups of the same flags":  {accA, withRegion(accA, func(r *fanout.RegionPlan) { r.Release[1].Flags = r.Release[0].Flags }), "its flags are another group's"},
		"an EIP not an allocation ID":   {accA, withRegion(accA, func(r *fanout.RegionPlan) { r.HandOvers = []string{"eip 1"} }), "is not an allocation ID"},
		"an EIP handed over twice":      {accA, withRegion(accA, func(r *fanout.RegionPlan) { r.HandOvers = []string{"eip-1", "eip-1"} }), "EIP \"eip-1\" is listed twice"},
		"an EIP in both lists":          {accA, withRegion(accA, func(r *fanout.RegionPlan) { r.HandOvers, r.InstanceEIPs = []string{"eip-1"}, []string{"eip-1"} }), "listed twice"},
		"an EIP that is an instance ID": {accA, withRegion(accA, func(r *fanout.RegionPlan) { r.InstanceEIPs = []string{r.Release[0].IDs[0]} }), "listed twice"},
		"instance EIPs without releases": {accA, withRegion(accA, func(r *fanout.RegionPlan) {
			r.Stop, r.Release, r.InstanceEIPs = r.Release[0].IDs, nil, []string{"eip-1"}
		}), "no instance to release"},
		"closed region with hand-overs": {accA, &fanout.Plan{Run: run, Account: accA, Status: fanout.PlanPlanned,
			Regions: []fanout.RegionPlan{{Region: "cn-hangzhou", Closed: true, HandOvers: []string{"eip-1"}}}}, "failed closed, yet"},
		"another account's part": {accA, &fanout.Plan{Run: run, Account: accA, Status: fanout.PlanPlanned, Regions: []fanout.RegionPlan{},
			Part: &report.Account{Account: accB}}, "report part is account"},
	} {
		d := fanout.Decide(manifest(tc.account), map[string]*fanout.Plan{tc.account: tc.p}, nil, caps)
		if len(d.Accounts) != 1 || d.Accounts[0].Status != fanout.AccountPlanFailed || !strings.Contains(d.Accounts[0].Reason, tc.want) || len(d.Execute) != 0 {
			t.Errorf("%s: %+v", name, d.Accounts)
		}
	}
}

func TestDecideUnreachableIsNotAPlanFailure(t *testing.T) {
	unreachable := func(a string) *fanout.Plan {
		return &fanout.Plan{Run: run, Account: a, Status: fanout.PlanUnreachable, Problem: "AssumeRole: NoPermission"}
	}
	plans := map[string]*fanout.Plan{accA: unreachable(accA), accB: unreachable(accB), accC: planOf(accC, 2, 40)}
	d := fanout.Decide(manifest(accA, accB, accC), plans, nil, caps)
	if d.Status != fanout.DecisionProceed || !slices.Equal(d.Execute, []string{accC}) || d.PlanFailures != 0 || len(d.Failures) != 2 {
		t.Fatalf("%+v", d)
	}
	if !strings.Contains(d.Failures[0], "unreachable: AssumeRole: NoPermission") {
		t.Errorf("failures %v", d.Failures)
	}
}

// Over its own cap nothing is written in that account, the others go on,
// and its eligible instances do not count toward the organisation's cap.
func TestDecideAccountOverItsOwnCap(t *testing.T) {
	plans := map[string]*fanout.Plan{accA: planOf(accA, 11, 100), accB: planOf(accB, 10, 15), accC: planOf(accC, 3, 40)}
	d := fanout.Decide(manifest(accA, accB, accC), plans, nil, caps)
	s := statuses(d)
	if d.Status != fanout.DecisionProceed || !slices.Equal(d.Execute, []string{accC}) || s[accA] != fanout.AccountHeldByCap || s[accB] != fanout.AccountHeldByCap {
		t.Fatalf("statuses %v, %+v", s, d)
	}
	a := d.Accounts[0]
	if a.Cap.Instances != 11 || !a.Cap.CountExceeded || !strings.Contains(a.Reason, "the count cap of 10") {
		t.Errorf("count cap: %+v %s", a.Cap, a.Reason)
	}
	if b := d.Accounts[1]; !b.Cap.PercentExceeded || b.Cap.CountExceeded {
		t.Errorf("percent cap: %+v", b.Cap)
	}
	if d.Org.Instances != 3 {
		t.Errorf("org counted the held accounts: %+v", d.Org)
	}
	if len(d.Failures) != 2 {
		t.Errorf("failures %v", d.Failures)
	}
}

// Over the organisation's cap nothing is written anywhere, naming the
// numbers.
func TestDecideOrganisationCap(t *testing.T) {
	plans := map[string]*fanout.Plan{accA: planOf(accA, 9, 100), accB: planOf(accB, 9, 100), accC: planOf(accC, 9, 100)}
	d := fanout.Decide(manifest(accA, accB, accC), plans, nil, caps)
	if d.Status != fanout.DecisionHeld || len(d.Execute) != 0 || !d.Org.CountExceeded || d.Org.Instances != 27 || !strings.Contains(d.Reason, "the count cap of 25") {
		t.Fatalf("count: %+v", d)
	}
	for _, a := range d.Accounts {
		if a.Status != fanout.AccountHeld {
			t.Errorf("%s: %s", a.Account, a.Status)
		}
	}
	// The organisation's percent: each account under its own 50 %, the
	// organisation over a 20 % cap.
	pc := caps
	pc.Org.MaxReleasePercent = 20
	plans = map[string]*fanout.Plan{accA: planOf(accA, 8, 30), accB: planOf(accB, 8, 30)}
	d = fanout.Decide(manifest(accA, accB), plans, nil, pc)
	if d.Status != fanout.DecisionHeld || !d.Org.PercentExceeded || !strings.Contains(d.Reason, "the percent cap of 20%") {
		t.Fatalf("percent: %+v", d)
	}
}

func TestDecideClosedRegionFailsTheRunButNotTheAccount(t *testing.T) {
	p := planOf(accA, 2, 10)
	p.Regions = append(p.Regions, fanout.RegionPlan{Region: "cn-shanghai", Closed: true})
	d := fanout.Decide(manifest(accA), map[string]*fanout.Plan{accA: p}, nil, caps)
	if !slices.Equal(d.Execute, []string{accA}) || len(d.Failures) != 1 || !strings.Contains(d.Failures[0], "cn-shanghai failed closed") {
		t.Errorf("%+v", d)
	}
}

// Decide is a pure function: a retried Decide gives the same decision and
// changes nothing it was given.
func TestDecideIsPure(t *testing.T) {
	m := manifest(accC, accA, accB)
	plans := map[string]*fanout.Plan{accA: planOf(accA, 3, 40), accC: planOf(accC, 12, 40)}
	before := fmt.Sprintf("%+v %+v %+v", m, *plans[accA], *plans[accC])
	first := fanout.Decide(m, plans, nil, caps)
	second := fanout.Decide(m, plans, nil, caps)
	if !reflect.DeepEqual(first, second) {
		t.Errorf("two decisions differ:\n%+v\n%+v", first, second)
	}
	if after := fmt.Sprintf("%+v %+v %+v", m, *plans[accA], *plans[accC]); after != before {
		t.Errorf("Decide changed its input")
	}
}

// Every kind the sweep knows may be in a plan, and its eligible count
// within the account's count cap.
func TestDecideCountsEveryKind(t *testing.T) {
	p := planOf(accA, 2, 10)
	p.Regions[0].Kinds = map[string]fanout.KindPlan{
		"disks":  {OptedIn: 4, Eligible: []string{"d-1"}},
		"images": {OptedIn: 2, Eligible: []string{"m-1"}},
	}
	d := fanout.Decide(manifest(accA), map[string]*fanout.Plan{accA: p}, nil, caps)
	if d.Accounts[0].Status != fanout.AccountExecute || d.Accounts[0].Cap.Eligible != 4 || d.Org.Kinds["images"].Eligible != 1 {
		t.Errorf("%+v %+v", d.Accounts[0], d.Org)
	}
}

// The EIPs released with instances (handed over by earlier runs, or of the
// instances released now) are within the count caps, as in one
// invocation; an account with only hand-overs to release is executed; an
// EIP both handed over and swept by its own tag is counted in each, as one
// invocation counts it.
func TestDecideCountsTheEIPsReleasedWithInstances(t *testing.T) {
	p := planOf(accA, 4, 10)
	p.Regions[0].InstanceEIPs = []string{"eip-a1", "eip-a2"}
	p.Regions[0].HandOvers = []string{"eip-a3", "eip-a4"}
	p.Regions[0].Kinds = map[string]fanout.KindPlan{"eips": {OptedIn: 1, Eligible: []string{"eip-a4"}}}
	only := &fanout.Plan{Run: run, Account: accB, Status: fanout.PlanPlanned,
		Regions: []fanout.RegionPlan{{Region: "cn-hangzhou", OptedIn: 3, HandOvers: []string{"eip-b1"}}}}
	d := fanout.Decide(manifest(accA, accB), map[string]*fanout.Plan{accA: p, accB: only}, nil, caps)
	a, b := d.Accounts[0], d.Accounts[1]
	if a.Status != fanout.AccountExecute || a.Cap.Eligible != 9 || a.Cap.InstanceEIPs != 2 || a.Cap.HandOvers != 2 {
		t.Errorf("account A: %+v %+v", a, a.Cap)
	}
	if b.Status != fanout.AccountExecute || b.Cap.Eligible != 1 {
		t.Errorf("account B: %+v %+v", b, b.Cap)
	}
	if d.Org.Eligible != 10 || d.Org.Instances != 4 || d.Status != fanout.DecisionProceed {
		t.Errorf("organisation %+v", d.Org)
	}
	tight := caps
	tight.Org.MaxRelease = 9
	if d := fanout.Decide(manifest(accA, accB), map[string]*fanout.Plan{accA: p, accB: only}, nil, tight); d.Status != fanout.DecisionHeld ||
		!strings.Contains(d.Reason, "2 EIPs of those instances") || !strings.Contains(d.Reason, "3 EIPs handed over by earlier runs") {
		t.Errorf("over the organisation's count of 9 by the EIPs: %s %s", d.Status, d.Reason)
	}
}
