package handler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/handler"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

func TestParseTimerEvent(t *testing.T) {
	for _, tc := range []struct {
		name, body, err string
	}{
		{name: "full event", body: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"hourly","payload":"{}"}`},
		{name: "no payload", body: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"hourly"}`},
		{name: "empty body", body: ``, err: "empty body"},
		{name: "not JSON", body: `hello`, err: "not a JSON object"},
		{name: "JSON array", body: `[1]`, err: "not a JSON object"},
		{name: "OSS event", body: `{"events":[{"eventName":"ObjectCreated:PutObject"}]}`, err: "without triggerName"},
		{name: "null trigger name", body: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":null}`, err: "must be a string"},
		{name: "missing trigger name", body: `{"triggerTime":"2026-11-25T04:00:00Z"}`, err: "without triggerName"},
		{name: "missing trigger time", body: `{"triggerName":"hourly"}`, err: "without triggerTime"},
		{name: "bad trigger time", body: `{"triggerTime":"yesterday","triggerName":"hourly"}`, err: "not an RFC 3339 time"},
		{name: "payload of the wrong type", body: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"hourly","payload":{"dryRun":true}}`, err: "not a timer event"},
		{name: "trailing data", body: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"hourly"} {}`, err: "trailing data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := handler.ParseTimerEvent([]byte(tc.body))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("ParseTimerEvent: %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, handler.ErrBadEvent) || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want ErrBadEvent mentioning %q", err, tc.err)
			}
		})
	}
}

const (
	ak     = "STS.handler-test"
	secret = "handler-secret-Kp3"
	token  = "handler-token-Vn8"
)

func fleet() ecsdouble.Fleet {
	inst := func(id, region, expiry string) ecsdouble.Instance {
		return ecsdouble.Instance{ID: id, Region: region, Status: "Stopped", ChargeType: "PostPaid",
			CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{"reaper-expires": expiry}}
	}
	return ecsdouble.Fleet{Instances: []ecsdouble.Instance{
		inst("i-hz-old1", "cn-hangzhou", "2026-01-10"),
		inst("i-hz-old2", "cn-hangzhou", "2026-02-10"),
		inst("i-hz-new", "cn-hangzhou", "2099-01-01"),
		inst("i-sh-old", "cn-shanghai", "2026-01-10"),
	}}
}

type invocation struct {
	env     map[string]string
	event   string
	region  string
	creds   bool
	logs    bytes.Buffer
	srv     *ecsdouble.Server
	sum     *report.Summary // the answer
	rep     *report.Report  // put back together from the log
	err     error
	timeout time.Duration
	setup   func(*ecsdouble.Server) // faults to inject before the invocation
	// localBuild runs the handler as s.yaml's pre-local build does.
	localBuild bool
}

