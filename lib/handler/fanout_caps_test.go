package handler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/handler"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

const (
	capsRun     = fanout.RunID("20261206T090000Z")
	capsOptIn   = "reaper-expires"
	capsHandKey = "reaper-notified-released-with"
	capsRegion  = "cn-hangzhou"
	capsRegion2 = "cn-shanghai"
	accX        = "1000000000000011"
	accY        = "1000000000000012"
	accZ        = "1000000000000013"
)

var (
	capsNow   = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	capsMarks = mark.NewKeys("handler-caps-mark-secret-0123456789abcdef", "")
)

// vm is an expired opted-in instance: Stopped PostPaid unless changed.
func vm(id string, edit ...func(*cloud.Instance)) cloud.Instance {
	in := cloud.Instance{ID: id, Name: "vm-" + id, Region: capsRegion, Status: "Stopped", ChargeType: "PostPaid", CreationTime: "2026-01-01T00:00Z",
		Tags: map[string]string{capsOptIn: "2026-11-01", "owner": "amy"}}
	for _, e := range edit {
		e(&in)
	}
	return in
}

func vms(prefix string, n int, edit ...func(*cloud.Instance)) []cloud.Instance {
	out := make([]cloud.Instance, n)
	for i := range out {
		out[i] = vm(fmt.Sprintf("i-%s%03d", prefix, i), edit...)
	}
	return out
}

func notExpired(in *cloud.Instance) { in.Tags[capsOptIn] = "2099-01-01" }
func running(in *cloud.Instance)    { in.Status = "Running" }
func inRegion2(in *cloud.Instance)  { in.Region = capsRegion2 }

// subscription: PrePaid, expired a month ago (released with
// TerminateSubscription).
func subscription(in *cloud.Instance) {
	in.ChargeType, in.ExpiredTime = "PrePaid", "2026-11-01T00:00Z"
}

// told: its owner was told two days ago (the lifecycle's grace is over).
func told(in *cloud.Instance) {
	in.Tags["reaper-notified"] = capsMarks.Time(in.ID, "reaper-notified", capsNow.Add(-48*time.Hour))
}

func concat(lists ...[]cloud.Instance) []cloud.Instance { return slices.Concat(lists...) }

// boundEIPs are an EIP bound to each instance.
func boundEIPs(instances []cloud.Instance) []cloud.EIP {
	out := make([]cloud.EIP, len(instances))
	for i, in := range instances {
		out[i] = cloud.EIP{AllocationID: "eip-" + in.ID, Address: "47.0.0.1", Region: in.Region, Status: "InUse", InstanceID: in.ID,
			InstanceType: "EcsInstance", ChargeType: "PostPaid", AllocationTime: "2026-01-01T00:00Z", Tags: map[string]string{}}
	}
	return out
}

// handedOver are n EIPs an earlier run handed over, their instance gone.
func handedOver(prefix string, n int) []cloud.EIP {
	out := make([]cloud.EIP, n)
	for i := range out {
		id := fmt.Sprintf("eip-%s%03d", prefix, i)
		out[i] = cloud.EIP{AllocationID: id, Address: "47.0.0.2", Region: capsRegion, Status: "Available", ChargeType: "PostPaid",
			AllocationTime: "2026-01-01T00:00Z",
			Tags:           map[string]string{capsHandKey: capsMarks.HandOver(id, capsHandKey, "i-gone-"+prefix, capsNow.Add(-time.Hour))}}
	}
	return out
}

func disks(prefix string, eligible, kept int) []cloud.Disk {
	var out []cloud.Disk
	for i := range eligible + kept {
		expiry := "2026-11-01"
		if i >= eligible {
			expiry = "2099-01-01"
		}
		out = append(out, cloud.Disk{ID: fmt.Sprintf("d-%s%03d", prefix, i), Region: capsRegion, Status: "Available", Type: "data",
			Category: "cloud_essd", ChargeType: "PostPaid", CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{capsOptIn: expiry}})
	}
	return out
}

func snapshots(prefix string, n int) []cloud.Snapshot {
	out := make([]cloud.Snapshot, n)
	for i := range out {
		out[i] = cloud.Snapshot{ID: fmt.Sprintf("s-%s%03d", prefix, i), Region: capsRegion, Usage: "none", Status: "accomplished", Type: "user",
			CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{capsOptIn: "2026-11-01"}}
	}
	return out
}

