package orgdouble_test

import (
	"context"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
)

const mgmt, member = "1000000000000001", "1000000000000111"

func start(t *testing.T, opts ...orgdouble.Option) (*orgdouble.Server, *ecsdouble.Registry) {
	t.Helper()
	reg := ecsdouble.NewRegistry()
	reg.Add(ecsdouble.Issued{Account: mgmt, AccessKeyID: "LTAIplanted", AccessKeySecret: "planted-secret"})
	srv, err := orgdouble.Start(reg, append([]orgdouble.Option{orgdouble.WithManagement(mgmt)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv, reg
}

func client(t *testing.T, srv *orgdouble.Server, creds ecsapi.Credentials) *ecsapi.Client {
	t.Helper()
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: creds, Endpoint: srv.URL(), STSEndpoint: srv.URL(), ResourceManagerEndpoint: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The SDK's requests are verified like ECS's: a wrong secret or an
// unknown key is refused before anything is issued.
func TestSignatureVerified(t *testing.T) {
	srv, _ := start(t, orgdouble.WithRole(orgdouble.Role{Account: member, Name: "r"}))
	ctx := context.Background()
	in := ecsapi.AssumeRoleInput{RoleARN: orgdouble.RoleARN(member, "r"), SessionName: "ecs-reaper"}
	for creds, code := range map[ecsapi.Credentials]string{
		{AccessKeyID: "LTAIplanted", AccessKeySecret: "wrong"}:          "SignatureDoesNotMatch",
		{AccessKeyID: "LTAIunknown", AccessKeySecret: "planted-secret"}: "InvalidAccessKeyId.NotFound",
		{AccessKeyID: "LTAIplanted", AccessKeySecret: "planted-secret"}: "",
	} {
		_, err := client(t, srv, creds).AssumeRole(ctx, in)
		if ecsapi.Code(err) != code {
			t.Errorf("AssumeRole with %v = %v, want %q", creds, err, code)
		}
	}
	if n := len(srv.AssumeCalls()); n != 1 {
		t.Fatalf("%d AssumeRole calls recorded, want the one that passed the checks", n)
	}
}

// Issued credentials name their account to GetCallerIdentity, and may
// assume further only what their account's role trusts.
func TestIssuedCredentialsBelongToTheirAccount(t *testing.T) {
	srv, _ := start(t, orgdouble.WithRole(orgdouble.Role{Account: member, Name: "r"}))
	ctx := context.Background()
	caller := client(t, srv, ecsapi.Credentials{AccessKeyID: "LTAIplanted", AccessKeySecret: "planted-secret"})
	id, err := caller.GetCallerIdentity(ctx)
	if err != nil || id.AccountID != mgmt {
		t.Fatalf("GetCallerIdentity = %+v, %v", id, err)
	}
	out, err := caller.AssumeRole(ctx, ecsapi.AssumeRoleInput{RoleARN: orgdouble.RoleARN(member, "r"), SessionName: "ecs-reaper"})
	if err != nil {
		t.Fatal(err)
	}
	issued := client(t, srv, out.Credentials)
	if id, err := issued.GetCallerIdentity(ctx); err != nil || id.AccountID != member {
		t.Fatalf("issued GetCallerIdentity = %+v, %v", id, err)
	}
	// The member is not the management account: it may not list the directory.
	if _, err := issued.ListAccounts(ctx, ecsapi.ListAccountsInput{PageNumber: 1, PageSize: 10}); ecsapi.Code(err) != "NoPermission" {
		t.Fatalf("ListAccounts by a member = %v", err)
	}
}

// ListAccounts pages with an exact TotalCount and refuses a bad page size.
func TestListAccountsPages(t *testing.T) {
	var ms []orgdouble.Member
	for _, id := range []string{"3", "1", "2"} {
		ms = append(ms, orgdouble.Member{ID: id, Status: "InviteSuccess", Tags: map[string]string{"k": id}})
	}
	srv, _ := start(t, orgdouble.WithMembers(ms...))
	c := client(t, srv, ecsapi.Credentials{AccessKeyID: "LTAIplanted", AccessKeySecret: "planted-secret"})
	ctx := context.Background()
	page, err := c.ListAccounts(ctx, ecsapi.ListAccountsInput{PageNumber: 2, PageSize: 2})
	if err != nil || page.TotalCount != 3 || page.PageNumber != 2 || len(page.Accounts) != 1 || page.Accounts[0].ID != "2" ||
		page.Accounts[0].Status != "InviteSuccess" || page.Accounts[0].Tags["k"] != "2" {
		t.Fatalf("page 2 = %+v, %v", page, err)
	}
	page, err = c.ListAccounts(ctx, ecsapi.ListAccountsInput{PageNumber: 1, PageSize: 100, TagKey: "k", TagValue: "1"})
	if err != nil || page.TotalCount != 1 || page.Accounts[0].ID != "1" {
		t.Fatalf("filtered = %+v, %v", page, err)
	}
	if _, err := c.ListAccounts(ctx, ecsapi.ListAccountsInput{PageNumber: 1, PageSize: 101}); err == nil {
		t.Fatal("PageSize 101 accepted by the client")
	}
}
