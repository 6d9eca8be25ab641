package flowcheck_test

import (
	"os"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout/flowcheck"
)

func schema(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../../" + flowcheck.SchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEmbeddedSchemaIsTheDocumentedOne(t *testing.T) {
	if string(flowcheck.Schema()) != string(schema(t)) {
		t.Errorf("lib/fanout/flowcheck/worker-payload.schema.json differs from %s: copy it", flowcheck.SchemaPath)
	}
}

func TestRealFlowPasses(t *testing.T) {
	for _, p := range flowcheck.Check(fanout.FlowDefinition(), schema(t)) {
		t.Errorf("%v", p)
	}
}

// Each broken definition is the real one with one edit; old must occur
// exactly n times so that a test cannot pass on an edit that stopped applying.
func TestBrokenFlowsFail(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		n        int // occurrences of old replaced; 0 means 1
		path     string
		msg      string
	}{
		{name: "next state missing", old: "    Next: Decide\n", new: "    Next: Decied\n",
			path: "States[Plan].Next", msg: `names "Decied", which is not a state`},
		{name: "start state missing", old: "StartAt: Plan\n", new: "StartAt: Plans\n",
			path: "StartAt", msg: `names "Plans"`},
		{name: "processor start missing", old: "      StartAt: PlanAccount\n", new: "      StartAt: PlanAcount\n",
			path: "States[Plan].Processor.StartAt", msg: "not a state of this scope"},
		{name: "catch goes nowhere", old: "              Next: PlanFailed\n", new: "              Next: Nowhere\n",
			path: "States[Plan].Processor.States[PlanAccount].Catch[0].Next", msg: `"Nowhere"`},
		{name: "choice default missing", old: "    Default: Failed\n", new: "    Default: Fail\n",
			path: "States[Outcome].Default", msg: `"Fail"`},
		{name: "choice branch missing", old: "        Next: Done\n", new: "        Next: Finished\n",
			path: "States[Outcome].Branches[0].Next", msg: `"Finished"`},
		{name: "state never reached", old: "    Next: Outcome\n", new: "    Next: Done\n",
			path: "States[Outcome]", msg: "never reached"},
		{name: "neither next nor end", old: "    Next: Execute\n", new: "",
			path: "States[Notify]", msg: "neither Next nor End"},
		{name: "notify skipped", old: "    Next: Notify\n", new: "    Next: Execute\n",
			path: "States", msg: "[plan decide execute report]"},
		{name: "map does not read the accounts", old: "    ItemsPath: $Input.accounts\n    MaxConcurrency: 10\n    Processor:\n      StartAt: PlanAccount", new: "    ItemsPath: $Input.regions\n    MaxConcurrency: 10\n    Processor:\n      StartAt: PlanAccount",
			path: "States[Plan].ItemsPath", msg: "must read the accounts"},
		{name: "map concurrency above inline limit", old: "    MaxConcurrency: 10\n    Processor:\n      StartAt: ExecuteAccount", new: "    MaxConcurrency: 50\n    Processor:\n      StartAt: ExecuteAccount",
			path: "States[Execute].MaxConcurrency", msg: "from 1 to 40"},
		{name: "distributed map", old: "    MaxConcurrency: 10\n    Processor:\n      StartAt: ExecuteAccount", new: "    MaxConcurrency: 10\n    ProcessorConfig:\n      Mode: Distributed\n    Processor:\n      StartAt: ExecuteAccount",
			path: "States[Execute].ProcessorConfig", msg: "inline Map"},
		{name: "unknown phase", old: "        phase: decide\n", new: "        phase: decid\n",
			path: "States[Decide].Parameters.body", msg: "does not validate"},
		{name: "unknown payload field", old: "        phase: report\n", new: "        phase: report\n        dryRun: false\n",
			path: "States[Report].Parameters.body", msg: "does not validate"},
		{name: "run missing", old: "        phase: decide\n        run.$: $Context.Execution.Input.run\n", new: "        phase: decide\n",
			path: "States[Decide].Parameters.body", msg: "does not validate"},
		{name: "account in a whole-run phase", old: "        phase: decide\n", new: "        phase: decide\n        account: '1234567890123456'\n",
			path: "States[Decide].Parameters.body", msg: "does not validate"},
		{name: "account read outside a map", old: "        phase: decide\n", new: "        phase: decide\n        account.$: $Input.account\n",
			path: "States[Decide].Parameters.body.account.$", msg: "outside a Map"},
		{name: "per-account phase without account", old: "              phase: plan\n              run.$: $Context.Execution.Input.run\n              account.$: $Input.account\n", new: "              phase: plan\n              run.$: $Context.Execution.Input.run\n",
			path: "States[Plan].Processor.States[PlanAccount].Parameters.body", msg: "does not validate"},
		{name: "unknown expression", old: "              account.$: $Input.account\n          Retry:\n            - Errors: [FnF.ALL]\n              Description: once", new: "              account.$: $Input.id\n          Retry:\n            - Errors: [FnF.ALL]\n              Description: once",
			path: "States[Execute].Processor.States[ExecuteAccount].Parameters.body.account.$", msg: `"$Input.id"`},
		{name: "another function", old: "      resourceArn: acs:fc:${ALIYUN::Region}:${ALIYUN::AccountId}:functions/ecs-reaper-worker\n      invocationType: Sync\n      body:\n        phase: report", new: "      resourceArn: acs:fc:${ALIYUN::Region}:${ALIYUN::AccountId}:functions/ecs-reaper\n      invocationType: Sync\n      body:\n        phase: report",
			path: "States[Report].Parameters.resourceArn", msg: "only the worker"},
		{name: "async invocation", old: "      invocationType: Sync\n      body:\n        phase: decide", new: "      invocationType: Async\n      body:\n        phase: decide",
			path: "States[Decide].Parameters.invocationType", msg: "must be Sync"},
		{name: "phases out of order", old: "phase: decide\n", new: "phase: report\n",
			path: "States", msg: "[plan report notify execute report]"},
		{name: "a dollar-brace Fn::Sub would substitute", old: "    Cause: the run's report in OSS names what failed\n", new: "    Cause: see ${run}\n",
			path: "", msg: "Fn::Sub"},
		{name: "duplicate state", old: "  - Name: Done\n", new: "  - Name: Failed\n",
			path: "States[Failed]", msg: "defined twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			def := string(fanout.FlowDefinition())
			if c := strings.Count(def, tc.old); c != 1 {
				t.Fatalf("%q occurs %d times, want once", tc.old, c)
			}
			def = strings.Replace(def, tc.old, tc.new, 1)
			problems := flowcheck.Check([]byte(def), schema(t))
			for _, p := range problems {
				if p.Path == tc.path && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s containing %q; got %v", tc.path, tc.msg, problems)
		})
	}
}

func TestNotYAMLOrBadSchema(t *testing.T) {
	if ps := flowcheck.Check([]byte("- a list"), schema(t)); len(ps) != 1 || !strings.Contains(ps[0].Msg, "not a YAML mapping") {
		t.Errorf("a list: %v", ps)
	}
	if ps := flowcheck.Check(fanout.FlowDefinition(), []byte(`{"type": 3}`)); len(ps) != 1 || !strings.Contains(ps[0].Msg, "does not compile") {
		t.Errorf("bad schema: %v", ps)
	}
}