func kindEIPs(prefix string, n int) []cloud.EIP {
	out := make([]cloud.EIP, n)
	for i := range out {
		out[i] = cloud.EIP{AllocationID: fmt.Sprintf("eip-own-%s%03d", prefix, i), Address: "47.0.0.3", Region: capsRegion, Status: "Available",
			ChargeType: "PostPaid", AllocationTime: "2026-01-01T00:00Z", Tags: map[string]string{capsOptIn: "2026-11-01"}}
	}
	return out
}

func images(prefix string, n int) []cloud.Image {
	no := false
	out := make([]cloud.Image, n)
	for i := range out {
		out[i] = cloud.Image{ID: fmt.Sprintf("m-%s%03d", prefix, i), Region: capsRegion, Status: "Available", OwnerAlias: "self", Usage: "none",
			SelfShared: "false", IsPublic: &no, CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{capsOptIn: "2026-11-01"}}
	}
	return out
}

// account is one account's fleet, built afresh for each mode.
type account struct {
	instances []cloud.Instance
	res       fake.Resources
	// closed: the second region's instance listing fails.
	closed bool
}

func (a account) cloud() *fake.Cloud {
	c := fake.New(a.instances, capsRegion, capsRegion2)
	c.SetResources(a.res)
	c.Now = func() time.Time { return capsNow }
	if a.closed {
		c.Fault = func(action string, in any) error {
			if d, ok := in.(ecsapi.DescribeInput); ok && d.Region == capsRegion2 {
				return fake.Err(action, capsRegion2, "ServiceUnavailable", 503)
			}
			return nil
		}
	}
	return c
}

// capsCase is one organisation and the settings both modes run it with.
type capsCase struct {
	name     string
	accounts map[string]account
	caps     fanout.Caps
	opts     func(*engine.Options)
	// orgHeld and ownCap say what both modes must find, so that a case
	// proves what it is meant to (the two modes could agree on nothing
	// tripping at all).
	orgHeld bool
	ownCap  []string
}

func capsOptions(c capsCase) engine.Options {
	opts := engine.Options{
		Rules:             decide.Rules{OptInKey: capsOptIn, KeepKey: "reaper-keep"},
		ForceStop:         true,
		Freshness:         time.Hour,
		RegionConcurrency: 2,
		BatchConcurrency:  2,
		RunID:             "caps-run",
		Retry:             engine.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
		Now:               func() time.Time { return capsNow },
		MaxRelease:        c.caps.Account.MaxRelease,
		MaxReleasePercent: c.caps.Account.MaxReleasePercent,
		PercentCapFrom:    c.caps.Account.PercentCapFrom,
		EIPMarkKey:        capsHandKey,
		EIPPollWait:       time.Millisecond,
	}
	opts.Lifecycle.Marks = capsMarks
	if c.opts != nil {
		c.opts(&opts)
	}
	return opts
}

func targets(account string, c *fake.Cloud) []engine.Target {
	return []engine.Target{
		{Scope: cloud.Scope{Account: account, Region: capsRegion}, API: c},
		{Scope: cloud.Scope{Account: account, Region: capsRegion2}, API: c},
	}
}

