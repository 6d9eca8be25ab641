package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/org"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
)

func twoAccounts() map[string]ecsdouble.Fleet {
	return map[string]ecsdouble.Fleet{
		acctA: {Instances: []ecsdouble.Instance{instance("i-a1", "cn-hangzhou"), instance("i-a2", "cn-hangzhou")}},
		acctB: {Instances: []ecsdouble.Instance{instance("i-b1", "cn-hangzhou")}},
	}
}

func roles(names ...string) []orgdouble.Option {
	var out []orgdouble.Option
	for _, a := range names {
		out = append(out, orgdouble.WithRole(orgdouble.Role{Account: a, Name: org.DefaultRoleName}))
	}
	return out
}

// Account A's credentials list and release A's instances only: B's are
// invisible to them and cannot be deleted with them, on the shared
// endpoint and on B's own.
func TestAccountCredentialsNeverReachAnotherAccount(t *testing.T) {
	w := newWorld(t, twoAccounts(), roles(acctA, acctB)...)
	a, err := org.NewAssumer(w.caller, org.RoleConfig{RunID: "run-1", ExternalID: "ext-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sessA, err := a.Assume(ctx, acctA)
	if err != nil {
		t.Fatal(err)
	}
	clientA := w.memberClient(t, sessA)
	page, err := clientA.DescribeInstances(ctx, ecsapi.DescribeInput{Region: "cn-hangzhou", MaxResults: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range page.Instances {
		ids = append(ids, in.ID)
	}
	if !slices.Equal(ids, []string{"i-a1", "i-a2"}) {
		t.Fatalf("A's credentials list %v, want A's instances only", ids)
	}
	_, err = clientA.DeleteInstances(ctx, ecsapi.DeleteInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-b1"}, ClientToken: "t1"})
	if ecsapi.Classify(err) != ecsapi.ClassNotFound {
		t.Fatalf("deleting B's instance with A's credentials: %v, want not found", err)
	}
	if got := w.ecs.Account(acctB).Released(); len(got) != 0 {
		t.Fatalf("B released %v", got)
	}
	if _, ok := w.ecs.Account(acctB).Instance("i-b1"); !ok {
		t.Fatal("B's instance is gone")
	}
	// B's own endpoint refuses A's key outright.
	onlyB, err := ecsdouble.Start(twoAccounts()[acctB], ecsdouble.WithAccount(acctB, w.reg))
	if err != nil {
		t.Fatal(err)
	}
	defer onlyB.Close()
	direct, err := ecsapi.NewClient(ecsapi.Config{Source: sessA, Endpoint: onlyB.URL()})
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range []func() error{
		func() error {
			_, err := direct.DescribeInstances(ctx, ecsapi.DescribeInput{Region: "cn-hangzhou", MaxResults: 100})
			return err
		},
		func() error {
			_, err := direct.DeleteInstances(ctx, ecsapi.DeleteInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-b1"}, ClientToken: "t2"})
			return err
		},
	} {
		if err := call(); ecsapi.Code(err) != "InvalidAccessKeyId.NotFound" {
			t.Fatalf("A's key on B's endpoint: %v, want InvalidAccessKeyId.NotFound", err)
		}
	}
	if got := onlyB.Released(); len(got) != 0 {
		t.Fatalf("B released %v", got)
	}
	// A's own release works with its own credentials.
	if _, err := clientA.DeleteInstances(ctx, ecsapi.DeleteInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-a1"}, ClientToken: "t3"}); err != nil {
		t.Fatal(err)
	}
	if got := w.ecs.Account(acctA).Released(); !slices.Equal(got, []string{"i-a1"}) {
		t.Fatalf("A released %v", got)
	}
	// What AssumeRole sent.
	calls := w.org.AssumeCalls()
	if len(calls) != 1 {
		t.Fatalf("AssumeRole calls %+v", calls)
	}
	c := calls[0]
	if c.RoleArn != "acs:ram::"+acctA+":role/ecs-reaper-member" || c.SessionName != "ecs-reaper@run-1" || c.ExternalID != "ext-1" ||
		c.Policy != a.Policy() || c.Caller != mgmt || c.DurationSeconds != "3600" {
		t.Fatalf("AssumeRole sent %+v", c)
	}
}

// The session policy grants exactly docs/ram-policy.json's actions.
func TestSessionPolicyIsTheDeployedPolicy(t *testing.T) {
	data, err := os.ReadFile("../../docs/ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Statement []struct{ Action []string } }
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, st := range doc.Statement {
		want = append(want, st.Action...)
	}
	a, err := org.NewAssumer(nil, org.RoleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Version   string
		Statement []struct {
			Effect   string
			Action   []string
			Resource string
		}
	}
	if err := json.Unmarshal([]byte(a.Policy()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Version != "1" || len(got.Statement) != 1 || got.Statement[0].Effect != "Allow" || got.Statement[0].Resource != "*" {
		t.Fatalf("policy %s", a.Policy())
	}
	slices.Sort(want)
	have := slices.Sorted(slices.Values(got.Statement[0].Action))
	if !slices.Equal(have, want) {
		t.Fatalf("session policy actions %v, want docs/ram-policy.json's %v", have, want)
	}
	for _, bad := range [][]string{nil, {"ecs:*"}, {"DescribeInstances"}} {
		if _, err := org.SessionPolicy(bad); err == nil {
			t.Errorf("SessionPolicy(%q) accepted", bad)
		}
	}
}

// Every way a role cannot be assumed makes the account unreachable, with
// a reason from the error's code, and no credential in the message.
func TestAssumeRoleFailures(t *testing.T) {
	const ext = "the-right-external-id"
	w := newWorld(t, twoAccounts(),
		orgdouble.WithRole(orgdouble.Role{Account: acctA, Name: org.DefaultRoleName, ExternalID: ext}),
		orgdouble.WithRole(orgdouble.Role{Account: acctB, Name: org.DefaultRoleName, Trusts: []string{"1999999999999999"}}),
		orgdouble.WithRole(orgdouble.Role{Account: acctC, Name: org.DefaultRoleName}))
	ctx := context.Background()
	assumer := func(cfg org.RoleConfig) *org.Assumer {
		cfg.Backoff, cfg.PerSecond = time.Millisecond, 1000
		a, err := org.NewAssumer(w.caller, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	w.org.SetAssumeError(acctC, 400, "Throttling.User", -1)
	for _, tc := range []struct {
		name     string
		cfg      org.RoleConfig
		account  string
		reason   string
		code     string
		attempts int
	}{
		{"missing role", org.RoleConfig{RoleName: "no-such-role"}, acctA, "role-missing", "EntityNotExist.Role", 1},
		{"wrong ExternalId", org.RoleConfig{ExternalID: "a-wrong-external-id"}, acctA, "denied", "NoPermission", 1},
		{"no ExternalId", org.RoleConfig{}, acctA, "denied", "NoPermission", 1},
		{"not trusted", org.RoleConfig{}, acctB, "denied", "NoPermission", 1},
		{"throttled past retries", org.RoleConfig{Attempts: 3}, acctC, "throttled", "Throttling.User", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(w.org.AssumeCalls())
			_, err := assumer(tc.cfg).Assume(ctx, tc.account)
			var unreachable *org.UnreachableError
			if !errors.As(err, &unreachable) || unreachable.Reason != tc.reason || unreachable.Code != tc.code || unreachable.Account != tc.account {
				t.Fatalf("Assume = %v (%+v), want unreachable %s / %s", err, unreachable, tc.reason, tc.code)
			}
			if n := len(w.org.AssumeCalls()) - before; n != tc.attempts {
				t.Fatalf("%d AssumeRole calls, want %d", n, tc.attempts)
			}
			for _, secret := range []string{callerSecret, ext, "a-wrong-external-id"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error shows %q: %v", secret, err)
				}
			}
		})
	}
	// The right ExternalId works; a throttled call that later passes is retried.
	if _, err := assumer(org.RoleConfig{ExternalID: ext}).Assume(ctx, acctA); err != nil {
		t.Fatal(err)
	}
	w.org.SetAssumeError(acctC, 400, "Throttling.User", 2)
	if _, err := assumer(org.RoleConfig{}).Assume(ctx, acctC); err != nil {
		t.Fatalf("throttled twice, then allowed: %v", err)
	}
}

// The double refuses what STS refuses: a session name or a policy out of
// the rules, a bad role ARN; the client's own AssumeRole shows the code.
func TestAssumeRoleParameters(t *testing.T) {
	w := newWorld(t, twoAccounts(), roles(acctA)...)
	ctx := context.Background()
	policy, _ := org.SessionPolicy(kinds.RAMActions())
	for _, tc := range []struct {
		in   ecsapi.AssumeRoleInput
		code string
	}{
		{ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(acctA, org.DefaultRoleName), SessionName: "a"}, "InvalidParameter.RoleSessionName"},
		{ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(acctA, org.DefaultRoleName), SessionName: "ecs reaper"}, "InvalidParameter.RoleSessionName"},
		{ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(acctA, org.DefaultRoleName), SessionName: "ok-name", Policy: "{"}, "InvalidParameter.PolicyGrammar"},
		{ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(acctA, org.DefaultRoleName), SessionName: "ok-name", Policy: strings.Repeat(" ", 3000)}, "InvalidParameter.PolicySize"},
		{ecsapi.AssumeRoleInput{RoleARN: "acs:ram::x:role/y", SessionName: "ok-name"}, "InvalidParameter.RoleArn"},
		{ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(acctA, org.DefaultRoleName), SessionName: "ok-name", Duration: 300 * time.Second}, "InvalidParameter.DurationSeconds"},
		{ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(acctA, org.DefaultRoleName), SessionName: "ok-name", ExternalID: "x y"}, "InvalidParameter.ExternalId"},
		{ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN(acctA, org.DefaultRoleName), SessionName: "ok-name", Policy: policy}, ""},
	} {
		out, err := w.caller.AssumeRole(ctx, tc.in)
		if ecsapi.Code(err) != tc.code {
			t.Errorf("AssumeRole(%+v) = %v, want %q", tc.in, err, tc.code)
		}
		if tc.code == "" && (out.Credentials.SecurityToken == "" || time.Until(out.Expiration) < 50*time.Minute) {
			t.Errorf("issued %v expiring %v", out.Credentials, out.Expiration)
		}
	}
}

// A session renews its credentials before they expire, and the new ones
// work; a renewal that fails keeps the old ones while they last.
func TestSessionRenewsBeforeExpiry(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	w := newWorld(t, twoAccounts(), append(roles(acctA), orgdouble.WithIssuedLifetime(20*time.Minute), orgdouble.WithClock(clock))...)
	a, err := org.NewAssumer(w.caller, org.RoleConfig{Clock: clock, Backoff: time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sess, err := a.Assume(ctx, acctA)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := sess.Credentials()
	advance(10 * time.Minute) // 10 min left: kept
	if c, _ := sess.Credentials(); c.AccessKeyID != first.AccessKeyID {
		t.Fatal("renewed with 10 minutes left")
	}
	advance(6 * time.Minute) // 4 min left: renewed
	second, err := sess.Credentials()
	if err != nil || second.AccessKeyID == first.AccessKeyID {
		t.Fatalf("not renewed 4 minutes before expiry: %v", err)
	}
	if _, err := w.memberClient(t, sess).DescribeInstances(ctx, ecsapi.DescribeInput{Region: "cn-hangzhou", MaxResults: 10}); err != nil {
		t.Fatalf("renewed credentials refused: %v", err)
	}
	if n := len(w.org.AssumeCalls()); n != 2 {
		t.Fatalf("%d AssumeRole calls, want 2", n)
	}
	// Renewal fails: the old credentials serve while they last a minute more.
	w.org.SetAssumeError(acctA, 403, "NoPermission", -1)
	advance(16 * time.Minute) // 4 min left of the second
	if c, err := sess.Credentials(); err != nil || c.AccessKeyID != second.AccessKeyID {
		t.Fatalf("failed renewal with 4 minutes left: %v", err)
	}
	advance(3*time.Minute + 30*time.Second) // 30 s left
	var unreachable *org.UnreachableError
	if _, err := sess.Credentials(); !errors.As(err, &unreachable) {
		t.Fatalf("failed renewal with 30 s left = %v, want unreachable", err)
	}
}

// AssumeRole is paced across every account's calls.
func TestAssumeRolePaced(t *testing.T) {
	accounts := []string{acctA, acctB, acctC, "1000000000000444", "1000000000000555"}
	w := newWorld(t, nil, roles(accounts...)...)
	a, err := org.NewAssumer(w.caller, org.RoleConfig{PerSecond: 10})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, acct := range accounts {
		wg.Go(func() {
			if _, err := a.Assume(context.Background(), acct); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Fatalf("5 AssumeRole at 10/s took %v, want at least 400ms", took)
	}
	if org.DefaultAssumePerSecond > 25 {
		t.Fatalf("default pace %d/s is not well under STS's 100/s", org.DefaultAssumePerSecond)
	}
}

// An expired STS token is refused by the ECS double.
func TestExpiredCredentialsRefused(t *testing.T) {
	w := newWorld(t, twoAccounts())
	w.reg.Add(ecsdouble.Issued{Account: acctA, AccessKeyID: "STS.plantedOld", AccessKeySecret: "planted-old-secret", SecurityToken: "planted-old-token",
		Expiration: time.Now().Add(-time.Second)})
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: "STS.plantedOld", AccessKeySecret: "planted-old-secret", SecurityToken: "planted-old-token"},
		Endpoint: w.ecs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou", MaxResults: 10})
	if ecsapi.Code(err) != "InvalidSecurityToken.Expired" || ecsapi.Classify(err) != ecsapi.ClassCredential {
		t.Fatalf("expired token: %v", err)
	}
}

// Neither a session nor an assumer prints its secrets, however formatted.
func TestNothingPrintsCredentials(t *testing.T) {
	w := newWorld(t, twoAccounts(), orgdouble.WithRole(orgdouble.Role{Account: acctA, Name: org.DefaultRoleName, ExternalID: "planted-ext-id"}))
	a, err := org.NewAssumer(w.caller, org.RoleConfig{ExternalID: "planted-ext-id"})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := a.Assume(context.Background(), acctA)
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := sess.Credentials()
	var logged strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logged, nil))
	logger.Info("x", "session", sess, "assumer", a)
	out := fmt.Sprintf("%v %+v %#v %s %v %+v %#v", sess, sess, sess, a, a, a, a) + logged.String()
	for _, secret := range []string{creds.AccessKeySecret, creds.SecurityToken, "planted-ext-id"} {
		if secret == "" || strings.Contains(out, secret) {
			t.Fatalf("printed %q: %s", secret, out)
		}
	}
}

// Renewals are at most one a minute per account: credentials issued
// already close to their expiry (a skewed clock), or a renewal that keeps
// failing, never turn every call of the account into an AssumeRole (STS's
// pace is shared by every account).
func TestSessionRenewsAtMostOncePerGap(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	// Every credential lasts 4 minutes: under RefreshBefore from the start.
	w := newWorld(t, twoAccounts(), append(roles(acctA), orgdouble.WithIssuedLifetime(4*time.Minute), orgdouble.WithClock(clock))...)
	a, err := org.NewAssumer(w.caller, org.RoleConfig{Clock: clock, Backoff: time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := a.Assume(context.Background(), acctA)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		if _, err := sess.Credentials(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(w.org.AssumeCalls()); n != 1 {
		t.Fatalf("%d AssumeRole calls for 20 calls right after the first: want 1", n)
	}
	advance(org.RenewGap)
	if _, err := sess.Credentials(); err != nil {
		t.Fatal(err)
	}
	if n := len(w.org.AssumeCalls()); n != 2 {
		t.Fatalf("%d AssumeRole calls a gap later: want 2", n)
	}
	// Renewal fails: one attempt per gap, the old credentials served
	// while they last, then the failure, without another AssumeRole.
	w.org.SetAssumeError(acctA, 403, "NoPermission", -1)
	advance(org.RenewGap)
	for range 10 {
		if _, err := sess.Credentials(); err != nil {
			t.Fatalf("failed renewal with 3 minutes left: %v", err)
		}
	}
	advance(30 * time.Second) // 2.5 min left of the second
	if _, err := sess.Credentials(); err != nil {
		t.Fatalf("failed renewal with 2.5 minutes left: %v", err)
	}
	if n := len(w.org.AssumeCalls()); n != 3 {
		t.Fatalf("%d AssumeRole calls with renewals failing: want 3", n)
	}
	advance(2*time.Minute + 10*time.Second) // 20 s left: the last renewal failed, a gap later it is tried again
	var unreachable *org.UnreachableError
	for range 5 {
		if _, err := sess.Credentials(); !errors.As(err, &unreachable) {
			t.Fatalf("failed renewal with 20 s left = %v, want unreachable", err)
		}
	}
	if n := len(w.org.AssumeCalls()); n != 4 {
		t.Fatalf("%d AssumeRole calls: want 4", n)
	}
}
