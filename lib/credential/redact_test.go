package credential

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aliyun/credentials-go/credentials/providers"
)

// Planted values: none may appear in any message.
const (
	plantedID     = "LTAIplantedKeyID77"
	plantedSecret = "planted-secret-Zq9"
	plantedToken  = "planted-sts-token-Xw4"
)

var plantedConfig = `{"current": "ak", "profiles": [
 {"name": "ak", "mode": "AK", "access_key_id": "` + plantedID + `", "access_key_secret": "` + plantedSecret + `"},
 {"name": "sts", "mode": "StsToken", "access_key_id": "` + plantedID + `", "access_key_secret": "` + plantedSecret + `", "sts_token": "` + plantedToken + `"},
 {"name": "role", "mode": "RamRoleArn", "access_key_id": "` + plantedID + `", "access_key_secret": "` + plantedSecret + `", "ram_role_arn": "acs:ram::1:role/r"}
]}`

func leaked(msg string) []string {
	var found []string
	for _, s := range []string{plantedID, plantedSecret, plantedToken, "Signature=", "SignatureNonce", "?", "access_key"} {
		if strings.Contains(msg, s) {
			found = append(found, s)
		}
	}
	return found
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// The library's own messages, produced by the library itself: each quotes
// what the redactor must drop, and the reason keeps what is useful.
func TestReasonOfLibraryErrors(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "")
	t.Setenv("ALIBABA_CLOUD_PROFILE", "")
	dir := t.TempDir()
	broken := filepath.Join(dir, "config.json")
	// One missing comma: the library quotes the whole file.
	if err := os.WriteFile(broken, []byte(strings.Replace(plantedConfig, `"mode": "AK",`, `"mode": "AK"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	sts := closedPort(t)
	role, err := providers.NewRAMRoleARNCredentialsProviderBuilder().WithAccessKeyId(plantedID).WithAccessKeySecret(plantedSecret).
		WithSecurityToken(plantedToken).WithRoleArn("acs:ram::1:role/r").WithStsEndpoint(sts).Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		provider providers.CredentialsProvider
		want     string
		quotes   bool // the library's message carries a planted value
	}{
		{"a config file with a syntax error", must(providers.NewCLIProfileCredentialsProviderBuilder().WithProfileFile(broken).WithProfileName("ak").Build()),
			"the config file is not valid JSON", true},
		{"an STS that cannot be reached", role, "cannot reach https://" + sts + ": dial " + sts + ": connection refused", true},
		{"an OIDC token file that is not there", must(providers.NewOIDCCredentialsProviderBuilder().WithRoleArn("acs:ram::1:role/r").
			WithOIDCProviderARN("acs:ram::1:oidc-provider/p").WithOIDCTokenFilePath(filepath.Join(dir, "nosuch")).WithSTSEndpoint(sts).Build()),
			"cannot open " + filepath.Join(dir, "nosuch") + ": no such file or directory", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.provider.GetCredentials()
			if err == nil {
				t.Fatal("no error")
			}
			if tc.quotes && len(leaked(err.Error())) == 0 {
				t.Fatalf("the library's message %q quotes nothing: the case tests nothing", err)
			}
			got := reason(err)
			if found := leaked(got); len(found) > 0 {
				t.Errorf("reason %q carries %q", got, found)
			}
			if got != tc.want {
				t.Errorf("reason %q, want %q", got, tc.want)
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Messages the library builds around an STS or metadata answer keep only
// the answer's code and status; anything unknown is withheld whole.
func TestReasonOfLibraryMessages(t *testing.T) {
	signMismatch := `{"RequestId":"5A6B-7C8D","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation. server string to sign is:POST&%2F&AccessKeyId%3D` + plantedID + `%26SecurityToken%3D` + plantedToken + `"}`
	for msg, want := range map[string]string{
		"refresh session token failed: " + signMismatch:                                               "STS refused the request: SignatureDoesNotMatch (request 5A6B-7C8D)",
		"get session token failed: " + signMismatch:                                                   "STS refused the request: SignatureDoesNotMatch (request 5A6B-7C8D)",
		"refresh session token failed: <html>" + plantedSecret:                                        "STS refused the request (its answer is withheld)",
		`refresh session token failed: {"Code":"` + plantedSecret + `?x"}`:                            "STS refused the request (its answer is withheld)",
		"refresh Ecs sts token err, httpStatus: 404, message = " + plantedToken:                       "the ECS metadata service answered HTTP 404",
		"get role name failed: http://100.100.100.200/latest/meta-data/ram/security-credentials/ 500": "the ECS metadata service gave no role name (HTTP 500)",
		"refresh Ecs sts token err: Get \"http://100.100.100.200/x?" + plantedToken + "\": timeout":   "cannot reach the ECS metadata service",
		"unmarshal aliyun cli config from '/x' failed: " + plantedConfig:                              "the config file is not valid JSON",
		"get source profile failed: unable to get profile with '" + plantedSecret + "'":               "failed (the credential library's message is withheld: it can carry credentials)",
		"the RoleArn is empty":                  "the RoleArn is empty",
		"the RoleArn is empty " + plantedSecret: "failed (the credential library's message is withheld: it can carry credentials)",
	} {
		got := reason(errors.New(msg))
		if got != want {
			t.Errorf("reason(%.60q) = %q, want %q", msg, got, want)
		}
		if found := leaked(got); len(found) > 0 {
			t.Errorf("reason %q carries %q", got, found)
		}
	}
}

// failing stands for a provider whose refresh fails mid-run.
type failing struct{ err error }

func (f failing) GetCredentials() (*providers.Credentials, error) { return nil, f.err }
func (f failing) GetProviderName() string                         { return "failing" }

// A refresh that fails during a long run reaches the ECS client (and so
// the report) as Chain.Credentials' error: the redacted one.
func TestChainCredentialsErrorIsRedacted(t *testing.T) {
	signed := "https://sts.aliyuncs.com?AccessKeyId=" + plantedID + "&SecurityToken=" + plantedToken + "&Signature=abc"
	for _, err := range []error{
		&url.Error{Op: "Post", URL: signed, Err: &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Err: syscall.ECONNREFUSED}},
		errors.New("refresh session token failed: {\"Code\":\"InvalidSecurityToken.Expired\",\"Message\":\"" + plantedToken + "\"}"),
		fmt.Errorf("wrapped: %w", errors.New(signed)),
	} {
		c := &Chain{provider: failing{err}, source: "aliyun CLI profile role (/home/u/.aliyun/config.json)"}
		_, got := c.Credentials()
		var own *Error
		if !errors.As(got, &own) || !strings.HasPrefix(got.Error(), c.source+": ") {
			t.Errorf("error %v: want an *Error naming the source", got)
		}
		if found := leaked(got.Error()); len(found) > 0 {
			t.Errorf("error %q carries %q", got, found)
		}
	}
}

// Whatever the library's message says around a secret, the reason does
// not repeat it (an STS answer's own Code and RequestId are the only
// text taken from a message, and a secret is never in those).
func FuzzReasonDropsWhatIsAroundASecret(f *testing.F) {
	for _, seed := range []string{
		"unmarshal aliyun cli config from '/x' failed: {\"access_key_secret\": \"%s\"",
		"refresh session token failed: {\"Code\":\"X\",\"Message\":\"%s\"}",
		"get credentials from GET https://x/?token=%s failed: body",
		"refresh Ecs sts token err, httpStatus: 500, message = %s",
		"get role name failed: http://100.100.100.200/%s 404",
		"failed to execute external command: exit status 1\nstderr: %s",
		"the RoleArn is empty%s",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, format string) {
		msg := strings.ReplaceAll(format, "%s", plantedSecret)
		if !strings.Contains(msg, plantedSecret) {
			msg += plantedSecret
		}
		if got := reason(errors.New(msg)); strings.Contains(got, plantedSecret) {
			t.Errorf("reason(%q) = %q", msg, got)
		}
	})
}