// oneInvocation runs the organisation in one invocation (a dry run: the
// caps are checked before any write, dry or not).
func oneInvocation(t *testing.T, c capsCase) *report.Report {
	t.Helper()
	opts := capsOptions(c)
	opts.DryRun = true
	org := c.caps.Org
	opts.OrgCaps = &org
	var all []engine.Target
	for _, a := range slices.Sorted(mapsKeys(c.accounts)) {
		all = append(all, targets(a, c.accounts[a].cloud())...)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep, _ := engine.New(opts, nil).Run(ctx, all)
	if rep == nil {
		t.Fatal("no report")
	}
	return rep
}

// planAccount is the Plan worker's part for one account: a dry run
// without caps, its plan as the worker writes it, read back.
func planAccount(t *testing.T, c capsCase, account string) *fanout.Plan {
	t.Helper()
	opts := capsOptions(c)
	opts.DryRun, opts.OrgCaps = true, nil
	opts.MaxRelease, opts.MaxReleasePercent = math.MaxInt32, 0
	var regions []fanout.RegionPlan
	opts.Planned = func(p []engine.Planned) { regions = handler.RegionPlans(p) }
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	rep, err := engine.New(opts, nil).Run(ctx, targets(account, c.accounts[account].cloud()))
	if rep == nil {
		t.Fatalf("plan %s: %v", account, err)
	}
	p := handler.PlanOf(capsRun, account, rep, regions)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back fanout.Plan
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.Validate(capsRun, account); err != nil {
		t.Fatalf("the plan of %s does not validate: %v\n%s", account, err, b)
	}
	return &back
}

func fanOut(t *testing.T, c capsCase) fanout.Decision {
	t.Helper()
	plans := map[string]*fanout.Plan{}
	accounts := slices.Sorted(mapsKeys(c.accounts))
	for _, a := range accounts {
		plans[a] = planAccount(t, c, a)
	}
	return fanout.Decide(fanout.Manifest{Run: capsRun, Accounts: accounts}, plans, nil, c.caps)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

var capsDefault = fanout.Caps{
	Account: plan.Caps{MaxRelease: 100, MaxReleasePercent: 100, PercentCapFrom: 1},
	Org:     plan.Caps{MaxRelease: 100, MaxReleasePercent: 100, PercentCapFrom: 1},
}

// withCaps: REAPER_PERCENT_CAP_MIN_ELIGIBLE is one setting for both, as
// the settings give it (handler.Caps).
func withCaps(account, org plan.Caps) fanout.Caps {
	org.PercentCapFrom = account.PercentCapFrom
	return fanout.Caps{Account: account, Org: org}
}

func releaseEIPs(o *engine.Options) { o.ReleaseEIPs = true }

func allKinds(o *engine.Options) {
	o.Resources = []string{kinds.Disks.Name, kinds.Snapshots.Name, kinds.EIPs.Name, kinds.Images.Name}
}

// stopLifecycle is REAPER_RUNNING=stop with the notice lifecycle:
// a told, running, expired instance is stopped, not released.
func stopLifecycle(o *engine.Options) {
	o.Lifecycle = decide.Lifecycle{On: true, Notice: 24 * time.Hour, Grace: 24 * time.Hour, Stop: true, MarkKey: "reaper-notified",
		StopMarkKey: "reaper-notified-stopped", OwnerKey: "owner", Marks: capsMarks}
}

// The fan-out's Decide holds exactly the accounts one invocation's caps
// hold, for the same reasons: each account's cap check and the
// organisation's are the same, number for number, on fleets with EIPs
// released with their instances or handed over by earlier runs, stops,
// the resource kinds, subscriptions and the percent caps.
func TestDecideHoldsWhatOneInvocationHolds(t *testing.T) {
	count := func(n int) plan.Caps { return plan.Caps{MaxRelease: n, MaxReleasePercent: 100, PercentCapFrom: 1} }
	percent := func(p float64, from int) plan.Caps {
		return plan.Caps{MaxRelease: 1000, MaxReleasePercent: p, PercentCapFrom: from}
	}
	cases := []capsCase{
		{name: "instances within every cap", caps: capsDefault, accounts: map[string]account{
			accX: {instances: vms("x", 3)}, accY: {instances: vms("y", 2)},
		}},
		{name: "the EIPs of released instances trip the organisation's count", caps: withCaps(count(10), count(9)), opts: releaseEIPs, orgHeld: true,
			accounts: map[string]account{
				accX: {instances: vms("x", 4), res: fake.Resources{EIPs: boundEIPs(vms("x", 4))}},
				accY: {instances: vms("y", 2)},
			}},
		{name: "the EIPs of released instances trip an account's count", caps: withCaps(count(7), count(100)), opts: releaseEIPs, ownCap: []string{accX},
			accounts: map[string]account{
				accX: {instances: vms("x", 4), res: fake.Resources{EIPs: boundEIPs(vms("x", 4))}},
				accY: {instances: vms("y", 4), res: fake.Resources{EIPs: boundEIPs(vms("y", 2))}},
			}},
		{name: "EIPs handed over by earlier runs trip the organisation's count", caps: withCaps(count(10), count(8)), opts: releaseEIPs, orgHeld: true,
			accounts: map[string]account{
				accX: {instances: vms("x", 2), res: fake.Resources{EIPs: handedOver("x", 4)}},
				accY: {instances: vms("y", 2), res: fake.Resources{EIPs: handedOver("y", 1)}},
			}},
		{name: "stops count as instances", caps: withCaps(count(10), count(5)), opts: stopLifecycle, orgHeld: true,
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 3, told, running), vms("xs", 1, told))},
				accY: {instances: concat(vms("y", 2, told, running), vms("yn", 3))}, // told now: not counted
			}},
		{name: "each kind's deletes trip the organisation's count", caps: withCaps(count(20), count(11)), opts: allKinds, orgHeld: true,
			accounts: map[string]account{
				accX: {instances: vms("x", 1), res: fake.Resources{Disks: disks("x", 3, 1), Snapshots: snapshots("x", 2)}},
				accY: {instances: vms("y", 1), res: fake.Resources{EIPs: kindEIPs("y", 3), Images: images("y", 2)}},
			}},
		{name: "a kind's share trips an account's percent", caps: withCaps(percent(50, 3), percent(90, 3)), opts: allKinds, ownCap: []string{accX},
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 1), vms("xk", 9, notExpired)), res: fake.Resources{Disks: disks("x", 4, 1)}},
				accY: {instances: vms("y", 1), res: fake.Resources{Disks: disks("y", 1, 4)}},
			}},
		{name: "subscriptions and forced releases count like any release", caps: withCaps(count(10), count(6)), orgHeld: true,
			opts: func(o *engine.Options) { o.Rules.Force = true },
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 2, subscription), vms("xr", 2, running))},
				accY: {instances: concat(vms("y", 2, subscription, running), vms("yp", 1))},
			}},
		{name: "an account with nothing to write dilutes the organisation's percent", caps: withCaps(percent(100, 5), percent(50, 5)),
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 6), vms("xk", 4, notExpired))},
				accY: {instances: vms("y", 20, notExpired)},
			}},
		{name: "the organisation's percent trips from its minimum", caps: withCaps(percent(100, 5), percent(50, 5)), orgHeld: true,
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 4), vms("xk", 1, notExpired))},
				accY: {instances: concat(vms("y", 2), vms("yk", 2, notExpired))},
			}},
		{name: "below the percent cap's minimum nothing trips", caps: withCaps(percent(10, 7), percent(10, 7)),
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 3), vms("xk", 1, notExpired))},
				accY: {instances: concat(vms("y", 3), vms("yk", 1, notExpired))},
			}},
		{name: "an account over its own cap is not in the organisation's", caps: withCaps(count(5), count(6)), opts: releaseEIPs, ownCap: []string{accX},
			accounts: map[string]account{
				accX: {instances: vms("x", 4), res: fake.Resources{EIPs: boundEIPs(vms("x", 4))}},
				accY: {instances: vms("y", 2), res: fake.Resources{EIPs: boundEIPs(vms("y", 2))}},
				accZ: {instances: vms("z", 4, notExpired)},
			}},
		{name: "a region that failed closed neither counts nor dilutes", caps: withCaps(percent(100, 1), percent(50, 1)), orgHeld: true,
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 3), vms("xc", 20, notExpired, inRegion2), vms("xe", 5, inRegion2)), closed: true},
				accY: {instances: concat(vms("y", 1), vms("yk", 1, notExpired))},
			}},
		{name: "two regions, everything at once", caps: withCaps(percent(80, 4), plan.Caps{MaxRelease: 14, MaxReleasePercent: 40}),
			orgHeld: true,
			opts:    func(o *engine.Options) { releaseEIPs(o); allKinds(o); o.Rules.Force = true },
			accounts: map[string]account{
				accX: {instances: concat(vms("x", 3, inRegion2), vms("xs", 2, subscription), vms("xk", 2, notExpired)),
					res: fake.Resources{EIPs: slices.Concat(boundEIPs(vms("xs", 2, subscription)), handedOver("x", 2)), Disks: disks("x", 2, 2)}},
				accY: {instances: concat(vms("y", 1), vms("yk", 3, notExpired)), res: fake.Resources{Snapshots: snapshots("y", 2), Images: images("y", 1)}},
				accZ: {instances: vms("z", 5, notExpired, running)},
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			one, d := compareModes(t, c)
			if (one.Cap != nil && one.Cap.Exceeded) != c.orgHeld || (d.Status == fanout.DecisionHeld) != c.orgHeld {
				t.Errorf("organisation held: one invocation %+v, fan-out %s (%s), want %v", one.Cap, d.Status, d.Reason, c.orgHeld)
			}
			var ownFan []string
			for _, a := range d.Accounts {
				if a.Status == fanout.AccountHeldByCap {
					ownFan = append(ownFan, a.Account)
				}
			}
			if !slices.Equal(ownFan, c.ownCap) {
				t.Errorf("held by their own caps: %v, want %v", ownFan, c.ownCap)
			}
		})
	}
}