func invoke(t *testing.T, inv *invocation) {
	t.Helper()
	srv, err := ecsdouble.Start(fleet(), ecsdouble.WithCredential(ak, secret, token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	inv.srv = srv
	if inv.setup != nil {
		inv.setup(srv)
	}
	env := map[string]string{"REAPER_ECS_ENDPOINT": srv.URL(), "REAPER_MAX_RELEASE_PERCENT": "100"}
	for k, v := range inv.env {
		env[k] = v
	}
	h := &handler.Handler{
		Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: func() []string {
			var out []string
			for k, v := range env {
				out = append(out, k+"="+v)
			}
			return out
		},
		Logger:     handler.NewLogger(&inv.logs),
		LocalBuild: inv.localBuild,
	}
	fctx := &fccontext.FcContext{RequestID: "req-handler-1", Region: inv.region}
	if inv.creds {
		fctx.Credentials = fccontext.Credentials{AccessKeyId: ak, AccessKeySecret: secret, SecurityToken: token}
	}
	timeout := inv.timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(fccontext.NewContext(context.Background(), fctx), timeout)
	defer cancel()
	inv.sum, inv.err = h.Invoke(ctx, []byte(inv.event))
	if inv.sum == nil {
		t.Fatalf("Invoke returned no summary (error %v)", inv.err)
	}
	rep, err := report.ReadLog(strings.NewReader(inv.logs.String()), inv.sum.RunID, "req-handler-1")
	if err != nil {
		t.Fatalf("the logged report: %v", err)
	}
	inv.rep = rep
	for _, leak := range []string{secret, token} {
		if strings.Contains(inv.logs.String(), leak) || (inv.err != nil && strings.Contains(inv.err.Error(), leak)) {
			t.Errorf("a secret leaked into the logs or the error")
		}
	}
}

const event = `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"hourly","payload":""}`

func TestInvokeSweepsTheFunctionsRegionWithContextCredentials(t *testing.T) {
	inv := &invocation{event: event, region: "cn-hangzhou", creds: true}
	invoke(t, inv)
	if inv.err != nil {
		t.Fatalf("Invoke: %v", inv.err)
	}
	if got := strings.Join(inv.srv.Released(), ","); got != "i-hz-old1,i-hz-old2" {
		t.Errorf("released %s, want the two expired instances of the function's region", got)
	}
	if inv.rep.RunID != "hourly@2026-11-25T04:00:00Z" {
		t.Errorf("run ID %q: want trigger name and time, so FC retries reuse ClientTokens", inv.rep.RunID)
	}
	if !strings.Contains(inv.logs.String(), `"request_id":"req-handler-1"`) {
		t.Error("logs do not carry the FC request ID")
	}
}

func TestInvokePayloadOverrides(t *testing.T) {
	inv := &invocation{
		event:  `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"hourly","payload":"{\"dryRun\": true, \"regions\": [\"cn-hangzhou\", \"cn-shanghai\"]}"}`,
		region: "cn-hangzhou", creds: true, env: map[string]string{"REAPER_REGIONS": "cn-hangzhou,cn-shanghai,cn-beijing"},
	}
	invoke(t, inv)
	if inv.err != nil {
		t.Fatalf("Invoke: %v", inv.err)
	}
	if len(inv.srv.Released()) != 0 {
		t.Fatal("dry-run payload released instances")
	}
	if got := strings.Join(inv.rep.IDs(report.OutcomeWouldRelease), ","); got != "i-hz-old1,i-hz-old2,i-sh-old" {
		t.Errorf("would release %s, want the expired instances of both payload regions", got)
	}
}

func TestInvokeRefusesBadInputAndReleasesNothing(t *testing.T) {
	for _, tc := range []struct {
		name, event string
		env         map[string]string
		creds       bool
		region      string
		want        error
		mention     string
	}{
		{name: "non-timer event", event: `{"key":"value"}`, creds: true, want: handler.ErrBadEvent, mention: "without triggerName"},
		{name: "payload turns a dry run off", event: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"t","payload":"{\"dryRun\":false}"}`, creds: true,
			env: map[string]string{"REAPER_DRY_RUN": "true"}, want: handler.ErrBadEvent, mention: "REAPER_DRY_RUN=true"},
		{name: "payload raises maxRelease", event: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"t","payload":"{\"maxRelease\":500}"}`, creds: true,
			want: handler.ErrBadEvent, mention: "500 exceeds REAPER_MAX_RELEASE=100"},
		{name: "payload region outside the settings", event: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"t","payload":"{\"regions\":[\"cn-shanghai\"]}"}`, creds: true,
			want: handler.ErrBadEvent, mention: "cn-shanghai not within REAPER_REGIONS"},
		{name: "misspelt setting", event: event, creds: true, env: map[string]string{"REAPER_DRYRUN": "true"}, want: handler.ErrSettings, mention: "did you mean REAPER_DRY_RUN?"},
		{name: "ill-typed payload", event: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"t","payload":"{\"dryRun\":\"yes\"}"}`, creds: true, want: handler.ErrBadEvent, mention: "dryRun"},
		{name: "payload region not valid", event: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"t","payload":"{\"regions\":[\"Hangzhou!\"]}"}`, creds: true, want: handler.ErrBadEvent, mention: "Hangzhou!"},
		{name: "invalid setting", event: event, creds: true, env: map[string]string{"REAPER_FORCE": "maybe"}, want: handler.ErrSettings, mention: "REAPER_FORCE"},
		{name: "no credentials", event: event, want: handler.ErrSettings, mention: "credentials"},
		{name: "no region anywhere", event: event, creds: true, region: "-", want: handler.ErrSettings, mention: "REAPER_REGIONS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			region := tc.region
			if region == "" {
				region = "cn-hangzhou"
			} else if region == "-" {
				region = ""
			}
			inv := &invocation{event: tc.event, env: tc.env, creds: tc.creds, region: region}
			invoke(t, inv)
			if !errors.Is(inv.err, tc.want) || !strings.Contains(inv.err.Error(), tc.mention) {
				t.Fatalf("error %v, want %v mentioning %q", inv.err, tc.want, tc.mention)
			}
			if n := len(inv.srv.Calls()); n != 0 {
				t.Errorf("%d ECS calls made for a refused invocation", n)
			}
		})
	}
}

func TestInvokeOverCapFailsNamingTheSettings(t *testing.T) {
	inv := &invocation{event: event, region: "cn-hangzhou", creds: true, env: map[string]string{"REAPER_MAX_RELEASE": "1"}}
	invoke(t, inv)
	if inv.err == nil || !strings.Contains(inv.err.Error(), "2 instances eligible") || !strings.Contains(inv.err.Error(), "REAPER_MAX_RELEASE to 2") ||
		!strings.Contains(inv.err.Error(), "Every run will refuse until") {
		t.Fatalf("error %v: want the count, the setting to raise and the value that passes, and that every run refuses until then", inv.err)
	}
	if inv.rep != nil && inv.rep.Error != inv.err.Error() {
		t.Errorf("report error %q differs from the invocation's %q", inv.rep.Error, inv.err)
	}
	if len(inv.srv.Released()) != 0 {
		t.Error("released over the cap")
	}
	if inv.rep == nil || inv.rep.Cap == nil || !inv.rep.Cap.Exceeded {
		t.Error("the failed invocation lost its report")
	}
	if !strings.Contains(inv.logs.String(), `"msg":"report"`) {
		t.Error("the report was not logged for the failed invocation")
	}
}

func TestInvokeAllRegionsWhenTheRegionListFails(t *testing.T) {
	inv := &invocation{event: event, region: "cn-hangzhou", creds: true, env: map[string]string{"REAPER_REGIONS": "all"},
		setup: func(srv *ecsdouble.Server) {
			srv.Inject(ecsdouble.Rule{Action: "DescribeRegions", Fault: ecsdouble.Error(403, "Forbidden.RAM")})
		}}
	invoke(t, inv)
	if inv.err == nil || !strings.Contains(inv.err.Error(), "Forbidden.RAM") {
		t.Fatalf("error %v, want the region list's failure", inv.err)
	}
	if inv.rep == nil || !strings.Contains(inv.rep.Error, "Forbidden.RAM") || inv.rep.Complete {
		t.Fatalf("report %+v: want one that says why nothing was swept", inv.rep)
	}
	if len(inv.srv.Released()) != 0 || inv.srv.CallCount("DescribeInstances") != 0 {
		t.Error("swept without a region list")
	}
}

// TestInvokeFailsWhenTheRunDidNotDoItsJob: the outcome table of the README.
// FC marks an invocation failed only when the handler returns an error, so
// every way a run can fall short of its job is an error, with the report
// returned and logged.
func TestInvokeFailsWhenTheRunDidNotDoItsJob(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		setup   func(*ecsdouble.Server)
		want    error // nil: the invocation succeeds
		mention string
	}{
		{name: "everything released", want: nil},
		{name: "a listing fails", setup: func(s *ecsdouble.Server) {
			s.Inject(ecsdouble.Rule{Action: "DescribeInstances", Fault: ecsdouble.Internal()})
		}, want: engine.ErrRegionFailed, mention: "cn-hangzhou (InternalError)"},
		{name: "the role may not release", setup: func(s *ecsdouble.Server) {
			s.Inject(ecsdouble.Rule{Action: "DeleteInstances", Fault: ecsdouble.Error(403, "Forbidden.RAM")})
		}, want: engine.ErrRegionFailed, mention: "Forbidden.RAM"},
		{name: "an instance fails", setup: func(s *ecsdouble.Server) {
			s.Inject(ecsdouble.Rule{Action: "DeleteInstances", Fault: ecsdouble.Error(400, "InvalidParameter")})
		}, want: engine.ErrReleaseFailed, mention: "instances failed"},
		{name: "a region that does not exist", env: map[string]string{"REAPER_REGIONS": "cn-hangzhou,xx-nowhere-9"}, want: engine.ErrRegionFailed, mention: "xx-nowhere-9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := &invocation{event: event, region: "cn-hangzhou", creds: true, env: tc.env, setup: tc.setup}
			invoke(t, inv)
			if tc.want == nil {
				if inv.err != nil {
					t.Fatalf("Invoke: %v", inv.err)
				}
			} else if !errors.Is(inv.err, tc.want) || !strings.Contains(inv.err.Error(), tc.mention) {
				t.Fatalf("error %v, want %v mentioning %q", inv.err, tc.want, tc.mention)
			}
			if inv.rep == nil || len(inv.rep.Regions) == 0 {
				t.Fatalf("report %+v: want the full report", inv.rep)
			}
			if (inv.err != nil) != (inv.rep.Error != "") {
				t.Errorf("report error %q for invocation error %v: the two must agree", inv.rep.Error, inv.err)
			}
			if !strings.Contains(inv.logs.String(), `"msg":"report"`) {
				t.Error("the report was not logged")
			}
			// The answer is the summary, failed exactly when the invocation
			// is, and logged after the report (FC drops a failed answer).
			wantOutcome := report.RunOK
			if inv.err != nil {
				wantOutcome = report.RunFailed
			}
			if inv.sum.Outcome != wantOutcome || inv.sum.Error != inv.rep.Error || inv.sum.Report.Records == 0 {
				t.Errorf("summary outcome %q error %q records %d: want %q, the report's error %q, and where the report is",
					inv.sum.Outcome, inv.sum.Error, inv.sum.Report.Records, wantOutcome, inv.rep.Error)
			}
			logs := inv.logs.String()
			if i, j := strings.LastIndex(logs, `"msg":"report`), strings.Index(logs, `"msg":"summary"`); j < i {
				t.Errorf("the summary is logged at %d, before the report's last record at %d", j, i)
			}
		})
	}
}

