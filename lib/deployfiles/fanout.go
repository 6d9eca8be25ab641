package deployfiles

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// The fan-out's resources in template.yaml (docs/fanout.md): the worker
// function, the result bucket, the flow and its role, and the execution
// role's fan-out policy.
const (
	typeBucket       = "ALIYUN::OSS::Bucket"
	typeFlow         = "ALIYUN::FNF::Flow"
	fanoutPolicyName = "ecs-reaper-fanout"
	flowService      = "fnf.aliyuncs.com"
)

// fanoutActions are exactly what the fan-out adds to the execution role:
// the timer function starts the flow, the workers read and write the run's
// documents (listing lets a missing one read as missing, not denied).
var fanoutActions = []string{"fnf:StartExecution", "oss:GetObject", "oss:ListObjects", "oss:PutObject"}

// flowActions: the flow's role may only invoke the worker.
var flowActions = []string{"fc:InvokeFunction"}

func init() {
	// ROS's documented properties (aliyun-oss-bucket, aliyun-fnf-flow).
	knownProperties[typeBucket] = props("BucketName", "AccessControl", "CORSConfiguration", "DeletionForce",
		"LifecycleConfiguration", "LoggingConfiguration", "Policy", "RefererConfiguration",
		"ServerSideEncryptionConfiguration", "StorageClass", "Tags", "WebsiteConfiguration", "RedundancyType",
		"VersioningConfiguration", "ResourceGroupId")
	knownProperties[typeFlow] = props("Name", "Definition", "RoleArn", "Description", "ExecutionMode", "ExternalStorageLocation")
}

// computedSettings may be the template's own resource attribute rather than
// a literal ({'Fn::GetAtt': [ResultBucket, Name]}); the settings check sees
// a stand-in, and checkFanout checks the reference.
var computedSettings = map[string]string{settings.EnvResultBucket: "ecs-reaper-results-stand-in"}

func isGetAtt(v any) bool {
	m, ok := asMap(v)
	ref, _ := asSlice(m["Fn::GetAtt"])
	return ok && len(m) == 1 && len(ref) == 2
}

// isFlowRole reports a role that CloudFlow assumes.
func isFlowRole(r map[string]any) bool {
	stmts, _ := asSlice(mapGet(r, "Properties", "AssumeRolePolicyDocument", "Statement"))
	for _, st := range stmts {
		sm, _ := asMap(st)
		svc, _ := stringOrList(mapGet(sm, "Principal", "Service"))
		if slices.Contains(svc, flowService) {
			return true
		}
	}
	return false
}

func fanoutPolicies(pols []any) int {
	n := 0
	for _, pol := range pols {
		if pm, _ := asMap(pol); pm["PolicyName"] == fanoutPolicyName {
			n++
		}
	}
	return n
}

// workerFunctions are the template's functions named as the fan-out's worker.
func workerFunctions(resolved map[string]any, byType map[string][]string) []string {
	var out []string
	for _, name := range byType[typeFunction] {
		if mapGet(resolved, name, "Properties", "FunctionName") == fanout.WorkerFunction {
			out = append(out, name)
		}
	}
	return out
}

// checkNotWorker: the worker has no trigger; only the flow invokes it.
func checkNotWorker(p *problems, at string, ref any, resolved map[string]any, byType map[string][]string) {
	m, _ := asMap(ref)
	r, _ := asSlice(m["Fn::GetAtt"])
	if len(r) == 2 && slices.Contains(workerFunctions(resolved, byType), fmt.Sprint(r[0])) {
		p.add(at, "names the fan-out's worker %s, which has no trigger: only the flow invokes it", fanout.WorkerFunction)
	}
}

// checkFanoutPolicy: the execution role's fan-out policy allows exactly
// fanoutActions, on named resources (never "*").
func checkFanoutPolicy(p *problems, at string, pm map[string]any) {
	doc, _ := asMap(pm["PolicyDocument"])
	checkScopedPolicy(p, join(at, "PolicyDocument"), doc, fanoutActions, "the fan-out")
}

func checkScopedPolicy(p *problems, at string, doc map[string]any, want []string, what string) {
	stmts, _ := asSlice(doc["Statement"])
	if len(stmts) == 0 {
		p.add(join(at, "Statement"), "must be a non-empty list of statements")
		return
	}
	granted := map[string]bool{}
	for i, st := range stmts {
		sat := join(at, "Statement", i)
		sm, _ := asMap(st)
		if sm["Effect"] != "Allow" {
			p.add(join(sat, "Effect"), "must be Allow")
		}
		for _, k := range []string{"NotAction", "NotResource"} {
			if _, ok := sm[k]; ok {
				p.add(join(sat, k), "grants by exclusion")
			}
		}
		if r, _ := asString(sm["Resource"]); r == "" && !isSub(sm["Resource"]) || r == "*" {
			p.add(join(sat, "Resource"), "must name the resources (a string or Fn::Sub), never *")
		}
		actions, _ := stringOrList(sm["Action"])
		for _, a := range actions {
			if !slices.Contains(want, a) {
				p.add(join(sat, "Action"), "%q is not an action %s needs (%s)", a, what, strings.Join(want, ", "))
				continue
			}
			granted[a] = true
		}
	}
	for _, a := range want {
		if !granted[a] {
			p.add(join(at, "Statement"), "does not allow %q, which %s needs", a, what)
		}
	}
}

