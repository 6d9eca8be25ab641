package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

// An organisation on loopback: the function runs in the management
// account; members are reached only by STS AssumeRole, and the ECS double
// serves each account's fleet to that account's credentials alone.
const (
	orgMgmt     = "1000000000000001"
	orgFine     = "1000000000000111" // tagged, role present, within its cap
	orgOverCap  = "1000000000000222" // tagged, role present, over its own cap
	orgNoRole   = "1000000000000333" // tagged, its role missing: unreachable
	orgExcluded = "1000000000000444" // tagged, in REAPER_ACCOUNTS_EXCLUDE
	// orgExternalID is the members' roles' ExternalId condition: a planted
	// test value, never shown by the function.
	orgExternalID = "planted-external-id-7f3a"
	orgUntagged   = "1000000000000555" // role present, not tagged
	orgAccountTag = "reaper=on"
)

type orgStack struct {
	ecs  *ecsdouble.Accounts
	org  *orgdouble.Server
	reg  *ecsdouble.Registry
	fc   *fcdouble.Server
	proc *fcdouble.Process
}

// expired is n opted-in, long expired, stopped instances of an account.
func expired(account string, n int) []ecsdouble.Instance {
	out := make([]ecsdouble.Instance, n)
	for i := range out {
		out[i] = ecsdouble.Instance{ID: fmt.Sprintf("i-%s-%02d", account[len(account)-3:], i), Region: "cn-hangzhou", Status: "Stopped",
			Tags: map[string]string{"reaper-expires": "2020-01-01", "owner": "alice"}}
	}
	return out
}

func startOrg(t *testing.T, bin string, fleets map[string]ecsdouble.Fleet, env ...string) *orgStack {
	t.Helper()
	reg := ecsdouble.NewRegistry()
	ecs, err := ecsdouble.StartAccounts(fleets, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ecs.Close)
	ecs.AddCredential(orgMgmt, stsKeyID, stsSecret, stsToken) // the function's own role
	tagged := map[string]string{"reaper": "on"}
	members := []orgdouble.Member{{ID: orgFine, Tags: tagged}, {ID: orgOverCap, Tags: tagged}, {ID: orgNoRole, Tags: tagged},
		{ID: orgExcluded, Tags: tagged}, {ID: orgUntagged}}
	opts := []orgdouble.Option{orgdouble.WithManagement(orgMgmt), orgdouble.WithMembers(members...)}
	for _, id := range []string{orgFine, orgOverCap, orgExcluded, orgUntagged} {
		opts = append(opts, orgdouble.WithRole(orgdouble.Role{Account: id, Name: "ecs-reaper-member", ExternalID: orgExternalID}))
	}
	srv, err := orgdouble.Start(reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	fc, err := fcdouble.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Close)
	env = append([]string{
		"REAPER_ECS_ENDPOINT=" + ecs.URL(), "REAPER_VPC_ENDPOINT=" + ecs.URL(),
		"REAPER_STS_ENDPOINT=" + srv.URL(), "REAPER_RESOURCEMANAGER_ENDPOINT=" + srv.URL(),
		"REAPER_REGIONS=cn-hangzhou",
		"REAPER_ACCOUNTS=rd", "REAPER_ACCOUNT_TAG=" + orgAccountTag, "REAPER_ACCOUNTS_EXCLUDE=" + orgExcluded,
		"REAPER_ROLE_EXTERNAL_ID=" + orgExternalID,
	}, env...)
	proc, err := fcdouble.StartFunction(context.Background(), bin, env, fc)
	if err != nil {
		t.Fatal(err)
	}
	s := &orgStack{ecs: ecs, org: srv, reg: reg, fc: fc, proc: proc}
	t.Cleanup(func() {
		proc.Stop()
		out := proc.Output()
		secrets := []string{stsSecret, stsToken, fnMarkSecret, orgExternalID}
		for _, c := range srv.AssumeCalls() {
			if issued, ok := reg.Lookup(c.AccessKeyID); ok && c.AccessKeyID != "" {
				secrets = append(secrets, issued.AccessKeySecret, issued.SecurityToken)
			}
		}
		for _, secret := range secrets {
			if secret != "" && strings.Contains(out, secret) {
				t.Errorf("the function's output contains a secret (%.6s...)", secret)
			}
		}
		if t.Failed() {
			t.Logf("function output:\n%s", out)
		}
	})
	return s
}

func (s *orgStack) invoke(t *testing.T, requestID string, event []byte) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	res, err := s.fc.Invoke(ctx, fcdouble.Invocation{RequestID: requestID, Event: event, Timeout: 120 * time.Second, Credentials: creds,
		Region: "cn-hangzhou", FunctionName: "ecs-reaper", Handler: "main", AccountID: orgMgmt})
	if err != nil {
		t.Fatalf("invoke %s: %v", requestID, err)
	}
	return answer{res, s.proc}
}

