package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
)

// The CLI signs with the credentials of an aliyun CLI profile, and the
// report says which source it used, never the values.
func TestPlanWithCLIProfile(t *testing.T) {
	t.Setenv("ALIBABA_CLOUD_CONFIG_FILE", "")
	t.Setenv("ALIBABA_CLOUD_PROFILE", "")
	srv, env := account(t, nil)
	home := t.TempDir()
	config := `{"current": "other", "profiles": [
	  {"name": "other", "mode": "AK", "access_key_id": "LTAIwrong", "access_key_secret": "wrong-secret"},
	  {"name": "reaper", "mode": "StsToken", "access_key_id": "STS.acct", "access_key_secret": "acct-secret-xyz", "sts_token": "acct-token-xyz"}]}`
	if err := os.MkdirAll(filepath.Join(home, ".aliyun"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aliyun", "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	delete(env, "ALIBABA_CLOUD_ACCESS_KEY_ID")
	delete(env, "ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	delete(env, "ALIBABA_CLOUD_SECURITY_TOKEN")
	env["HOME"] = home

	r := run(t, env, "", "plan", "--profile", "reaper", "--region", "cn-hangzhou", "--json")
	r.must(t, cli.ExitOK)
	noSecrets(t, r)
	var rep struct {
		Credentials string `json:"credentials"`
		Instances   []struct{ Outcome string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not a JSON report: %v\n%s", err, r.stdout)
	}
	if !strings.Contains(rep.Credentials, "profile reaper") || len(rep.Instances) == 0 {
		t.Errorf("credentials %q, %d instances", rep.Credentials, len(rep.Instances))
	}
	if srv.CallCount("DescribeInstances") == 0 {
		t.Error("the double saw no signed call")
	}

	// ALIBABA_CLOUD_PROFILE picks it too; the current profile's AccessKey
	// is refused by the double, and the run says so.
	env["ALIBABA_CLOUD_PROFILE"] = "reaper"
	run(t, env, "", "plan", "--region", "cn-hangzhou").must(t, cli.ExitOK, "would-release")
	delete(env, "ALIBABA_CLOUD_PROFILE")
	r = run(t, env, "", "plan", "--region", "cn-hangzhou")
	if r.code == cli.ExitOK || strings.Contains(r.stdout+r.stderr, "wrong-secret") {
		t.Errorf("the wrong profile's run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A profile that is not there is a usage error naming it.
	run(t, env, "", "plan", "--profile", "nosuch", "--region", "cn-hangzhou").must(t, cli.ExitUsage, "nosuch")
}
