package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/fnfdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/ossdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

const (
	fanoutFlow   = "ecs-reaper-fanout"
	fanoutBucket = "reaper-results"
	fanoutTick   = "2026-03-01T04:00:00Z"
	fanoutRun    = fanout.RunID("20260301T040000Z")
)

// fanoutStack is the organisation on loopback plus the result bucket and
// CloudFlow's StartExecution.
type fanoutStack struct {
	*orgStack
	oss *ossdouble.Server
	fnf *fnfdouble.Server
	// What no source settles about CloudFlow, played the other way:
	// wrapped, a task's output is the worker's answer inside another
	// object (so $Input.accounts and $Input.status find nothing);
	// emptyMapFails, a Map over an empty list fails the execution.
	wrapped, emptyMapFails bool
}

func startFanout(t *testing.T, fleets map[string]ecsdouble.Fleet, env ...string) *fanoutStack {
	t.Helper()
	oss, err := ossdouble.Start(fanoutBucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oss.Close() })
	oss.AddCredential(stsKeyID, stsSecret, stsToken)
	fnf, err := fnfdouble.Start(fanoutFlow)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fnf.Close() })
	fnf.AddCredential(stsKeyID, stsSecret, stsToken)
	env = append([]string{"REAPER_FANOUT=flow", "REAPER_FLOW_NAME=" + fanoutFlow, "REAPER_RESULT_BUCKET=" + fanoutBucket,
		"REAPER_OSS_ENDPOINT=" + oss.URL(), "REAPER_FNF_ENDPOINT=" + fnf.URL()}, env...)
	return &fanoutStack{orgStack: startOrg(t, binary(t), fleets, env...), oss: oss, fnf: fnf}
}

func tick(payload string) []byte {
	b, _ := json.Marshal(map[string]string{"triggerTime": fanoutTick, "triggerName": "hourly", "payload": payload})
	return b
}

// flowRun is what the test's CloudFlow did: each worker invocation, in
// order, with its outcome.
type flowRun struct {
	invocations []string // phase/account:ok|error
	status      string   // the Outcome state's: Succeeded or Failed
	decide      fanout.DecideAnswer
	report      string // the request ID of Report's last invocation
}

