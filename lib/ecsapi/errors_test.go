package ecsapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestClassifyCode(t *testing.T) {
	for _, tc := range []struct {
		code   string
		status int
		want   Class
	}{
		{"Throttling", 400, ClassThrottled},
		{"NoSuchKey", 404, ClassNotFound},
		{"FileAlreadyExists", 409, ClassAlreadyExists},
		{"ExecutionAlreadyExists", 400, ClassAlreadyExists},
		{"Throttling.User", 400, ClassThrottled},
		{"Throttling.Api", 400, ClassThrottled},
		{"Rejected.Throttling", 400, ClassThrottled},
		{"HTTP.429", 429, ClassThrottled},
		{"LastTokenProcessing", 400, ClassRetryable},
		{"OperationConflict", 403, ClassRetryable},
		{"ServiceUnavailable", 503, ClassRetryable},
		{"InternalError", 500, ClassRetryable},
		{"HTTP.502", 502, ClassRetryable},
		{"SomethingNew", 504, ClassRetryable},
		{CodeTimeout, 0, ClassRetryable},
		{CodeTransport, 0, ClassRetryable},
		{CodeBadResponse, 200, ClassRetryable},
		{"DRYRUN.SUCCESS", 400, ClassDryRunPassed},
		{"IncorrectInstanceStatus", 403, ClassInstance},
		{"IncorrectInstanceStatus.Initializing", 403, ClassInstance},
		{"InvalidOperation.DeletionProtection", 403, ClassInstance},
		{"InstanceLockedForSecurity", 403, ClassInstance},
		{"ChargeTypeViolation", 403, ClassInstance},
		{"InvalidOperation.EniLinked", 403, ClassInstance},
		{"DependencyViolation.SLBConfiguring", 400, ClassInstance},
		{"DependencyViolation.RouteEntry", 400, ClassInstance},
		{"OperationDenied.SystemInstanceNotSupport", 403, ClassInstance},
		{"InvalidInstanceIds.ValueNotSupported", 403, ClassInstance},
		{"InvalidInstanceIds.NotFound", 404, ClassNotFound},
		{"InvalidInstanceId.NotFound", 404, ClassNotFound},
		{"SignatureDoesNotMatch", 400, ClassCredential},
		{"InvalidAccessKeyId.NotFound", 404, ClassCredential},
		{"InvalidAccessKeyId.Inactive", 403, ClassCredential},
		{"InvalidSecurityToken.Expired", 400, ClassCredential},
		{"InvalidSecurityToken.Mismatch", 400, ClassCredential},
		{"Forbidden.RAM", 403, ClassCredential},
		{"Forbidden", 403, ClassCredential},
		// TagResources refusing one resource: the batch is isolated.
		{"OperationDenied.QuotaExceed", 400, ClassInstance},
		{"QuotaExceed.Tags", 403, ClassInstance},
		{"InvalidResourceId.NotSupported", 403, ClassInstance},
		// Busy answers are retried (DeleteSnapshot; the VPC API).
		{"Operation.Conflict", 403, ClassRetryable},
		{"SystemBusy", 400, ClassRetryable},
		{"TaskConflict", 400, ClassRetryable},
		{"TaskConflict.AssociateGlobalAccelerationInstance", 400, ClassRetryable},
		// A region the account cannot use is not a credential failure.
		{"Forbidden.RegionNotFound", 404, ClassRegion},
		{"InvalidRegionId.NotFound", 404, ClassRegion},
		// Request-level mistakes are not retried and not isolated.
		{"InvalidParameter", 500, ClassFatal},
		{"InvalidParameter.CrossRegionNotSupport", 400, ClassFatal},
		{"InvalidParameter.TooManyInstanceIds", 403, ClassFatal},
		{"IdempotentParameterMismatch", 400, ClassFatal},
		{"Unknown.Code", 400, ClassFatal},
	} {
		t.Run(fmt.Sprintf("%s_%d", tc.code, tc.status), func(t *testing.T) {
			if got := ClassifyCode(tc.code, tc.status); got != tc.want {
				t.Errorf("ClassifyCode(%q, %d) = %v, want %v", tc.code, tc.status, got, tc.want)
			}
		})
	}
}

