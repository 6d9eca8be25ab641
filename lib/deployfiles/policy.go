package deployfiles

import (
	"maps"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// grantedActions is what a RAM policy for the function must allow, and
// nothing else: the instances' ECS actions and each kind's (package
// kinds), each once.
func grantedActions() []string { return kinds.RAMActions() }

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

// The actions of the policy for sweeping other accounts.
const (
	actionAssumeRole   = "sts:AssumeRole"
	actionListAccounts = "resourcemanager:ListAccounts"
)

// orgDoc is one policy document for other accounts, and where it is.
type orgDoc struct {
	at  string
	doc map[string]any
}

// checkOrgPolicies checks the execution role's policies for other
// accounts against the settings: sts:AssumeRole on exactly the member
// role's ARN pattern (acs:ram::*:role/<REAPER_ROLE_NAME>) when several
// accounts are swept, resourcemanager:ListAccounts only when rd is, and
// nothing else. Problems about the whole are reported at at.
func checkOrgPolicies(file, at string, docs []orgDoc, env settings.Settings) []Problem {
	p := &problems{file: file}
	sel, err := env.Accounts()
	if err != nil {
		return nil // reported with the environment
	}
	wantRole := ecsapi.RoleARN("*", env.RoleName)
	granted := map[string]bool{}
	for _, d := range docs {
		if v, _ := asString(d.doc["Version"]); v != "1" {
			p.add(join(d.at, "Version"), "must be \"1\", got %v", d.doc["Version"])
		}
		stmts, _ := asSlice(d.doc["Statement"])
		if len(stmts) == 0 {
			p.add(join(d.at, "Statement"), "must be a non-empty list of statements")
		}
		for i, s := range stmts {
			sat := join(d.at, "Statement", i)
			sm, _ := asMap(s)
			if e, _ := asString(sm["Effect"]); e != "Allow" {
				p.add(join(sat, "Effect"), "must be Allow, got %v", sm["Effect"])
			}
			for _, k := range []string{"NotAction", "NotResource", "Condition"} {
				if _, ok := sm[k]; ok {
					p.add(join(sat, k), "is not used by these grants: they are checked as plain Allow statements")
				}
			}
			actions, ok := stringOrList(sm["Action"])
			if !ok {
				p.add(join(sat, "Action"), "must be an action or a list of actions, got %s", describe(sm["Action"]))
				continue
			}
			resources, _ := stringOrList(sm["Resource"])
			for _, a := range actions {
				switch a {
				case actionAssumeRole:
					if !slices.Equal(resources, []string{wantRole}) {
						p.add(join(sat, "Resource"), "must be exactly %q (the member role REAPER_ROLE_NAME names in every account), got %v", wantRole, sm["Resource"])
					}
				case actionListAccounts:
				default:
					p.add(join(sat, "Action"), "%q is not an action for other accounts (%s, %s)", a, actionAssumeRole, actionListAccounts)
					continue
				}
				if len(actions) > 1 {
					p.add(join(sat, "Action"), "gives %s a statement of its own: its resources differ", a)
				}
				granted[a] = true
			}
		}
	}
	switch {
	case !sel.Multi() && len(granted) > 0:
		p.add(at, "grant %s, but REAPER_ACCOUNTS sweeps the function's own account only: grant them only with REAPER_ACCOUNTS set", strings.Join(slices.Sorted(maps.Keys(granted)), ", "))
		return p.list
	case sel.Multi() && !granted[actionAssumeRole]:
		p.add(at, "grant no %s on %s, which REAPER_ACCOUNTS=%s needs", actionAssumeRole, wantRole, sel)
	}
	if sel.RD && !granted[actionListAccounts] {
		p.add(at, "grant no %s, which REAPER_ACCOUNTS=%s needs", actionListAccounts, sel)
	}
	if !sel.RD && granted[actionListAccounts] {
		p.add(at, "grant %s, which only REAPER_ACCOUNTS=rd needs", actionListAccounts)
	}
	return p.list
}
