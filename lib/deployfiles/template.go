package deployfiles

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// Resource types of the template: ROS's native FC 3.0 resources, the
// role, and the log store. Each with the properties ROS documents
// (docs: help/ros/developer-reference/aliyun-fc3-function and the others;
// ../shared/reference/next-apis-facts.md section I), so that a misspelt
// property is caught here rather than by a failed stack.
const (
	typeRole     = "ALIYUN::RAM::Role"
	typePolicy   = "ALIYUN::RAM::ManagedPolicy"
	typeFunction = "ALIYUN::FC3::Function"
	typeTrigger  = "ALIYUN::FC3::Trigger"
	typeAsync    = "ALIYUN::FC3::AsyncInvokeConfig"
	typeProject  = "ALIYUN::SLS::Project"
	typeLogstore = "ALIYUN::SLS::Logstore"
	typeIndex    = "ALIYUN::SLS::Index"
)

func props(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

var knownProperties = map[string]map[string]bool{
	typeRole: props("RoleName", "Description", "AssumeRolePolicyDocument", "MaxSessionDuration", "Policies",
		"PolicyAttachments", "IgnoreExisting", "DeletionForce"),
	typePolicy: props("PolicyName", "Description", "PolicyDocument", "Roles"),
	typeFunction: props("FunctionName", "Handler", "Runtime", "Code", "MemorySize", "Timeout", "Cpu", "DiskSize",
		"Role", "EnvironmentVariables", "LogConfig", "InternetAccess", "InstanceConcurrency", "VpcConfig", "Layers",
		"InstanceLifecycleConfig", "Tags", "CustomContainerConfig", "NasConfig", "OssMountConfig", "TracingConfig",
		"DisableOndemand", "SessionAffinity", "Description"),
	typeTrigger: props("FunctionName", "TriggerType", "TriggerName", "TriggerConfig", "Qualifier", "InvocationRole",
		"SourceArn", "Description"),
	typeAsync: props("FunctionName", "AsyncTask", "DestinationConfig", "MaxAsyncEventAgeInSeconds",
		"MaxAsyncRetryAttempts", "Qualifier"),
	typeProject: props("Name", "Description", "Tags"),
	typeLogstore: props("ProjectName", "LogstoreName", "TTL", "ShardCount", "AutoSplit", "MaxSplitShard",
		"EnableTracking", "AppendMeta", "PreserveStorage", "EncryptConf", "Mode"),
	typeIndex: props("ProjectName", "LogstoreName", "FullTextIndex", "KeyIndices", "LogReduce"),
}

// pseudoParameters are ROS's built-in parameters.
var pseudoParameters = props("ALIYUN::Region", "ALIYUN::AccountId", "ALIYUN::StackName", "ALIYUN::StackId",
	"ALIYUN::TenantId", "ALIYUN::NoValue")

// templateTimer names the fields of an FC 3.0 timer trigger's
// TriggerConfig: the API's own camelCase keys. (Which casing
// ALIYUN::FC3::Trigger expects is not documented with an example; the FC
// 3.0 API takes these, and a wrong key fails the stack loudly.)
var templateTimer = sYAMLTimer

func checkTemplate(doc map[string]any) []Problem {
	p := &problems{file: TemplatePath}
	if v, _ := asString(doc["ROSTemplateFormatVersion"]); v != "2015-09-01" {
		p.add("ROSTemplateFormatVersion", "must be '2015-09-01', got %v", doc["ROSTemplateFormatVersion"])
	}
	if v, ok := doc["Transform"]; ok {
		p.add("Transform", "is %v: the FC 2.0 Aliyun::Serverless transform's tool (funcraft) is discontinued; use ROS's ALIYUN::FC3 resources", v)
	}
	if _, ok := asMap(doc["Resources"]); !ok {
		p.add("Resources", "must be a mapping of resources")
		return p.list
	}
	resolved := resolveTemplate(p, doc)

	byType := map[string][]string{}
	for _, name := range sortedKeys(resolved) {
		r, _ := asMap(resolved[name])
		at := join("Resources", name)
		typ, _ := asString(r["Type"])
		known, ok := knownProperties[typ]
		if !ok {
			p.add(join(at, "Type"), "is %q, not one of the resource types this deployment uses (%s)", typ, strings.Join(slices.Sorted(maps.Keys(knownProperties)), ", "))
			continue
		}
		byType[typ] = append(byType[typ], name)
		pm, _ := asMap(r["Properties"])
		for _, k := range sortedKeys(pm) {
			if !known[k] {
				p.add(join(at, "Properties", k), "is not a property of %s", typ)
			}
		}
	}
	roles := map[string]bool{}
	for _, name := range byType[typeRole] {
		r, _ := asMap(resolved[name])
		if isFlowRole(r) {
			continue // the fan-out's flow role: checkFanout
		}
		roles[name] = true
		checkRole(p, join("Resources", name), r)
	}
	if len(roles) == 0 {
		p.add("Resources", "has no %s: the template must create the function's least-privilege role", typeRole)
	}
	checkManagedPolicies(p, resolved, byType, roles)
	logstores := map[string]bool{}
	for _, name := range byType[typeLogstore] {
		if store, ok := asString(mapGet(resolved, name, "Properties", "LogstoreName")); ok {
			logstores[store] = true
		}
	}
	functions := map[string]bool{}
	for _, name := range byType[typeFunction] {
		functions[name] = true
		fn, _ := asMap(resolved[name])
		checkTemplateFunction(p, join("Resources", name), fn, roles, byType, logstores)
	}
	if n := len(functions) - len(workerFunctions(resolved, byType)); n != 1 {
		p.add("Resources", "must have exactly one %s besides the fan-out's worker, got %d", typeFunction, n)
	}
	timers := 0
	for _, name := range byType[typeTrigger] {
		at := join("Resources", name, "Properties")
		tp, _ := asMap(mapGet(resolved, name, "Properties"))
		checkFunctionRef(p, join(at, "FunctionName"), tp["FunctionName"], functions)
		checkNotWorker(p, join(at, "FunctionName"), tp["FunctionName"], resolved, byType)
		if tp["TriggerType"] != "timer" {
			continue
		}
		timers++
		env, envOK := templateEnv(resolved, byType)
		checkTimer(p, join(at, "TriggerConfig"), tp["TriggerConfig"], templateTimer, env, envOK)
	}
	if timers == 0 {
		p.add("Resources", "has no %s of TriggerType timer: nothing would run the function", typeTrigger)
	}
	for _, name := range byType[typeAsync] {
		at := join("Resources", name, "Properties")
		ap, _ := asMap(mapGet(resolved, name, "Properties"))
		checkFunctionRef(p, join(at, "FunctionName"), ap["FunctionName"], functions)
		if n, ok := wholeNumber(ap["MaxAsyncRetryAttempts"]); !ok || n < 0 || n > 8 {
			p.add(join(at, "MaxAsyncRetryAttempts"), "must be 0 to 8, got %v", ap["MaxAsyncRetryAttempts"])
		}
		if v, set := ap["MaxAsyncEventAgeInSeconds"]; set {
			if n, ok := wholeNumber(v); !ok || n < 1 || n > 604800 {
				p.add(join(at, "MaxAsyncEventAgeInSeconds"), "must be 1 to 604800 seconds, got %v", v)
			}
		}
	}
	if len(byType[typeAsync]) == 0 {
		p.add("Resources", "has no %s: FC would retry a failed timer run 3 times", typeAsync)
	}
	p.list = append(p.list, checkFanout(resolved, byType)...)
	if _, ok := asMap(doc["Outputs"]); !ok {
		p.add("Outputs", "must name the function and its log store, so that the operator finds the reports")
	}
	return p.list
}

// resolveTemplate resolves {Ref: Parameter} to the parameter's Default and
// settles Fn::If by the template's Conditions, so that the checks see the
// values a stack created with the defaults gets; an Fn::If branch that is
// {Ref: ALIYUN::NoValue} removes its entry. A Ref to nothing is reported.
func resolveTemplate(p *problems, doc map[string]any) map[string]any {
	params, _ := asMap(doc["Parameters"])
	conds, _ := asMap(doc["Conditions"])
	r := &resolver{p: p, params: params, conds: conds, known: map[string]bool{}}
	out, _ := asMap(r.resolve("Resources", doc["Resources"]))
	for _, name := range sortedKeys(out) {
		res, _ := asMap(out[name])
		if cond, ok := asString(res["Condition"]); ok && !r.condition(join("Resources", name, "Condition"), cond) {
			delete(out, name) // a stack with the defaults does not create it
		}
	}
	return out
}

type resolver struct {
	p      *problems
	params map[string]any
	conds  map[string]any
	known  map[string]bool // evaluated conditions
}

// noValue marks an entry Fn::If removed.
type noValue struct{}

func (r *resolver) resolve(at string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["Ref"]; ok && len(v) == 1 {
			name, _ := asString(ref)
			if name == "ALIYUN::NoValue" {
				return noValue{}
			}
			if pseudoParameters[name] {
				return v
			}
			param, ok := asMap(r.params[name])
			if !ok {
				r.p.add(at, "refers to parameter %q, which Parameters does not define", name)
				return v
			}
			if def, ok := param["Default"]; ok {
				return def
			}
			return v // required at stack creation
		}
		if args, ok := asSlice(v["Fn::If"]); ok && len(v) == 1 {
			name, _ := asString(args[0])
			if len(args) != 3 {
				r.p.add(at, "Fn::If takes [condition, then, else]")
				return v
			}
			if r.condition(join(at, "Fn::If"), name) {
				return r.resolve(at, args[1])
			}
			return r.resolve(at, args[2])
		}
		if args, ok := asSlice(v["Fn::Join"]); ok && len(v) == 1 && len(args) == 2 {
			sep, _ := asString(args[0])
			parts, _ := asSlice(r.resolve(at, args[1]))
			var strs []string
			for _, part := range parts {
				str, ok := asString(part)
				if !ok {
					return v // a pseudo parameter or attribute: known at stack creation
				}
				strs = append(strs, str)
			}
			return strings.Join(strs, sep)
		}
		out := make(map[string]any, len(v))
		for k, e := range v {
			if x := r.resolve(join(at, k), e); x != (noValue{}) {
				out[k] = x
			}
		}
		return out
	case []any:
		out := make([]any, 0, len(v))
		for i, e := range v {
			if x := r.resolve(join(at, i), e); x != (noValue{}) {
				out = append(out, x)
			}
		}
		return out
	}
	return v
}