func TestClassifyWrappedErrors(t *testing.T) {
	apiErr := &Error{Action: ActionDeleteInstances, Code: "Throttling.User", HTTPStatus: 400, Class: ClassThrottled}
	if got := Classify(fmt.Errorf("batch: %w", apiErr)); got != ClassThrottled {
		t.Errorf("wrapped API error classified %v", got)
	}
	if got := Classify(fmt.Errorf("call: %w", context.DeadlineExceeded)); got != ClassCanceled {
		t.Errorf("deadline classified %v", got)
	}
	if got := Classify(errors.New("anything else")); got != ClassFatal {
		t.Errorf("unknown error classified %v, want fatal (never retried blindly)", got)
	}
	if Code(fmt.Errorf("x: %w", apiErr)) != "Throttling.User" {
		t.Error("Code does not see through wrapping")
	}
}

func TestRedactRemovesCredentials(t *testing.T) {
	c := &Client{creds: Credentials{AccessKeyID: "LTAIexample", AccessKeySecret: "s3cr3t/+=", SecurityToken: "tok+en/=="}}
	msg := c.redact("Specified signature is not matched. server string to sign is:POST&%2F&AccessKeyId%3DLTAI...%26SecurityToken%3Dtok%252Ben...")
	if strings.Contains(msg, "SecurityToken") || strings.Contains(msg, "tok") {
		t.Errorf("string to sign kept: %q", msg)
	}
	msg = c.redact("the secret s3cr3t/+= and token tok+en/== and escaped " + "s3cr3t%2F%2B%3D")
	for _, leak := range []string{"s3cr3t", "tok+en"} {
		if strings.Contains(msg, leak) {
			t.Errorf("redacted message still holds %q: %q", leak, msg)
		}
	}
	// A message quoting the tags it was sent keeps no mark's MAC: it could
	// be copied onto the resource.
	msg = c.redact("The Tag.1.Value 2026-12-01T12:00:00Z;sig=Mi5MAUm25px9r0yDWbNP1x is malformed.")
	if want := "The Tag.1.Value 2026-12-01T12:00:00Z;sig=… is malformed."; msg != want {
		t.Errorf("redacted %q, want %q", msg, want)
	}
	if got := fmt.Sprint(c.creds); strings.Contains(got, "s3cr3t") || strings.Contains(got, "tok+en") {
		t.Errorf("Credentials print their secrets: %s", got)
	}
	if got := fmt.Sprintf("%#v", c.creds); strings.Contains(got, "s3cr3t") {
		t.Errorf("Credentials %%#v prints the secret: %s", got)
	}
}

func TestParseEndpoint(t *testing.T) {
	for _, tc := range []struct {
		in, scheme, host, err string
	}{
		{in: "https://ecs-vpc.cn-hangzhou.aliyuncs.com", scheme: "HTTPS", host: "ecs-vpc.cn-hangzhou.aliyuncs.com"},
		{in: "http://127.0.0.1:8080/", scheme: "HTTP", host: "127.0.0.1:8080"},
		{in: "ftp://x", err: "scheme"},
		{in: "https://", err: "missing host"},
		{in: "https://u:p@host", err: "user information"},
		{in: "https://host/path", err: "path"},
		{in: "https://host?q=1", err: "query"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			scheme, host, err := ParseEndpoint(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseEndpoint(%q) error %v, want one mentioning %q", tc.in, err, tc.err)
				}
				if strings.Contains(err.Error(), ":p@") {
					t.Errorf("error shows the password: %v", err)
				}
				return
			}
			if err != nil || scheme != tc.scheme || host != tc.host {
				t.Errorf("ParseEndpoint(%q) = %q, %q, %v; want %q, %q", tc.in, scheme, host, err, tc.scheme, tc.host)
			}
		})
	}
}