// compareModes runs c both ways and fails t unless each account's check,
// the organisation's and the accounts held are the same.
func compareModes(t *testing.T, c capsCase) (*report.Report, fanout.Decision) {
	t.Helper()
	one := oneInvocation(t, c)
	d := fanOut(t, c)
	if !reflect.DeepEqual(d.Org, one.Cap) {
		t.Errorf("the organisation's check:\n fan-out        %+v\n one invocation %+v", d.Org, one.Cap)
	}
	fan := map[string]*report.CapCheck{}
	for _, a := range d.Accounts {
		fan[a.Account] = a.Cap
	}
	for _, a := range one.Accounts {
		if !reflect.DeepEqual(fan[a.Account], a.Cap) {
			t.Errorf("account %s's check:\n fan-out        %+v\n one invocation %+v", a.Account, fan[a.Account], a.Cap)
		}
	}
	// Held accounts: one invocation marks every account within its own
	// cap held when the organisation trips; the fan-out holds the whole
	// run.
	heldOne, heldFan := map[string]bool{}, map[string]bool{}
	for _, a := range one.Accounts {
		heldOne[a.Account] = a.Status == report.AccountHeldByCap
	}
	for _, a := range d.Accounts {
		heldFan[a.Account] = a.Status == fanout.AccountHeldByCap || d.Status == fanout.DecisionHeld
	}
	if !reflect.DeepEqual(heldOne, heldFan) {
		t.Errorf("held: one invocation %v, fan-out %v", heldOne, heldFan)
	}
	return one, d
}

