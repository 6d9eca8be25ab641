package deployfiles

import (
	"fmt"
	"path"
	"regexp"
	"strings"
)

// varRef matches a Serverless Devs global-variable reference, ${vars.name}.
// Other expressions (${env('X')}, ${config('AccountID')}, …) are resolved
// by `s` from the user's machine or account and are left as they are.
var varRef = regexp.MustCompile(`\$\{\s*vars\.([A-Za-z0-9_.-]+)\s*\}`)

// goBuildOut finds the output of a `go build -o X` command.
// fcTag finds the fc build tag in a go build command line.
var fcTag = regexp.MustCompile(`\s-tags[\s=]+["']?([A-Za-z0-9_.,]+,)?fc(,[A-Za-z0-9_.,]+)?["']?(\s|$)`)

var goBuildOut = regexp.MustCompile(`\bgo\s+build\b.*\s-o[\s=]+("[^"]+"|'[^']+'|\S+)`)

// wantRuntime and wantHandler are what the function is built for: the
// fc-runtime-go-sdk works only in the go1 runtime, and the build writes a
// binary named main.
const (
	wantRuntime = "go1"
	wantHandler = "main"
)

// sYAMLTimer names the fields of an fc3 timer triggerConfig. The fc3 schema
// lets unknown fields through, so a misspelt one is reported here.
var sYAMLTimer = timerFields{
	cron: "cronExpression", enable: "enable", payload: "payload",
	known: map[string]bool{"cronExpression": true, "enable": true, "payload": true},
	list:  "cronExpression, enable, payload",
}

func checkSYAML(doc map[string]any) []Problem {
	p := &problems{file: SYAMLPath}
	if e, _ := asString(doc["edition"]); e != "3.0.0" {
		p.add("edition", "must be \"3.0.0\" (Serverless Devs 3), got %v", doc["edition"])
	}
	vars := map[string]any{}
	if v, ok := doc["vars"]; ok {
		if vars, ok = asMap(v); !ok {
			p.add("vars", "must be a mapping, got %s", describe(v))
		}
	}
	resources, ok := asMap(doc["resources"])
	if !ok {
		p.add("resources", "must be a mapping of resources")
		return p.list
	}
	n := 0
	for _, name := range sortedKeys(resources) {
		res, ok := asMap(resources[name])
		base := join("resources", name)
		if !ok {
			p.add(base, "must be a mapping")
			continue
		}
		if c, _ := asString(res["component"]); c != "fc3" {
			continue
		}
		n++
		props := substitute(p, join(base, "props"), res["props"], vars)
		checkFC3Props(p, join(base, "props"), props)
		checkBuildActions(p, join(base, "actions"), res["actions"], props)
	}
	if n == 0 {
		p.add("resources", "no resource uses the fc3 component")
	}
	return p.list
}

// substitute returns a copy of v with ${vars.x} references replaced from
// vars. A string that is exactly one reference takes the variable's value
// with its type, so `memorySize: ${vars.mem}` stays a number, as in `s`.
func substitute(p *problems, at string, v any, vars map[string]any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = substitute(p, join(at, k), e, vars)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = substitute(p, join(at, i), e, vars)
		}
		return out
	case string:
		if m := varRef.FindStringSubmatch(v); m != nil && m[0] == strings.TrimSpace(v) {
			if val, ok := lookupVar(vars, m[1]); ok {
				return val
			}
			p.add(at, "refers to ${vars.%s}, which vars does not define", m[1])
			return v
		}
		return varRef.ReplaceAllStringFunc(v, func(ref string) string {
			name := varRef.FindStringSubmatch(ref)[1]
			val, ok := lookupVar(vars, name)
			if !ok {
				p.add(at, "refers to ${vars.%s}, which vars does not define", name)
				return ref
			}
			switch val.(type) {
			case map[string]any, []any:
				p.add(at, "interpolates ${vars.%s}, which is not a scalar", name)
				return ref
			}
			return fmt.Sprint(val)
		})
	}
	return v
}

