package deployfiles

import (
	"fmt"
	"slices"
)

// Resource types of the legacy template.
const (
	typeService  = "Aliyun::Serverless::Service"
	typeFunction = "Aliyun::Serverless::Function"
	typeRole     = "ALIYUN::RAM::Role"
)

// templateTimer names the fields of a funcraft Timer event's Properties.
var templateTimer = timerFields{
	cron: "CronExpression", enable: "Enable", payload: "Payload",
	known: map[string]bool{"CronExpression": true, "Enable": true, "Payload": true, "InvocationRole": true},
	list:  "CronExpression, Enable, Payload, InvocationRole",
}

func checkTemplate(doc map[string]any) []Problem {
	p := &problems{file: TemplatePath}
	if v, _ := asString(doc["ROSTemplateFormatVersion"]); v != "2015-09-01" {
		p.add("ROSTemplateFormatVersion", "must be '2015-09-01', got %v", doc["ROSTemplateFormatVersion"])
	}
	if v, _ := asString(doc["Transform"]); v != "Aliyun::Serverless-2018-04-03" {
		p.add("Transform", "must be 'Aliyun::Serverless-2018-04-03', got %v", doc["Transform"])
	}
	resources, ok := asMap(doc["Resources"])
	if !ok {
		p.add("Resources", "must be a mapping of resources")
		return p.list
	}
	roles := map[string]bool{}
	for _, name := range sortedKeys(resources) {
		if r, _ := asMap(resources[name]); r["Type"] == typeRole {
			roles[name] = true
			checkRole(p, join("Resources", name), r)
		}
	}
	functions := 0
	for _, name := range sortedKeys(resources) {
		svc, _ := asMap(resources[name])
		if svc["Type"] != typeService {
			continue
		}
		at := join("Resources", name)
		props, _ := asMap(svc["Properties"])
		checkRoleRef(p, join(at, "Properties", "Role"), props["Role"], roles)
		for _, fname := range sortedKeys(svc) {
			fn, _ := asMap(svc[fname])
			if fn["Type"] != typeFunction {
				continue
			}
			functions++
			checkTemplateFunction(p, join(at, fname), fn)
		}
	}
	if functions == 0 {
		p.add("Resources", "has no %s inside an %s", typeFunction, typeService)
	}
	if len(roles) == 0 {
		p.add("Resources", "has no %s: the template must create the function's least-privilege role", typeRole)
	}
	return p.list
}

// checkRoleRef checks that the service runs as the role this template
// defines, so the policy checked below is the one the function really has.
func checkRoleRef(p *problems, at string, v any, roles map[string]bool) {
	m, _ := asMap(v)
	ref, _ := asSlice(m["Fn::GetAtt"])
	if len(ref) == 2 && ref[1] == "Arn" {
		if name, _ := asString(ref[0]); roles[name] {
			return
		}
	}
	p.add(at, "must be {'Fn::GetAtt': [<role>, Arn]} naming the %s in this template, got %v", typeRole, v)
}

func checkRole(p *problems, at string, r map[string]any) {
	props, ok := asMap(r["Properties"])
	if !ok {
		p.add(join(at, "Properties"), "must be a mapping")
		return
	}
	for _, k := range []string{"PolicyAttachments", "ManagedPolicyArns"} {
		if _, ok := props[k]; ok {
			p.add(join(at, "Properties", k), "attaches further policies; the role may carry only its checked inline policy")
		}
	}
	checkTrust(p, join(at, "Properties", "AssumeRolePolicyDocument"), props["AssumeRolePolicyDocument"])
	pols, _ := asSlice(props["Policies"])
	if len(pols) != 1 {
		p.add(join(at, "Properties", "Policies"), "must hold exactly one inline policy (the ECS actions the function calls), got %d", len(pols))
	}
	for i, pol := range pols {
		pat := join(at, "Properties", "Policies", i)
		pm, _ := asMap(pol)
		if name, _ := asString(pm["PolicyName"]); name == "" {
			p.add(join(pat, "PolicyName"), "is missing")
		}
		doc, ok := asMap(pm["PolicyDocument"])
		if !ok {
			p.add(join(pat, "PolicyDocument"), "must be a policy document mapping")
			continue
		}
		p.list = append(p.list, checkPolicyDocument(p.file, join(pat, "PolicyDocument"), doc)...)
	}
}

// checkTrust checks that only Function Compute may assume the role: any
// other principal could use it to release instances.
func checkTrust(p *problems, at string, v any) {
	doc, ok := asMap(v)
	if !ok {
		p.add(at, "must be a trust policy letting fc.aliyuncs.com assume the role")
		return
	}
	stmts, _ := asSlice(doc["Statement"])
	trusted := false
	for i, s := range stmts {
		sat := join(at, "Statement", i)
		sm, _ := asMap(s)
		acts, _ := stringOrList(sm["Action"])
		principal, _ := asMap(sm["Principal"])
		for _, k := range sortedKeys(principal) {
			if k != "Service" {
				p.add(join(sat, "Principal", k), "lets a non-service principal assume the role; only fc.aliyuncs.com may")
			}
		}
		services, _ := stringOrList(principal["Service"])
		for _, svc := range services {
			if svc != "fc.aliyuncs.com" {
				p.add(join(sat, "Principal", "Service"), "trusts %q; only fc.aliyuncs.com may assume the role", svc)
			}
		}
		if sm["Effect"] == "Allow" && slices.Equal(acts, []string{"sts:AssumeRole"}) && slices.Contains(services, "fc.aliyuncs.com") {
			trusted = true
		}
	}
	if !trusted {
		p.add(at, "has no statement allowing fc.aliyuncs.com to sts:AssumeRole")
	}
}

