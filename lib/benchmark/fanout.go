package benchmark

import (
	"context"
	"encoding/json"
	"fmt"
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

// FanoutResult is an organisation swept through the fan-out's phases.
type FanoutResult struct {
	Case     OrgCase                 `json:"case"`
	Eligible int                     `json:"eligible"`
	Released int                     `json:"released"`
	ECSCalls int                     `json:"ecsCalls"`
	Assumes  int                     `json:"assumeRoles"`
	OSSCalls int                     `json:"ossCalls"`
	Phases   map[string]*PhaseResult `json:"phases"`
}

// MeasureFanoutFC serves the organisation of MeasureOrgFC plus the OSS
// and CloudFlow doubles, and runs the FC build bin through the phases in
// the flow's order (the coordinator, Plan per account, Decide, Execute per
// allowed account, Report), each invocation in a fresh process so that
// its peak RSS is its own.
func MeasureFanoutFC(ctx context.Context, bin string, c OrgCase) (FanoutResult, error) {
	res := FanoutResult{Case: c, Phases: map[string]*PhaseResult{}}
	reg := ecsdouble.NewRegistry()
	fleets := map[string]ecsdouble.Fleet{orgMgmt: {}}
	var members []orgdouble.Member
	opts := []orgdouble.Option{orgdouble.WithManagement(orgMgmt)}
	for i := range c.Accounts {
		id := orgMember(i)
		spec := DefaultSpec(Case{Instances: c.Regions * c.PerRegion, Regions: c.Regions})
		spec.Seed = int64(42 + i)
		fleet := spec.Generate()
		for _, s := range Shapes(fleet, spec.RegionIDs(), Rules(), time.Now()) {
			res.Eligible += s.EligibleTotal()
		}
		fleets[id] = fleet
		members = append(members, orgdouble.Member{ID: id, Tags: map[string]string{"reaper": "on"}})
		opts = append(opts, orgdouble.WithRole(orgdouble.Role{Account: id, Name: "ecs-reaper-member"}))
	}
	ecs, err := ecsdouble.StartAccounts(fleets, reg)
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
	fc, err := fcdouble.Start()
	if err != nil {
		return res, err
	}
	defer fc.Close()
	env := append(FunctionEnv(ecs.URL(), Case{Regions: c.Regions}.RegionIDs()),
		settings.EnvVPCEndpoint+"="+ecs.URL(),
		settings.EnvSTSEndpoint+"="+srv.URL(), settings.EnvResourceManagerEndpoint+"="+srv.URL(),
		settings.EnvAccounts+"=rd", settings.EnvAccountTag+"=reaper=on",
		settings.EnvOrgMaxRelease+"="+fmt.Sprint(res.Eligible), settings.EnvOrgMaxReleasePercent+"=100",
		settings.EnvFanout+"=flow", settings.EnvFlowName+"="+flow, settings.EnvResultBucket+"="+bucket,
		settings.EnvOSSEndpoint+"="+oss.URL(), settings.EnvFNFEndpoint+"="+fnf.URL())

	invoke := func(phase string, event []byte) ([]byte, error) {
		pr := res.Phases[phase]
		if pr == nil {
			pr = &PhaseResult{}
			res.Phases[phase] = pr
		}
		proc, err := fcdouble.StartFunction(ctx, bin, env, fc)
		if err != nil {
			return nil, err
		}
		defer proc.Stop()
		ictx, cancel := context.WithTimeout(ctx, FCTimeout+time.Minute)
		defer cancel()
		start := time.Now()
		ans, err := fc.Invoke(ictx, fcdouble.Invocation{
			Event: event, Timeout: FCTimeout, MemoryMB: 128, Region: fcdouble.DefaultRegion, AccountID: orgMgmt,
			FunctionName: fcdouble.DefaultFunctionName, Handler: fcdouble.DefaultHandler,
			Credentials: fcdouble.Credentials{AccessKeyID: STSKeyID, AccessKeySecret: STSSecret, SecurityToken: STSToken},
		})
		pr.WallNS += int64(time.Since(start))
		pr.Invocations++
		if err != nil {
			return nil, fmt.Errorf("invoke %s: %w\n%s", phase, err, tail(proc.Output(), 2000))
		}
		pr.PeakRSS = max(pr.PeakRSS, readVmHWM(fmt.Sprintf("/proc/%d/status", proc.Pid())))
		if ans.Err != nil {
			pr.Failed++
			return nil, fmt.Errorf("%s: %s\n%s", phase, firstLine(ans.Err.ErrorMessage), tail(proc.Output(), 2000))
		}
		return ans.Body, nil
	}
	tick := time.Now().UTC().Truncate(time.Second)
	event, _ := json.Marshal(map[string]string{"triggerTime": tick.Format(time.RFC3339), "triggerName": "bench", "payload": ""})
	if _, err := invoke("coordinator", event); err != nil {
		return res, err
	}
	run, _ := fanout.RunIDFromTrigger(tick.Format(time.RFC3339))
	worker := func(phase fanout.Phase, account string) ([]byte, error) {
		b, _ := json.Marshal(fanout.Payload{Phase: phase, Run: run, Account: account})
		return invoke(string(phase), b)
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
	for _, a := range srv.AssumeCalls() {
		if a.Code == "" {
			res.Assumes++
		}
	}
	res.OSSCalls = len(oss.Calls())
	return res, nil
}
