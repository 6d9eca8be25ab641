package fanout_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

func TestParsePayloadAccepts(t *testing.T) {
	tests := []struct {
		in   string
		want fanout.Payload
	}{
		{`{"phase":"plan","run":"20261206T090000Z","account":"1234567890123456"}`, fanout.Payload{Phase: fanout.PhasePlan, Run: "20261206T090000Z", Account: "1234567890123456"}},
		{` {"account":"123456","run":"20261206T090000Z","phase":"execute"} `, fanout.Payload{Phase: fanout.PhaseExecute, Run: "20261206T090000Z", Account: "123456"}},
		{`{"phase":"decide","run":"20261206T090000Z"}`, fanout.Payload{Phase: fanout.PhaseDecide, Run: "20261206T090000Z"}},
		{`{"phase":"report","run":"20000101T000000Z"}`, fanout.Payload{Phase: fanout.PhaseReport, Run: "20000101T000000Z"}},
		{`{"phase":"notify","run":"20261206T090000Z"}`, fanout.Payload{Phase: fanout.PhaseNotify, Run: "20261206T090000Z"}},
	}
	for _, tc := range tests {
		got, err := fanout.ParsePayload([]byte(tc.in))
		if err != nil || got != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePayloadRefuses(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, "must be a JSON object"},
		{`[]`, "must be a JSON object"},
		{`"plan"`, "must be a JSON object"},
		{`{"phase":"plan","run":"20261206T090000Z","account":"1234567890123456"`, "not valid JSON"},
		{`{"phase":"plan","run":"20261206T090000Z","account":"1234567890123456"} {}`, "something follows"},
		{`{"phase":"plan","run":"20261206T090000Z","account":"1234567890123456","dryRun":true}`, `unknown field "dryRun"`},
		{`{"Phase":"plan","run":"20261206T090000Z"}`, `unknown field "Phase"`},
		{`{"phase":"plan","phase":"decide","run":"20261206T090000Z"}`, "field \"phase\" appears twice"},
		{`{"phase":null,"run":"20261206T090000Z"}`, "phase must be a string, got null"},
		{`{"phase":"plan","run":20261206,"account":"123456"}`, "run must be a string, got a number"},
		{`{"phase":"plan","run":"20261206T090000Z","account":123456}`, "account must be a string, got a number"},
		{`{"phase":{"x":1},"run":"20261206T090000Z"}`, "phase must be a string, got an object or array"},
		{`{"run":"20261206T090000Z"}`, "phase is missing"},
		{`{"phase":"notify","run":"20261206T090000Z","account":"123456"}`, "phase notify covers the whole run"},
		{`{"phase":"plan","account":"123456"}`, "run is missing"},
		{`{"phase":"release","run":"20261206T090000Z"}`, `phase "release" must be plan, decide, notify, execute or report`},
		{`{"phase":"PLAN","run":"20261206T090000Z","account":"123456"}`, `phase "PLAN"`},
		{`{"phase":"plan","run":"2026-12-06T09:00:00Z","account":"123456"}`, "is not a run ID"},
		{`{"phase":"plan","run":"20261399T090000Z","account":"123456"}`, "is not a run ID"},
		{`{"phase":"plan","run":"19991231T235959Z","account":"123456"}`, "is not a run ID"},
		{`{"phase":"plan","run":"20261206T090000Z"}`, "phase plan needs the account"},
		{`{"phase":"execute","run":"20261206T090000Z","account":""}`, "phase execute needs the account"},
		{`{"phase":"decide","run":"20261206T090000Z","account":"123456"}`, "takes no account"},
		{`{"phase":"plan","run":"20261206T090000Z","account":"12345"}`, "is not an account ID"},
		{`{"phase":"plan","run":"20261206T090000Z","account":"0123456"}`, "is not an account ID"},
		{`{"phase":"plan","run":"20261206T090000Z","account":"12345a7"}`, "is not an account ID"},
		{"{\"phase\":\"plan\xff\",\"run\":\"20261206T090000Z\"}", "not valid UTF-8"},
		{`{"phase":"plan","run":"20261206T090000Z","account":"` + strings.Repeat("1", 2000) + `"}`, "more than the 1024"},
	}
	for _, tc := range tests {
		_, err := fanout.ParsePayload([]byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80s: got %v, want an error containing %q", tc.in, err, tc.want)
		}
	}
}

func TestRunIDFromTrigger(t *testing.T) {
	for _, in := range []string{"2026-12-06T09:00:00Z", "2026-12-06T17:00:00+08:00", "2026-12-06T09:00:00.999Z", " 2026-12-06T09:00:00Z "} {
		got, err := fanout.RunIDFromTrigger(in)
		if err != nil || got != "20261206T090000Z" {
			t.Errorf("%q: got %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "yesterday", "2026-12-06 09:00:00", "1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z"} {
		if got, err := fanout.RunIDFromTrigger(in); err == nil {
			t.Errorf("%q: got %q, want an error", in, got)
		}
	}
}

// CloudFlow's rules for execution names: letters, digits, _ and -, first a
// letter or _, 1 to 128 characters.
var executionName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)

func TestExecutionNameFollowsCloudFlowRules(t *testing.T) {
	run, err := fanout.RunIDFromTrigger("2026-12-06T09:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if got := run.ExecutionName(); got != "ecs-reaper-20261206T090000Z" || !executionName.MatchString(got) {
		t.Errorf("execution name %q", got)
	}
	again, _ := fanout.RunIDFromTrigger("2026-12-06T17:00:00+08:00")
	if again.ExecutionName() != run.ExecutionName() {
		t.Error("the same instant in another zone names another execution")
	}
}

// Tokens derive from the run, the account, the region and the batch: a
// retried worker resends its tokens; no two accounts share one.
func TestClientTokensDeriveFromRunAccountRegionBatch(t *testing.T) {
	run := fanout.RunID("20261206T090000Z")
	token := func(run fanout.RunID, account, region string, batch ...string) string {
		return ops.ClientToken(run.WorkerRunID(account), region, decide.Flags{}, false, false, batch)
	}
	base := token(run, "1111111111111111", "cn-hangzhou", "i-1", "i-2")
	if again := token(run, "1111111111111111", "cn-hangzhou", "i-2", "i-1"); again != base {
		t.Error("a retried batch got another token")
	}
	for name, other := range map[string]string{
		"account": token(run, "2222222222222222", "cn-hangzhou", "i-1", "i-2"),
		"region":  token(run, "1111111111111111", "cn-shanghai", "i-1", "i-2"),
		"batch":   token(run, "1111111111111111", "cn-hangzhou", "i-1", "i-3"),
		"run":     token("20261206T100000Z", "1111111111111111", "cn-hangzhou", "i-1", "i-2"),
	} {
		if other == base {
			t.Errorf("another %s gave the same token", name)
		}
	}
	if len(base) > 64 {
		t.Errorf("token %q longer than ECS's 64", base)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	p := fanout.Payload{Phase: fanout.PhaseExecute, Run: "20261206T090000Z", Account: "1234567890123456"}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := fanout.ParsePayload(b)
	if err != nil || got != p {
		t.Errorf("got %+v, %v", got, err)
	}
}
