package main

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

// The lifecycle through the real function binary under the FC runtime
// double, over simulated days: the binary is built as a test build whose
// clock is the timer event's triggerTime, and the ECS double's clock
// follows it.

var clockBuilt = fcdouble.Built{Flags: []string{"-tags", "fc", "-ldflags", "-X main.testClock=trigger"}}

func clockBinary(t *testing.T) string {
	t.Helper()
	path, err := clockBuilt.Path(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// fnMarkSecret signs the marks of the function's tests (REAPER_MARK_SECRET).
const fnMarkSecret = "function-test-mark-secret-0123456789abcdef"

var fnMarks = mark.NewKeys(fnMarkSecret, "")

const (
	hookToken  = "hooktoken-5e4d3c2b1a"
	hookSecret = "SEChooksecret-do-not-print"
)

const lifecycleFleet = `{"instances": [
 {"id": "i-bp1life000000001", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-12-02", "owner": "13800138000"}},
 {"id": "i-bp1life000000002", "region": "cn-hangzhou", "status": "Running", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01", "owner": "13900139000"}},
 {"id": "i-bp1life000000003", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-12-20", "owner": "13800138000"}}
]}`

type lifeStack struct {
	*stack
	hook  *webhookdouble.Server
	mu    sync.Mutex
	clock time.Time
}

func (l *lifeStack) now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.clock
}

func startLifecycle(t *testing.T, env ...string) *lifeStack {
	t.Helper()
	return startLifecycleFleet(t, lifecycleFleet, env...)
}

// startLifecycleFleet is startLifecycle with its own fleet.
func startLifecycleFleet(t *testing.T, fleetJSON string, env ...string) *lifeStack {
	t.Helper()
	hook, err := webhookdouble.Start(hookToken, hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hook.Close)
	l := &lifeStack{hook: hook}
	fleet, err := ecsdouble.ParseFleet([]byte(fleetJSON))
	if err != nil {
		t.Fatal(err)
	}
	ecs, err := ecsdouble.Start(fleet, ecsdouble.WithCredential(stsKeyID, stsSecret, stsToken), ecsdouble.WithClock(l.now))
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
		"REAPER_REGIONS=cn-hangzhou",
		"REAPER_NOTIFY_URL=" + hook.URL(notify.DingTalk),
		"REAPER_NOTIFY_KIND=dingtalk",
		"REAPER_NOTIFY_SECRET=" + hookSecret,
		"REAPER_MAX_RELEASE_PERCENT=100",
		"REAPER_MARK_SECRET=" + fnMarkSecret,
	}, env...)
	proc, err := fcdouble.StartFunction(context.Background(), clockBinary(t), env, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Stop()
		out := proc.Output()
		for _, secret := range []string{stsSecret, stsToken, hookToken, hookSecret, fnMarkSecret} {
			if strings.Contains(out, secret) {
				t.Errorf("the function's output contains a credential (%.6s...)", secret)
			}
		}
		if t.Failed() {
			t.Logf("function output:\n%s", out)
		}
	})
	l.stack = &stack{ecs: ecs, fc: srv, proc: proc}
	return l
}

// tick invokes the function at when, as the timer would.
func (l *lifeStack) tick(t *testing.T, when time.Time) answer {
	t.Helper()
	l.mu.Lock()
	l.clock = when
	l.mu.Unlock()
	b, _ := json.Marshal(map[string]string{"triggerTime": when.UTC().Format(time.RFC3339), "triggerName": "hourly", "payload": ""})
	res := l.invoke(t, "tick-"+when.Format("0102T1504"), b)
	for _, secret := range []string{hookToken, hookSecret} {
		if strings.Contains(string(res.Body), secret) || (res.Err != nil && strings.Contains(res.Err.ErrorMessage, secret)) {
			t.Errorf("the invocation's answer carries a webhook credential")
		}
	}
	return res
}

func outcomeOf(rep *report.Report, id string) string {
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			for _, it := range g.Instances {
				if it.ID == id {
					return string(g.Outcome) + "/" + string(g.Reason)
				}
			}
		}
	}
	return ""
}

var lifeDay0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// markNear: tags carry a signed time mark under key, written by the API's
// clock at about want (the double's clock, plus the run's own time).
func markNear(id, key string, tags map[string]string, want time.Time) bool {
	at, st := fnMarks.ReadTime(id, key, tags)
	return st == mark.Valid && !at.Before(want) && at.Sub(want) < time.Minute
}