// Random organisations, built of the same parts, held the same way by
// both modes.
func TestDecideHoldsWhatOneInvocationHoldsRandomly(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 7))
	seen := map[any]int{}
	for round := range 40 {
		c := capsCase{accounts: map[string]account{}}
		for i := range 1 + rng.IntN(4) {
			p := fmt.Sprintf("%d%c", round, 'a'+i)
			var a account
			a.instances = concat(vms(p+"e", rng.IntN(5)), vms(p+"k", rng.IntN(6), notExpired), vms(p+"s", rng.IntN(3), subscription),
				vms(p+"r", rng.IntN(3), running, told), vms(p+"t", rng.IntN(3), told), vms(p+"2", rng.IntN(4), inRegion2))
			a.res = fake.Resources{
				EIPs:      slices.Concat(boundEIPs(vms(p+"e", rng.IntN(3))), handedOver(p, rng.IntN(3)), kindEIPs(p, rng.IntN(3))),
				Disks:     disks(p, rng.IntN(4), rng.IntN(4)),
				Snapshots: snapshots(p, rng.IntN(3)),
				Images:    images(p, rng.IntN(2)),
			}
			a.closed = rng.IntN(6) == 0
			c.accounts[fmt.Sprintf("10000000000%05d", round*10+i)] = a
		}
		from := rng.IntN(6)
		c.caps = withCaps(plan.Caps{MaxRelease: 3 + rng.IntN(15), MaxReleasePercent: []float64{0, 30, 60, 100}[rng.IntN(4)], PercentCapFrom: from},
			plan.Caps{MaxRelease: 5 + rng.IntN(40), MaxReleasePercent: []float64{0, 20, 50, 100}[rng.IntN(4)]})
		eips, allKinds, force, stop := rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(2) == 0, rng.IntN(3) == 0
		c.opts = func(o *engine.Options) {
			o.ReleaseEIPs = eips
			if allKinds {
				o.Resources = []string{kinds.Disks.Name, kinds.Snapshots.Name, kinds.EIPs.Name, kinds.Images.Name}
			}
			o.Rules.Force = force
			if stop {
				stopLifecycle(o)
			}
		}
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			_, d := compareModes(t, c)
			seen[d.Status == fanout.DecisionHeld]++
			for _, a := range d.Accounts {
				if a.Status == fanout.AccountHeldByCap {
					seen["own cap"]++
				}
				if a.Cap != nil && a.Cap.HandOvers > 0 && a.Cap.InstanceEIPs > 0 && len(a.Cap.Kinds) > 1 {
					seen["EIPs and kinds"]++
				}
			}
		})
	}
	// The rounds are worth something only if both modes tripped, and did
	// not, on each rail.
	for _, k := range []any{true, false, "own cap", "EIPs and kinds"} {
		if seen[k] == 0 {
			t.Errorf("no round with %v: %v", k, seen)
		}
	}
}

