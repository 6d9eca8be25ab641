package settings

import (
	"strings"
	"testing"
)

func TestFanoutSettings(t *testing.T) {
	s, err := FromEnv(env(EnvFanout, "Auto", EnvFanoutMinAccounts, "5", EnvFlowName, "ecs-reaper-fanout",
		EnvResultBucket, "reaper-results-1", EnvResultPrefix, "reaper/runs/", EnvFNFEndpoint, "http://127.0.0.1:9000", EnvOSSEndpoint, "https://oss-cn-hangzhou-internal.aliyuncs.com"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Fanout != FanoutAuto || s.FanoutMinAccounts != 5 || s.FlowName != "ecs-reaper-fanout" || s.ResultBucket != "reaper-results-1" || s.ResultPrefix != "reaper/runs/" ||
		s.FNFEndpoint != "http://127.0.0.1:9000" || s.OSSEndpoint != "https://oss-cn-hangzhou-internal.aliyuncs.com" {
		t.Errorf("%+v", s)
	}
	if s.UsesFlow(5) || !s.UsesFlow(6) {
		t.Error("auto: flow only above REAPER_FANOUT_MIN_ACCOUNTS")
	}
	s.Fanout = FanoutFlow
	if !s.UsesFlow(1) {
		t.Error("flow: always")
	}
	if d := Default(); d.UsesFlow(1000) {
		t.Error("off by default")
	}
}

func TestFanoutSettingsRefused(t *testing.T) {
	need := []string{EnvFlowName, "ecs-reaper-fanout", EnvResultBucket, "reaper-results"}
	for _, tc := range []struct {
		kv   []string
		want string
	}{
		{[]string{EnvFanout, "on"}, `REAPER_FANOUT="on": must be off, flow or auto`},
		{[]string{EnvFanout, "flow"}, "REAPER_FANOUT=flow needs REAPER_FLOW_NAME"},
		{[]string{EnvFanout, "auto", EnvFlowName, "f"}, "REAPER_FANOUT=auto needs REAPER_RESULT_BUCKET"},
		{append([]string{EnvFanout, "flow", EnvFanoutMinAccounts, "0"}, need...), "REAPER_FANOUT_MIN_ACCOUNTS"},
		{append([]string{EnvFanout, "flow", EnvFanoutMinAccounts, "401"}, need...), "REAPER_FANOUT_MIN_ACCOUNTS"},
		{[]string{EnvFlowName, "1flow"}, "REAPER_FLOW_NAME"},
		{[]string{EnvFlowName, "flow name"}, "REAPER_FLOW_NAME"},
		{[]string{EnvFlowName, strings.Repeat("f", 129)}, "REAPER_FLOW_NAME"},
		{[]string{EnvResultBucket, "Reaper"}, "REAPER_RESULT_BUCKET"},
		{[]string{EnvResultBucket, "ab"}, "REAPER_RESULT_BUCKET"},
		{[]string{EnvResultBucket, "-reaper"}, "REAPER_RESULT_BUCKET"},
		{[]string{EnvResultPrefix, "reaper"}, "must end with /"},
		{[]string{EnvResultPrefix, "/reaper/"}, "must not start with /"},
		{[]string{EnvResultPrefix, "a/../b/"}, ". or .."},
		{[]string{EnvResultPrefix, `a\b/`}, `must not contain \`},
		{[]string{EnvResultPrefix, "a b/"}, "white space"},
		{[]string{EnvResultPrefix, strings.Repeat("a", 200) + "/"}, "1 to 200"},
		{[]string{EnvFNFEndpoint, "http://fnf.example.com"}, "REAPER_FNF_ENDPOINT"},
		{[]string{EnvOSSEndpoint, "https://u:p@oss.example.com"}, "REAPER_OSS_ENDPOINT"},
	} {
		_, err := FromEnv(env(tc.kv...))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.kv, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "u:p@") {
			t.Errorf("%q: error shows user information: %v", tc.kv, err)
		}
	}
	// Settings built in code get the same check.
	s := Default()
	s.Fanout = FanoutFlow
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "needs REAPER_FLOW_NAME") {
		t.Errorf("Validate: %v", err)
	}
}

// The default is where one invocation still fits 128 MB with a third to
// spare, at accounts of 10,000 opted-in instances (docs/BENCHMARKS.md,
// "One invocation or the fan-out": 86 MiB at 10 accounts, 142 MiB at 20).
func TestFanoutMinAccountsDefaultIsMeasured(t *testing.T) {
	s, err := FromEnv(env(EnvFanout, "auto", EnvFlowName, "ecs-reaper-fanout", EnvResultBucket, "reaper-results-1"))
	if err != nil {
		t.Fatal(err)
	}
	if s.FanoutMinAccounts != 10 || s.UsesFlow(10) || !s.UsesFlow(11) {
		t.Errorf("REAPER_FANOUT_MIN_ACCOUNTS defaults to %d (flow at 10: %t, at 11: %t): want 10, the one-invocation mode's measured limit with a margin",
			s.FanoutMinAccounts, s.UsesFlow(10), s.UsesFlow(11))
	}
}
