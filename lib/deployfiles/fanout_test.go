package deployfiles_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/deployfiles"
)

// The fan-out's resources in template.yaml: each edit breaks one rule.
func TestFanoutMutationsFail(t *testing.T) {
	const (
		tFlow   = "Resources.Flow.Properties"
		tRole   = "Resources.FlowRole.Properties"
		tBucket = "Resources.ResultBucket.Properties"
		tWorker = "Resources.WorkerFunction.Properties"
		tFanPol = "Resources.ReaperRole.Properties.Policies[1].PolicyDocument"
	)
	tests := []struct {
		name      string
		old, new  string
		path, msg string
	}{
		{"the deployed flow drifts from flow.yaml", "          Name: ecs-reaper-fanout\n", "          Name: another-flow\n",
			tFlow + ".Definition", "lib/fanout/flow.yaml"},
		{"an Express flow", "      ExecutionMode: Standard\n", "      ExecutionMode: Express\n",
			tFlow + ".ExecutionMode", "must be Standard"},
		{"the flow is not the one the functions start", "      Name: ecs-reaper-fanout\n      Description: The organisation's", "      Name: reaper-flow\n      Description: The organisation's",
			tFlow + ".Name", "REAPER_FLOW_NAME"},
		{"the flow runs as the execution role", "      RoleArn:\n        'Fn::GetAtt': [FlowRole, Arn]", "      RoleArn:\n        'Fn::GetAtt': [ReaperRole, Arn]",
			tFlow + ".RoleArn", "may only invoke the worker"},
		{"the flow role trusts FC too", "                - fnf.aliyuncs.com\n", "                - fnf.aliyuncs.com\n                - fc.aliyuncs.com\n",
			tRole + ".AssumeRolePolicyDocument.Statement[0].Principal", "fnf.aliyuncs.com"},
		{"the flow role may invoke any function", ":functions/ecs-reaper-worker'", ":functions/*'",
			tRole + ".Policies[0].PolicyDocument.Statement[0].Resource", "only the worker"},
		{"the flow role may do more", "                  - 'fc:InvokeFunction'\n", "                  - 'fc:InvokeFunction'\n                  - 'fc:UpdateFunction'\n",
			tRole + ".Policies[0].PolicyDocument.Statement[0].Action", `"fc:UpdateFunction"`},
		{"the execution role may delete results", "                  - 'oss:GetObject'\n", "                  - 'oss:GetObject'\n                  - 'oss:DeleteObject'\n",
			tFanPol + ".Statement[1].Action", `"oss:DeleteObject"`},
		{"the execution role cannot start the flow", "                  - 'fnf:StartExecution'\n", "                  - 'fnf:ListExecutions'\n",
			tFanPol + ".Statement", `does not allow "fnf:StartExecution"`},
		{"the execution role's fan-out on every resource", "                Resource:\n                  'Fn::Sub': 'acs:fnf:${ALIYUN::Region}:${ALIYUN::AccountId}:flow/ecs-reaper-fanout'\n", "                Resource: '*'\n",
			tFanPol + ".Statement[0].Resource", "never *"},
		{"the worker has a trigger", "        'Fn::GetAtt': [ReaperFunction, FunctionName]\n      TriggerName: hourly", "        'Fn::GetAtt': [WorkerFunction, FunctionName]\n      TriggerName: hourly",
			"Resources.ReaperTimer.Properties.FunctionName", "only the flow invokes it"},
		{"the worker's settings drift", "        REAPER_TIMEZONE: UTC\n\n  # Each run's", "        REAPER_TIMEZONE: Asia/Shanghai\n\n  # Each run's",
			tWorker + ".EnvironmentVariables", "the same settings"},
		{"the worker is smaller", "      MemorySize: 128\n      Timeout: 600\n      Role: {", "      MemorySize: 256\n      Timeout: 600\n      Role: {",
			tWorker + ".MemorySize", "the same code"},
		{"the results never expire", "            Status: Enabled\n", "            Status: Disabled\n",
			tBucket + ".LifecycleConfiguration", "must have an Enabled rule"},
		{"a public result bucket", "      AccessControl: private\n", "      AccessControl: public-read\n",
			tBucket + ".AccessControl", "must be private"},
		{"the functions write another bucket", "        REAPER_RESULT_BUCKET:\n          'Fn::GetAtt': [ResultBucket, Name]\n", "        REAPER_RESULT_BUCKET: some-bucket\n",
			"Resources.ReaperFunction.Properties.EnvironmentVariables.REAPER_RESULT_BUCKET", "must be {'Fn::GetAtt': [ResultBucket, Name]}"},
		{"half a fan-out", "    Type: 'ALIYUN::FNF::Flow'\n", "    Type: 'ALIYUN::FNF::Flows'\n",
			"Resources", "exactly one ALIYUN::FNF::Flow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := deployfiles.Load(mutated(t, edit{deployfiles.TemplatePath, tc.old, tc.new}))
			if err != nil {
				t.Fatal(err)
			}
			got := f.Check()
			for _, p := range got {
				if p.File == deployfiles.TemplatePath && p.Path == tc.path && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q", tc.path, tc.msg)
			for _, p := range got {
				t.Logf("got: %v", p)
			}
		})
	}
}