// runFlow plays the execution the coordinator started as CloudFlow would,
// reading lib/fanout/flow.yaml: each top-level state in turn from
// StartAt, a Map over $Input.accounts invoking its task per item with the
// task's retries and its Catch, a Task with its retries, the Choice on
// $Input.status. before is called before each worker invocation (fault
// injection); it may return true to fail that invocation instead (a
// crashed worker).
func (s *fanoutStack) runFlow(t *testing.T, before func(phase, account string, attempt int) bool) flowRun {
	t.Helper()
	var def struct {
		StartAt string           `yaml:"StartAt"`
		States  []map[string]any `yaml:"States"`
	}
	raw, err := os.ReadFile("../" + fanout.FlowPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(raw, &def); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, st := range def.States {
		byName[st["Name"].(string)] = st
	}
	execs := s.fnf.Executions(fanoutFlow)
	if len(execs) != 1 {
		t.Fatalf("%d executions, want the one the coordinator started", len(execs))
	}
	var input map[string]any
	if err := json.Unmarshal([]byte(execs[0].Input), &input); err != nil {
		t.Fatal(err)
	}
	run := input["run"].(string)
	var fr flowRun
	n := 0
	// invoke runs a task state's payload with its retries; ok is false when
	// every attempt failed.
	invoke := func(task map[string]any, account string) (json.RawMessage, bool) {
		body := task["Parameters"].(map[string]any)["body"].(map[string]any)
		payload := map[string]string{"phase": body["phase"].(string), "run": run}
		if account != "" {
			payload["account"] = account
		}
		b, _ := json.Marshal(payload)
		attempts := 1
		if r, ok := task["Retry"].([]any); ok && len(r) > 0 {
			attempts += r[0].(map[string]any)["MaxAttempts"].(int)
		}
		for attempt := 1; attempt <= attempts; attempt++ {
			n++
			label := payload["phase"] + "/" + account
			if before != nil && before(payload["phase"], account, attempt) {
				fr.invocations = append(fr.invocations, label+":crashed")
				continue
			}
			res := s.invoke(t, fmt.Sprintf("flow-%d", n), b)
			if payload["phase"] == string(fanout.PhaseReport) {
				fr.report = res.RequestID
			}
			if res.Err == nil {
				fr.invocations = append(fr.invocations, label+":ok")
				return res.Body, true
			}
			fr.invocations = append(fr.invocations, label+":error")
		}
		return nil, false
	}
	current := input
	for name := def.StartAt; name != ""; {
		st := byName[name]
		next, _ := st["Next"].(string)
		switch st["Type"] {
		case "Map":
			if st["ItemsPath"] != "$Input.accounts" {
				t.Fatalf("Map %s reads %v", name, st["ItemsPath"])
			}
			task := st["Processor"].(map[string]any)["States"].([]any)[0].(map[string]any)
			items, _ := current["accounts"].([]any)
			if len(items) == 0 && s.emptyMapFails {
				fr.status = "Failed"
				s.fnf.Finish(fanoutFlow, execs[0].Name, fr.status)
				return fr
			}
			for _, it := range items {
				invoke(task, it.(map[string]any)["account"].(string))
			}
			current = map[string]any{}
		case "Task":
			out, ok := invoke(st, "")
			if !ok {
				fr.status = "Failed"
				return fr
			}
			current = map[string]any{}
			if err := json.Unmarshal(out, &current); err != nil {
				t.Fatalf("%s answered %s: %v", name, out, err)
			}
			if st["Parameters"].(map[string]any)["body"].(map[string]any)["phase"] == "decide" {
				_ = json.Unmarshal(out, &fr.decide)
			}
			if s.wrapped {
				current = map[string]any{"Payload": current}
			}
		case "Choice":
			branch := st["Branches"].([]any)[0].(map[string]any)
			if branch["Condition"] != `$Input.status == "ok"` {
				t.Fatalf("Choice %s: condition %v", name, branch["Condition"])
			}
			next = st["Default"].(string)
			if current["status"] == "ok" {
				next = branch["Next"].(string)
			}
		case "Succeed":
			fr.status = "Succeeded"
		case "Fail":
			fr.status = "Failed"
		default:
			t.Fatalf("state %s of type %v", name, st["Type"])
		}
		name = next
	}
	s.fnf.Finish(fanoutFlow, execs[0].Name, fr.status)
	return fr
}

// orgReport is the organisation's report the Report phase stored in
// OSS, checked against docs/report.schema.json; it is also what the
// Report invocation logged (report.Log's records, put back together).
func (s *fanoutStack) orgReport(t *testing.T, fr flowRun) *report.Report {
	t.Helper()
	b, ok := s.oss.Object(fanoutBucket, fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocReport))
	if !ok {
		t.Fatal("no report in OSS")
	}
	checkSchema(t, reportSchema(t), b)
	var rep report.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if fr.report == "" {
		return &rep // Report did not run: Decide wrote it
	}
	logged := readLogged(t, s.proc, string(fanoutRun), fr.report)
	lb, err := json.Marshal(logged)
	if err != nil {
		t.Fatal(err)
	}
	if ob, _ := json.Marshal(&rep); !bytes.Equal(ob, lb) {
		t.Errorf("the logged report is not the one in OSS:\nOSS %s\nlog %s", ob, lb)
	}
	return &rep
}

