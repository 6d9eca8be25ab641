package cli_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
)

const (
	cliMgmt    = "1000000000000001"
	cliMemberA = "1000000000000111"
	cliMemberB = "1000000000000222"
	cliNoRole  = "1000000000000333"
)

// orgAccounts is an organisation on loopback: the caller's AccessKey is
// the management account's; members A and B have the member role, the
// third has none. Each member has two expired instances.
func orgAccounts(t *testing.T) (*ecsdouble.Accounts, *orgdouble.Server, map[string]string) {
	t.Helper()
	reg := ecsdouble.NewRegistry()
	fleets := map[string]ecsdouble.Fleet{cliMgmt: {}}
	for _, id := range []string{cliMemberA, cliMemberB, cliNoRole} {
		var fleet ecsdouble.Fleet
		for i := range 2 {
			fleet.Instances = append(fleet.Instances, ecsdouble.Instance{ID: fmt.Sprintf("i-%s-%d", id[len(id)-3:], i), Region: "cn-hangzhou",
				Status: "Stopped", Tags: map[string]string{"reaper-expires": "2020-01-01"}})
		}
		fleets[id] = fleet
	}
	ecs, err := ecsdouble.StartAccounts(fleets, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ecs.Close)
	ecs.AddCredential(cliMgmt, "STS.acct", "acct-secret-xyz", "acct-token-xyz")
	srv, err := orgdouble.Start(reg, orgdouble.WithManagement(cliMgmt),
		orgdouble.WithMembers(orgdouble.Member{ID: cliMemberA}, orgdouble.Member{ID: cliMemberB}, orgdouble.Member{ID: cliNoRole}),
		orgdouble.WithRole(orgdouble.Role{Account: cliMemberA, Name: "ecs-reaper-member"}),
		orgdouble.WithRole(orgdouble.Role{Account: cliMemberB, Name: "ecs-reaper-member"}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return ecs, srv, map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     "STS.acct",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "acct-secret-xyz",
		"ALIBABA_CLOUD_SECURITY_TOKEN":    "acct-token-xyz",
		"REAPER_ECS_ENDPOINT":             ecs.URL(),
		"REAPER_STS_ENDPOINT":             srv.URL(),
		"REAPER_RESOURCEMANAGER_ENDPOINT": srv.URL(),
		"REAPER_REGIONS":                  "cn-hangzhou",
		"REAPER_MAX_RELEASE_PERCENT":      "100",
		"REAPER_ORG_MAX_RELEASE_PERCENT":  "100",
	}
}

// plan and run take --accounts; the caller's own credentials assume the
// member role in each; the table leads with the accounts.
func TestAccountsFlag(t *testing.T) {
	ecs, srv, env := orgAccounts(t)
	accounts := cliMemberA + "," + cliMemberB

	r := run(t, env, "", "plan", "--accounts", accounts)
	r.must(t, cli.ExitOK, "Accounts", cliMemberA, cliMemberB, "would-release")
	noSecrets(t, r)
	if n := len(ecs.Account(cliMemberA).Released()) + len(ecs.Account(cliMemberB).Released()); n != 0 {
		t.Fatalf("plan released %d", n)
	}
	for _, c := range srv.AssumeCalls() {
		if c.Caller != cliMgmt {
			t.Errorf("AssumeRole by %s, want the caller's account %s", c.Caller, cliMgmt)
		}
	}

	run(t, env, "", "run", "--accounts", "rd").must(t, cli.ExitUsage, "--accounts", "rd")

	r = run(t, env, "", "run", "--yes", "--accounts", accounts+","+cliNoRole)
	r.must(t, cli.ExitFailed, "accounts unreachable", cliNoRole)
	if len(ecs.Account(cliMemberA).Released()) != 2 || len(ecs.Account(cliMemberB).Released()) != 2 || len(ecs.Account(cliNoRole).Released()) != 0 {
		t.Errorf("released %v %v %v", ecs.Account(cliMemberA).Released(), ecs.Account(cliMemberB).Released(), ecs.Account(cliNoRole).Released())
	}
}

// The confirmation names the accounts the run would write to.
func TestAccountsConfirmation(t *testing.T) {
	ecs, _, env := orgAccounts(t)
	r := runOnTerminal(t, env, "4\n", "run", "--accounts", cliMemberA+","+cliMemberB)
	r.must(t, cli.ExitOK, "in accounts "+cliMemberA+", "+cliMemberB, cliMemberA+"/cn-hangzhou: release 2")
	if !strings.Contains(r.stderr, "run: the accounts of the plan:") {
		t.Errorf("the plan does not list the accounts:\n%s", r.stderr)
	}
	if len(ecs.Account(cliMemberA).Released())+len(ecs.Account(cliMemberB).Released()) != 4 {
		t.Errorf("after confirming, released %v %v", ecs.Account(cliMemberA).Released(), ecs.Account(cliMemberB).Released())
	}
}

// schedule --release names the accounts it would release in on every tick.
func TestAccountsScheduleConfirmation(t *testing.T) {
	ecs, _, env := orgAccounts(t)
	r := runOnTerminal(t, env, "no\n", "schedule", "--release", "--cron", "@every 1s", "--once", "--accounts", cliMemberA+","+cliMemberB)
	r.must(t, cli.ExitNotConfirmed, "not confirmed", "of the accounts "+cliMemberA+","+cliMemberB)
	if n := strings.Count(r.stderr, "of the accounts"); n != 1 {
		t.Errorf("the prompt names the accounts %d times, want once:\n%s", n, r.stderr)
	}
	if len(ecs.Account(cliMemberA).Released()) != 0 {
		t.Fatal("released without confirmation")
	}
}

// invoke --accounts runs the function with REAPER_ACCOUNTS and the
// caller's own account in FC's context: the function assumes the member
// roles with the caller's credentials.
func TestInvokeAccounts(t *testing.T) {
	bin := functionBinary(t)
	ecs, srv, env := orgAccounts(t)
	file := t.TempDir() + "/report.json"
	r := run(t, env, "", "invoke", "--binary", bin, "--accounts", cliMemberA, "--report", file)
	r.must(t, cli.ExitOK, `"outcome": "ok"`)
	noSecrets(t, r)
	if len(ecs.Account(cliMemberA).Released()) != 2 || len(ecs.Account(cliMemberB).Released()) != 0 {
		t.Errorf("released %v and %v: want member A's only", ecs.Account(cliMemberA).Released(), ecs.Account(cliMemberB).Released())
	}
	if calls := srv.AssumeCalls(); len(calls) != 1 || calls[0].Caller != cliMgmt || calls[0].Account != cliMemberA {
		t.Errorf("AssumeRole calls %+v", calls)
	}
	if rep := readReportFile(t, file); len(rep.Accounts) != 1 || rep.Accounts[0].Account != cliMemberA || rep.Accounts[0].Status != "swept" {
		t.Errorf("report accounts %+v", rep.Accounts)
	}
	run(t, env, "", "invoke", "--binary", bin, "--demo", "--accounts", cliMemberA).must(t, cli.ExitUsage, "--demo and --fleet serve one account")
}

// REAPER_ACCOUNTS_EXCLUDE wins over --accounts: an excluded account named
// on the command line is neither assumed nor written to.
func TestAccountsFlagKeepsExclusions(t *testing.T) {
	ecs, srv, env := orgAccounts(t)
	env["REAPER_ACCOUNTS_EXCLUDE"] = cliMemberB
	r := run(t, env, "", "run", "--yes", "--accounts", cliMemberA+","+cliMemberB)
	r.must(t, cli.ExitOK, cliMemberA)
	if got := ecs.Account(cliMemberB).Released(); len(got) != 0 {
		t.Errorf("excluded account %s released %v", cliMemberB, got)
	}
	if got := ecs.Account(cliMemberA).Released(); len(got) != 2 {
		t.Errorf("account %s released %v, want its two", cliMemberA, got)
	}
	for _, c := range srv.AssumeCalls() {
		if c.Account == cliMemberB {
			t.Errorf("the excluded account's role was assumed: %+v", c)
		}
	}
}