func TestBinaryLifecycleOverDays(t *testing.T) {
	l := startLifecycle(t, "REAPER_RUNNING=stop")

	// Day 0: the stopped instance expires tomorrow and the running one long
	// ago: both owners are told, in their own digests, signed; both marked.
	rep := decodeReport(t, l.tick(t, lifeDay0))
	msgs := l.hook.Messages()
	if len(msgs) != 2 || l.hook.Rejected() != 0 {
		t.Fatalf("%d messages (%d rejected), want one digest per owner", len(msgs), l.hook.Rejected())
	}
	if !strings.Contains(msgs[0].Text()+msgs[1].Text(), "@13800138000") || !strings.Contains(msgs[0].Text()+msgs[1].Text(), "stopped") {
		t.Errorf("digests lack the mention or the stop:\n%s\n%s", msgs[0].Text(), msgs[1].Text())
	}
	for _, id := range []string{"i-bp1life000000001", "i-bp1life000000002"} {
		if got := outcomeOf(rep, id); got != "notified/" {
			t.Errorf("%s: %s", id, got)
		}
		if inst, _ := l.ecs.Instance(id); !markNear(inst.ID, "reaper-notified", inst.Tags, lifeDay0) {
			t.Errorf("%s mark %q", id, inst.Tags["reaper-notified"])
		}
	}
	if n := len(l.ecs.Released()); n != 0 {
		t.Fatalf("released %d on the day of the notice", n)
	}

	// Day 1: the grace has passed: the stopped one goes, the running one
	// is stopped (and marked as stopped). Marks carry the API's time when
	// they were written, which runs on during a run (DingTalk paces its
	// messages): the ticks come a minute later than the whole days.
	rep = decodeReport(t, l.tick(t, lifeDay0.Add(24*time.Hour+time.Minute)))
	if got := l.ecs.Released(); len(got) != 1 || got[0] != "i-bp1life000000001" {
		t.Fatalf("day 1 released %v", got)
	}
	if got := outcomeOf(rep, "i-bp1life000000002"); got != "stopped/" {
		t.Fatalf("running instance on day 1: %s", got)
	}
	if inst, _ := l.ecs.Instance("i-bp1life000000002"); inst.Status != "Stopped" || inst.Tags["reaper-notified-stopped"] == "" {
		t.Fatalf("after the stop: %+v", inst)
	}
	if last := l.hook.Messages(); !strings.Contains(last[len(last)-1].Text(), "1 released, 1 stopped") {
		t.Errorf("no run summary after the run that released and stopped: %q", last[len(last)-1].Text())
	}

	// Day 2: stopped for a day: released.
	decodeReport(t, l.tick(t, lifeDay0.Add(48*time.Hour+2*time.Minute)))
	if got := l.ecs.Released(); len(got) != 2 {
		t.Fatalf("day 2 released %v", got)
	}
	if _, ok := l.ecs.Instance("i-bp1life000000003"); !ok {
		t.Fatal("the instance that is not due yet was released")
	}
}

func TestBinaryNoticeThatFailsIsAnInvocationError(t *testing.T) {
	l := startLifecycle(t)
	l.hook.Inject(webhookdouble.ErrorIn200) // DingTalk's error inside a 200: the one digest of this tick
	res := l.tick(t, lifeDay0)
	wantError(t, res, "notices not delivered", "errcode 310000")
	if inst, _ := l.ecs.Instance("i-bp1life000000001"); inst.Tags["reaper-notified"] != "" {
		t.Fatal("marked after an undelivered notice")
	}
	// The next tick (the channel answers again) tells and marks; nothing
	// is released until a day after that.
	decodeReport(t, l.tick(t, lifeDay0.Add(2*time.Hour)))
	decodeReport(t, l.tick(t, lifeDay0.Add(20*time.Hour)))
	if n := len(l.ecs.Released()); n != 0 {
		t.Fatalf("released %d within a day of the delivered notice", n)
	}
}

func TestBinaryWrongSecretIsRefusedByTheChannel(t *testing.T) {
	l := startLifecycle(t, "REAPER_NOTIFY_SECRET=SECnot-the-right-one")
	wantError(t, l.tick(t, lifeDay0), "notices not delivered", "sign not match")
	if l.hook.Rejected() == 0 || len(l.hook.Messages()) != 0 {
		t.Fatalf("rejected %d, accepted %d", l.hook.Rejected(), len(l.hook.Messages()))
	}
}