func lookupVar(vars map[string]any, name string) (any, bool) {
	var cur any = vars
	for _, part := range strings.Split(name, ".") {
		m, ok := asMap(cur)
		if !ok {
			return nil, false
		}
		if cur, ok = m[part]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func checkFC3Props(p *problems, at string, v any) {
	props, ok := asMap(v)
	if !ok {
		p.add(at, "must be a mapping")
		return
	}
	for _, pe := range validateProps(props) {
		p.add(join(at, pe.path), "%s", pe.msg)
	}
	for _, k := range sortedKeys(props) {
		if knownProps != nil && !knownProps[k] {
			p.add(join(at, k), "is not an fc3 property (misspelt?); fc3 would ignore it")
		}
	}
	if r, _ := asString(props["runtime"]); r != wantRuntime {
		p.add(join(at, "runtime"), "must be %q: fc-runtime-go-sdk only works in the go1 runtime", wantRuntime)
	}
	if h, _ := asString(props["handler"]); h != wantHandler {
		p.add(join(at, "handler"), "must be %q, the binary the build writes", wantHandler)
	}
	if _, set := props["instanceConcurrency"]; set {
		p.add(join(at, "instanceConcurrency"), "has no effect on go1: FC 3.0 takes it only for custom runtimes (a built-in runtime serves one request per instance); use concurrencyConfig.reservedConcurrency to keep runs from overlapping")
	}
	if r, _ := asString(props["role"]); strings.TrimSpace(r) == "" {
		p.add(join(at, "role"), "must name the execution role: the function needs STS credentials for ECS")
	}

	env, envOK := checkEnv(p, join(at, "environmentVariables"), props["environmentVariables"])

	triggers, _ := asSlice(props["triggers"])
	timers := 0
	for i, t := range triggers {
		tm, ok := asMap(t)
		if !ok || tm["triggerType"] != "timer" {
			continue
		}
		timers++
		checkTimer(p, join(at, "triggers", i, "triggerConfig"), tm["triggerConfig"], sYAMLTimer, env, envOK)
	}
	if timers == 0 {
		p.add(join(at, "triggers"), "has no timer trigger: nothing would run the function")
	}
	if envOK {
		checkTimeout(p, join(at, "timeout"), props["timeout"], env)
	}
}

// checkBuildActions checks that `s deploy` (and `s local`) build the
// binary where props.code/props.handler expect it, for linux/amd64 without
// cgo; a stale or host-built binary deploys fine and fails at first run.
func checkBuildActions(p *problems, at string, v any, props any) {
	pm, _ := asMap(props)
	code, _ := asString(pm["code"])
	handler, _ := asString(pm["handler"])
	want := path.Clean(path.Join(code, handler))
	actions, ok := asMap(v)
	if !ok {
		p.add(at, "must have a pre-deploy action that builds %s", want)
		return
	}
	deployBuilds, localBuilds := false, false
	var deployRun, localRun, localAt string
	for _, hook := range sortedKeys(actions) {
		if !strings.HasPrefix(hook, "pre-") {
			continue
		}
		steps, _ := asSlice(actions[hook])
		for i, s := range steps {
			sm, _ := asMap(s)
			run, _ := asString(sm["run"])
			m := goBuildOut.FindStringSubmatch(run)
			if m == nil {
				continue
			}
			sat := join(at, hook, i, "run")
			dir, _ := asString(sm["path"])
			out := path.Clean(path.Join(dir, strings.Trim(m[1], `"'`)))
			if out != want {
				p.add(sat, "builds %s, but code and handler deploy %s", out, want)
			}
			if !fcTag.MatchString(run) {
				p.add(sat, "must build with -tags fc: the function carries only what FC runs, not the command line and its test doubles")
			}
			for _, env := range []string{"GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0"} {
				if !strings.Contains(run, env) {
					p.add(sat, "must set %s: FC runs a static linux/amd64 binary", env)
				}
			}
			if strings.Contains(run, "main.testClock") {
				p.add(sat, "must not set main.testClock: that is the tests' clock, never a deployed one")
			}
			marked := strings.Contains(run, LocalBuildFlag)
			switch {
			case strings.Contains(hook, "deploy") && marked:
				p.add(sat, "must not set %s: the deployed function would only dry-run", LocalBuildFlag)
			case strings.Contains(hook, "local") && !marked:
				p.add(sat, "must set %s (in -ldflags): `s local invoke` runs with your own credentials against the real account, and only a local build dry-runs by default", LocalBuildFlag)
			}
			switch {
			case strings.Contains(hook, "deploy"):
				deployBuilds, deployRun = true, run
			case strings.Contains(hook, "local"):
				localBuilds, localRun, localAt = true, run, sat
			}
		}
	}
	if !deployBuilds {
		p.add(at, "has no pre-deploy `go build -o %s`: `s deploy` would ship whatever binary is lying there", want)
	}
	if !localBuilds {
		p.add(at, "has no pre-local `go build` with %s: `s local invoke` would run a binary that releases with your own credentials", LocalBuildFlag)
	}
	// One build: the local one is the deployed one plus the mark, so the
	// two cannot drift apart.
	if deployBuilds && localBuilds && strings.Join(strings.Fields(strings.Replace(localRun, " "+LocalBuildFlag, "", 1)), " ") != strings.Join(strings.Fields(deployRun), " ") {
		p.add(localAt, "must be the pre-deploy build with %s added to its -ldflags, and nothing else changed", LocalBuildFlag)
	}
}

// LocalBuildFlag marks the binary built for `s local invoke` (main.localBuild).
const LocalBuildFlag = "-X main.localBuild=true"
