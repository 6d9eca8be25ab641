package fnfdouble_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/fnf"

	"github.com/ecs-reaper/ecs-reaper/lib/fnfdouble"
)

// Planted test values only.
const (
	ak     = "LTAI5tTestOnlyFNFDouble"
	secret = "test-only-fnf-double-secret-0123"
)

func start(t *testing.T, secret, name string) (*fnfdouble.Server, error) {
	t.Helper()
	srv, err := fnfdouble.Start("flow")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.AddCredential(ak, "test-only-fnf-double-secret-0123", "")
	conf := sdk.NewConfig()
	conf.AutoRetry = false
	client, err := fnf.NewClientWithOptions("cn-hangzhou", conf, credentials.NewStaticAKCredentialsProvider(ak, secret))
	if err != nil {
		t.Fatal(err)
	}
	req := fnf.CreateStartExecutionRequest()
	req.SetScheme("HTTP")
	req.Domain = srv.URL()[len("http://"):]
	req.FlowName, req.ExecutionName, req.Input = "flow", name, `{"run":"r"}`
	_, err = client.StartExecution(req)
	return srv, err
}

func code(err error) string {
	var se *sdkerrors.ServerError
	if errors.As(err, &se) {
		return se.ErrorCode()
	}
	return ""
}

func TestStartChecksTheSignature(t *testing.T) {
	srv, err := start(t, "wrong-secret-0123456789abcdef", "ecs-reaper-20261206T090000Z")
	if code(err) != "SignatureDoesNotMatch" || len(srv.Executions("flow")) != 0 {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestStartChecksTheExecutionName(t *testing.T) {
	for _, name := range []string{"1starts-with-a-digit", "has space", "has.dot", strings.Repeat("a", 129)} {
		srv, err := start(t, secret, name)
		if code(err) != "InvalidArgument" || len(srv.Executions("flow")) != 0 {
			t.Errorf("%q: %v", name, err)
		}
	}
	srv, err := start(t, secret, "_ok-Name_1")
	if err != nil || len(srv.Executions("flow")) != 1 {
		t.Errorf("a valid name: %v", err)
	}
}
