package deployfiles

import (
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
)

// grantedActions is what a RAM policy for the function must allow, and
// nothing else: the instances' ECS actions and each kind's (package
// kinds), each once.
func grantedActions() []string {
	out := make([]string, 0, len(ecsapi.InstanceActions))
	for _, a := range ecsapi.InstanceActions {
		out = append(out, "ecs:"+a)
	}
	for _, a := range kinds.Actions() {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// checkPolicyDocument checks a RAM policy document: only Allow statements,
// whose actions together are exactly grantedActions — no wildcard, no
// NotAction, no action the code does not call and none it calls missing.
// Least privilege is the point: this role can release any instance in the
// account, so it must not also be able to do anything else.
func checkPolicyDocument(file, at string, doc map[string]any) []Problem {
	p := &problems{file: file}
	if v, _ := asString(doc["Version"]); v != "1" {
		p.add(join(at, "Version"), "must be \"1\" (the RAM policy language version), got %v", doc["Version"])
	}
	stmts, ok := asSlice(doc["Statement"])
	if !ok || len(stmts) == 0 {
		p.add(join(at, "Statement"), "must be a non-empty list of statements")
		return p.list
	}
	want := grantedActions()
	granted := map[string]bool{}
	for i, s := range stmts {
		sat := join(at, "Statement", i)
		sm, ok := asMap(s)
		if !ok {
			p.add(sat, "must be a mapping")
			continue
		}
		if e, _ := asString(sm["Effect"]); e != "Allow" {
			p.add(join(sat, "Effect"), "must be Allow, got %v: the checks reason about what the policy allows", sm["Effect"])
		}
		for _, k := range []string{"NotAction", "NotResource"} {
			if _, ok := sm[k]; ok {
				p.add(join(sat, k), "grants by exclusion, which is broader than the actions the function needs")
			}
		}
		if _, ok := sm["Resource"]; !ok {
			p.add(join(sat, "Resource"), "is missing")
		}
		actions, ok := stringOrList(sm["Action"])
		if !ok {
			p.add(join(sat, "Action"), "must be an action or a list of actions, got %s", describe(sm["Action"]))
			continue
		}
		for _, a := range actions {
			switch {
			case strings.Contains(a, "*"):
				p.add(join(sat, "Action"), "%q is a wildcard; grant exactly %s", a, strings.Join(want, ", "))
			case !slices.Contains(want, a):
				p.add(join(sat, "Action"), "%q is not an action the function calls (it calls %s)", a, strings.Join(want, ", "))
			default:
				granted[a] = true
			}
		}
	}
	for _, a := range want {
		if !granted[a] {
			p.add(join(at, "Statement"), "does not allow %q, which the function calls", a)
		}
	}
	return p.list
}

func stringOrList(v any) ([]string, bool) {
	if s, ok := asString(v); ok {
		return []string{s}, true
	}
	l, ok := asSlice(v)
	if !ok || len(l) == 0 {
		return nil, false
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], ok = asString(e); !ok {
			return nil, false
		}
	}
	return out, true
}
