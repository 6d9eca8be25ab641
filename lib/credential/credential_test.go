package credential_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/credential"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// A config.json as `aliyun configure` writes it: the current profile is
// an AccessKey, "sts" holds temporary credentials.
const cliConfig = `{
  "current": "default",
  "profiles": [
    {"name": "default", "mode": "AK", "access_key_id": "LTAIprofileAK", "access_key_secret": "profile-ak-secret", "region_id": "cn-hangzhou"},
    {"name": "sts", "mode": "StsToken", "access_key_id": "STS.profile", "access_key_secret": "profile-sts-secret", "sts_token": "profile-sts-token", "region_id": "cn-shanghai"}
  ]
}`

func home(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if config != "" {
		if err := os.MkdirAll(filepath.Join(dir, ".aliyun"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".aliyun", "config.json"), []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

func TestFind(t *testing.T) {
	// The library reads a few switches from the process environment:
	// keep the machine's own out.
	for _, k := range []string{"ALIBABA_CLOUD_CONFIG_FILE", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED"} {
		t.Setenv(k, "")
	}
	withConfig := home(t, cliConfig)
	empty := home(t, "")
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("oidc-token"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		env     map[string]string
		profile string
		want    ecsapi.Credentials // zero: not asked (no network in tests)
		source  string
	}{
		{"environment AccessKey", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret"},
			"", ecsapi.Credentials{AccessKeyID: "LTAIenv", AccessKeySecret: "env-secret"}, "environment (ALIBABA_CLOUD_ACCESS_KEY_ID)"},
		{"environment STS", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret", "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token"},
			"", ecsapi.Credentials{AccessKeyID: "STS.env", AccessKeySecret: "env-secret", SecurityToken: "env-token"}, "STS token"},
		{"the CLI's current profile", map[string]string{"HOME": withConfig},
			"", ecsapi.Credentials{AccessKeyID: "LTAIprofileAK", AccessKeySecret: "profile-ak-secret"}, "current profile"},
		{"ALIBABA_CLOUD_PROFILE", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_PROFILE": "sts"},
			"", ecsapi.Credentials{AccessKeyID: "STS.profile", AccessKeySecret: "profile-sts-secret", SecurityToken: "profile-sts-token"}, "profile sts"},
		{"--profile beats the environment", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret"},
			"sts", ecsapi.Credentials{AccessKeyID: "STS.profile", AccessKeySecret: "profile-sts-secret", SecurityToken: "profile-sts-token"}, "via --profile"},
		{"ALIBABA_CLOUD_CONFIG_FILE", map[string]string{"HOME": empty, "ALIBABA_CLOUD_CONFIG_FILE": filepath.Join(withConfig, ".aliyun", "config.json")},
			"", ecsapi.Credentials{AccessKeyID: "LTAIprofileAK", AccessKeySecret: "profile-ak-secret"}, "current profile"},
		{"OIDC before profiles", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/r", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1:oidc-provider/p", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": tokenFile},
			"", ecsapi.Credentials{}, "OIDC"},
		{"ECS instance RAM role", map[string]string{"HOME": empty, "ALIBABA_CLOUD_ECS_METADATA": "reaper-role"},
			"", ecsapi.Credentials{}, "ECS instance RAM role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chain, err := credential.Find(lookup(tc.env), tc.profile)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(chain.Source(), tc.source) {
				t.Errorf("source %q, want it to say %q", chain.Source(), tc.source)
			}
			for _, secret := range []string{"env-secret", "env-token", "profile-ak-secret", "profile-sts-secret", "profile-sts-token", "oidc-token"} {
				if strings.Contains(chain.Source(), secret) {
					t.Errorf("the source name %q carries a credential", chain.Source())
				}
			}
			if tc.want == (ecsapi.Credentials{}) {
				return
			}
			got, err := chain.Credentials()
			if err != nil || got != tc.want {
				t.Errorf("credentials %v (%v), want %v", got, err, tc.want)
			}
		})
	}
}

func TestFindFails(t *testing.T) {
	for _, k := range []string{"ALIBABA_CLOUD_CONFIG_FILE", "ALIBABA_CLOUD_PROFILE", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED"} {
		t.Setenv(k, "")
	}
	withConfig, empty := home(t, cliConfig), home(t, "")
	for _, tc := range []struct {
		name    string
		env     map[string]string
		profile string
		want    []string
	}{
		{"nothing configured", map[string]string{"HOME": empty}, "", []string{"ALIBABA_CLOUD_ACCESS_KEY_ID", "--profile", "ALIBABA_CLOUD_ECS_METADATA"}},
		{"half an AccessKey", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv"}, "", []string{"must be set together"}},
		{"a profile that is not there", map[string]string{"HOME": withConfig}, "nosuch", []string{"nosuch"}},
		{"--profile without a config file", map[string]string{"HOME": empty}, "default", []string{"config.json"}},
		{"a broken config file", map[string]string{"HOME": home(t, "{not json")}, "", []string{"config.json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := credential.Find(lookup(tc.env), tc.profile)
			if !errors.Is(err, credential.ErrNone) {
				t.Fatalf("error %v, want ErrNone", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "profile-ak-secret") {
				t.Errorf("error carries a secret: %v", err)
			}
		})
	}
}
