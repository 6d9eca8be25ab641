package main

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// STS credentials of the test's function role. The secret and token must
// never show up in anything the function writes or returns.
const (
	stsKeyID  = "STS.e2eKeyId0001"
	stsSecret = "e2e-secret-value-do-not-print"
	stsToken  = "e2e-security-token-do-not-print"
)

var creds = fcdouble.Credentials{AccessKeyID: stsKeyID, AccessKeySecret: stsSecret, SecurityToken: stsToken}

// e2eFleet: two regions, four instances eligible (44% of nine opted in, under
// the default caps), the rest skipped for different reasons.
const e2eFleet = `{"instances": [
 {"id": "i-hz-stopped-rfc01", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01T00:00:00Z"}},
 {"id": "i-hz-stopped-date2", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01"}},
 {"id": "i-hz-prepaid-exp03", "region": "cn-hangzhou", "status": "Stopped", "chargeType": "PrePaid", "expiredTime": "2025-03-01T16:00Z", "lockReasons": ["financial"], "creationTime": "2024-03-01T00:00Z", "tags": {"reaper-expires": "2025-03-01"}},
 {"id": "i-hz-running-exp04", "region": "cn-hangzhou", "status": "Running", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01"}},
 {"id": "i-hz-notexpired05", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2099-01-01"}},
 {"id": "i-hz-kepttag0006", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01", "reaper-keep": "1"}},
 {"id": "i-sh-stopped-ttl07", "region": "cn-shanghai", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "7d"}},
 {"id": "i-sh-protected008", "region": "cn-shanghai", "status": "Stopped", "deletionProtection": true, "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01"}},
 {"id": "i-sh-notexpired09", "region": "cn-shanghai", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "520w"}}
]}`

// built is the deployed build (-tags fc, as s.yaml builds it); cliBuilt
// the default one, which is also the command line.
var built, cliBuilt = fcdouble.Built{Flags: []string{"-tags", "fc"}}, fcdouble.Built{}

