package benchmark

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fnfdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/ossdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// PhaseResult is one phase of a fanned-out run: its invocations, the
// largest peak RSS among them (each invocation in a process of its own,
// so each peak is that invocation's), and the phase's wall time with its
// invocations one after another.
type PhaseResult struct {
	Invocations int    `json:"invocations"`
	PeakRSS     uint64 `json:"peakRSSBytes"`
	WallNS      int64  `json:"wallNs"`
	Failed      int    `json:"failed"`
}

// InvocationResult is one invocation of a fanned-out run: its process's
// peak RSS, wall and CPU time, and the calls it made.
type InvocationResult struct {
	Phase   string `json:"phase"`
	Account string `json:"account,omitempty"`
	PeakRSS uint64 `json:"peakRSSBytes"`
	WallNS  int64  `json:"wallNs"`
	CPUNS   int64  `json:"cpuNs"` // user + system of the function's process
	// ECS is the account's ECS calls by action during the invocation.
	ECS     map[string]int `json:"ecs,omitempty"`
	Assumes int            `json:"assumeRoles"`
	OSS     map[string]int `json:"oss"` // by operation
}

// FanoutResult is an organisation swept through the fan-out's phases.
type FanoutResult struct {
	Case     OrgCase `json:"case"`
	Latency  int64   `json:"latencyNs"` // injected per ECS call
	Eligible int     `json:"eligible"`
	Released int     `json:"released"`
	ECSCalls int     `json:"ecsCalls"`
	Assumes  int     `json:"assumeRoles"`
	OSSCalls int     `json:"ossCalls"`
	// OneInvocationFloor is the ECS floor of every account swept in one
	// invocation (ComputeFloor per account, as MeasureOrgFC counts it).
	OneInvocationFloor int                     `json:"oneInvocationFloor"`
	Phases             map[string]*PhaseResult `json:"phases"`
	Invocations        []InvocationResult      `json:"invocations"`
	// Shapes are each account's regions, for the fan-out's floor.
	Shapes map[string][]RegionShape `json:"-"`
}