// sameAccounts compares the fanned-out run's accounts with the
// one-invocation mode's on the same fleet: status, error code, regions,
// opted-in and outcomes, the accounts skipped and the released set, except where differ says the two legitimately
// part (by account, the outcome counts, or "optedIn", the fanned-out run
// has on top).
func sameAccounts(t *testing.T, fanned, single *report.Report, differ map[string]map[string]int) {
	t.Helper()
	type view struct {
		Status, Code string
		Regions      []string
		OptedIn      int
		Outcomes     map[string]int
	}
	of := func(rep *report.Report, extra map[string]map[string]int) map[string]view {
		out := map[string]view{}
		for _, a := range rep.Accounts {
			v := view{Status: a.Status, Regions: a.Regions, OptedIn: a.OptedIn, Outcomes: maps.Clone(a.Outcomes)}
			if a.Error != nil {
				v.Code = a.Error.Code
			}
			for o, n := range extra[a.Account] {
				if o == "optedIn" {
					v.OptedIn -= n
					continue
				}
				if v.Outcomes[o] -= n; v.Outcomes[o] == 0 {
					delete(v.Outcomes, o)
				}
			}
			out[a.Account] = v
		}
		return out
	}
	f, o := of(fanned, differ), of(single, nil)
	if !reflect.DeepEqual(f, o) {
		t.Errorf("accounts differ:\nfanned out     %+v\none invocation %+v", f, o)
	}
	if !reflect.DeepEqual(fanned.AccountsSkipped, single.AccountsSkipped) || len(single.AccountsSkipped) == 0 {
		t.Errorf("accounts skipped: fanned out %+v, one invocation %+v", fanned.AccountsSkipped, single.AccountsSkipped)
	}
	if !slices.Equal(fanned.IDs(verdict.Released), single.IDs(verdict.Released)) {
		t.Errorf("the reports' released sets differ: fanned out %v, one invocation %v", fanned.IDs(verdict.Released), single.IDs(verdict.Released))
	}
}

func releasedIn(s *orgStack, accounts ...string) []string {
	var out []string
	for _, a := range accounts {
		out = append(out, s.released(a)...)
	}
	slices.Sort(out)
	return out
}

var fanoutAccounts = []string{orgMgmt, orgFine, orgOverCap, orgNoRole, orgExcluded, orgUntagged}