// logged is the invocation's summary and its whole report, from the log;
// the summary is the answer when the invocation succeeded.
func (s *orgStack) logged(t *testing.T, res answer) (*report.Summary, *report.Report) {
	t.Helper()
	rep := readLogged(t, s.proc, "", res.RequestID)
	sum := report.Summarise(rep, res.RequestID, 1)
	if res.Err == nil {
		sum = decodeSummary(t, res)
	}
	return sum, rep
}

func (s *orgStack) released(account string) []string { return s.ecs.Account(account).Released() }

func statusOf(rep *report.Report) map[string]string {
	out := map[string]string{}
	for _, a := range rep.Accounts {
		out[a.Account] = a.Status
	}
	return out
}

func orgFleets() map[string]ecsdouble.Fleet {
	return map[string]ecsdouble.Fleet{
		orgMgmt:     {Instances: expired(orgMgmt, 2)},
		orgFine:     {Instances: expired(orgFine, 2)},
		orgOverCap:  {Instances: expired(orgOverCap, 5)},
		orgNoRole:   {Instances: expired(orgNoRole, 1)},
		orgExcluded: {Instances: expired(orgExcluded, 1)},
		orgUntagged: {Instances: expired(orgUntagged, 1)},
	}
}

// Three members (one unreachable, one over its own cap, one fine), one
// excluded, one untagged, and the function's own account under rd: the
// fine one is swept, nothing is written in the others, the run fails
// naming the unreachable account and the cap with its numbers.
func TestBinaryManyAccounts(t *testing.T) {
	s := startOrg(t, binary(t), orgFleets(), "REAPER_MAX_RELEASE=3")
	res := s.invoke(t, "org-1", timerEvent(""))
	wantError(t, res, "accounts unreachable", orgNoRole, "EntityNotExist.Role", "account "+orgOverCap+": 5 instances eligible", "count cap of 3")
	sum, rep := s.logged(t, res)

	if got := s.released(orgFine); len(got) != 2 {
		t.Errorf("the fine member released %v, want its two", got)
	}
	for _, id := range []string{orgOverCap, orgNoRole, orgExcluded, orgUntagged, orgMgmt} {
		if got := s.released(id); len(got) != 0 {
			t.Errorf("account %s released %v", id, got)
		}
		if n := len(s.ecs.Account(id).Calls()); n != 0 && id != orgOverCap {
			t.Errorf("account %s was called %d times: it is not swept", id, n)
		}
	}
	for _, a := range rep.Accounts {
		if a.Account == orgNoRole && (a.Error == nil || a.Error.Code != "EntityNotExist.Role" || !strings.Contains(a.Error.Message, "role-missing") ||
			!strings.Contains(a.Error.Message, "acs:ram::"+orgNoRole+":role/ecs-reaper-member")) {
			t.Errorf("the unreachable account's error %+v: want the code, the reason and the role", a.Error)
		}
	}
	want := map[string]string{orgFine: "swept", orgOverCap: "held-by-cap", orgNoRole: "unreachable"}
	if got := statusOf(rep); !mapsEqual(got, want) {
		t.Errorf("account statuses %v, want %v", got, want)
	}
	var skipped []string
	for _, sk := range rep.AccountsSkipped {
		skipped = append(skipped, sk.Account+":"+sk.Reason)
	}
	slices.Sort(skipped)
	// The untagged member is not even listed: the tag filter is sent.
	if wantSkipped := []string{orgExcluded + ":excluded"}; !slices.Equal(skipped, wantSkipped) {
		t.Errorf("skipped %v, want %v", skipped, wantSkipped)
	}
	if sum.Outcome != report.RunFailed || sum.AccountStatus["unreachable"] != 1 || sum.AccountStatus["held-by-cap"] != 1 || len(sum.Accounts) != 3 || sum.Accounts[2].Account != orgFine {
		t.Errorf("summary outcome %s, accounts %v %+v", sum.Outcome, sum.AccountStatus, sum.Accounts)
	}
	// The report and the summary of a run over several accounts match
	// their schemas.
	body, _ := json.Marshal(rep)
	checkSchema(t, reportSchema(t), body)
	sumBody, _ := json.Marshal(sum)
	checkSummarySchema(t, sumBody)
	if rep.SchemaVersion != report.SchemaVersion || rep.Totals.Calls["AssumeRole"] != 3 || rep.Totals.Calls["ListAccounts"] < 1 {
		t.Errorf("schema %d, calls %v: want one AssumeRole per member swept and the ListAccounts pages counted", rep.SchemaVersion, rep.Totals.Calls)
	}
	for _, c := range s.org.AssumeCalls() {
		if c.Caller != orgMgmt || !strings.Contains(c.Policy, "ecs:DeleteInstances") || strings.Contains(c.Policy, `:*"`) || !strings.HasPrefix(c.SessionName, "ecs-reaper") {
			t.Errorf("AssumeRole %+v: want the management account's, a session policy of the tool's actions, the tool's session name", c)
		}
	}
}

