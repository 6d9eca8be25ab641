package ecsapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// answering serves one fixed JSON body on loopback, whatever is asked.
func answering(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func orgClient(t *testing.T, url string) *ecsapi.Client {
	t.Helper()
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: "LTAIplanted", AccessKeySecret: "planted-secret"},
		STSEndpoint: url, ResourceManagerEndpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// An AssumeRole or ListAccounts answer that is not what the API documents
// is an error, never half-read credentials or members.
func TestOrgAnswersMalformed(t *testing.T) {
	ctx := context.Background()
	in := ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN("1", "r"), SessionName: "ecs-reaper"}
	for _, body := range []string{
		`{"RequestId":"r","Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"soon"}}`,
		`{"RequestId":"r","Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","Expiration":"2030-01-01T00:00:00Z"}}`,
		`{"Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"2030-01-01T00:00:00Z"}}`,
		`{"RequestId":"r","Credentials":"x"}`,
		// Credentials of another account than the role's, or of no named one.
		`{"RequestId":"r","AssumedRoleUser":{"Arn":"acs:ram::2:role/r/ecs-reaper"},"Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"2030-01-01T00:00:00Z"}}`,
		`{"RequestId":"r","AssumedRoleUser":{"Arn":"acs:ram::12:role/r/ecs-reaper"},"Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"2030-01-01T00:00:00Z"}}`,
		`{"RequestId":"r","Credentials":{"AccessKeyId":"a","AccessKeySecret":"b","SecurityToken":"c","Expiration":"2030-01-01T00:00:00Z"}}`,
	} {
		_, err := orgClient(t, answering(t, 200, body)).AssumeRole(ctx, in)
		if ecsapi.Code(err) != ecsapi.CodeBadResponse {
			t.Errorf("AssumeRole answered %s: %v, want %s", body, err, ecsapi.CodeBadResponse)
		}
	}
	for _, body := range []string{
		`{"RequestId":"r","TotalCount":1,"Accounts":{"Account":[{"AccountId":"not-an-id"}]}}`,
		`{"RequestId":"r","TotalCount":1,"Accounts":{"Account":[{"DisplayName":"no id"}]}}`,
		`{"TotalCount":0}`,
	} {
		_, err := orgClient(t, answering(t, 200, body)).ListAccounts(ctx, ecsapi.ListAccountsInput{PageNumber: 1, PageSize: 10})
		if ecsapi.Code(err) != ecsapi.CodeBadResponse {
			t.Errorf("ListAccounts answered %s: %v, want %s", body, err, ecsapi.CodeBadResponse)
		}
	}
	// An error answer keeps its code and says which API refused.
	_, err := orgClient(t, answering(t, 403, `{"RequestId":"r","Code":"NoPermission","Message":"no"}`)).AssumeRole(ctx, in)
	if ecsapi.Code(err) != "NoPermission" || ecsapi.Classify(err) != ecsapi.ClassCredential || !strings.HasPrefix(err.Error(), "sts AssumeRole: NoPermission") {
		t.Errorf("refusal = %v", err)
	}
	_, err = orgClient(t, answering(t, 404, `{"RequestId":"r","Code":"EntityNotExist.Role","Message":"no"}`)).AssumeRole(ctx, in)
	if ecsapi.UnreachableReason(err) != "role-missing" || ecsapi.Classify(err) != ecsapi.ClassCredential {
		t.Errorf("missing role = %v (%s)", err, ecsapi.UnreachableReason(err))
	}
}

// STS and ResourceManager endpoints follow REAPER_ECS_ENDPOINT's rules,
// and a loopback ECS endpoint (the doubles) never lets them reach the
// real services.
func TestOrgEndpoints(t *testing.T) {
	creds := ecsapi.Credentials{AccessKeyID: "LTAIplanted", AccessKeySecret: "planted-secret"}
	for _, cfg := range []ecsapi.Config{
		{Credentials: creds, STSEndpoint: "http://sts.aliyuncs.com"},
		{Credentials: creds, ResourceManagerEndpoint: "http://resourcemanager.aliyuncs.com"},
		{Credentials: creds, STSEndpoint: "https://user:pw@sts.aliyuncs.com"},
	} {
		if _, err := ecsapi.NewClient(cfg); err == nil {
			t.Errorf("NewClient(%+v) accepted", cfg)
		}
	}
	url := answering(t, 200, `{"RequestId":"r","AccountId":"123"}`)
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: creds, Endpoint: url})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := c.GetCallerIdentity(context.Background()); err != nil || id.AccountID != "123" {
		t.Fatalf("GetCallerIdentity on the loopback ECS endpoint = %+v, %v", id, err)
	}
}

// An STS message that quotes the ExternalId does not show it.
func TestAssumeRoleRedactsTheExternalID(t *testing.T) {
	const ext = "planted-external-id-42"
	url := answering(t, 403, `{"RequestId":"r","Code":"NoPermission","Message":"ExternalId planted-external-id-42 does not match"}`)
	_, err := orgClient(t, url).AssumeRole(context.Background(), ecsapi.AssumeRoleInput{RoleARN: ecsapi.RoleARN("1", "r"), SessionName: "ecs-reaper", ExternalID: ext})
	if err == nil || strings.Contains(err.Error(), ext) || ecsapi.Code(err) != "NoPermission" {
		t.Fatalf("AssumeRole = %v", err)
	}
}
