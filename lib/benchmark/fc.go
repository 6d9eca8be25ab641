package benchmark

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// STS credentials the FC runtime double hands the function per invocation,
// as FC does for a function with a role; the benchmark's doubles accept
// them.
const (
	STSKeyID  = "STS.bench"
	STSSecret = "bench-sts-secret"
	STSToken  = "bench-sts-token"
)

// FCTimeout is the function's timeout in s.yaml.
const FCTimeout = 600 * time.Second

// FCResult is one invocation of the deployed build (s.yaml's build flags)
// under the FC runtime double, against a double in a process of its own.
type FCResult struct {
	WallNS int64 `json:"wallNs"` // from the invocation to its answer
	// PeakRSS is the function process's peak resident set: VmHWM from
	// /proc/<pid>/status, read after the answer and before the stop, or
	// where there is no /proc, wait4's maxrss after the stop. maxrss is
	// only an upper bound: Go starts a child by a vfork-like clone, and
	// Linux counts the parent's resident set, shared until the exec, in the
	// child's maxrss.
	PeakRSS uint64 `json:"peakRSSBytes"`
	VmHWM   uint64 `json:"vmHWMBytes"`
	MaxRSS  uint64 `json:"maxRSSBytes"`
	// ResponseBytes is the size of what the function answered, to
	// /response or /error.
	ResponseBytes int `json:"responseBytes"`
	// LogBytes is what the function wrote to its log (stdout and stderr)
	// during the run.
	LogBytes int `json:"logBytes"`
	// CPUNS is the function process's user + system time, start-up and
	// stop included (MeasureOrgFC only).
	CPUNS  int64  `json:"cpuNs,omitempty"`
	Failed bool   `json:"failed"`          // the function answered an error
	Error  string `json:"error,omitempty"` // its first line
	// Double is what the ECS double served the invocation: calls by action
	// (throttled ones included), releases, throttled calls.
	Double DoubleStats `json:"double"`
}

// Wall is the invocation's wall time.
func (r FCResult) Wall() time.Duration { return time.Duration(r.WallNS) }

// Answered is the calls the double answered (not throttled).
func (r FCResult) Answered() int { return sum(r.Double.Calls) - r.Double.Throttled }

// FunctionEnv is the function's settings for a benchmark: the production
// defaults, as SweepSettings has them (no dry run, caps out of the way),
// pointed at the double.
func FunctionEnv(endpoint string, regions []string) []string {
	cfg := SweepSettings(endpoint, regions)
	return []string{
		settings.EnvEndpoint + "=" + endpoint,
		settings.EnvRegions + "=" + strings.Join(regions, ","),
		settings.EnvDryRun + "=" + strconv.FormatBool(cfg.DryRun),
		settings.EnvMaxRelease + "=" + strconv.Itoa(cfg.MaxRelease),
		settings.EnvMaxReleasePercent + "=" + strconv.FormatFloat(cfg.MaxReleasePercent, 'g', -1, 64),
	}
}

// MeasureFC serves spec's fleet from a double process, runs the function
// binary bin under the FC runtime double, invokes it once with a timer
// event, and measures the process.
func MeasureFC(ctx context.Context, exe, bin string, spec FleetSpec, latency time.Duration) (FCResult, error) {
	d, err := StartDoubleProcess(ctx, exe, spec, latency)
	if err != nil {
		return FCResult{}, err
	}
	res, runErr := InvokeFC(ctx, bin, d.URL, spec.RegionIDs())
	st, closeErr := d.Close()
	res.Double = st
	if runErr != nil {
		return res, runErr
	}
	return res, closeErr
}

// InvokeFC runs the function binary bin under the FC runtime double,
// pointed at the ECS double at endpoint, invokes it once with a timer event
// and measures the process.
func InvokeFC(ctx context.Context, bin, endpoint string, regions []string) (FCResult, error) {
	srv, err := fcdouble.Start()
	if err != nil {
		return FCResult{}, err
	}
	defer srv.Close()
	proc, err := fcdouble.StartFunction(ctx, bin, FunctionEnv(endpoint, regions), srv)
	if err != nil {
		return FCResult{}, err
	}
	defer proc.Stop()
	event, _ := json.Marshal(map[string]string{"triggerTime": time.Now().UTC().Format(time.RFC3339), "triggerName": "bench", "payload": ""})
	ictx, cancel := context.WithTimeout(ctx, FCTimeout+time.Minute)
	defer cancel()
	start := time.Now()
	ans, err := srv.Invoke(ictx, fcdouble.Invocation{
		Event: event, Timeout: FCTimeout, MemoryMB: 128, Region: fcdouble.DefaultRegion,
		FunctionName: fcdouble.DefaultFunctionName, Handler: fcdouble.DefaultHandler,
		Credentials: fcdouble.Credentials{AccessKeyID: STSKeyID, AccessKeySecret: STSSecret, SecurityToken: STSToken},
	})
	res := FCResult{WallNS: int64(time.Since(start))}
	if err != nil {
		return res, fmt.Errorf("invoke the function: %w\n%s", err, tail(proc.Output(), 2000))
	}
	res.VmHWM = readVmHWM(fmt.Sprintf("/proc/%d/status", proc.Pid()))
	proc.Stop()
	res.LogBytes = len(proc.Stdout()) + len(proc.Stderr())
	res.MaxRSS = exitedMaxRSS(proc.State())
	res.PeakRSS = res.VmHWM
	if res.PeakRSS == 0 {
		res.PeakRSS = res.MaxRSS
	}
	res.ResponseBytes = len(ans.Body)
	if ans.Err != nil {
		res.Failed, res.Error = true, firstLine(ans.Err.ErrorMessage)
	}
	return res, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