// condition evaluates a named condition with the parameters' defaults.
func (r *resolver) condition(at, name string) bool {
	if v, ok := r.known[name]; ok {
		return v
	}
	def, ok := r.conds[name]
	if !ok {
		r.p.add(at, "refers to condition %q, which Conditions does not define", name)
		return false
	}
	r.known[name] = false // a loop evaluates to false
	v := r.evaluate(join("Conditions", name), def)
	r.known[name] = v
	return v
}

func (r *resolver) evaluate(at string, v any) bool {
	m, _ := asMap(v)
	if len(m) != 1 {
		r.p.add(at, "must be one of Fn::Equals, Fn::Not, Fn::And, Fn::Or or {Condition: name}")
		return false
	}
	for fn, arg := range m {
		args, _ := asSlice(arg)
		switch fn {
		case "Condition":
			name, _ := asString(arg)
			return r.condition(at, name)
		case "Fn::Equals":
			if len(args) != 2 {
				break
			}
			a, b := r.resolve(at, args[0]), r.resolve(at, args[1])
			return fmt.Sprint(a) == fmt.Sprint(b)
		case "Fn::Not":
			if len(args) != 1 {
				break
			}
			return !r.evaluate(join(at, fn), args[0])
		case "Fn::And", "Fn::Or":
			if len(args) < 2 {
				break
			}
			all, any := true, false
			for i, c := range args {
				x := r.evaluate(join(at, fn, i), c)
				all, any = all && x, any || x
			}
			return map[string]bool{"Fn::And": all, "Fn::Or": any}[fn]
		}
		r.p.add(join(at, fn), "is not a condition this check can evaluate")
	}
	return false
}