// withSFanout copies the deployment files and s.fanout.yaml, with one edit
// to s.fanout.yaml (old must occur once).
func withSFanout(t *testing.T, old, new string) string {
	t.Helper()
	dir := mutated(t)
	b, err := os.ReadFile(filepath.Join(repoRoot, deployfiles.SFanoutPath))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if old != "" {
		if n := strings.Count(s, old); n != 1 {
			t.Fatalf("%q occurs %d times, want once", old, n)
		}
		s = strings.Replace(s, old, new, 1)
	}
	if err := os.WriteFile(filepath.Join(dir, deployfiles.SFanoutPath), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestSFanoutChecked(t *testing.T) {
	const props = "resources.reaper-worker.props"
	f, err := deployfiles.Load(withSFanout(t, "", ""))
	if err != nil || f.SFanout == nil {
		t.Fatalf("load: %v", err)
	}
	for _, p := range f.Check() {
		t.Errorf("the real s.fanout.yaml: %v", p)
	}
	tests := []struct{ name, old, new, path, msg string }{
		{"another function name", "functionName: ecs-reaper-worker", "functionName: ecs-reaper-2", props + ".functionName", "must be ecs-reaper-worker"},
		{"a trigger", "      logConfig: auto\n", "      logConfig: auto\n      triggers:\n        - triggerName: t\n          triggerType: timer\n          triggerConfig: {cronExpression: '0 0 * * * *', enable: true}\n", props + ".triggers", "has no trigger"},
		{"settings drift from s.yaml", "REAPER_MAX_RELEASE: \"100\"", "REAPER_MAX_RELEASE: \"500\"", props + ".environmentVariables", "s.yaml's reaper has"},
		{"another role", "role/${vars.roleName}", "role/admin", props + ".role", "s.yaml's reaper has"},
		{"less than the Map's concurrency", "reservedConcurrency: 10", "reservedConcurrency: 2", props + ".concurrencyConfig.reservedConcurrency", "at least the flow's Map concurrency (10)"},
		{"a build without -tags fc", "CGO_ENABLED=0 go build -tags fc -trimpath -ldflags=\"-s -w\" -o", "CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o", "resources.reaper-worker.actions.pre-deploy[0].run", "must build with -tags fc"},
		{"a misspelt setting", "REAPER_KEEP_TAG: reaper-keep", "REAPER_KEEP_TAGS: reaper-keep", props + ".environmentVariables.REAPER_KEEP_TAGS", "is not a setting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := deployfiles.Load(withSFanout(t, tc.old, tc.new))
			if err != nil {
				t.Fatal(err)
			}
			got := f.Check()
			for _, p := range got {
				if p.File == deployfiles.SFanoutPath && p.Path == tc.path && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q; got %v", tc.path, tc.msg, got)
		})
	}
}