// A timeout shorter than the deadline margin is not a silent no-op.
func TestInvokeWithLessTimeThanTheMarginFails(t *testing.T) {
	inv := &invocation{event: event, region: "cn-hangzhou", creds: true, timeout: 3 * time.Second}
	invoke(t, inv)
	if !errors.Is(inv.err, engine.ErrNoTime) || !strings.Contains(inv.err.Error(), "timeout leaves no time to sweep") || !strings.Contains(inv.err.Error(), "REAPER_DEADLINE_MARGIN") {
		t.Fatalf("error %v: want one saying the timeout leaves no time, naming the margin", inv.err)
	}
	if n := len(inv.srv.Calls()); n != 0 {
		t.Errorf("%d ECS calls with no time to sweep", n)
	}
	if inv.rep == nil || inv.rep.Error == "" || inv.rep.Complete {
		t.Errorf("report %+v: want one that says why", inv.rep)
	}
}

// A binary built for `s local invoke` runs with the developer's own
// credentials: it dry-runs unless REAPER_LOCAL_RELEASE=true.
func TestLocalBuildDryRunsUnlessAskedToRelease(t *testing.T) {
	inv := &invocation{event: event, region: "cn-hangzhou", creds: true, localBuild: true, env: map[string]string{"REAPER_DRY_RUN": "false"}}
	invoke(t, inv)
	if inv.err != nil {
		t.Fatalf("Invoke: %v", inv.err)
	}
	if n := len(inv.srv.Released()); n != 0 || !inv.rep.DryRun {
		t.Fatalf("a local build released %d (dry run %v)", n, inv.rep.DryRun)
	}
	if got := strings.Join(inv.rep.IDs(report.OutcomeWouldRelease), ","); got != "i-hz-old1,i-hz-old2" {
		t.Errorf("would release %q", got)
	}
	if !strings.Contains(inv.logs.String(), "REAPER_LOCAL_RELEASE=true") {
		t.Error("the forced dry run is not explained in the log")
	}

	live := &invocation{event: event, region: "cn-hangzhou", creds: true, localBuild: true, env: map[string]string{"REAPER_LOCAL_RELEASE": "true"}}
	invoke(t, live)
	if live.err != nil || len(live.srv.Released()) != 2 {
		t.Fatalf("with REAPER_LOCAL_RELEASE=true: err %v, released %v", live.err, live.srv.Released())
	}
}