// MeasureFanoutFC serves the organisation of MeasureOrgFC plus the OSS
// and CloudFlow doubles, and runs the FC build bin through the phases in
// the flow's order (the coordinator, Plan per account, Decide, Execute per
// allowed account, Report), each invocation in a fresh process so that
// its peak RSS is its own. The ECS double answers each call latency after
// it arrived.
func MeasureFanoutFC(ctx context.Context, bin string, c OrgCase, latency time.Duration) (FanoutResult, error) {
	res := FanoutResult{Case: c, Latency: int64(latency), Phases: map[string]*PhaseResult{}, Shapes: map[string][]RegionShape{}}
	reg := ecsdouble.NewRegistry()
	fleets := map[string]ecsdouble.Fleet{orgMgmt: {}}
	var members []orgdouble.Member
	opts := []orgdouble.Option{orgdouble.WithManagement(orgMgmt)}
	freshness := settings.Default().Freshness
	for i := range c.Accounts {
		id := orgMember(i)
		spec := DefaultSpec(Case{Instances: c.Regions * c.PerRegion, Regions: c.Regions})
		spec.Seed = int64(42 + i)
		fleet := spec.Generate()
		shapes := Shapes(fleet, spec.RegionIDs(), Rules(), time.Now())
		res.Shapes[id] = shapes
		res.OneInvocationFloor += ComputeFloor(shapes, 0, freshness).Total
		for _, s := range shapes {
			res.Eligible += s.EligibleTotal()
		}
		fleets[id] = fleet
		members = append(members, orgdouble.Member{ID: id, Tags: map[string]string{"reaper": "on"}})
		opts = append(opts, orgdouble.WithRole(orgdouble.Role{Account: id, Name: "ecs-reaper-member"}))
	}
	ecs, err := ecsdouble.StartAccounts(fleets, reg, ecsdouble.WithLatency(latency))
	if err != nil {
		return res, err
	}
	defer ecs.Close()
	ecs.AddCredential(orgMgmt, STSKeyID, STSSecret, STSToken)
	srv, err := orgdouble.Start(reg, append(opts, orgdouble.WithMembers(members...))...)
	if err != nil {
		return res, err
	}
	defer srv.Close()
	const bucket, flow = "bench-results", "ecs-reaper-fanout"
	oss, err := ossdouble.Start(bucket)
	if err != nil {
		return res, err
	}
	defer func() { _ = oss.Close() }()
	oss.AddCredential(STSKeyID, STSSecret, STSToken)
	fnf, err := fnfdouble.Start(flow)
	if err != nil {
		return res, err
	}
	defer func() { _ = fnf.Close() }()
	fnf.AddCredential(STSKeyID, STSSecret, STSToken)
	env := append(FunctionEnv(ecs.URL(), Case{Regions: c.Regions}.RegionIDs()),
		settings.EnvVPCEndpoint+"="+ecs.URL(),
		settings.EnvSTSEndpoint+"="+srv.URL(), settings.EnvResourceManagerEndpoint+"="+srv.URL(),
		settings.EnvAccounts+"=rd", settings.EnvAccountTag+"=reaper=on",
		settings.EnvOrgMaxRelease+"="+fmt.Sprint(res.Eligible), settings.EnvOrgMaxReleasePercent+"=100",
		settings.EnvFanout+"=flow", settings.EnvFlowName+"="+flow, settings.EnvResultBucket+"="+bucket,
		settings.EnvOSSEndpoint+"="+oss.URL(), settings.EnvFNFEndpoint+"="+fnf.URL())

	successfulAssumes := func() int {
		n := 0
		for _, a := range srv.AssumeCalls() {
			if a.Code == "" {
				n++
			}
		}
		return n
	}
	invoke := func(phase, account string, event []byte) ([]byte, error) {
		pr := res.Phases[phase]
		if pr == nil {
			pr = &PhaseResult{}
			res.Phases[phase] = pr
		}
		var ecsBefore map[string]int
		if account != "" {
			ecsBefore = ecs.Account(account).CallCounts()
		}
		assumesBefore, ossBefore := successfulAssumes(), len(oss.Calls())
		ans, run, err := InvokeAlone(ctx, bin, env, fcdouble.Invocation{
			Event: event, Timeout: FCTimeout, MemoryMB: 128, Region: fcdouble.DefaultRegion, AccountID: orgMgmt,
			FunctionName: fcdouble.DefaultFunctionName, Handler: fcdouble.DefaultHandler,
			Credentials: fcdouble.Credentials{AccessKeyID: STSKeyID, AccessKeySecret: STSSecret, SecurityToken: STSToken},
		})
		pr.WallNS += run.WallNS
		pr.Invocations++
		if err != nil {
			return nil, fmt.Errorf("invoke %s %s: %w", phase, account, err)
		}
		pr.PeakRSS = max(pr.PeakRSS, run.PeakRSS)
		inv := InvocationResult{Phase: phase, Account: account, PeakRSS: run.PeakRSS, WallNS: run.WallNS, CPUNS: run.CPUNS,
			Assumes: successfulAssumes() - assumesBefore, OSS: map[string]int{}}
		for _, call := range oss.Calls()[ossBefore:] {
			inv.OSS[call.Op]++
		}
		if account != "" {
			inv.ECS = ecs.Account(account).CallCounts()
			for k, v := range ecsBefore {
				inv.ECS[k] -= v
			}
			maps.DeleteFunc(inv.ECS, func(_ string, v int) bool { return v == 0 })
		}
		res.Invocations = append(res.Invocations, inv)
		if ans.Err != nil {
			pr.Failed++
			return nil, fmt.Errorf("%s %s: %s\n%s", phase, account, firstLine(ans.Err.ErrorMessage), tail(run.Output, 2000))
		}
		return ans.Body, nil
	}
	tick := time.Now().UTC().Truncate(time.Second)
	event, _ := json.Marshal(map[string]string{"triggerTime": tick.Format(time.RFC3339), "triggerName": "bench", "payload": ""})
	if _, err := invoke("coordinator", "", event); err != nil {
		return res, err
	}
	run, _ := fanout.RunIDFromTrigger(tick.Format(time.RFC3339))
	worker := func(phase fanout.Phase, account string) ([]byte, error) {
		b, _ := json.Marshal(fanout.Payload{Phase: phase, Run: run, Account: account})
		return invoke(string(phase), account, b)
	}
	for i := range c.Accounts {
		if _, err := worker(fanout.PhasePlan, orgMember(i)); err != nil {
			return res, err
		}
	}
	body, err := worker(fanout.PhaseDecide, "")
	if err != nil {
		return res, err
	}
	var d fanout.DecideAnswer
	if err := json.Unmarshal(body, &d); err != nil {
		return res, err
	}
	if _, err := worker(fanout.PhaseNotify, ""); err != nil {
		return res, err
	}
	for _, it := range d.Accounts {
		if _, err := worker(fanout.PhaseExecute, it.Account); err != nil {
			return res, err
		}
	}
	if _, err := worker(fanout.PhaseReport, ""); err != nil {
		return res, err
	}
	for _, id := range ecs.IDs() {
		st := Stats(ecs.Account(id))
		res.ECSCalls += sum(st.Calls) - st.Throttled
		res.Released += st.Released
	}
	res.Assumes = successfulAssumes()
	res.OSSCalls = len(oss.Calls())
	return res, nil
}

// ProcessRun is what InvokeAlone measured of the function's process.
type ProcessRun struct {
	PeakRSS uint64 // VmHWM
	WallNS  int64  // from queuing the invocation to its answer
	CPUNS   int64  // user + system, the whole process
	Output  string // stdout and stderr
}

// InvokeAlone runs one invocation of bin in a fresh process against a
// runtime API double of its own, and stops both. A runtime API shared by
// processes started one after another loses invocations: the stopped
// process's pending GET /next may still be waiting on the server when
// the next invocation is queued, and take it to a closed connection.
func InvokeAlone(ctx context.Context, bin string, env []string, inv fcdouble.Invocation) (fcdouble.Result, ProcessRun, error) {
	var run ProcessRun
	fc, err := fcdouble.Start()
	if err != nil {
		return fcdouble.Result{}, run, err
	}
	defer fc.Close()
	proc, err := fcdouble.StartFunction(ctx, bin, env, fc)
	if err != nil {
		return fcdouble.Result{}, run, err
	}
	defer proc.Stop()
	wait := inv.Timeout
	if wait == 0 {
		wait = fcdouble.DefaultTimeout
	}
	ictx, cancel := context.WithTimeout(ctx, wait+time.Minute)
	defer cancel()
	start := time.Now()
	ans, err := fc.Invoke(ictx, inv)
	run.WallNS = int64(time.Since(start))
	run.PeakRSS = readVmHWM(fmt.Sprintf("/proc/%d/status", proc.Pid()))
	proc.Stop()
	if st := proc.State(); st != nil {
		run.CPUNS = int64(st.UserTime() + st.SystemTime())
	}
	run.Output = proc.Output()
	if err != nil {
		return ans, run, fmt.Errorf("%w\n%s", err, tail(run.Output, 2000))
	}
	return ans, run, nil
}