// Every account within its own cap, together over the organisation's:
// nothing is written anywhere.
func TestBinaryOrganisationCap(t *testing.T) {
	fleets := orgFleets()
	fleets[orgOverCap] = ecsdouble.Fleet{Instances: expired(orgOverCap, 3)}
	s := startOrg(t, binary(t), fleets, "REAPER_MAX_RELEASE=10", "REAPER_ORG_MAX_RELEASE=4", "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded+","+orgNoRole)
	res := s.invoke(t, "org-cap", timerEvent(""))
	wantError(t, res, "the organisation's cap: 5 instances eligible", "count cap of 4", "REAPER_ORG_MAX_RELEASE to 5")
	_, rep := s.logged(t, res)
	for _, id := range []string{orgFine, orgOverCap} {
		if got := s.released(id); len(got) != 0 {
			t.Errorf("account %s released %v under the organisation's cap", id, got)
		}
	}
	if got := statusOf(rep); got[orgFine] != "held-by-cap" || got[orgOverCap] != "held-by-cap" || rep.Cap == nil || !rep.Cap.Exceeded {
		t.Errorf("statuses %v, cap %+v", got, rep.Cap)
	}
}

// A payload narrows the accounts, never widens them; a dry run writes
// nowhere.
func TestBinaryAccountsPayload(t *testing.T) {
	s := startOrg(t, binary(t), orgFleets(), "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded+","+orgNoRole)

	res := s.invoke(t, "org-widen", timerEvent(`{"accounts": ["`+orgExcluded+`"]}`))
	wantError(t, res, orgExcluded, "never widen")
	if len(s.org.AssumeCalls()) != 0 || len(s.released(orgExcluded)) != 0 {
		t.Fatalf("a payload that widens assumed %d roles", len(s.org.AssumeCalls()))
	}

	res = s.invoke(t, "org-dry", timerEvent(`{"dryRun": true}`))
	_, rep := s.logged(t, res)
	if res.Err != nil || !rep.DryRun {
		t.Fatalf("dry run: %+v", res.Err)
	}
	for _, id := range []string{orgFine, orgOverCap} {
		if len(s.released(id)) != 0 {
			t.Errorf("a dry run released in %s", id)
		}
	}
	if n := len(rep.IDs(report.OutcomeWouldRelease)); n != 7 {
		t.Errorf("dry run would release %d, want 7 across both accounts", n)
	}

	res = s.invoke(t, "org-narrow", timerEvent(`{"accounts": ["`+orgFine+`"]}`))
	_, rep = s.logged(t, res)
	if res.Err != nil {
		t.Fatalf("narrowed run: %+v", *res.Err)
	}
	if len(s.released(orgFine)) != 2 || len(s.released(orgOverCap)) != 0 {
		t.Errorf("narrowed to %s: released %v and %v", orgFine, s.released(orgFine), s.released(orgOverCap))
	}
	if got := statusOf(rep); len(got) != 1 || got[orgFine] != "swept" {
		t.Errorf("narrowed run's accounts %v", got)
	}
	if !slices.ContainsFunc(rep.AccountsSkipped, func(a report.SkippedAccount) bool { return a.Account == orgOverCap && a.Reason == "not-requested" }) {
		t.Errorf("accounts skipped %+v: want %s, not requested", rep.AccountsSkipped, orgOverCap)
	}
}

// One notice per owner per run across accounts, each instance shown with
// its account; each mark written in its own account, with that account's
// credentials.
func TestBinaryNoticesAcrossAccounts(t *testing.T) {
	hook, err := webhookdouble.Start(hookToken, hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hook.Close)
	s := startOrg(t, binary(t), orgFleets(), "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded+","+orgNoRole,
		"REAPER_NOTIFY_URL="+hook.URL(notify.DingTalk), "REAPER_NOTIFY_KIND=dingtalk", "REAPER_NOTIFY_SECRET="+hookSecret,
		"REAPER_MARK_SECRET="+fnMarkSecret, "REAPER_GRACE=24h", "REAPER_MAX_RELEASE_PERCENT=100")
	res := s.invoke(t, "org-notice", timerEvent(""))
	if res.Err != nil {
		t.Fatalf("function error: %+v", *res.Err)
	}
	var digests []string
	for _, m := range hook.Messages() {
		if text := m.Text(); strings.Contains(text, "i-") {
			digests = append(digests, text)
		}
	}
	if len(digests) != 1 {
		t.Fatalf("%d notices, want one digest for the one owner across accounts: %q", len(digests), digests)
	}
	for _, want := range []string{orgFine + "/cn-hangzhou", orgOverCap + "/cn-hangzhou", "i-111-00", "i-222-04"} {
		if !strings.Contains(digests[0], want) {
			t.Errorf("the digest lacks %q:\n%s", want, digests[0])
		}
	}
	for account, n := range map[string]int{orgFine: 2, orgOverCap: 5} {
		srv := s.ecs.Account(account)
		for i := range n {
			id := fmt.Sprintf("i-%s-%02d", account[len(account)-3:], i)
			inst, _ := srv.Instance(id)
			if _, st := fnMarks.ReadTime(id, "reaper-notified", inst.Tags); st != mark.Valid {
				t.Errorf("%s in %s: mark %v", id, account, st)
			}
		}
		if len(srv.Released()) != 0 {
			t.Errorf("released in %s before the grace", account)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