// The organisation's sweep through the built binary, phase by phase as
// the flow definition orders them: the fine account and the function's
// own released, the one over its own cap and the unreachable one not; an
// Execute worker that crashes is retried and releases once; a repeated
// tick starts nothing new; the run fails naming each failure; and the
// released set is the one-invocation mode's on the same fleet.
func TestFanoutEndToEnd(t *testing.T) {
	env := []string{"REAPER_MAX_RELEASE=3", "REAPER_ACCOUNTS_EXCLUDE=" + orgExcluded}
	s := startFanout(t, orgFleets(), env...)

	res := s.invoke(t, "tick-1", tick(""))
	if res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	sum := decodeSummary(t, res)
	if where := "oss://" + fanoutBucket + "/" + fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocReport); !strings.Contains(sum.Warning, "ecs-reaper-20260301T040000Z") || !strings.Contains(sum.Warning, where) {
		t.Errorf("the coordinator's summary says %q: want the execution it started and where its report will be (%s)", sum.Warning, where)
	}
	if got := releasedIn(s.orgStack, fanoutAccounts...); len(got) != 0 {
		t.Fatalf("the coordinator released %v", got)
	}
	// A repeated tick (FC retried the timer) starts nothing new.
	if res := s.invoke(t, "tick-1-again", tick("")); res.Err != nil {
		t.Fatalf("repeated tick: %+v", *res.Err)
	}
	execs := s.fnf.Executions(fanoutFlow)
	if len(execs) != 1 || execs[0].Name != fanoutRun.ExecutionName() {
		t.Fatalf("executions %+v: want one, named from the tick", execs)
	}
	var input fanout.ExecutionInput
	_ = json.Unmarshal([]byte(execs[0].Input), &input)
	var inputAccounts []string
	for _, it := range input.Accounts {
		inputAccounts = append(inputAccounts, it.Account)
	}
	if want := []string{orgFine, orgOverCap, orgNoRole}; !slices.Equal(inputAccounts, want) {
		t.Errorf("the execution's accounts %v, want %v (rd's tagged members, less the excluded)", inputAccounts, want)
	}

	// The fine account's first Execute worker fails on its writes; the
	// flow retries it once.
	fine := s.ecs.Account(orgFine)
	fr := s.runFlow(t, func(phase, account string, attempt int) bool {
		if phase == "execute" && account == orgFine && attempt == 1 {
			fine.FailNext("DeleteInstances", 1, ecsdouble.Error(400, "InvalidParameter.Crash"))
			// The fleet changes between the phases: an instance the plan did
			// not hold is not released, eligible though it is now.
			fine.Add(ecsdouble.Instance{ID: "i-111-late", Region: "cn-hangzhou", Status: "Stopped", Tags: map[string]string{"reaper-expires": "2020-01-01"}})
		}
		return false
	})
	if want := []string{orgFine}; !slices.Equal(sortedAccounts(fr.decide.Accounts), want) {
		t.Errorf("Decide allowed %v, want %v (the over-cap and unreachable accounts not)", fr.decide.Accounts, want)
	}
	if !slices.Contains(fr.invocations, "execute/"+orgFine+":error") || !slices.Contains(fr.invocations, "execute/"+orgFine+":ok") {
		t.Errorf("invocations %v: want the fine account's Execute failed, then retried", fr.invocations)
	}
	if fr.status != "Failed" {
		t.Errorf("the execution ended %s: an unreachable account and a held one fail it", fr.status)
	}
	rep := s.orgReport(t, fr)
	want := map[string]string{orgFine: report.AccountSwept, orgOverCap: report.AccountHeldByCap, orgNoRole: report.AccountUnreachable}
	if got := statusOf(rep); !mapsEqual(got, want) || rep.Error == "" || rep.Complete || rep.Totals.Outcomes["released"] != 2 {
		t.Errorf("report: error %q, complete %v, outcomes %v, accounts %v; want failed, incomplete, 2 released, %v", rep.Error, rep.Complete, rep.Totals.Outcomes, got, want)
	}
	for _, w := range []string{"account " + orgNoRole + " unreachable", "account " + orgOverCap + " held by its cap"} {
		if !strings.Contains(rep.Error, w) {
			t.Errorf("the report's error %q lacks %q", rep.Error, w)
		}
	}
	fanned := releasedIn(s.orgStack, fanoutAccounts...)
	if got := rep.IDs(verdict.Released); !slices.Equal(got, fanned) {
		t.Errorf("the report lists released %v; the accounts released %v", got, fanned)
	}
	if slices.Contains(fanned, "i-111-late") {
		t.Errorf("released %v: i-111-late was not in the plan", fanned)
	}
	// Idempotent retry: every DeleteInstances of the fine account carried
	// the same ClientToken per batch, and each instance was released once.
	tokens := map[string]bool{}
	for _, c := range fine.Calls() {
		if c.Action == "DeleteInstances" && c.Params["DryRun"] != "true" {
			tokens[c.Params["ClientToken"]] = true
		}
	}
	// The tokens derive from the run and the account: the account's
	// report carries the worker's run ID.
	if !strings.Contains(s.proc.Output(), `"runId":"`+fanoutRun.WorkerRunID(orgFine)+`"`) {
		t.Errorf("no report with run ID %s logged by the Execute worker", fanoutRun.WorkerRunID(orgFine))
	}
	if len(tokens) != 1 || len(fine.Released()) != 2 {
		t.Errorf("the fine account's deletes used tokens %v and released %v: want one token across the retry, two released", tokens, fine.Released())
	}

	// The one-invocation mode on the same fleet releases the same, and
	// reports each account the same; the fine account's fleet gained
	// i-111-late between Plan and Execute, which the fan-out skips as not
	// in its plan (a fleet that does not change is the same: the tests below).
	off := startOrg(t, binary(t), orgFleets(), env...)
	_, single := off.logged(t, off.invoke(t, "off-1", timerEvent("")))
	if got := releasedIn(off, fanoutAccounts...); !slices.Equal(fanned, got) || len(got) == 0 {
		t.Errorf("fanned out released %v; one invocation released %v", fanned, got)
	}
	sameAccounts(t, rep, single, map[string]map[string]int{orgFine: {"skipped": 1, "optedIn": 1}})

	// The command line reads the report from OSS as any other JSON report.
	b, _ := s.oss.Object(fanoutBucket, fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocReport))
	page := filepath.Join(t.TempDir(), "run.html")
	for _, args := range [][]string{{"report", "--json", "-", "--text"}, {"report", "--json", "-", "--html", page}} {
		cmd := exec.Command(cliBinary(t), args...)
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.CombinedOutput()
		if err != nil || (args[3] == "--text" && (!strings.Contains(string(out), orgNoRole) || !strings.Contains(string(out), "i-111-00"))) {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	if html, err := os.ReadFile(page); err != nil || !strings.Contains(string(html), orgNoRole) || !strings.Contains(string(html), "released 2, not-attempted 5") {
		t.Errorf("the page of the organisation's report: %v\n%s", err, html)
	}
}

func sortedAccounts(items []fanout.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Account)
	}
	slices.Sort(out)
	return out
}