// outcomesOf maps every reported ID, instance or resource, to its
// outcome/reason.
func outcomesOf(rep *report.Report) map[string]string {
	out := map[string]string{}
	add := func(groups []*report.Group) {
		for _, g := range groups {
			for _, it := range g.Instances {
				out[it.ID] = string(g.Outcome) + "/" + string(g.Reason)
			}
		}
	}
	for _, r := range rep.Regions {
		add(r.Groups)
		for _, k := range kinds.All {
			if sec := r.Section(k.Name); sec != nil {
				add(sec.Groups)
			}
		}
	}
	return out
}

func eipIDs(c *fake.Cloud) []string {
	var out []string
	for _, e := range c.EIPs() {
		out = append(out, e.AllocationID)
	}
	return out
}

// Execute writes no more than the plan said, whatever the fresh read
// finds: an instance, disk or EIP eligible only since the plan is left
// for the next run (skipped/not-confirmed); an instance whose release now
// needs other flags (started, or its subscription converted) is not
// released this run (not-attempted/decision-changed). What the plan holds
// and is still eligible is written: the instances with their flags, the
// EIPs released with them and handed over by earlier runs (the caps
// counted them), each kind's deletes.
func TestExecuteWritesNoMoreThanThePlan(t *testing.T) {
	planned := concat(vms("a", 2), vms("b", 1, subscription), vms("c", 1, subscription), vms("d", 1))
	later := vms("later", 1, notExpired)
	c := capsCase{caps: capsDefault, opts: func(o *engine.Options) {
		releaseEIPs(o)
		o.Resources = []string{kinds.Disks.Name}
		o.Rules.Force = true
	}}
	cl := account{instances: concat(planned, later), res: fake.Resources{
		EIPs:  slices.Concat(boundEIPs(vms("a", 2)), handedOver("h", 2)),
		Disks: concat2(disks("x", 1, 0), disks("late", 0, 1)),
	}}.cloud()
	opts := capsOptions(c)
	opts.DryRun, opts.MaxRelease, opts.MaxReleasePercent = true, math.MaxInt32, 0
	var regions []fanout.RegionPlan
	opts.Planned = func(p []engine.Planned) { regions = handler.RegionPlans(p) }
	rep, _ := engine.New(opts, nil).Run(t.Context(), targets(accX, cl))
	p := handler.PlanOf(capsRun, accX, rep, regions)
	if err := p.Validate(capsRun, accX); err != nil {
		t.Fatal(err)
	}
	r := p.Regions[0]
	if len(r.Release) != 2 || len(r.Release[0].IDs) != 3 || !r.Release[1].Flags.TerminateSubscription || len(r.Release[1].IDs) != 2 ||
		!slices.Equal(r.InstanceEIPs, []string{"eip-i-a000", "eip-i-a001"}) || !slices.Equal(r.HandOvers, []string{"eip-h000", "eip-h001"}) ||
		!slices.Equal(r.Kinds[kinds.Disks.Name].Eligible, []string{"d-x000"}) {
		t.Fatalf("plan %+v", r)
	}

	// Between the phases: one more instance, disk, bound EIP and handed-over
	// EIP become eligible; i-b000 is started (now needs Force), i-c000's
	// subscription is converted to pay-as-you-go (no TerminateSubscription).
	cl.Mutate("i-later000", func(in *cloud.Instance) { in.Tags[capsOptIn] = "2026-11-01" })
	cl.Mutate("i-b000", running)
	cl.Mutate("i-c000", func(in *cloud.Instance) { in.ChargeType = "PostPaid" })
	res := fake.Resources{
		EIPs:  slices.Concat(cl.EIPs(), boundEIPs(vms("d", 1)), handedOver("new", 1)),
		Disks: disks("x", 1, 0),
	}
	res.Disks = append(res.Disks, disks("late", 1, 0)...)
	cl.SetResources(res)

	opts = capsOptions(c)
	opts.Confirmed = handler.ConfirmationOfPlan(p)
	rep, err := engine.New(opts, nil).Run(t.Context(), targets(accX, cl))
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	if got, want := cl.Released(), []string{"d-x000", "eip-h000", "eip-h001", "eip-i-a000", "eip-i-a001", "i-a000", "i-a001", "i-d000"}; !slices.Equal(got, want) {
		t.Errorf("released %v, want %v", got, want)
	}
	out := outcomesOf(rep)
	for id, want := range map[string]string{
		"i-later000": "skipped/not-confirmed", "d-late000": "skipped/not-confirmed", "eip-new000": "skipped/not-confirmed",
		"i-b000": "not-attempted/decision-changed", "i-c000": "not-attempted/decision-changed",
		"eip-i-a000": "released/", "eip-h000": "released/", "d-x000": "released/",
	} {
		if out[id] != want {
			t.Errorf("%s: %q, want %q", id, out[id], want)
		}
	}
	// eip-i-d000 was bound to a planned instance after the plan: not
	// released with it uncounted, but handed over, so that the next run
	// finds it and counts its release.
	if left := eipIDs(cl); !slices.Equal(left, []string{"eip-i-d000", "eip-new000"}) {
		t.Errorf("EIPs left %v", left)
	}
	if got := out["eip-i-d000"]; got != "not-attempted/not-confirmed" {
		t.Errorf("eip-i-d000: %q, want not-attempted/not-confirmed (handed over)", got)
	}
	for _, e := range cl.EIPs() {
		if e.AllocationID != "eip-i-d000" {
			continue
		}
		if instance, _, st := opts.Lifecycle.Marks.ReadHandOver(e.AllocationID, opts.EIPMarkKey, e.Tags); st != mark.Valid || instance != "i-d000" {
			t.Errorf("eip-i-d000 carries %q: want a valid hand-over by i-d000", e.Tags[opts.EIPMarkKey])
		}
	}
	// The next run, planned and executed, releases it as a hand-over.
	opts = capsOptions(c)
	opts.DryRun, opts.MaxRelease, opts.MaxReleasePercent = true, math.MaxInt32, 0
	opts.Planned = func(p []engine.Planned) { regions = handler.RegionPlans(p) }
	rep, _ = engine.New(opts, nil).Run(t.Context(), targets(accX, cl))
	p = handler.PlanOf(capsRun, accX, rep, regions)
	if !slices.Contains(p.Regions[0].HandOvers, "eip-i-d000") {
		t.Fatalf("the next plan's hand-overs %v: want eip-i-d000 counted", p.Regions[0].HandOvers)
	}
	opts = capsOptions(c)
	opts.Confirmed = handler.ConfirmationOfPlan(p)
	if _, err := engine.New(opts, nil).Run(t.Context(), targets(accX, cl)); err != nil {
		t.Fatalf("next execute: %v", err)
	}
	if left := eipIDs(cl); slices.Contains(left, "eip-i-d000") {
		t.Errorf("EIPs left after the next run %v: want eip-i-d000 released", left)
	}
}