func isSub(v any) bool {
	m, ok := asMap(v)
	_, sub := m["Fn::Sub"]
	return ok && len(m) == 1 && sub
}

func subText(v any) string {
	m, _ := asMap(v)
	s, _ := asString(m["Fn::Sub"])
	return s
}

// checkFanout checks the fan-out's resources as one: all or none; the flow
// is lib/fanout/flow.yaml verbatim and runs as a role that may only invoke
// the worker; the worker is the timer function without a trigger, with
// the same settings, size and role; the bucket is private and expires the
// run's documents under the prefix the functions write.
func checkFanout(resolved map[string]any, byType map[string][]string) []Problem {
	p := &problems{file: TemplatePath}
	workers := workerFunctions(resolved, byType)
	var flowRoles []string
	for _, name := range byType[typeRole] {
		if r, _ := asMap(resolved[name]); isFlowRole(r) {
			flowRoles = append(flowRoles, name)
		}
	}
	parts := map[string]int{"the worker function": len(workers), typeFlow: len(byType[typeFlow]), typeBucket: len(byType[typeBucket]), "the flow's role": len(flowRoles)}
	present := 0
	for _, n := range parts {
		if n > 0 {
			present++
		}
	}
	if present == 0 {
		return nil
	}
	for _, what := range []string{"the worker function", typeFlow, typeBucket, "the flow's role"} {
		if parts[what] != 1 {
			p.add("Resources", "the fan-out needs exactly one %s, got %d", what, parts[what])
		}
	}
	if len(p.list) > 0 {
		return p.list
	}
	worker, flow, bucket, flowRole := workers[0], byType[typeFlow][0], byType[typeBucket][0], flowRoles[0]
	var main string
	for _, name := range byType[typeFunction] {
		if name != worker {
			main = name
		}
	}
	wat, fat, bat, rat := join("Resources", worker, "Properties"), join("Resources", flow, "Properties"), join("Resources", bucket, "Properties"), join("Resources", flowRole, "Properties")
	// The worker: the same function without a trigger.
	for _, k := range []string{"Code", "Runtime", "Handler", "MemorySize", "Timeout", "Role", "EnvironmentVariables"} {
		if w, m := mapGet(resolved, worker, "Properties", k), mapGet(resolved, main, "Properties", k); fmt.Sprint(w) != fmt.Sprint(m) {
			p.add(join(wat, k), "is %v but %s has %v: the worker is the same code with the same settings, only invoked by the flow", w, main, m)
		}
	}
	env, _ := asMap(mapGet(resolved, main, "Properties", "EnvironmentVariables"))
	// The flow: the repository's definition, Standard (StartExecution's
	// idempotent names), its own role, the name the functions start.
	fp, _ := asMap(mapGet(resolved, flow, "Properties"))
	if def := subText(fp["Definition"]); def != string(fanout.FlowDefinition()) {
		p.add(join(fat, "Definition"), "must be {'Fn::Sub': <the text of %s>}, unchanged: the flow validate checks is the flow deployed", fanout.FlowPath)
	}
	if fp["ExecutionMode"] != "Standard" {
		p.add(join(fat, "ExecutionMode"), "must be Standard: StartExecution takes Standard flows only, and only they keep execution names")
	}
	if name, _ := asString(fp["Name"]); name == "" || name != env[settings.EnvFlowName] {
		p.add(join(fat, "Name"), "is %v but the functions' %s is %v", fp["Name"], settings.EnvFlowName, env[settings.EnvFlowName])
	}
	if !refersTo(fp["RoleArn"], flowRoles, "Arn") {
		p.add(join(fat, "RoleArn"), "must be {'Fn::GetAtt': [%s, Arn]}, the role that may only invoke the worker", flowRole)
	}
	// The flow's role: trusted by CloudFlow only, allowed only to invoke
	// the worker.
	rp, _ := asMap(mapGet(resolved, flowRole, "Properties"))
	stmts, _ := asSlice(mapGet(rp, "AssumeRolePolicyDocument", "Statement"))
	for i, st := range stmts {
		sm, _ := asMap(st)
		principal, _ := asMap(sm["Principal"])
		svc, _ := stringOrList(principal["Service"])
		if len(principal) != 1 || !slices.Equal(svc, []string{flowService}) {
			p.add(join(rat, "AssumeRolePolicyDocument", "Statement", i, "Principal"), "must be {Service: [%s]} only", flowService)
		}
	}
	pols, _ := asSlice(rp["Policies"])
	if len(pols) != 1 || rp["PolicyAttachments"] != nil {
		p.add(join(rat, "Policies"), "must be exactly one inline policy, and nothing attached")
	}
	for i, pol := range pols {
		pm, _ := asMap(pol)
		doc, _ := asMap(pm["PolicyDocument"])
		pat := join(rat, "Policies", i, "PolicyDocument")
		checkScopedPolicy(p, pat, doc, flowActions, "the flow")
		dstmts, _ := asSlice(doc["Statement"])
		for j, st := range dstmts {
			sm, _ := asMap(st)
			if !strings.HasSuffix(subText(sm["Resource"]), ":functions/"+fanout.WorkerFunction) {
				p.add(join(pat, "Statement", j, "Resource"), "must name only the worker, acs:fc:${ALIYUN::Region}:${ALIYUN::AccountId}:functions/%s", fanout.WorkerFunction)
			}
		}
	}
	// The bucket: the functions' REAPER_RESULT_BUCKET, private, and its
	// documents expire.
	if !refersTo(env[settings.EnvResultBucket], []string{bucket}, "Name") {
		p.add(join("Resources", main, "Properties", "EnvironmentVariables", settings.EnvResultBucket), "must be {'Fn::GetAtt': [%s, Name]}", bucket)
	}
	bp, _ := asMap(mapGet(resolved, bucket, "Properties"))
	if bp["AccessControl"] != "private" {
		p.add(join(bat, "AccessControl"), "must be private: the run's plans list the account's instances")
	}
	prefix := env[settings.EnvResultPrefix]
	if prefix == nil {
		prefix = settings.Default().ResultPrefix
	}
	rules, _ := asSlice(mapGet(bp, "LifecycleConfiguration", "Rule"))
	expires := false
	for _, r := range rules {
		rm, _ := asMap(r)
		days, ok := wholeNumber(mapGet(rm, "Expiration", "Days"))
		if rm["Status"] == "Enabled" && ok && days >= 1 && (rm["Prefix"] == prefix || rm["Prefix"] == "" || rm["Prefix"] == nil) {
			expires = true
		}
	}
	if !expires {
		p.add(join(bat, "LifecycleConfiguration"), "must have an Enabled rule expiring the documents under %v after some days", prefix)
	}
	return p.list
}