func checkTemplateFunction(p *problems, at string, fn map[string]any) {
	props, ok := asMap(fn["Properties"])
	pat := join(at, "Properties")
	if !ok {
		p.add(pat, "must be a mapping")
		return
	}
	if v, _ := asString(props["Runtime"]); v != wantRuntime {
		p.add(join(pat, "Runtime"), "must be %q: fc-runtime-go-sdk only works in the go1 runtime", wantRuntime)
	}
	if v, _ := asString(props["Handler"]); v != wantHandler {
		p.add(join(pat, "Handler"), "must be %q, the binary the build writes", wantHandler)
	}
	if v, _ := asString(props["CodeUri"]); v == "" {
		p.add(join(pat, "CodeUri"), "must name the directory holding the built binary")
	}
	if mem, ok := wholeNumber(props["MemorySize"]); !ok || mem < 128 || mem > 32768 || mem%64 != 0 {
		p.add(join(pat, "MemorySize"), "must be a multiple of 64 MB from 128 to 32768, got %v", props["MemorySize"])
	}
	timeout, ok := wholeNumber(props["Timeout"])
	if !ok || timeout < 1 || timeout > 86400 {
		p.add(join(pat, "Timeout"), "must be whole seconds from 1 to 86400, got %v", props["Timeout"])
	}
	if ac, ok := asMap(props["AsyncConfiguration"]); ok {
		if n, ok := wholeNumber(ac["MaxAsyncRetryAttempts"]); !ok || n < 0 || n > 8 {
			p.add(join(pat, "AsyncConfiguration", "MaxAsyncRetryAttempts"), "must be 0 to 8, got %v", ac["MaxAsyncRetryAttempts"])
		}
	}
	env, envOK := checkEnv(p, join(pat, "EnvironmentVariables"), props["EnvironmentVariables"])
	if envOK && ok {
		checkTimeout(p, join(pat, "Timeout"), props["Timeout"], env)
	}

	events, _ := asMap(fn["Events"])
	timers := 0
	for _, name := range sortedKeys(events) {
		ev, _ := asMap(events[name])
		if ev["Type"] != "Timer" {
			continue
		}
		timers++
		checkTimer(p, join(at, "Events", name, "Properties"), ev["Properties"], templateTimer, env, envOK)
	}
	if timers == 0 {
		p.add(join(at, "Events"), "has no Timer event: nothing would run the function")
	}
}

// checkInStep reports where template.yaml's function differs from s.yaml's
// in what decides behaviour (schedule, size, time limit, retries): the two
// files describe one function, and a fix made in only one would be lost
// by whoever deploys with the other.
func checkInStep(syaml, tmpl map[string]any) []Problem {
	sp := firstFC3Props(syaml)
	tat, tp := firstTemplateFunction(tmpl)
	if sp == nil || tp == nil {
		return nil // reported by the per-file checks
	}
	p := &problems{file: TemplatePath}
	same := func(path string, tv, sv any) {
		if fmt.Sprint(tv) != fmt.Sprint(sv) {
			p.add(join(tat, path), "is %v but s.yaml has %v; keep the two deployments in step", tv, sv)
		}
	}
	props, _ := asMap(tp["Properties"])
	same("Properties.MemorySize", props["MemorySize"], sp["memorySize"])
	same("Properties.Timeout", props["Timeout"], sp["timeout"])
	tac, _ := asMap(props["AsyncConfiguration"])
	sac, _ := asMap(sp["asyncInvokeConfig"])
	same("Properties.AsyncConfiguration.MaxAsyncRetryAttempts", tac["MaxAsyncRetryAttempts"], sac["maxAsyncRetryAttempts"])

	var sCron any
	triggers, _ := asSlice(sp["triggers"])
	for _, t := range triggers {
		if tm, _ := asMap(t); tm["triggerType"] == "timer" {
			cfg, _ := asMap(tm["triggerConfig"])
			sCron = cfg["cronExpression"]
			break
		}
	}
	events, _ := asMap(tp["Events"])
	for _, name := range sortedKeys(events) {
		if ev, _ := asMap(events[name]); ev["Type"] == "Timer" {
			ep, _ := asMap(ev["Properties"])
			same(join("Events", name, "Properties", "CronExpression"), ep["CronExpression"], sCron)
			break
		}
	}
	return p.list
}

func firstFC3Props(doc map[string]any) map[string]any {
	resources, _ := asMap(doc["resources"])
	vars, _ := asMap(doc["vars"])
	for _, name := range sortedKeys(resources) {
		if res, _ := asMap(resources[name]); res["component"] == "fc3" {
			props, _ := asMap(substitute(&problems{}, "", res["props"], vars))
			return props
		}
	}
	return nil
}

func firstTemplateFunction(doc map[string]any) (string, map[string]any) {
	resources, _ := asMap(doc["Resources"])
	for _, name := range sortedKeys(resources) {
		svc, _ := asMap(resources[name])
		if svc["Type"] != typeService {
			continue
		}
		for _, fname := range sortedKeys(svc) {
			if fn, _ := asMap(svc[fname]); fn["Type"] == typeFunction {
				return join("Resources", name, fname), fn
			}
		}
	}
	return "", nil
}