func concat2[T any](lists ...[]T) []T { return slices.Concat(lists...) }

// With REAPER_RUNNING=stop, Execute stops only the instances the plan
// stops: one expired since is left for the next run.
func TestExecuteStopsNoMoreThanThePlan(t *testing.T) {
	c := capsCase{caps: capsDefault, opts: stopLifecycle}
	cl := account{instances: concat(vms("s", 1, told, running), vms("later", 1, told, running, notExpired))}.cloud()
	opts := capsOptions(c)
	opts.DryRun, opts.MaxRelease, opts.MaxReleasePercent = true, math.MaxInt32, 0
	var regions []fanout.RegionPlan
	opts.Planned = func(p []engine.Planned) { regions = handler.RegionPlans(p) }
	rep, _ := engine.New(opts, nil).Run(t.Context(), targets(accX, cl))
	p := handler.PlanOf(capsRun, accX, rep, regions)
	if err := p.Validate(capsRun, accX); err != nil || !slices.Equal(p.Regions[0].Stop, []string{"i-s000"}) {
		t.Fatalf("plan %+v: %v", p.Regions, err)
	}
	cl.Mutate("i-later000", func(in *cloud.Instance) { in.Tags[capsOptIn] = "2026-11-01" })
	opts = capsOptions(c)
	opts.Confirmed = handler.ConfirmationOfPlan(p)
	rep, err := engine.New(opts, nil).Run(t.Context(), targets(accX, cl))
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	s, _ := cl.Instance("i-s000")
	l, _ := cl.Instance("i-later000")
	if s.Status != "Stopped" || l.Status != "Running" || outcomesOf(rep)["i-later000"] != "skipped/not-confirmed" {
		t.Errorf("i-s000 %s, i-later000 %s (%s): want the planned one stopped, the other left", s.Status, l.Status, outcomesOf(rep)["i-later000"])
	}
}

