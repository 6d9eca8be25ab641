package deployfiles_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/deployfiles"
)

// repoRoot is where the real deployment files live.
const repoRoot = "../.."

func TestRealFilesPass(t *testing.T) {
	f, err := deployfiles.Load(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Check() {
		t.Errorf("%v", p)
	}
}

// edit replaces old with new in one deployment file of a copy of the
// repository's files. old must occur exactly once, so a test cannot pass
// because its mutation silently stopped applying.
type edit struct {
	file, old, new string
}

func mutated(t *testing.T, edits ...edit) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{deployfiles.SYAMLPath, deployfiles.TemplatePath, deployfiles.RAMPolicyPath, deployfiles.MemberRolePath} {
		b, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		for _, e := range edits {
			if e.file != name {
				continue
			}
			if n := strings.Count(s, e.old); n != 1 {
				t.Fatalf("%s: %q occurs %d times, want once", name, e.old, n)
			}
			s = strings.Replace(s, e.old, e.new, 1)
		}
		dst := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	sProps     = "resources.reaper.props"
	sTimer     = sProps + ".triggers[0].triggerConfig"
	tFunc      = "Resources.ReaperFunction"
	tPolicy    = "Resources.ReaperRole.Properties.Policies[0].PolicyDocument"
	tTrust     = "Resources.ReaperRole.Properties.AssumeRolePolicyDocument"
	tTimer     = "Resources.ReaperTimer.Properties.TriggerConfig"
	sPolicyAct = "\"ecs:ListTagResources\",\n        "
	sTplAct    = "                  - 'ecs:ListTagResources'\n"
)

func TestMutationsFail(t *testing.T) {
	type want struct{ file, path, msg string }
	tests := []struct {
		name  string
		edits []edit
		want  []want
	}{
		{
			name:  "wildcard action in ram-policy.json",
			edits: []edit{{deployfiles.RAMPolicyPath, `"ecs:DeleteInstances"`, `"ecs:DeleteInstances", "ecs:*"`}},
			want:  []want{{deployfiles.RAMPolicyPath, "Statement[0].Action", `"ecs:*" is a wildcard`}},
		},
		{
			name:  "missing action in ram-policy.json",
			edits: []edit{{deployfiles.RAMPolicyPath, sPolicyAct, ""}},
			want:  []want{{deployfiles.RAMPolicyPath, "Statement", `does not allow "ecs:ListTagResources"`}},
		},
		{
			name:  "extra action in template policy",
			edits: []edit{{deployfiles.TemplatePath, sTplAct, sTplAct + "                  - 'ecs:StopInstance'\n"}},
			want:  []want{{deployfiles.TemplatePath, tPolicy + ".Statement[0].Action", `"ecs:StopInstance" is not an action the function calls`}},
		},
		{
			name:  "wildcard in template policy",
			edits: []edit{{deployfiles.TemplatePath, sTplAct, sTplAct + "                  - 'ecs:Describe*'\n"}},
			want:  []want{{deployfiles.TemplatePath, tPolicy + ".Statement[0].Action", `"ecs:Describe*" is a wildcard`}},
		},
		{
			name:  "missing action in template policy",
			edits: []edit{{deployfiles.TemplatePath, sTplAct, ""}},
			want:  []want{{deployfiles.TemplatePath, tPolicy + ".Statement", `does not allow "ecs:ListTagResources"`}},
		},
		{
			name:  "deny statement",
			edits: []edit{{deployfiles.RAMPolicyPath, `"Effect": "Allow"`, `"Effect": "Deny"`}},
			want: []want{
				{deployfiles.RAMPolicyPath, "Statement[0].Effect", "must be Allow"},
			},
		},
		{
			name:  "unknown env name in s.yaml",
			edits: []edit{{deployfiles.SYAMLPath, "REAPER_KEEP_TAG: reaper-keep", "REAPER_KEEP_TAGS: reaper-keep"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".environmentVariables.REAPER_KEEP_TAGS", "is not a setting the program reads"}},
		},
		{
			name:  "literal mark secret in s.yaml",
			edits: []edit{{deployfiles.SYAMLPath, "REAPER_KEEP_TAG: reaper-keep", "REAPER_KEEP_TAG: reaper-keep\n        REAPER_MARK_SECRET: 'a-literal-secret-of-more-than-32-characters'"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".environmentVariables.REAPER_MARK_SECRET", "is written in the file"}},
		},
		{
			name:  "literal notify secret in s.yaml",
			edits: []edit{{deployfiles.SYAMLPath, "REAPER_KEEP_TAG: reaper-keep", "REAPER_KEEP_TAG: reaper-keep\n        REAPER_NOTIFY_SECRET: SEC0123456789"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".environmentVariables.REAPER_NOTIFY_SECRET", "is written in the file"}},
		},
		{
			name:  "mark secret with a default in template.yaml",
			edits: []edit{{deployfiles.TemplatePath, "REAPER_TIMEZONE: UTC\n        REAPER_MARK_SECRET: {Ref: MarkSecret}", "REAPER_TIMEZONE: UTC\n        REAPER_MARK_SECRET: 'a-literal-secret-of-more-than-32-characters'"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.EnvironmentVariables.REAPER_MARK_SECRET", "is written in the file"}},
		},
		{
			name:  "unknown env name in template.yaml",
			edits: []edit{{deployfiles.TemplatePath, "REAPER_MAX_RELEASE_PERCENT: {Ref: MaxReleasePercent}\n        REAPER_TIMEZONE: UTC", "REAPER_MAX_RELEASE_PERCENT: {Ref: MaxReleasePercent}\n        TZ: UTC"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.EnvironmentVariables.TZ", "is not a setting the program reads"}},
		},
		{
			name:  "env value the program rejects",
			edits: []edit{{deployfiles.SYAMLPath, `REAPER_MAX_RELEASE: "100"`, `REAPER_MAX_RELEASE: "-3"`}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".environmentVariables.REAPER_MAX_RELEASE", `REAPER_MAX_RELEASE="-3"`}},
		},
		{
			name:  "unquoted env value",
			edits: []edit{{deployfiles.TemplatePath, "    Default: 'true'\n", "    Default: true\n"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.EnvironmentVariables.REAPER_DRY_RUN", "must be a quoted string, got bool true"}},
		},
		{
			name:  "five-field cron in s.yaml",
			edits: []edit{{deployfiles.SYAMLPath, "cronExpression: '0 0 */1 * * *'", "cronExpression: '0 */1 * * *'"}},
			want: []want{
				{deployfiles.SYAMLPath, sTimer + ".cronExpression", "0 */1 * * *"},
				{deployfiles.TemplatePath, tTimer + ".cronExpression", "but s.yaml has 0 */1 * * *"},
			},
		},
		{
			name:  "five-field cron in template.yaml",
			edits: []edit{{deployfiles.TemplatePath, "Default: '0 0 */1 * * *'", "Default: '0 * * * *'"}},
			want:  []want{{deployfiles.TemplatePath, tTimer + ".cronExpression", "0 * * * *"}},
		},
		{
			name:  "misspelt timer field",
			edits: []edit{{deployfiles.SYAMLPath, "cronExpression: '0 0 */1 * * *'", "cronExpresion: '0 0 */1 * * *'"}},
			want: []want{
				{deployfiles.SYAMLPath, sTimer + ".cronExpresion", "is not a timer field (cronExpression, enable, payload)"},
				{deployfiles.SYAMLPath, sTimer + ".cronExpression", "must be a string"},
			},
		},
		{
			name:  "payload the handler rejects",
			edits: []edit{{deployfiles.SYAMLPath, "payload: '{}'", `payload: '{"dryRun": "no"}'`}},
			want:  []want{{deployfiles.SYAMLPath, sTimer + ".payload", `"dryRun" must be true or false`}},
		},
		{
			name:  "schema: memorySize 100",
			edits: []edit{{deployfiles.SYAMLPath, "memorySize: 128", "memorySize: 100"}},
			want: []want{
				{deployfiles.SYAMLPath, sProps + ".memorySize", "fc3 schema: "},
				{deployfiles.TemplatePath, tFunc + ".Properties.MemorySize", "is 128 but s.yaml has 100"},
			},
		},
		{
			name:  "schema: retries out of range",
			edits: []edit{{deployfiles.SYAMLPath, "maxAsyncRetryAttempts: 1", "maxAsyncRetryAttempts: 9"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".asyncInvokeConfig.maxAsyncRetryAttempts", "fc3 schema: "}},
		},
		{
			name:  "schema: region from vars not in the enum",
			edits: []edit{{deployfiles.SYAMLPath, "region: cn-hangzhou", "region: mars-north-1"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".region", "fc3 schema: "}},
		},
		{
			name: "vars keep their type when substituted",
			edits: []edit{
				{deployfiles.SYAMLPath, "  roleName: ecs-reaper\n", "  roleName: ecs-reaper\n  mem: 100\n"},
				{deployfiles.SYAMLPath, "memorySize: 128", "memorySize: ${vars.mem}"},
			},
			want: []want{{deployfiles.SYAMLPath, sProps + ".memorySize", "fc3 schema: "}},
		},
		{
			name:  "undefined var",
			edits: []edit{{deployfiles.SYAMLPath, "role/${vars.roleName}", "role/${vars.rolename}"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".role", "${vars.rolename}, which vars does not define"}},
		},
		{
			name:  "misspelt prop",
			edits: []edit{{deployfiles.SYAMLPath, "      timeout: 600", "      timeout: 600\n      timout: 600"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".timout", "is not an fc3 property"}},
		},
		{
			name:  "wrong runtime",
			edits: []edit{{deployfiles.SYAMLPath, "runtime: go1", "runtime: custom.debian12"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".runtime", `must be "go1"`}},
		},
		{
			name: "build writes somewhere else and for the host",
			edits: []edit{{deployfiles.SYAMLPath,
				"      pre-deploy:\n        - run: GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -tags fc -trimpath -ldflags=\"-s -w\" -o target/main ./function",
				"      pre-deploy:\n        - run: go build -o bin/main ./function"}},
			want: []want{
				{deployfiles.SYAMLPath, "resources.reaper.actions.pre-deploy[0].run", "builds bin/main, but code and handler deploy target/main"},
				{deployfiles.SYAMLPath, "resources.reaper.actions.pre-deploy[0].run", "must set CGO_ENABLED=0"},
			},
		},
		{
			name:  "deployed build with the command line",
			edits: []edit{{deployfiles.SYAMLPath, "CGO_ENABLED=0 go build -tags fc -trimpath -ldflags=\"-s -w\" -o", "CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o"}},
			want:  []want{{deployfiles.SYAMLPath, "resources.reaper.actions.pre-deploy[0].run", "must build with -tags fc"}},
		},
		{
			name:  "local build not marked",
			edits: []edit{{deployfiles.SYAMLPath, `-ldflags="-s -w -X main.localBuild=true"`, `-ldflags="-s -w"`}},
			want:  []want{{deployfiles.SYAMLPath, "resources.reaper.actions.pre-local[0].run", "must set -X main.localBuild=true"}},
		},
		{
			name: "deployed build marked local",
			edits: []edit{{deployfiles.SYAMLPath,
				"      pre-deploy:\n        - run: GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -tags fc -trimpath -ldflags=\"-s -w\"",
				"      pre-deploy:\n        - run: GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -tags fc -trimpath -ldflags=\"-s -w -X main.localBuild=true\""}},
			want: []want{{deployfiles.SYAMLPath, "resources.reaper.actions.pre-deploy[0].run", "must not set -X main.localBuild=true"}},
		},
		{
			name: "local build drifted from the deployed one",
			edits: []edit{{deployfiles.SYAMLPath,
				"      pre-local:\n        - run: GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -tags fc -trimpath",
				"      pre-local:\n        - run: GOOS=linux GOARCH=amd64 CGO_ENABLED=0 go build -tags fc"}},
			want: []want{{deployfiles.SYAMLPath, "resources.reaper.actions.pre-local[0].run", "must be the pre-deploy build with -X main.localBuild=true added"}},
		},
		{
			name:  "instanceConcurrency on go1",
			edits: []edit{{deployfiles.SYAMLPath, "      concurrencyConfig:\n", "      instanceConcurrency: 1\n      concurrencyConfig:\n"}},
			want:  []want{{deployfiles.SYAMLPath, "resources.reaper.props.instanceConcurrency", "has no effect on go1"}},
		},
		{
			name:  "timeout that leaves under a minute beyond the margin",
			edits: []edit{{deployfiles.SYAMLPath, "timeout: 600", "timeout: 80"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".timeout", "leaves no time to work"}},
		},
		{
			name:  "deadline margin as long as the timeout",
			edits: []edit{{deployfiles.SYAMLPath, "REAPER_TIMEZONE: UTC", "REAPER_TIMEZONE: UTC\n        REAPER_DEADLINE_MARGIN: 10m"}},
			want:  []want{{deployfiles.SYAMLPath, sProps + ".timeout", "leaves no time to work"}},
		},
		{
			name:  "role trusted by more than FC",
			edits: []edit{{deployfiles.TemplatePath, "                - fc.aliyuncs.com\n", "                - fc.aliyuncs.com\n                - ecs.aliyuncs.com\n"}},
			want:  []want{{deployfiles.TemplatePath, tTrust + ".Statement[0].Principal.Service", `trusts "ecs.aliyuncs.com"`}},
		},
		{
			name:  "function runs as some other role",
			edits: []edit{{deployfiles.TemplatePath, "      Role:\n        'Fn::GetAtt': [ReaperRole, Arn]", "      Role: acs:ram::123:role/admin"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.Role", "must be {'Fn::GetAtt'"}},
		},
		{
			name:  "the FC 2.0 transform",
			edits: []edit{{deployfiles.TemplatePath, "ROSTemplateFormatVersion: '2015-09-01'\n", "ROSTemplateFormatVersion: '2015-09-01'\nTransform: 'Aliyun::Serverless-2018-04-03'\n"}},
			want:  []want{{deployfiles.TemplatePath, "Transform", "funcraft) is discontinued"}},
		},
		{
			name:  "a resource type ROS does not have here",
			edits: []edit{{deployfiles.TemplatePath, "Type: 'ALIYUN::FC3::Trigger'", "Type: 'ALIYUN::FC::Trigger'"}},
			want: []want{
				{deployfiles.TemplatePath, "Resources.ReaperTimer.Type", `is "ALIYUN::FC::Trigger"`},
				{deployfiles.TemplatePath, "Resources", "has no ALIYUN::FC3::Trigger of TriggerType timer"},
			},
		},
		{
			name:  "a misspelt property",
			edits: []edit{{deployfiles.TemplatePath, "FC 3.0.)\n      MemorySize: 128\n", "FC 3.0.)\n      MemorySize: 128\n      MemorySizeMB: 128\n"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.MemorySizeMB", "is not a property of ALIYUN::FC3::Function"}},
		},
		{
			name:  "the FC 2.0 timer keys",
			edits: []edit{{deployfiles.TemplatePath, "        enable: true\n", "        Enable: true\n"}},
			want:  []want{{deployfiles.TemplatePath, tTimer + ".Enable", "is not a timer field"}},
		},
		{
			name:  "logs kept nowhere",
			edits: []edit{{deployfiles.TemplatePath, "      LogConfig:\n        Project:\n          'Fn::GetAtt': [LogProject, Name]\n        Logstore: function-logs\n        EnableRequestMetrics: true\n", ""}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.LogConfig", "must send the logs"}},
		},
		{
			name:  "logs to a logstore the template does not create",
			edits: []edit{{deployfiles.TemplatePath, "        Logstore: function-logs\n", "        Logstore: other-logs\n"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.LogConfig.Logstore", `"other-logs"`}},
		},
		{
			name:  "a Ref to no parameter",
			edits: []edit{{deployfiles.TemplatePath, "REAPER_TAG_KEY: {Ref: TagKey}\n        REAPER_KEEP_TAG: {Ref: KeepTag}", "REAPER_TAG_KEY: {Ref: TagKey}\n        REAPER_KEEP_TAG: {Ref: KeepTags}"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.EnvironmentVariables.REAPER_KEEP_TAG", `parameter "KeepTags"`}},
		},
		{
			name:  "a parameter default the program rejects",
			edits: []edit{{deployfiles.TemplatePath, "    Default: '50'\n    Description: REAPER_MAX_RELEASE_PERCENT", "    Default: '500'\n    Description: REAPER_MAX_RELEASE_PERCENT"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.EnvironmentVariables.REAPER_MAX_RELEASE_PERCENT", "REAPER_MAX_RELEASE_PERCENT"}},
		},
		{
			name:  "async config of another function",
			edits: []edit{{deployfiles.TemplatePath, "      MaxAsyncRetryAttempts: 1\n", "      MaxAsyncRetryAttempts: 9\n"}},
			want: []want{
				{deployfiles.TemplatePath, "Resources.ReaperAsyncConfig.Properties.MaxAsyncRetryAttempts", "must be 0 to 8"},
				{deployfiles.TemplatePath, "Resources.ReaperAsyncConfig.Properties.MaxAsyncRetryAttempts", "is 9 but s.yaml has 1"},
			},
		},
		{
			name:  "template timeout drifts from s.yaml",
			edits: []edit{{deployfiles.TemplatePath, "Timeout: 600\n      Role:\n", "Timeout: 900\n      Role:\n"}},
			want:  []want{{deployfiles.TemplatePath, tFunc + ".Properties.Timeout", "is 900 but s.yaml has 600"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := deployfiles.Load(mutated(t, tc.edits...))
			if err != nil {
				t.Fatal(err)
			}
			got := f.Check()
			for _, w := range tc.want {
				found := false
				for _, p := range got {
					if p.File == w.file && p.Path == w.path && strings.Contains(p.Msg, w.msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem %s: %s: ...%s...", w.file, w.path, w.msg)
				}
			}
			if t.Failed() {
				for _, p := range got {
					t.Logf("got: %v", p)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		dir := mutated(t)
		if err := os.Remove(filepath.Join(dir, "template.yaml")); err != nil {
			t.Fatal(err)
		}
		if _, err := deployfiles.Load(dir); err == nil || !strings.Contains(err.Error(), "template.yaml") {
			t.Errorf("err = %v, want one naming template.yaml", err)
		}
	})
	t.Run("second document", func(t *testing.T) {
		dir := mutated(t, edit{deployfiles.SYAMLPath, "edition: 3.0.0\n", "edition: 3.0.0\n---\n"})
		if _, err := deployfiles.Load(dir); err == nil || !strings.Contains(err.Error(), "s.yaml") {
			t.Errorf("err = %v, want one naming s.yaml", err)
		}
	})
	t.Run("not YAML", func(t *testing.T) {
		dir := mutated(t, edit{deployfiles.RAMPolicyPath, `"Version": "1",`, `"Version": "1",,`})
		if _, err := deployfiles.Load(dir); err == nil || !strings.Contains(err.Error(), "ram-policy.json") {
			t.Errorf("err = %v, want one naming docs/ram-policy.json", err)
		}
	})
}

func TestProblemError(t *testing.T) {
	p := deployfiles.Problem{File: "s.yaml", Path: "a.b", Msg: "bad"}
	if got := p.Error(); got != "s.yaml: a.b: bad" {
		t.Errorf("Error() = %q", got)
	}
	p.Path = ""
	if got := p.Error(); got != "s.yaml: bad" {
		t.Errorf("Error() = %q", got)
	}
}

// Signing secrets passed in at deploy time (s.yaml's ${env()}) are
// accepted, and the configuration they complete is checked as deployed.
func TestSecretsByReferencePass(t *testing.T) {
	dir := mutated(t, edit{deployfiles.SYAMLPath, "REAPER_KEEP_TAG: reaper-keep",
		"REAPER_KEEP_TAG: reaper-keep\n        REAPER_GRACE: 24h\n        REAPER_MARK_SECRET: ${env('REAPER_MARK_SECRET')}\n        REAPER_MARK_SECRET_PREVIOUS: ${env('REAPER_MARK_SECRET_PREVIOUS')}"})
	f, err := deployfiles.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Check() {
		t.Errorf("%v", p)
	}
	// Without the secret, the same grace is refused: the stand-in is what
	// made the configuration whole.
	dir = mutated(t, edit{deployfiles.SYAMLPath, "REAPER_KEEP_TAG: reaper-keep", "REAPER_KEEP_TAG: reaper-keep\n        REAPER_GRACE: 24h"})
	if f, err = deployfiles.Load(dir); err != nil {
		t.Fatal(err)
	}
	if len(f.Check()) == 0 {
		t.Error("REAPER_GRACE without REAPER_MARK_SECRET passed the checks")
	}
}