func mapGet(m map[string]any, keys ...string) any {
	var v any = m
	for _, k := range keys {
		mm, _ := asMap(v)
		v = mm[k]
	}
	return v
}

// templateEnv reads the function's settings for the timer's payload check.
func templateEnv(resolved map[string]any, byType map[string][]string) (settings.Settings, bool) {
	for _, name := range byType[typeFunction] {
		env, ok := checkEnv(&problems{}, "", mapGet(resolved, name, "Properties", "EnvironmentVariables"))
		return env, ok
	}
	return settings.Settings{}, false
}

// checkFunctionRef checks that a trigger or async config belongs to this
// template's function.
func checkFunctionRef(p *problems, at string, v any, functions map[string]bool) {
	m, _ := asMap(v)
	ref, _ := asSlice(m["Fn::GetAtt"])
	if len(ref) == 2 && ref[1] == "FunctionName" {
		if name, _ := asString(ref[0]); functions[name] {
			return
		}
	}
	p.add(at, "must be {'Fn::GetAtt': [<function>, FunctionName]} naming the %s in this template, got %v", typeFunction, v)
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
	if n := len(pols) - fanoutPolicies(pols); n != 1 {
		p.add(join(at, "Properties", "Policies"), "must hold exactly one inline policy (the ECS actions the function calls) besides the fan-out's, got %d", n)
	}
	for i, pol := range pols {
		pat := join(at, "Properties", "Policies", i)
		pm, _ := asMap(pol)
		if pm["PolicyName"] == fanoutPolicyName {
			checkFanoutPolicy(p, pat, pm)
			continue
		}
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

// checkManagedPolicies checks the template's managed policies: each is
// attached to the template's role only, and together they grant what the
// settings need for other accounts and nothing else (checkOrgPolicies).
func checkManagedPolicies(p *problems, resolved map[string]any, byType map[string][]string, roles map[string]bool) {
	var docs []orgDoc
	for _, name := range byType[typePolicy] {
		at := join("Resources", name, "Properties")
		props, _ := asMap(mapGet(resolved, name, "Properties"))
		attached, _ := asSlice(props["Roles"])
		if len(attached) != 1 || !refersTo(attached[0], slices.Sorted(maps.Keys(roles)), "RoleName") {
			p.add(join(at, "Roles"), "must be [{'Fn::GetAtt': [<role>, RoleName]}]: the policy is the function's role's, and no one else's")
		}
		doc, ok := asMap(props["PolicyDocument"])
		if !ok {
			p.add(join(at, "PolicyDocument"), "must be a policy document mapping")
			continue
		}
		docs = append(docs, orgDoc{join(at, "PolicyDocument"), doc})
	}
	env, ok := templateEnv(resolved, byType)
	if !ok {
		return // reported with the environment
	}
	p.list = append(p.list, checkOrgPolicies(p.file, "Resources", docs, env)...)
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

func checkTemplateFunction(p *problems, at string, fn map[string]any, roles map[string]bool, byType map[string][]string, logstores map[string]bool) {
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
	if _, set := props["InstanceConcurrency"]; set {
		p.add(join(pat, "InstanceConcurrency"), "has no effect on go1: FC 3.0 takes it only for custom runtimes")
	}
	code, _ := asMap(props["Code"])
	if code["ZipFile"] == nil && (code["OssBucketName"] == nil || code["OssObjectName"] == nil) {
		p.add(join(pat, "Code"), "must give OssBucketName and OssObjectName (the zipped binary), or ZipFile")
	}
	checkRoleRef(p, join(pat, "Role"), props["Role"], roles)
	if mem, ok := wholeNumber(props["MemorySize"]); !ok || mem < 128 || mem > 32768 || mem%64 != 0 {
		p.add(join(pat, "MemorySize"), "must be a multiple of 64 MB from 128 to 32768, got %v", props["MemorySize"])
	}
	timeout, ok := wholeNumber(props["Timeout"])
	if !ok || timeout < 1 || timeout > 86400 {
		p.add(join(pat, "Timeout"), "must be whole seconds from 1 to 86400, got %v", props["Timeout"])
	}
	// The logged report is the only record of a timer run.
	logs, _ := asMap(props["LogConfig"])
	if !refersTo(logs["Project"], byType[typeProject], "Name") || logs["Logstore"] == nil {
		p.add(join(pat, "LogConfig"), "must send the logs to the %s and %s of this template (Project: {'Fn::GetAtt': [<project>, Name]}, Logstore)", typeProject, typeLogstore)
	} else if store, _ := asString(logs["Logstore"]); !logstores[store] {
		p.add(join(pat, "LogConfig", "Logstore"), "is %q, which no %s of this template creates", store, typeLogstore)
	}
	env, envOK := checkEnv(p, join(pat, "EnvironmentVariables"), props["EnvironmentVariables"])
	if envOK && ok {
		checkTimeout(p, join(pat, "Timeout"), props["Timeout"], env)
	}
}

func refersTo(v any, names []string, attr string) bool {
	m, _ := asMap(v)
	ref, _ := asSlice(m["Fn::GetAtt"])
	if len(ref) != 2 || ref[1] != attr {
		return false
	}
	name, _ := asString(ref[0])
	return slices.Contains(names, name)
}

// checkInStep reports where template.yaml's function differs from s.yaml's
// in what decides behaviour (schedule, size, time limit, retries): the two
// files describe one function, and a fix made in only one would be lost
// by whoever deploys with the other. The template's values are those of a
// stack created with the parameters' defaults.
func checkInStep(syaml, tmpl map[string]any) []Problem {
	sp := firstFC3Props(syaml)
	resolved := resolveTemplate(&problems{}, tmpl)
	byType := map[string][]string{}
	for _, name := range sortedKeys(resolved) {
		typ, _ := asString(mapGet(resolved, name, "Type"))
		byType[typ] = append(byType[typ], name)
	}
	if sp == nil || len(byType[typeFunction]) == 0 {
		return nil // reported by the per-file checks
	}
	p := &problems{file: TemplatePath}
	same := func(at string, tv, sv any) {
		if fmt.Sprint(tv) != fmt.Sprint(sv) {
			p.add(at, "is %v but s.yaml has %v; keep the two deployments in step", tv, sv)
		}
	}
	fn := byType[typeFunction][0]
	same(join("Resources", fn, "Properties", "MemorySize"), mapGet(resolved, fn, "Properties", "MemorySize"), sp["memorySize"])
	same(join("Resources", fn, "Properties", "Timeout"), mapGet(resolved, fn, "Properties", "Timeout"), sp["timeout"])
	sac, _ := asMap(sp["asyncInvokeConfig"])
	for _, name := range byType[typeAsync] {
		same(join("Resources", name, "Properties", "MaxAsyncRetryAttempts"), mapGet(resolved, name, "Properties", "MaxAsyncRetryAttempts"), sac["maxAsyncRetryAttempts"])
	}
	var sCron any
	triggers, _ := asSlice(sp["triggers"])
	for _, t := range triggers {
		if tm, _ := asMap(t); tm["triggerType"] == "timer" {
			cfg, _ := asMap(tm["triggerConfig"])
			sCron = cfg["cronExpression"]
			break
		}
	}
	for _, name := range byType[typeTrigger] {
		if mapGet(resolved, name, "Properties", "TriggerType") == "timer" {
			same(join("Resources", name, "Properties", "TriggerConfig", "cronExpression"), mapGet(resolved, name, "Properties", "TriggerConfig", "cronExpression"), sCron)
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