// Every account within its own cap, together over the organisation's:
// Decide holds the run, Execute runs nowhere, the execution fails, and
// the one-invocation mode holds the same fleet too.
func TestFanoutOrganisationCap(t *testing.T) {
	fleets := orgFleets()
	fleets[orgOverCap] = ecsdouble.Fleet{Instances: expired(orgOverCap, 3)}
	env := []string{"REAPER_MAX_RELEASE=10", "REAPER_ORG_MAX_RELEASE=4", "REAPER_ACCOUNTS_EXCLUDE=" + orgExcluded + "," + orgNoRole}
	s := startFanout(t, fleets, env...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fr := s.runFlow(t, nil)
	if fr.decide.Status != fanout.DecisionHeld || len(fr.decide.Accounts) != 0 || fr.status != "Failed" {
		t.Errorf("decide %+v, execution %s: want held, no account executed, failed", fr.decide, fr.status)
	}
	for _, inv := range fr.invocations {
		if strings.HasPrefix(inv, "execute/") {
			t.Errorf("Execute ran under the organisation's cap: %v", fr.invocations)
		}
	}
	rep := s.orgReport(t, fr)
	if rep.Cap == nil || !rep.Cap.Exceeded || !strings.Contains(rep.Error, "the organisation: ") {
		t.Errorf("report: cap %+v, error %q", rep.Cap, rep.Error)
	}
	if got := releasedIn(s.orgStack, fanoutAccounts...); len(got) != 0 {
		t.Errorf("released %v under the organisation's cap", got)
	}
	off := startOrg(t, binary(t), fleets, env...)
	_, single := off.logged(t, off.invoke(t, "off", timerEvent("")))
	if got := releasedIn(off, fanoutAccounts...); len(got) != 0 {
		t.Errorf("the one-invocation mode released %v; the fan-out nothing", got)
	}
	sameAccounts(t, rep, single, nil)
	if single.Cap == nil || rep.Cap.Eligible != single.Cap.Eligible || rep.Cap.Exceeded != single.Cap.Exceeded {
		t.Errorf("the organisation's cap check: fanned out %+v, one invocation %+v", rep.Cap, single.Cap)
	}
}

// If CloudFlow wraps a task's output (not settled by any source), the
// Execute Map finds no accounts and the Outcome no status: nothing is
// written, the execution fails, and the report names each allowed account
// as failed in Execute.
func TestFanoutWrappedTaskOutput(t *testing.T) {
	s := startFanout(t, orgFleets(), "REAPER_MAX_RELEASE=3", "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded)
	s.wrapped = true
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fr := s.runFlow(t, nil)
	for _, inv := range fr.invocations {
		if strings.HasPrefix(inv, "execute/") {
			t.Errorf("Execute ran on a wrapped answer: %v", fr.invocations)
		}
	}
	if fr.status != "Failed" || len(releasedIn(s.orgStack, fanoutAccounts...)) != 0 {
		t.Errorf("execution %s, released %v: want failed, nothing", fr.status, releasedIn(s.orgStack, fanoutAccounts...))
	}
	rep := s.orgReport(t, fr)
	if !strings.Contains(rep.Error, "account "+orgFine+" failed in Execute") || statusOf(rep)[orgFine] != report.AccountFailed {
		t.Errorf("error %q, accounts %v", rep.Error, statusOf(rep))
	}
}

// If a Map over an empty list fails the execution (not settled by any
// source), a held run ends before Report: Decide wrote the report already.
func TestFanoutEmptyMapFails(t *testing.T) {
	fleets := orgFleets()
	fleets[orgOverCap] = ecsdouble.Fleet{Instances: expired(orgOverCap, 3)}
	s := startFanout(t, fleets, "REAPER_MAX_RELEASE=10", "REAPER_ORG_MAX_RELEASE=4", "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded+","+orgNoRole)
	s.emptyMapFails = true
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fr := s.runFlow(t, nil)
	if fr.status != "Failed" || fr.report != "" {
		t.Fatalf("execution %s, report %q: want failed at Execute, before Report", fr.status, fr.report)
	}
	rep := s.orgReport(t, fr)
	if rep.Cap == nil || !rep.Cap.Exceeded || !strings.Contains(rep.Error, "the organisation: ") || statusOf(rep)[orgFine] != report.AccountHeldByCap {
		t.Errorf("report: cap %+v, error %q, accounts %v", rep.Cap, rep.Error, statusOf(rep))
	}
}

// A dry run (REAPER_DRY_RUN on the functions) goes through every phase
// and writes nowhere; the execution succeeds.
func TestFanoutDryRun(t *testing.T) {
	s := startFanout(t, orgFleets(), "REAPER_DRY_RUN=true", "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded+","+orgNoRole)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fr := s.runFlow(t, nil)
	if fr.status != "Succeeded" || len(fr.decide.Accounts) != 2 {
		t.Errorf("execution %s, executed %v: want succeeded over both accounts", fr.status, fr.decide.Accounts)
	}
	rep := s.orgReport(t, fr)
	if !rep.DryRun || rep.Totals.Outcomes["released"] != 0 || rep.Error != "" || len(rep.IDs(verdict.WouldRelease)) == 0 {
		t.Errorf("report: dry run %v, outcomes %v, error %q", rep.DryRun, rep.Totals.Outcomes, rep.Error)
	}
	if got := releasedIn(s.orgStack, fanoutAccounts...); len(got) != 0 {
		t.Errorf("a dry run released %v", got)
	}
}

// The tick's payload may narrow the accounts (the manifest has only
// those) and nothing else, since the workers do not see it; a worker
// payload naming an account outside the run, or one the decision does
// not allow, is refused before any role is assumed.
func TestFanoutPayloads(t *testing.T) {
	s := startFanout(t, orgFleets(), "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded)
	res := s.invoke(t, "tick-dry", tick(`{"dryRun": true}`))
	wantError(t, res, "may only narrow the accounts", "REAPER_DRY_RUN")
	if n := len(s.fnf.Executions(fanoutFlow)); n != 0 {
		t.Fatalf("a refused tick started %d executions", n)
	}
	if res := s.invoke(t, "tick", tick(`{"accounts": ["`+orgFine+`"]}`)); res.Err != nil {
		t.Fatalf("narrowed tick: %+v", *res.Err)
	}
	b, _ := s.oss.Object(fanoutBucket, fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocManifest))
	var m fanout.Manifest
	if err := json.Unmarshal(b, &m); err != nil || !slices.Equal(m.Accounts, []string{orgFine}) {
		t.Fatalf("manifest %s: want the one account the payload named", b)
	}
	assumed := len(s.org.AssumeCalls())
	for _, p := range []string{
		`{"phase":"plan","run":"20260301T040000Z","account":"` + orgOverCap + `"}`,
		`{"phase":"execute","run":"20260301T040000Z","account":"` + orgFine + `"}`,
		`{"phase":"plan","run":"20260301T050000Z","account":"` + orgFine + `"}`,
	} {
		res := s.invoke(t, "worker", []byte(p))
		if res.Err == nil {
			t.Errorf("%s: accepted", p)
		}
	}
	if n := len(s.org.AssumeCalls()); n != assumed || len(releasedIn(s.orgStack, fanoutAccounts...)) != 0 {
		t.Errorf("refused worker payloads assumed %d roles", n-assumed)
	}
	wantError(t, s.invoke(t, "worker-bad", []byte(`{"phase":"plan","run":"20260301T040000Z","account":"`+orgFine+`","extra":1}`)), "unknown field")
}

// auto fans out only above REAPER_FANOUT_MIN_ACCOUNTS; at or below it,
// the timer function sweeps every account in one invocation.
func TestFanoutAuto(t *testing.T) {
	env := []string{"REAPER_FANOUT=auto", "REAPER_ACCOUNTS_EXCLUDE=" + orgExcluded + "," + orgNoRole}
	above := startFanout(t, orgFleets(), append(env, "REAPER_FANOUT_MIN_ACCOUNTS=1")...)
	if res := above.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	if n := len(above.fnf.Executions(fanoutFlow)); n != 1 || len(releasedIn(above.orgStack, fanoutAccounts...)) != 0 {
		t.Errorf("2 accounts above a minimum of 1: %d executions, released %v; want the flow started, nothing released by the timer", n, releasedIn(above.orgStack, fanoutAccounts...))
	}
	within := startFanout(t, orgFleets(), append(env, "REAPER_FANOUT_MIN_ACCOUNTS=2", "REAPER_MAX_RELEASE_PERCENT=100")...)
	if res := within.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("one invocation: %+v", *res.Err)
	}
	if n := len(within.fnf.Executions(fanoutFlow)); n != 0 || len(releasedIn(within.orgStack, fanoutAccounts...)) != 7 {
		t.Errorf("2 accounts within a minimum of 2: %d executions, released %v; want the one-invocation sweep", n, releasedIn(within.orgStack, fanoutAccounts...))
	}
}

// A worker that crashes in Plan on every attempt the flow allows leaves
// its account plan-failed: nothing is written there, the others (within
// the failure limit) are executed, and the execution fails naming it.
func TestFanoutPlanFailed(t *testing.T) {
	s := startFanout(t, orgFleets(), "REAPER_MAX_RELEASE=10", "REAPER_MAX_RELEASE_PERCENT=100", "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	crashes := 0
	fr := s.runFlow(t, func(phase, account string, _ int) bool {
		if phase == "plan" && account == orgFine {
			crashes++
			return true
		}
		return false
	})
	if crashes != 3 {
		t.Errorf("the plan of %s was tried %d times, want 3 (the flow's two retries)", orgFine, crashes)
	}
	if !slices.Equal(sortedAccounts(fr.decide.Accounts), []string{orgOverCap}) || fr.status != "Failed" {
		t.Errorf("executed %v, execution %s: want only %s, failed", fr.decide.Accounts, fr.status, orgOverCap)
	}
	rep := s.orgReport(t, fr)
	if !strings.Contains(rep.Error, "account "+orgFine+" plan-failed") || statusOf(rep)[orgFine] != report.AccountFailed {
		t.Errorf("error %q, accounts %v: want %s plan-failed", rep.Error, statusOf(rep), orgFine)
	}
	if got := s.released(orgFine); len(got) != 0 {
		t.Errorf("released %v in a plan-failed account", got)
	}
	if got := s.released(orgOverCap); len(got) != 5 {
		t.Errorf("released %v in %s, want its five", got, orgOverCap)
	}
}