// sharedWithWorker are the fc3 props the worker shares with the reaper:
// the same code, built the same way, with the same size, role and
// settings.
var sharedWithWorker = []string{"region", "runtime", "handler", "code", "memorySize", "timeout", "role", "internetAccess", "logConfig", "environmentVariables"}

// checkSFanout checks s.fanout.yaml: one fc3 resource, the worker, which
// is s.yaml's reaper without a trigger, reserving the flow's concurrency.
func checkSFanout(doc, syaml map[string]any) []Problem {
	p := &problems{file: SFanoutPath}
	if e, _ := asString(doc["edition"]); e != "3.0.0" {
		p.add("edition", "must be \"3.0.0\" (Serverless Devs 3), got %v", doc["edition"])
	}
	vars, _ := asMap(doc["vars"])
	resources, _ := asMap(doc["resources"])
	var names []string
	for _, name := range sortedKeys(resources) {
		if res, _ := asMap(resources[name]); res["component"] == "fc3" {
			names = append(names, name)
		}
	}
	if len(names) != 1 {
		p.add("resources", "must hold exactly one fc3 resource, the worker, got %d", len(names))
		return p.list
	}
	base := join("resources", names[0])
	res, _ := asMap(resources[names[0]])
	props, ok := asMap(substitute(p, join(base, "props"), res["props"], vars))
	if !ok {
		p.add(join(base, "props"), "must be a mapping")
		return p.list
	}
	for _, pe := range validateProps(props) {
		p.add(join(base, "props", pe.path), "%s", pe.msg)
	}
	if props["functionName"] != fanout.WorkerFunction {
		p.add(join(base, "props", "functionName"), "must be %s: the flow invokes the worker by that name", fanout.WorkerFunction)
	}
	if _, set := props["triggers"]; set {
		p.add(join(base, "props", "triggers"), "the worker has no trigger: only the flow invokes it")
	}
	if n, ok := wholeNumber(mapGet(props, "concurrencyConfig", "reservedConcurrency")); !ok || n < fanout.MapConcurrency {
		p.add(join(base, "props", "concurrencyConfig", "reservedConcurrency"), "must reserve at least the flow's Map concurrency (%d), got %v", fanout.MapConcurrency, mapGet(props, "concurrencyConfig", "reservedConcurrency"))
	}
	checkBuildActions(p, join(base, "actions"), res["actions"], props)
	env, envOK := checkEnv(p, join(base, "props", "environmentVariables"), props["environmentVariables"])
	if envOK {
		checkTimeout(p, join(base, "props", "timeout"), props["timeout"], env)
	}
	reaper := firstFC3Props(syaml)
	if reaper == nil {
		return p.list // s.yaml's own checks report it
	}
	for _, k := range sharedWithWorker {
		mine, theirs := fmt.Sprint(props[k]), fmt.Sprint(reaper[k])
		if k == "code" { // each file's paths are relative to its own directory
			mine, theirs = path.Join(path.Dir(SFanoutPath), mine), path.Clean(theirs)
		}
		if mine != theirs {
			p.add(join(base, "props", k), "is %v but s.yaml's reaper has %v: the worker is the same function with the same settings, only invoked by the flow", props[k], reaper[k])
		}
	}
	return p.list
}
