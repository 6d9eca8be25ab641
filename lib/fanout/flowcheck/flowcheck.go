// Package flowcheck checks the fan-out's CloudFlow definition
// (lib/fanout/flow.yaml) against the program: every state's next state
// exists and is reached, each Map reads the accounts, and each task's
// payload validates against the worker's schema
// (docs/worker-payload.schema.json) and the worker's own parser, in the
// order Plan → Decide → Notify → Execute → Report. `validate` runs it; the FC
// build does not link it (it carries the schema library).
package flowcheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// SchemaPath is the worker payload's schema in the repository.
const SchemaPath = "docs/worker-payload.schema.json"

// schema is a copy of SchemaPath (a test keeps them identical), so that
// the built binary's validate checks the flow without a clone.
//
//go:embed worker-payload.schema.json
var schema []byte

// Schema returns the worker payload's schema as the binary carries it.
func Schema() []byte { return append([]byte(nil), schema...) }

// Problem is one thing wrong with the definition; Path says where, e.g.
// "States[Plan].Processor.States[PlanAccount].Next".
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) Error() string {
	if p.Path == "" {
		return fanout.FlowPath + ": " + p.Msg
	}
	return fanout.FlowPath + ": " + p.Path + ": " + p.Msg
}

// The expressions a task's body may use, and the sample values the check
// puts in their place before validating the payload.
const (
	exprRun     = "$Context.Execution.Input.run"
	exprAccount = "$Input.account"
	sampleRun   = "20261206T090000Z"
	sampleAcct  = "1234567890123456"
)

// accountsPaths are how a Map reads the accounts: the execution's input
// (the first state) or the Decide task's answer (the allowed accounts).
var accountsPaths = []string{"$Input.accounts", "$Context.Execution.Input.accounts"}

var stateTypes = []string{"Task", "Pass", "Map", "Choice", "Succeed", "Fail", "Wait", "Parallel"}

// Check parses def and checks it; schema is the worker payload's JSON
// schema. No problems means the flow is consistent with the worker.
func Check(def, schema []byte) []Problem {
	c := &checker{}
	sch, err := compileSchema(schema)
	if err != nil {
		return []Problem{{Path: "", Msg: fmt.Sprintf("the worker payload schema (%s) does not compile: %v", SchemaPath, err)}}
	}
	c.schema = sch
	var doc map[string]any
	if err := yaml.Unmarshal(def, &doc); err != nil || doc == nil {
		return []Problem{{Msg: fmt.Sprintf("not a YAML mapping: %v", err)}}
	}
	if doc["Type"] != "StateMachine" {
		c.add("Type", "must be StateMachine, got %v", doc["Type"])
	}
	if doc["SpecVersion"] != "v1" {
		c.add("SpecVersion", "must be v1, got %v", doc["SpecVersion"])
	}
	// ROS fills in the definition with Fn::Sub: any other dollar-brace
	// would be taken for a variable and fail the stack.
	if rest := strings.ReplaceAll(string(def), fanout.WorkerARN, ""); strings.Contains(rest, "${") {
		c.add("", "holds a ${...} other than the worker's ARN; template.yaml substitutes the definition (Fn::Sub), which would take it for a variable")
	}
	c.scope("", doc, false)
	got := c.tasks
	if !slices.Equal(got, fanout.Phases) {
		c.add("States", "the tasks reached from StartAt run the phases %v; the flow must run %v, each once, in that order", got, fanout.Phases)
	}
	return c.list
}

type checker struct {
	list   []Problem
	schema *jsonschema.Schema
	tasks  []fanout.Phase // in the order reached from StartAt
}

