package benchmark

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// OrgCase is one organisation: accounts × regions × opted-in instances
// per region, swept in one invocation from the management account.
type OrgCase struct {
	Accounts, Regions, PerRegion int
}

func (c OrgCase) String() string {
	return fmt.Sprintf("%d accounts × %d regions × %d", c.Accounts, c.Regions, c.PerRegion)
}

// OrgResult is one invocation of the FC build over an organisation.
type OrgResult struct {
	Case     OrgCase `json:"case"`
	Eligible int     `json:"eligible"`
	Released int     `json:"released"`
	// ECSFloor is the fewest ECS calls of every account's regions
	// (ComputeFloor per account); Floor adds one AssumeRole per member and
	// the ListAccounts pages.
	ECSFloor  int `json:"ecsFloor"`
	Floor     int `json:"floor"`
	ECSCalls  int `json:"ecsCalls"`
	Assumes   int `json:"assumeRoles"`
	ListPages int `json:"listAccountsPages"`
	// Calls are every call answered: ECS, AssumeRole and ListAccounts.
	Calls int      `json:"calls"`
	FC    FCResult `json:"fc"`
}

// orgMgmt is the management account the function runs in.
const orgMgmt = "1000000000000000"

// orgMember is the i-th member's account ID.
func orgMember(i int) string { return strconv.Itoa(1000000000001000 + i) }

// MeasureOrgFC serves an organisation (STS, ResourceManager and one ECS
// fleet per member, in this process; the ECS double answers each call
// latency after it arrived) and invokes the FC build bin once under the FC
// runtime double with REAPER_ACCOUNTS=rd: every member is tagged and has
// the member role; the function's own account has no instances.
func MeasureOrgFC(ctx context.Context, bin string, c OrgCase, latency time.Duration) (OrgResult, error) {
	res := OrgResult{Case: c}
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
		res.ECSFloor += ComputeFloor(shapes, 0, freshness).Total
		for _, s := range shapes {
			res.Eligible += s.EligibleTotal()
		}
		fleets[id] = fleet
		members = append(members, orgdouble.Member{ID: id, Tags: map[string]string{"reaper": "on"}})
		opts = append(opts, orgdouble.WithRole(orgdouble.Role{Account: id, Name: "ecs-reaper-member"}))
	}
	res.Floor = res.ECSFloor + c.Accounts + ceilDiv(max(1, c.Accounts), ecsapi.MaxAccountsPage)
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

	fc, err := fcdouble.Start()
	if err != nil {
		return res, err
	}
	defer fc.Close()
	env := append(FunctionEnv(ecs.URL(), Case{Regions: c.Regions}.RegionIDs()),
		settings.EnvVPCEndpoint+"="+ecs.URL(),
		settings.EnvSTSEndpoint+"="+srv.URL(), settings.EnvResourceManagerEndpoint+"="+srv.URL(),
		settings.EnvAccounts+"=rd", settings.EnvAccountTag+"=reaper=on",
		settings.EnvOrgMaxRelease+"="+strconv.Itoa(res.Eligible), settings.EnvOrgMaxReleasePercent+"=100")
	proc, err := fcdouble.StartFunction(ctx, bin, env, fc)
	if err != nil {
		return res, err
	}
	defer proc.Stop()
	event, _ := json.Marshal(map[string]string{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "bench", "payload": ""})
	ictx, cancel := context.WithTimeout(ctx, FCTimeout+time.Minute)
	defer cancel()
	start := time.Now()
	ans, err := fc.Invoke(ictx, fcdouble.Invocation{
		Event: event, Timeout: FCTimeout, MemoryMB: 128, Region: fcdouble.DefaultRegion, AccountID: orgMgmt,
		FunctionName: fcdouble.DefaultFunctionName, Handler: fcdouble.DefaultHandler,
		Credentials: fcdouble.Credentials{AccessKeyID: STSKeyID, AccessKeySecret: STSSecret, SecurityToken: STSToken},
	})
	res.FC.WallNS = int64(time.Since(start))
	if err != nil {
		return res, fmt.Errorf("invoke the function: %w\n%s", err, tail(proc.Output(), 2000))
	}
	res.FC.VmHWM = readVmHWM(fmt.Sprintf("/proc/%d/status", proc.Pid()))
	proc.Stop()
	res.FC.MaxRSS = exitedMaxRSS(proc.State())
	if st := proc.State(); st != nil {
		res.FC.CPUNS = int64(st.UserTime() + st.SystemTime())
	}
	res.FC.PeakRSS = res.FC.VmHWM
	if res.FC.PeakRSS == 0 {
		res.FC.PeakRSS = res.FC.MaxRSS
	}
	res.FC.ResponseBytes = len(ans.Body)
	if ans.Err != nil {
		res.FC.Failed, res.FC.Error = true, firstLine(ans.Err.ErrorMessage)+tail(proc.Output(), 2000)
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
	res.ListPages = len(srv.ListCalls())
	res.Calls = res.ECSCalls + res.Assumes + res.ListPages
	return res, nil
}