// The confirmation is the plan, set by set: nothing beyond it.
func TestConfirmationOfPlanIsThePlan(t *testing.T) {
	force, sub := decide.Flags{Force: true}, decide.Flags{TerminateSubscription: true}
	p := fanout.Plan{Run: capsRun, Account: accX, Status: fanout.PlanPlanned, Regions: []fanout.RegionPlan{
		{Region: capsRegion, OptedIn: 9, Release: []fanout.Group{{IDs: []string{"i-1", "i-2"}}, {Flags: force, IDs: []string{"i-3"}}},
			Stop: []string{"i-4"}, HandOvers: []string{"eip-h"}, InstanceEIPs: []string{"eip-1"},
			Kinds: map[string]fanout.KindPlan{kinds.Disks.Name: {OptedIn: 2, Eligible: []string{"d-1"}}, kinds.EIPs.Name: {OptedIn: 1, Eligible: []string{"eip-own"}}}},
		{Region: capsRegion2, OptedIn: 1, Release: []fanout.Group{{Flags: sub, IDs: []string{"i-5"}}}},
		{Region: "cn-beijing", Closed: true, OptedIn: 4},
	}}
	if err := p.Validate(capsRun, accX); err != nil {
		t.Fatal(err)
	}
	c := handler.ConfirmationOfPlan(p)
	set := func(m map[string]bool) []string { return slices.Sorted(mapsKeys(m)) }
	if got := set(c.Release); !slices.Equal(got, []string{"i-1", "i-2", "i-3", "i-5"}) {
		t.Errorf("releases %v", got)
	}
	if want := map[string]decide.Flags{"i-1": {}, "i-2": {}, "i-3": force, "i-5": sub}; !reflect.DeepEqual(c.Flags, want) {
		t.Errorf("flags %v, want %v", c.Flags, want)
	}
	if got := set(c.Stop); !slices.Equal(got, []string{"i-4"}) || len(c.EIPMarks) != 0 {
		t.Errorf("stops %v, marks %v", got, c.EIPMarks)
	}
	if got := set(c.Resources[kinds.EIPs.Name]); !slices.Equal(got, []string{"eip-1", "eip-h", "eip-own"}) {
		t.Errorf("EIPs %v", got)
	}
	if got := set(c.Resources[kinds.Disks.Name]); !slices.Equal(got, []string{"d-1"}) || len(c.Resources[kinds.Snapshots.Name])+len(c.Resources[kinds.Images.Name]) != 0 {
		t.Errorf("disks %v, others %v", got, c.Resources)
	}
	if c.Count() != 4+1+3+1 {
		t.Errorf("%d writes confirmed, want the plan's 9", c.Count())
	}
}