// binary builds the deployed function once for the whole test run.
func binary(t *testing.T) string {
	t.Helper()
	path, err := built.Path(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// cliBinary builds the default build (function and command line) once.
func cliBinary(t *testing.T) string {
	t.Helper()
	path, err := cliBuilt.Path(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	built.Remove()
	cliBuilt.Remove()
	clockBuilt.Remove()
	os.Exit(code)
}

// stack is one function process under the runtime-API double, talking to
// its own ECS double.
type stack struct {
	ecs  *ecsdouble.Server
	fc   *fcdouble.Server
	proc *fcdouble.Process
}

func startStack(t *testing.T, env ...string) *stack {
	t.Helper()
	return startStackWith(t, binary(t), env...)
}

// startStackWith runs bin (built with other flags) under the doubles.
func startStackWith(t *testing.T, bin string, env ...string) *stack {
	t.Helper()
	return startFleetStack(t, bin, e2eFleet, env...)
}

// startFleetStack runs bin under the doubles with the fleet given as JSON.
func startFleetStack(t *testing.T, bin, fleetJSON string, env ...string) *stack {
	t.Helper()
	fleet, err := ecsdouble.ParseFleet([]byte(fleetJSON))
	if err != nil {
		t.Fatal(err)
	}
	ecs, err := ecsdouble.Start(fleet, ecsdouble.WithCredential(stsKeyID, stsSecret, stsToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ecs.Close)
	srv, err := fcdouble.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	env = append([]string{
		"REAPER_ECS_ENDPOINT=" + ecs.URL(),
		"REAPER_REGIONS=cn-hangzhou,cn-shanghai",
	}, env...)
	proc, err := fcdouble.StartFunction(context.Background(), bin, env, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Stop() // before srv.Close (registered earlier, so run later)
		out := proc.Output()
		for _, secret := range []string{stsSecret, stsToken, fnMarkSecret} {
			if strings.Contains(out, secret) {
				t.Errorf("the function's output contains a secret (%.6s...)", secret)
			}
		}
		if t.Failed() {
			t.Logf("function output:\n%s", out)
		}
	})
	return &stack{ecs: ecs, fc: srv, proc: proc}
}

func timerEvent(payload string) []byte {
	b, _ := json.Marshal(map[string]string{
		"triggerTime": "2026-03-01T04:00:00Z",
		"triggerName": "hourly",
		"payload":     payload,
	})
	return b
}

// answer is one invocation's result and the process that served it, whose
// log holds the invocation's whole report.
type answer struct {
	fcdouble.Result
	proc *fcdouble.Process
}

func (s *stack) invoke(t *testing.T, requestID string, event []byte) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	res, err := s.fc.Invoke(ctx, fcdouble.Invocation{
		RequestID:    requestID,
		Event:        event,
		Timeout:      120 * time.Second,
		Credentials:  creds,
		Region:       "cn-hangzhou",
		FunctionName: "ecs-reaper",
		Handler:      "main",
	})
	if err != nil {
		t.Fatalf("invoke %s: %v", requestID, err)
	}
	for _, secret := range []string{stsSecret, stsToken, fnMarkSecret} {
		if strings.Contains(string(res.Body), secret) {
			t.Errorf("%s: the response contains a secret", requestID)
		}
	}
	return answer{res, s.proc}
}

// decodeReport checks that the invocation succeeded and answered its
// summary, and returns the whole report, put back together from the
// records the function logged.
func decodeReport(t *testing.T, res answer) *report.Report {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("%s: function error: %+v", res.RequestID, *res.Err)
	}
	sum := decodeSummary(t, res)
	rep := readLogged(t, res.proc, sum.RunID, res.RequestID)
	checkSummary(t, sum, rep)
	return rep
}

// decodeSummary reads the invocation's answer: a summary, within its bound.
func decodeSummary(t *testing.T, res answer) *report.Summary {
	t.Helper()
	var sum report.Summary
	dec := json.NewDecoder(bytes.NewReader(res.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sum); err != nil {
		t.Fatalf("%s: the answer is not a summary: %v\n%.2000s", res.RequestID, err, res.Body)
	}
	if len(res.Body) > report.MaxSummaryBytes || sum.SchemaVersion != report.SummarySchemaVersion || sum.RequestID != res.RequestID {
		t.Fatalf("%s: the answer is %d bytes, schemaVersion %d, request %q: want at most %d, %d and the invocation's",
			res.RequestID, len(res.Body), sum.SchemaVersion, sum.RequestID, report.MaxSummaryBytes, report.SummarySchemaVersion)
	}
	return &sum
}

// readLogged waits for the invocation's summary record (logged after the
// report) and puts the logged report back together.
func readLogged(t *testing.T, proc *fcdouble.Process, runID, requestID string) *report.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := proc.WaitForOutput(ctx, `"msg":"summary","request_id":"`+requestID+`"`); err != nil {
		t.Fatalf("%s: the summary was not logged: %v", requestID, err)
	}
	rep, err := report.ReadLog(strings.NewReader(proc.Stdout()), runID, requestID)
	if err != nil {
		t.Fatalf("%s: the logged report: %v", requestID, err)
	}
	return rep
}

// checkSummary: the answer says what the logged report says.
func checkSummary(t *testing.T, sum *report.Summary, rep *report.Report) {
	t.Helper()
	inst := map[string]int{}
	maps.Copy(inst, rep.Totals.Outcomes)
	maps.Copy(inst, rep.Totals.Reasons)
	if sum.RunID != rep.RunID || sum.DryRun != rep.DryRun || sum.Complete != rep.Complete || sum.Error != rep.Error || sum.Warning != rep.Warning ||
		sum.Seen != rep.Totals.Seen || sum.OptedIn != rep.Totals.OptedIn || sum.Batches != rep.Totals.Batches ||
		!maps.Equal(sum.Totals[report.KindInstances], inst) || !maps.Equal(sum.Totals["disks"], rep.Totals.Kinds["disks"]) ||
		!maps.Equal(sum.Totals["snapshots"], rep.Totals.Kinds["snapshots"]) || !maps.Equal(sum.Totals["eips"], rep.Totals.Kinds["eips"]) {
		t.Errorf("the summary %+v does not say what the logged report %s says: %+v", sum, rep.RunID, rep.Totals)
	}
	if !sum.Report.Log || sum.Report.Records == 0 {
		t.Errorf("the summary says the report is not logged: %+v", sum.Report)
	}
}

func wantError(t *testing.T, res answer, substrs ...string) {
	t.Helper()
	if res.Err == nil {
		t.Fatalf("%s: succeeded, want an error containing %q; body %s", res.RequestID, substrs, res.Body)
	}
	for _, s := range substrs {
		if !strings.Contains(res.Err.ErrorMessage, s) {
			t.Errorf("%s: error %q lacks %q", res.RequestID, res.Err.ErrorMessage, s)
		}
	}
}

// deleteCalls returns the DeleteInstances calls made so far.
func (s *stack) deleteCalls() []ecsdouble.Call {
	var out []ecsdouble.Call
	for _, c := range s.ecs.Calls() {
		if c.Action == "DeleteInstances" {
			out = append(out, c)
		}
	}
	return out
}

func callIDs(c ecsdouble.Call) []string {
	var ids []string
	for i := 1; ; i++ {
		id, ok := c.Params[fmt.Sprintf("InstanceId.%d", i)]
		if !ok {
			break
		}
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

var eligible = []string{"i-hz-prepaid-exp03", "i-hz-stopped-date2", "i-hz-stopped-rfc01", "i-sh-stopped-ttl07"}

func TestFunctionEndToEnd(t *testing.T) {
	s := startStack(t)

	t.Run("dry-run payload", func(t *testing.T) {
		rep := decodeReport(t, s.invoke(t, "e2e-dryrun", timerEvent(`{"dryRun": true}`)))
		if got := s.ecs.Released(); len(got) != 0 {
			t.Fatalf("a dry run released %v", got)
		}
		if !rep.DryRun || !slices.Equal(rep.IDs(report.OutcomeWouldRelease), eligible) {
			t.Errorf("dryRun=%v would-release=%v, want true and %v", rep.DryRun, rep.IDs(report.OutcomeWouldRelease), eligible)
		}
		for _, c := range s.deleteCalls() {
			if c.Params["DryRun"] != "true" {
				t.Errorf("dry run sent DeleteInstances %v with DryRun=%q", callIDs(c), c.Params["DryRun"])
			}
		}
	})
	dryCalls := len(s.deleteCalls())

	t.Run("over the cap", func(t *testing.T) {
		res := s.invoke(t, "e2e-overcap", timerEvent(`{"maxRelease": 1}`))
		wantError(t, res, "cap", "4 instances eligible", "over the count cap of 1", "REAPER_MAX_RELEASE")
	})
	t.Run("non-JSON event", func(t *testing.T) {
		wantError(t, s.invoke(t, "e2e-notjson", []byte("this is not JSON")), "not a JSON object", "timer event")
	})
	t.Run("ill-typed payload", func(t *testing.T) {
		wantError(t, s.invoke(t, "e2e-illtyped", timerEvent(`{"dryRun": "yes"}`)), `"dryRun" must be true or false`)
	})
	if got := s.ecs.Released(); len(got) != 0 {
		t.Fatalf("failed invocations released %v", got)
	}
	if n := len(s.deleteCalls()); n != dryCalls {
		t.Fatalf("failed invocations sent %d DeleteInstances calls", n-dryCalls)
	}

	t.Run("timer event releases, after the errors", func(t *testing.T) {
		rep := decodeReport(t, s.invoke(t, "e2e-release", timerEvent("")))
		if got := s.ecs.Released(); !slices.Equal(got, eligible) {
			t.Fatalf("released %v, want %v", got, eligible)
		}
		if got := rep.IDs(report.OutcomeReleased); !slices.Equal(got, eligible) {
			t.Errorf("report released %v, want %v", got, eligible)
		}
		if rep.DryRun || !rep.Complete || rep.Error != "" || rep.RunID != "hourly@2026-03-01T04:00:00Z" {
			t.Errorf("report dryRun=%v complete=%v error=%q runId=%q", rep.DryRun, rep.Complete, rep.Error, rep.RunID)
		}
		wantSkips := map[string]string{
			"i-hz-running-exp04": "running", "i-hz-notexpired05": "not-expired", "i-hz-kepttag0006": "excluded",
			"i-sh-protected008": "deletion-protected", "i-sh-notexpired09": "not-expired",
		}
		gotSkips := map[string]string{}
		tokens := map[string]bool{}
		for _, r := range rep.Regions {
			for _, g := range r.Groups {
				if g.Outcome == report.OutcomeSkipped {
					for _, it := range g.Instances {
						gotSkips[it.ID] = string(g.Reason)
					}
				}
			}
			for _, b := range r.Batches {
				tokens[b.ClientToken] = true
			}
		}
		for id, reason := range wantSkips {
			if gotSkips[id] != reason {
				t.Errorf("%s skipped as %q, want %q", id, gotSkips[id], reason)
			}
		}

		calls := s.deleteCalls()[dryCalls:]
		var released []string
		for _, c := range calls {
			ids := callIDs(c)
			released = append(released, ids...)
			prepaid := slices.Equal(ids, []string{"i-hz-prepaid-exp03"})
			want := map[string]string{"DryRun": "false", "Force": "false", "TerminateSubscription": fmt.Sprint(prepaid)}
			for k, v := range want {
				if c.Params[k] != v {
					t.Errorf("DeleteInstances %v: %s=%q, want %q", ids, k, c.Params[k], v)
				}
			}
			if v, ok := c.Params["ForceStop"]; ok {
				t.Errorf("DeleteInstances %v: ForceStop=%q sent without Force", ids, v)
			}
			if slices.Contains(ids, "i-hz-prepaid-exp03") && !prepaid {
				t.Errorf("the subscription instance shares a batch: %v", ids)
			}
			if tok := c.Params["ClientToken"]; tok == "" || !tokens[tok] {
				t.Errorf("DeleteInstances %v: ClientToken %q is not one of the report's batches", ids, tok)
			}
			if c.Status != http.StatusOK {
				t.Errorf("DeleteInstances %v answered %d %s", ids, c.Status, c.Code)
			}
		}
		sort.Strings(released)
		if !slices.Equal(released, eligible) {
			t.Errorf("DeleteInstances calls named %v, want %v", released, eligible)
		}
	})

	t.Run("logs carry the request ID", func(t *testing.T) {
		if err := s.proc.WaitForOutput(t.Context(), `"msg":"report","request_id":"e2e-release"`); err != nil {
			t.Fatal(err)
		}
		counts := map[string]int{}
		sc := bufio.NewScanner(strings.NewReader(s.proc.Stdout()))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) != nil {
				continue // the SDK's own plain-text lines
			}
			msg, _ := rec["msg"].(string)
			if id, _ := rec["request_id"].(string); id == "" {
				t.Errorf("log record without request_id: %s", sc.Text())
			} else if id == "e2e-release" {
				counts[msg]++
				// A page's decisions are one record: count them.
				for _, kind := range []string{"eligible", "skipped"} {
					byWhy, _ := rec[kind].(map[string]any)
					for _, ids := range byWhy {
						list, _ := ids.([]any)
						counts[kind+" decision"] += len(list)
					}
				}
			}
		}
		// 4 eligible by page, each released with a record of its own; 5
		// skipped by page.
		if counts["decision"] != 4 || counts["eligible decision"] != 4 || counts["skipped decision"] != 5 || counts["batch"] < 3 {
			t.Errorf("e2e-release logged %d decision records, %d eligible and %d skipped decisions by page and %d batch records, want 4, 4, 5 and >= 3 (%v)",
				counts["decision"], counts["eligible decision"], counts["skipped decision"], counts["batch"], counts)
		}
	})
}

func TestFunctionForceFlags(t *testing.T) {
	s := startStack(t, "REAPER_FORCE=true", "REAPER_FORCE_STOP=false", "REAPER_MAX_RELEASE_PERCENT=100")
	rep := decodeReport(t, s.invoke(t, "e2e-force", timerEvent("")))
	want := append([]string{"i-hz-running-exp04"}, eligible...)
	sort.Strings(want)
	if got := s.ecs.Released(); !slices.Equal(got, want) {
		t.Fatalf("released %v, want %v", got, want)
	}
	if got := rep.IDs(report.OutcomeReleased); !slices.Equal(got, want) {
		t.Errorf("report released %v, want %v", got, want)
	}
	forced := 0
	for _, c := range s.deleteCalls() {
		if !slices.Contains(callIDs(c), "i-hz-running-exp04") {
			if c.Params["Force"] != "false" {
				t.Errorf("DeleteInstances %v: Force=%q for stopped instances", callIDs(c), c.Params["Force"])
			}
			continue
		}
		forced++
		if !slices.Equal(callIDs(c), []string{"i-hz-running-exp04"}) || c.Params["Force"] != "true" || c.Params["ForceStop"] != "false" {
			t.Errorf("forced batch %v: Force=%q ForceStop=%q, want only the running instance, true, false", callIDs(c), c.Params["Force"], c.Params["ForceStop"])
		}
	}
	if forced != 1 {
		t.Errorf("%d forced DeleteInstances calls, want 1", forced)
	}
}

func TestFunctionInvalidSetting(t *testing.T) {
	s := startStack(t, "REAPER_MAX_RELEASE=-1")
	for _, id := range []string{"e2e-badsetting-1", "e2e-badsetting-2"} { // and the next one is served too
		wantError(t, s.invoke(t, id, timerEvent("")), "REAPER_MAX_RELEASE", `"-1"`)
	}
	if n := len(s.ecs.Calls()); n != 0 {
		t.Errorf("an invalid setting still made %d ECS calls", n)
	}
}

func TestFunctionWithoutCredentials(t *testing.T) {
	s := startStack(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	res, err := s.fc.Invoke(ctx, fcdouble.Invocation{RequestID: "e2e-nocreds", Event: timerEvent("")})
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, answer{res, s.proc}, "no credentials", "role")
	if n := len(s.ecs.Calls()); n != 0 {
		t.Errorf("%d ECS calls without credentials", n)
	}
}

// TestBinaryStaysLight guards the cold start: the function binary must not
// link modules that do heavy work in package init (jsonschema compiles its
// meta-schemas there, ~15 ms); lib/cli runs such checks out of process.
// The deployed build carries only what FC runs: neither test double, nor
// the command line, nor the schema library of its checks.
func TestBinaryStaysLight(t *testing.T) {
	info, err := buildinfo.ReadFile(binary(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range info.Deps {
		if strings.Contains(d.Path, "jsonschema") || strings.Contains(d.Path, "yaml") {
			t.Errorf("the FC build links %s, which only the command line needs", d.Path)
		}
	}
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", "-tags", "fc", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"lib/ecsdouble", "lib/fcdouble", "lib/cli", "lib/engine/fake", "lib/deployfiles", "lib/benchmark"} {
		if strings.Contains(string(out), "/ecs-reaper/"+pkg+"\n") {
			t.Errorf("the FC build links %s", pkg)
		}
	}
	if !strings.Contains(string(out), "/ecs-reaper/lib/handler\n") {
		t.Error("the FC build does not link the handler: the check looks at the wrong list")
	}
}

// TestColdStart checks that the FC build reaches the runtime API's /next
// on its own, every time, and logs how long it took. The time's target is
// the benchmark's (lib/benchmark, coldstart): a timed assertion here would
// fail on a busy machine, not on a slow binary.
func TestColdStart(t *testing.T) {
	bin := binary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan time.Time, 1)
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- time.Now():
		default:
		}
		<-r.Context().Done() // hold /next open, as the platform does between events
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })

	measure := func() time.Duration {
		const runs = 11
		var ds []time.Duration
		for range runs {
			cmd := exec.Command(bin)
			cmd.Env = []string{"FC_RUNTIME_API=" + ln.Addr().String()}
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			select {
			case at := <-got:
				ds = append(ds, at.Sub(start))
			case <-time.After(10 * time.Second):
				t.Fatal("the function never called /next")
			}
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		slices.Sort(ds)
		return ds[runs/2]
	}
	t.Logf("cold start median %v (the benchmark holds the target)", measure())
}