func TestBinaryMarkThatFailsReleasesNothing(t *testing.T) {
	l := startLifecycle(t)
	h := l.ecs.Inject(ecsdouble.Rule{Action: "TagResources", Fault: ecsdouble.Error(400, "InvalidTagValue.Malformed")})
	wantError(t, l.tick(t, lifeDay0), "releases failed")
	h.Remove()
	// The notice was delivered but not recorded: the next tick tells again.
	before := len(l.hook.Messages())
	decodeReport(t, l.tick(t, lifeDay0.Add(30*time.Hour)))
	if len(l.hook.Messages()) <= before {
		t.Fatal("no fresh notice after a mark that could not be written")
	}
	if n := len(l.ecs.Released()); n != 0 {
		t.Fatalf("released %d without a recorded notice a grace old", n)
	}
}

func TestBinaryDryRunSendsNothing(t *testing.T) {
	l := startLifecycle(t, "REAPER_DRY_RUN=true")
	rep := decodeReport(t, l.tick(t, lifeDay0))
	if len(l.hook.Messages()) != 0 || l.ecs.CallCount("TagResources") != 0 {
		t.Fatal("a dry run sent a notice or wrote a tag")
	}
	if got := outcomeOf(rep, "i-bp1life000000001"); got != "would-notify/" {
		t.Errorf("outcome %s", got)
	}
}

// Repeated runs tell nobody twice; an owner who pushes the expiry out is
// told again only for the new one; overlapping invocations of one tick (two
// function instances) never release before the grace.
func TestBinaryRepeatedOverlappingAndExtended(t *testing.T) {
	l := startLifecycle(t)
	decodeReport(t, l.tick(t, lifeDay0))
	decodeReport(t, l.tick(t, lifeDay0.Add(time.Hour))) // a repeat the same day
	if n := len(l.hook.Messages()); n != 1 {
		t.Fatalf("%d messages after a repeated run, want the one digest", n)
	}
	l.ecs.Mutate("i-bp1life000000001", func(in *ecsdouble.Instance) { in.Tags["reaper-expires"] = "2026-12-15" })
	decodeReport(t, l.tick(t, lifeDay0.Add(30*time.Hour)))
	if n := len(l.ecs.Released()); n != 0 {
		t.Fatalf("released %d after the owner extended the expiry", n)
	}
	rep := decodeReport(t, l.tick(t, time.Date(2026, 12, 14, 6, 0, 0, 0, time.UTC)))
	if got := outcomeOf(rep, "i-bp1life000000001"); got != "notified/" {
		t.Fatalf("inside the new notice window: %s, want a fresh notice", got)
	}

	// A second function instance: both invoked for one tick at once.
	other, err := fcdouble.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	proc, err := fcdouble.StartFunction(context.Background(), clockBinary(t), []string{
		"REAPER_ECS_ENDPOINT=" + l.ecs.URL(), "REAPER_REGIONS=cn-hangzhou", "REAPER_NOTIFY_URL=" + l.hook.URL(notify.DingTalk),
		"REAPER_NOTIFY_KIND=dingtalk", "REAPER_NOTIFY_SECRET=" + hookSecret, "REAPER_MAX_RELEASE_PERCENT=100", "REAPER_MARK_SECRET=" + fnMarkSecret}, other)
	if err != nil {
		t.Fatal(err)
	}
	defer proc.Stop()
	when := time.Date(2026, 12, 15, 3, 0, 0, 0, time.UTC) // expired, 21 h after the fresh notice: inside its grace
	l.mu.Lock()
	l.clock = when
	l.mu.Unlock()
	ev, _ := json.Marshal(map[string]string{"triggerTime": when.Format(time.RFC3339), "triggerName": "hourly", "payload": ""})
	var wg sync.WaitGroup
	results := make([]answer, 2)
	errs := make([]error, 2)
	procs := []*fcdouble.Process{l.proc, proc}
	for i, srv := range []*fcdouble.Server{l.fc, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			results[i].proc = procs[i]
			results[i].Result, errs[i] = srv.Invoke(ctx, fcdouble.Invocation{RequestID: "overlap-" + string(rune('a'+i)), Event: ev, Timeout: 2 * time.Minute,
				Credentials: creds, Region: "cn-hangzhou"})
		}()
	}
	wg.Wait()
	for i := range results {
		if errs[i] != nil || results[i].Err != nil {
			t.Fatalf("overlapping invocation %d: %v %+v", i, errs[i], results[i].Err)
		}
		if got := outcomeOf(decodeReport(t, results[i]), "i-bp1life000000001"); got != "skipped/in-grace" {
			t.Errorf("overlapping invocation %d: %s, want in-grace", i, got)
		}
	}
	if _, ok := l.ecs.Instance("i-bp1life000000001"); !ok {
		t.Fatal("an overlapping run released inside the grace")
	}
}
