package deployfiles

import (
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/org"
)

// checkMemberRole checks the member accounts' role template: one RAM role,
// named as template.yaml's REAPER_ROLE_NAME (default org.DefaultRoleName),
// trusted by RAM principals of another account only (never a service or
// everyone), carrying exactly the policy of docs/ram-policy.json.
func checkMemberRole(doc, tmpl map[string]any) []Problem {
	p := &problems{file: MemberRolePath}
	if v, _ := asString(doc["ROSTemplateFormatVersion"]); v != "2015-09-01" {
		p.add("ROSTemplateFormatVersion", "must be '2015-09-01', got %v", doc["ROSTemplateFormatVersion"])
	}
	resolved := resolveTemplate(p, doc)
	roles := 0
	wantName := org.DefaultRoleName
	if env, ok := templateEnv(resolveTemplate(&problems{}, tmpl), typesOf(resolveTemplate(&problems{}, tmpl))); ok && env.RoleName != "" {
		wantName = env.RoleName
	}
	for _, name := range sortedKeys(resolved) {
		at := join("Resources", name)
		r, _ := asMap(resolved[name])
		if typ, _ := asString(r["Type"]); typ != typeRole {
			p.add(join(at, "Type"), "is %v: the member template creates the role only", r["Type"])
			continue
		}
		roles++
		props, _ := asMap(r["Properties"])
		for _, k := range sortedKeys(props) {
			if !knownProperties[typeRole][k] {
				p.add(join(at, "Properties", k), "is not a property of %s", typeRole)
			}
		}
		for _, k := range []string{"PolicyAttachments", "ManagedPolicyArns"} {
			if _, ok := props[k]; ok {
				p.add(join(at, "Properties", k), "attaches further policies; the member role may carry only docs/ram-policy.json's actions")
			}
		}
		if n, _ := asString(props["RoleName"]); n != wantName {
			p.add(join(at, "Properties", "RoleName"), "is %q by default, but the function assumes %q (REAPER_ROLE_NAME in template.yaml)", n, wantName)
		}
		checkMemberTrust(p, join(at, "Properties", "AssumeRolePolicyDocument"), props["AssumeRolePolicyDocument"])
		pols, _ := asSlice(props["Policies"])
		if len(pols) != 1 {
			p.add(join(at, "Properties", "Policies"), "must hold exactly one inline policy (docs/ram-policy.json's actions), got %d", len(pols))
		}
		for i, pol := range pols {
			pm, _ := asMap(pol)
			pd, ok := asMap(pm["PolicyDocument"])
			if !ok {
				p.add(join(at, "Properties", "Policies", i, "PolicyDocument"), "must be a policy document mapping")
				continue
			}
			p.list = append(p.list, checkPolicyDocument(p.file, join(at, "Properties", "Policies", i, "PolicyDocument"), pd)...)
		}
	}
	if roles != 1 {
		p.add("Resources", "must create exactly one %s, got %d", typeRole, roles)
	}
	return p.list
}

// checkMemberTrust: only RAM principals (an account's root or its users
// and roles) may assume the member role, by name, never "*" or a service.
func checkMemberTrust(p *problems, at string, v any) {
	doc, _ := asMap(v)
	stmts, _ := asSlice(doc["Statement"])
	if len(stmts) == 0 {
		p.add(at, "must be a trust policy naming the management account")
		return
	}
	for i, s := range stmts {
		sat := join(at, "Statement", i)
		sm, _ := asMap(s)
		if acts, _ := stringOrList(sm["Action"]); sm["Effect"] != "Allow" || len(acts) != 1 || acts[0] != "sts:AssumeRole" {
			p.add(sat, "must allow sts:AssumeRole and nothing else")
		}
		principal, _ := asMap(sm["Principal"])
		if len(principal) == 0 {
			p.add(join(sat, "Principal"), "is missing")
		}
		for _, k := range sortedKeys(principal) {
			if k != "RAM" {
				p.add(join(sat, "Principal", k), "trusts a %s principal; only the management account's RAM principals may assume the member role", k)
				continue
			}
			list, ok := asSlice(principal[k])
			if !ok {
				list = []any{principal[k]}
			}
			for _, e := range list {
				if str, ok := asString(e); ok && (strings.Contains(str, "*") || !strings.HasPrefix(str, "acs:ram::")) {
					p.add(join(sat, "Principal", k), "trusts %q; name the management account (acs:ram::<account>:root)", str)
				}
			}
		}
	}
}

func typesOf(resolved map[string]any) map[string][]string {
	byType := map[string][]string{}
	for _, name := range sortedKeys(resolved) {
		typ, _ := asString(mapGet(resolved, name, "Type"))
		byType[typ] = append(byType[typ], name)
	}
	return byType
}