// Fields of the timer event this version does not know are logged and
// ignored; the known three stay strictly typed.
func TestUnknownEventFieldsAreIgnored(t *testing.T) {
	inv := &invocation{event: `{"triggerTime":"2026-11-25T04:00:00Z","triggerName":"hourly","payload":"","eventVersion":"2","source":{"x":1}}`, region: "cn-hangzhou", creds: true}
	invoke(t, inv)
	if inv.err != nil {
		t.Fatalf("Invoke: %v", inv.err)
	}
	if len(inv.srv.Released()) != 2 {
		t.Errorf("released %v", inv.srv.Released())
	}
	if !strings.Contains(inv.logs.String(), `"fields":["eventVersion","source"]`) {
		t.Errorf("the unknown fields are not logged:\n%s", inv.logs.String())
	}
}

// Every record carries the run ID; a failure is never logged at INFO;
// durations read as the report writes them; empty fields are omitted.
func TestLogsAnOperatorCanAlertOn(t *testing.T) {
	inv := &invocation{event: event, region: "cn-hangzhou", creds: true, setup: func(s *ecsdouble.Server) {
		s.Inject(ecsdouble.Rule{Action: "DeleteInstances", Fault: ecsdouble.Error(400, "InvalidParameter")})
	}}
	invoke(t, inv)
	if inv.err == nil {
		t.Fatal("want a failed invocation")
	}
	sawFailedBatch := false
	for _, line := range strings.Split(strings.TrimSpace(inv.logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if rec["run_id"] != "hourly@2026-11-25T04:00:00Z" {
			t.Errorf("record without the run ID: %s", line)
		}
		for k, v := range rec {
			if v == "" || v == nil {
				t.Errorf("empty field %q: %s", k, line)
			}
		}
		failed := rec["result"] == "failed" || rec["outcome"] == "failed"
		if failed && rec["level"] == "INFO" {
			t.Errorf("a failure logged at INFO: %s", line)
		}
		if rec["msg"] == "batch" && rec["result"] == "failed" {
			sawFailedBatch = true
		}
		if s, ok := rec["settings"].(map[string]any); ok && s["freshness"] != "1m0s" {
			t.Errorf("freshness logged as %v, want the report's 1m0s", s["freshness"])
		}
	}
	if !sawFailedBatch {
		t.Error("no failed batch logged")
	}
}

// With the default caps a pilot's sweep releases: two expired of three
// opted in is 67 %, over the 50 % cap, but under the 10 eligible it
// applies from.
func TestDefaultCapsLetAPilotThrough(t *testing.T) {
	inv := &invocation{event: event, region: "cn-hangzhou", creds: true, env: map[string]string{"REAPER_MAX_RELEASE_PERCENT": ""}}
	invoke(t, inv)
	if inv.err != nil {
		t.Fatalf("Invoke: %v", inv.err)
	}
	if got := strings.Join(inv.srv.Released(), ","); got != "i-hz-old1,i-hz-old2" {
		t.Errorf("released %q", got)
	}
	if c := inv.rep.Cap; c == nil || c.MaxReleasePercent != 50 || c.PercentCapFrom != 10 || c.Exceeded {
		t.Errorf("cap %+v: want the defaults, not exceeded", c)
	}
}

func TestIsWorkerPayload(t *testing.T) {
	for event, want := range map[string]bool{
		`{"phase":"plan","run":"20261206T090000Z","account":"1234567890123456"}`: true,
		`{"phase":1}`: true, // a worker payload, refused by its own parser
		`{"triggerTime":"2026-12-06T09:00:00Z","triggerName":"t","payload":"{\"phase\":\"plan\"}"}`: false,
		`not json`: false,
		``:         false,
	} {
		if got := handler.IsWorkerPayload([]byte(event)); got != want {
			t.Errorf("IsWorkerPayload(%s) = %v, want %v", event, got, want)
		}
	}
}