// Settings that contradict themselves fail the invocation, naming both
// sides, and nothing is read or released.
func TestFunctionContradictorySettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want []string
	}{
		{"notice without a channel", []string{"REAPER_NOTICE=2d"}, []string{"REAPER_NOTICE", "REAPER_NOTIFY_URL"}},
		{"kind with a blank channel", []string{"REAPER_NOTIFY_KIND=slack", "REAPER_NOTIFY_URL=   "}, []string{"REAPER_NOTIFY_KIND", "REAPER_NOTIFY_URL"}},
		{"opt-in tag is the stop mark", []string{"REAPER_TAG_KEY=reaper-notified-stopped"}, []string{"REAPER_MARK_TAG", "REAPER_TAG_KEY", "reaper-notified-stopped"}},
		{"derived key too long", []string{"REAPER_MARK_TAG=" + strings.Repeat("n", 120)}, []string{"REAPER_MARK_TAG", "128 characters"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startStack(t, tc.env...)
			wantError(t, s.invoke(t, "e2e-contradiction", timerEvent("")), tc.want...)
			if n := len(s.ecs.Calls()); n != 0 {
				t.Errorf("contradictory settings still made %d ECS calls", n)
			}
			if r := s.ecs.Released(); len(r) != 0 {
				t.Errorf("released %v", r)
			}
		})
	}
}