func (c *checker) add(path, format string, args ...any) {
	c.list = append(c.list, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func join(base, elem string) string {
	if base == "" {
		return elem
	}
	return base + "." + elem
}

// scope checks one list of states (the flow's, or a Map's processor):
// names unique, StartAt and every Next present, every state reached, and
// follows the states from StartAt to record the phases in order.
func (c *checker) scope(at string, m map[string]any, inMap bool) {
	list, ok := m["States"].([]any)
	if !ok || len(list) == 0 {
		c.add(join(at, "States"), "must be a non-empty list of states")
		return
	}
	states := map[string]map[string]any{}
	var order []string
	for i, s := range list {
		sm, ok := s.(map[string]any)
		name, _ := sm["Name"].(string)
		if !ok || name == "" {
			c.add(fmt.Sprintf("%s[%d]", join(at, "States"), i), "must be a state with a Name")
			continue
		}
		if states[name] != nil {
			c.add(join(at, "States["+name+"]"), "is defined twice")
			continue
		}
		states[name] = sm
		order = append(order, name)
	}
	start, _ := m["StartAt"].(string)
	if states[start] == nil {
		c.add(join(at, "StartAt"), "names %q, which is not a state of this scope", start)
		return
	}
	for _, name := range order {
		c.state(join(at, "States["+name+"]"), states[name], states, inMap)
	}
	// Walk from StartAt: every state must be reached, and the tasks'
	// phases are recorded in the order the flow runs them.
	reached := map[string]bool{}
	queue := []string{start}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if reached[name] || states[name] == nil {
			continue
		}
		reached[name] = true
		s := states[name]
		if ph, ok := taskPhase(s); ok {
			c.tasks = append(c.tasks, ph)
		}
		if s["Type"] == "Map" {
			if proc, ok := s["Processor"].(map[string]any); ok {
				sub := &checker{schema: c.schema}
				sub.walkOnly(proc)
				c.tasks = append(c.tasks, sub.tasks...)
			}
		}
		queue = append(queue, successors(s)...)
	}
	for _, name := range order {
		if !reached[name] {
			c.add(join(at, "States["+name+"]"), "is never reached from StartAt %q", start)
		}
	}
}

// walkOnly records the phases a processor's main path runs (its own
// problems are reported by scope).
func (c *checker) walkOnly(m map[string]any) {
	list, _ := m["States"].([]any)
	states := map[string]map[string]any{}
	for _, s := range list {
		if sm, ok := s.(map[string]any); ok {
			if name, _ := sm["Name"].(string); name != "" {
				states[name] = sm
			}
		}
	}
	start, _ := m["StartAt"].(string)
	seen := map[string]bool{}
	for name := start; states[name] != nil && !seen[name]; {
		seen[name] = true
		if ph, ok := taskPhase(states[name]); ok {
			c.tasks = append(c.tasks, ph)
		}
		next, _ := states[name]["Next"].(string)
		name = next
	}
}

func successors(s map[string]any) []string {
	var out []string
	if n, ok := s["Next"].(string); ok {
		out = append(out, n)
	}
	if d, ok := s["Default"].(string); ok {
		out = append(out, d)
	}
	for _, key := range []string{"Catch", "Branches"} {
		l, _ := s[key].([]any)
		for _, e := range l {
			em, _ := e.(map[string]any)
			if n, ok := em["Next"].(string); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

// taskPhase is the phase a task state's body names.
func taskPhase(s map[string]any) (fanout.Phase, bool) {
	if s["Type"] != "Task" {
		return "", false
	}
	params, _ := s["Parameters"].(map[string]any)
	body, _ := params["body"].(map[string]any)
	ph, ok := body["phase"].(string)
	return fanout.Phase(ph), ok
}

func (c *checker) state(at string, s map[string]any, states map[string]map[string]any, inMap bool) {
	typ, _ := s["Type"].(string)
	if !slices.Contains(stateTypes, typ) {
		c.add(join(at, "Type"), "is %q, not a CloudFlow state type (%s)", typ, strings.Join(stateTypes, ", "))
		return
	}
	exists := func(path, next string) {
		if states[next] == nil {
			c.add(path, "names %q, which is not a state of this scope", next)
		}
	}
	next, hasNext := s["Next"].(string)
	end, _ := s["End"].(bool)
	switch typ {
	case "Choice":
		branches, _ := s["Branches"].([]any)
		if len(branches) == 0 {
			c.add(join(at, "Branches"), "a Choice needs at least one branch")
		}
		for i, b := range branches {
			bm, _ := b.(map[string]any)
			bn, _ := bm["Next"].(string)
			if cond, _ := bm["Condition"].(string); cond == "" {
				c.add(fmt.Sprintf("%s[%d].Condition", join(at, "Branches"), i), "is missing")
			}
			exists(fmt.Sprintf("%s[%d].Next", join(at, "Branches"), i), bn)
		}
		def, _ := s["Default"].(string)
		exists(join(at, "Default"), def)
	case "Succeed", "Fail":
		if hasNext {
			c.add(join(at, "Next"), "a %s state ends its scope and has no Next", typ)
		}
	default:
		switch {
		case hasNext && end:
			c.add(at, "has both Next and End")
		case hasNext:
			exists(join(at, "Next"), next)
		case !end:
			c.add(at, "has neither Next nor End: true")
		}
	}
	catches, _ := s["Catch"].([]any)
	for i, e := range catches {
		em, _ := e.(map[string]any)
		n, _ := em["Next"].(string)
		exists(fmt.Sprintf("%s[%d].Next", join(at, "Catch"), i), n)
	}
	switch typ {
	case "Map":
		c.mapState(at, s, inMap)
	case "Task":
		c.task(at, s, inMap)
	}
}

func (c *checker) mapState(at string, s map[string]any, inMap bool) {
	if inMap {
		c.add(at, "a Map inside a Map: the fan-out has one level, one worker per account")
	}
	if p, _ := s["ItemsPath"].(string); !slices.Contains(accountsPaths, p) {
		c.add(join(at, "ItemsPath"), "is %q; the Map must read the accounts (%s)", p, strings.Join(accountsPaths, " or "))
	}
	if mode, ok := s["ProcessorConfig"]; ok {
		c.add(join(at, "ProcessorConfig"), "is %v: the fan-out uses the inline Map (docs/fanout.md says why)", mode)
	}
	n, ok := s["MaxConcurrency"].(int)
	if !ok || n < 1 || n > fanout.InlineMapConcurrency {
		c.add(join(at, "MaxConcurrency"), "must be a whole number from 1 to %d (the inline Map's limit), got %v", fanout.InlineMapConcurrency, s["MaxConcurrency"])
	} else if n != fanout.MapConcurrency {
		c.add(join(at, "MaxConcurrency"), "is %d, but the program and docs/fanout.md assume %d (bounded below the worker's concurrency and FC's instance quota)", n, fanout.MapConcurrency)
	}
	proc, ok := s["Processor"].(map[string]any)
	if !ok {
		c.add(join(at, "Processor"), "must be a mapping with StartAt and States")
		return
	}
	before := len(c.tasks)
	c.scope(join(at, "Processor"), proc, true)
	c.tasks = c.tasks[:before] // recorded by the outer walk, in order
}

func (c *checker) task(at string, s map[string]any, inMap bool) {
	if a, _ := s["Action"].(string); a != "FC:InvokeFunction" {
		c.add(join(at, "Action"), "is %q; every task invokes the worker (FC:InvokeFunction)", a)
		return
	}
	if m, _ := s["TaskMode"].(string); m != "RequestComplete" {
		c.add(join(at, "TaskMode"), "must be RequestComplete: the next state needs the worker's answer, got %q", m)
	}
	params, ok := s["Parameters"].(map[string]any)
	if !ok {
		c.add(join(at, "Parameters"), "must be a mapping with resourceArn, invocationType and body")
		return
	}
	pat := join(at, "Parameters")
	if arn, _ := params["resourceArn"].(string); arn != fanout.WorkerARN {
		c.add(join(pat, "resourceArn"), "is %q; the flow may invoke only the worker, %s", arn, fanout.WorkerARN)
	}
	if it, _ := params["invocationType"].(string); it != "Sync" {
		c.add(join(pat, "invocationType"), "must be Sync (the Map waits for every worker before the next state), got %q", it)
	}
	body, ok := params["body"].(map[string]any)
	if !ok {
		c.add(join(pat, "body"), "must be a mapping: the worker's payload")
		return
	}
	sample := map[string]any{}
	for k, v := range body {
		key, isExpr := strings.CutSuffix(k, ".$")
		if !isExpr {
			sample[k] = v
			continue
		}
		expr, _ := v.(string)
		switch {
		case expr == exprRun:
			sample[key] = sampleRun
		case expr == exprAccount && inMap:
			sample[key] = sampleAcct
		case expr == exprAccount:
			c.add(join(join(pat, "body"), k), "reads %s outside a Map, where the input holds no account", expr)
		default:
			c.add(join(join(pat, "body"), k), "is %q; a payload reads only %s and, in a Map, %s", expr, exprRun, exprAccount)
		}
	}
	raw, _ := json.Marshal(sample)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err := c.schema.Validate(inst); err != nil {
		c.add(join(pat, "body"), "does not validate against %s: %s", SchemaPath, oneLine(err))
	}
	p, err := fanout.ParsePayload(raw)
	if err != nil {
		c.add(join(pat, "body"), "the worker would refuse it: %v", err)
		return
	}
	if p.Phase.PerAccount() != inMap {
		where := "outside a Map"
		if inMap {
			where = "inside a Map"
		}
		c.add(join(pat, "body"), "phase %s runs %s; plan and execute run in a Map (one per account), decide, notify and report once", p.Phase, where)
	}
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }

func compileSchema(b []byte) (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	const url = "mem://worker-payload.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

// CompileSchema compiles the worker payload's schema (for tests that hold
// the parser and the schema to one another).
func CompileSchema(b []byte) (*jsonschema.Schema, error) { return compileSchema(b) }
