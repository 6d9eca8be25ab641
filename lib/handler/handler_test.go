package handler_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
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
		{name: "OSS event", body: `{"events":[{"eventName":"ObjectCreated:PutObject"}]}`, err: "unknown field"},
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
	rep     *report.Report
	err     error
	timeout time.Duration
	setup   func(*ecsdouble.Server) // faults to inject before the invocation
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
		Logger: slog.New(slog.NewJSONHandler(&inv.logs, nil)),
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
	inv.rep, inv.err = h.Invoke(ctx, []byte(inv.event))
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
		region: "cn-hangzhou", creds: true,
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
		{name: "non-timer event", event: `{"key":"value"}`, creds: true, want: handler.ErrBadEvent, mention: "unknown field"},
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
	if inv.err == nil || !strings.Contains(inv.err.Error(), "2 instances eligible") || !strings.Contains(inv.err.Error(), "REAPER_MAX_RELEASE") {
		t.Fatalf("error %v: want the count and the setting named", inv.err)
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
