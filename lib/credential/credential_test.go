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
		{"a broken config file", map[string]string{"HOME": home(t, "{not json")}, "", []string{"config.json", "JSON syntax error at line 1, column 2 (offset 2)"}},
		{"a config file with a missing comma", map[string]string{"HOME": home(t, strings.Replace(cliConfig, `"mode": "StsToken",`, `"mode": "StsToken"`, 1))},
			"", []string{"config.json", "JSON syntax error at line 5, column 40"}},
		{"a config field of the wrong type", map[string]string{"HOME": home(t, `{"current": "a", "profiles": [{"name": "a", "mode": "AK", "access_key_secret": "profile-ak-secret", "expired_seconds": "soon"}]}`)},
			"", []string{"wrong type", "expired_seconds"}},
		{"a credentials file the SDKs would ask before the instance role", map[string]string{"HOME": empty, "ALIBABA_CLOUD_CREDENTIALS_FILE": "/home/u/.alibabacloud/credentials", "ALIBABA_CLOUD_ECS_METADATA": "reaper-role"},
			"", []string{"ALIBABA_CLOUD_CREDENTIALS_FILE is set, a source this tool does not read"}},
		{"a credentials URI and nothing else", map[string]string{"HOME": empty, "ALIBABA_CLOUD_CREDENTIALS_URI": "http://127.0.0.1:1/creds"},
			"", []string{"ALIBABA_CLOUD_CREDENTIALS_URI is set, but this tool does not read it"}},
		{"a config file that is a list", map[string]string{"HOME": home(t, `["profile-ak-secret"]`)}, "", []string{"the top level is not a JSON object"}},
		{"a config file without profiles", map[string]string{"HOME": home(t, `{"current": "x", "profiles": []}`)}, "", []string{"no profiles"}},
		{"ALIBABA_CLOUD_PROFILE naming no profile", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_PROFILE": "odd"}, "", []string{`no profile named "odd"`, `"default", "sts"`}},
		{"OIDC without its provider ARN", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/r", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "/var/run/token"},
			"", []string{"OIDC", "missing ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "unset ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE"}},
		{"OIDC with only its provider ARN", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1:oidc-provider/p"},
			"", []string{"missing ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE or ALIBABA_CLOUD_OIDC_TOKEN"}},
		{"a role ARN beside a whole AccessKey", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret", "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/r"},
			"", []string{"OIDC (RRSA) is half set", "missing ALIBABA_CLOUD_OIDC_PROVIDER_ARN"}},
		{"OIDC with an empty token file", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ROLE_ARN": "acs:ram::1:role/r", "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "p", "ALIBABA_CLOUD_OIDC_TOKEN_FILE": " "},
			"", []string{"set but empty: ALIBABA_CLOUD_OIDC_TOKEN_FILE"}},
		{"an STS token alone", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token"},
			"", []string{"missing ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET", "must be set together"}},
		{"an empty AccessKey secret", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": ""},
			"", []string{"set but empty: ALIBABA_CLOUD_ACCESS_KEY_SECRET"}},
		{"an empty STS token beside an AccessKey", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "env-secret", "ALIBABA_CLOUD_SECURITY_TOKEN": ""},
			"", []string{"set but empty: ALIBABA_CLOUD_SECURITY_TOKEN"}},
		{"an empty ECS role name", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ECS_METADATA": ""},
			"", []string{"ECS instance RAM role", "set but empty: ALIBABA_CLOUD_ECS_METADATA"}},
		{"every half-set source at once", map[string]string{"HOME": withConfig, "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAIenv", "ALIBABA_CLOUD_ROLE_ARN": "r", "ALIBABA_CLOUD_ECS_METADATA": " "},
			"", []string{"missing ALIBABA_CLOUD_ACCESS_KEY_SECRET", "missing ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "set but empty: ALIBABA_CLOUD_ECS_METADATA"}},
		{"a RamRoleArn profile without its AccessKey", map[string]string{"HOME": home(t, `{"current": "r", "profiles": [{"name": "r", "mode": "RamRoleArn", "access_key_id": "LTAIx", "ram_role_arn": "acs:ram::1:role/r"}]}`)},
			"", []string{`profile "r" (mode RamRoleArn) is half set: missing access_key_secret`}},
		{"an OIDC profile without its provider", map[string]string{"HOME": home(t, `{"current": "o", "profiles": [{"name": "o", "mode": "OIDC", "ram_role_arn": "r", "oidc_token_file": "/t"}]}`)},
			"", []string{"missing oidc_provider_arn"}},
		{"an StsToken profile without its token", map[string]string{"HOME": home(t, `{"current": "x", "profiles": [{"name": "s", "mode": "StsToken", "access_key_id": "STS.x", "access_key_secret": "profile-sts-secret"}]}`)},
			"s", []string{"missing sts_token", "via --profile"}},
		{"a profile of an unknown mode", map[string]string{"HOME": home(t, `{"current": "m", "profiles": [{"name": "m", "mode": "Magic"}]}`)},
			"", []string{"mode Magic", "not support"}},
		{"a chained profile whose source is missing", map[string]string{"HOME": home(t, `{"current": "c", "profiles": [{"name": "c", "mode": "ChainableRamRoleArn", "source_profile": "gone", "ram_role_arn": "r"}]}`)},
			"", []string{`source_profile: no profile named "gone"`}},
		{"a profile chain that loops", map[string]string{"HOME": home(t, `{"current": "c", "profiles": [{"name": "c", "mode": "ChainableRamRoleArn", "source_profile": "c", "ram_role_arn": "r"}]}`)},
			"", []string{"loop"}},
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
			for _, secret := range []string{"env-secret", "env-token", "profile-ak-secret", "profile-sts-secret", "profile-sts-token", "LTAIprofileAK"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error carries %q: %v", secret, err)
				}
			}
		})
	}
}

// A fixed message of the library (here: the instance role named while the
// library's own switch disables it) is shown as it is: it carries nothing.
func TestFindKeepsFixedLibraryMessages(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
	_, err := credential.Find(lookup(map[string]string{"HOME": home(t, ""), "ALIBABA_CLOUD_ECS_METADATA": "reaper-role"}), "")
	if !errors.Is(err, credential.ErrNone) || !strings.Contains(err.Error(), "ECS instance RAM role (ALIBABA_CLOUD_ECS_METADATA): IMDS credentials is disabled") {
		t.Errorf("error %v, want the role source and the library's reason", err)
	}
}
