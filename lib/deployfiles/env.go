package deployfiles

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/schedule"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// maxEnvBytes is FC's limit on the total size of a function's environment
// variables (names and values).
const maxEnvBytes = 4 << 10

// signingSecrets never appear as values in a deployment file: whoever
// reads the repository could then forge marks or sign webhooks. Each is
// passed in at deploy time, as a reference s resolves (${env('NAME')}) or a
// NoEcho parameter without a default (template.yaml).
var signingSecrets = map[string]string{
	settings.EnvMarkSecret:     strings.Repeat("m", 48), // stand-ins that pass the settings' checks
	settings.EnvMarkSecretPrev: strings.Repeat("p", 48),
	settings.EnvNotifySecret:   "set-at-deploy",
	// Not a secret by the docs, but never shown or written down either.
	settings.EnvRoleExternalID: "set-at-deploy",
}

// deployReference is a value Serverless Devs fills in at deploy time.
var deployReference = regexp.MustCompile(`^\$\{[^{}]+\}$`)

// checkEnv checks an environment variable mapping the way the function will
// read it: every name is one the program reads (a misspelt name would be
// silently ignored and the default used), every value is a string, and the
// values parse as settings. ok reports that s holds the parsed settings.
func checkEnv(p *problems, at string, v any) (s settings.Settings, ok bool) {
	env := map[string]string{}
	if v != nil {
		m, isMap := asMap(v)
		if !isMap {
			p.add(at, "must be a mapping of names to string values")
			return s, false
		}
		size := 0
		for _, k := range sortedKeys(m) {
			if !slices.Contains(settings.Names, k) {
				p.add(join(at, k), "is not a setting the program reads (known: %s)", strings.Join(settings.Names, ", "))
				continue
			}
			val, isStr := asString(m[k])
			if standIn, computed := computedSettings[k]; computed && isGetAtt(m[k]) {
				val, isStr = standIn, true // the template's own resource: checkFanout
			}
			if !isStr {
				p.add(join(at, k), "must be a quoted string, got %s", describe(m[k]))
				continue
			}
			if standIn, secret := signingSecrets[k]; secret && val != "" {
				if !deployReference.MatchString(strings.TrimSpace(val)) {
					p.add(join(at, k), "is written in the file (a %d-character literal): a signing secret comes from the deployer's environment, as ${env('%s')} in s.yaml or a NoEcho parameter without a default in template.yaml", len(val), k)
					continue
				}
				val = standIn
			}
			env[k] = val
			size += len(k) + len(val)
		}
		if size > maxEnvBytes {
			p.add(at, "total %d bytes exceeds FC's %d-byte limit", size, maxEnvBytes)
		}
	}
	before := len(p.list)
	s, err := settings.FromEnv(func(name string) (string, bool) {
		val, ok := env[name]
		return val, ok
	})
	for _, e := range unjoin(err) {
		msg := e.Error()
		name, _, _ := strings.Cut(msg, "=")
		if slices.Contains(settings.Names, name) {
			p.add(join(at, name), "%s", msg)
		} else {
			p.add(at, "%s", msg)
		}
	}
	return s, len(p.list) == before && err == nil
}

// unjoin splits an errors.Join error into its parts.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return j.Unwrap()
	}
	return []error{err}
}

// checkPayload checks a timer payload as the handler will apply it on top
// of the environment's settings.
func checkPayload(p *problems, at string, v any, s settings.Settings) {
	pl, ok := asString(v)
	if !ok {
		p.add(at, "must be a string (JSON text), got %s", describe(v))
		return
	}
	o, err := settings.ParsePayload(pl)
	if err != nil {
		p.add(at, "%v", err)
		return
	}
	if err := s.Apply(o).Validate(); err != nil {
		p.add(at, "with the environment's settings: %v", err)
	}
}

// checkCron checks a timer cronExpression with the parser that mirrors FC's
// syntax (six fields, @every, CRON_TZ=).
func checkCron(p *problems, at string, v any) {
	expr, ok := asString(v)
	if !ok {
		p.add(at, "must be a string, got %s", describe(v))
		return
	}
	if _, err := schedule.Parse(expr); err != nil {
		p.add(at, "%v", err)
	}
}

// checkTimeout checks that the function's timeout leaves room for work
// after the handler's deadline margin: with a margin as long as the
// timeout, every run would stop before doing anything.
func checkTimeout(p *problems, at string, v any, s settings.Settings) {
	secs, ok := wholeNumber(v)
	if !ok {
		return // the schema check reports a missing or non-integer timeout
	}
	if timeout := time.Duration(secs) * time.Second; s.DeadlineMargin+settings.MinWorkingTime > timeout {
		p.add(at, "%s leaves no time to work: %s is %s, and a sweep needs at least %s beyond it", timeout, settings.EnvDeadlineMargin, s.DeadlineMargin, settings.MinWorkingTime)
	}
}

// wholeNumber reads an integer YAML scalar.
func wholeNumber(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		return int64(n), n <= 1<<62
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

// timerFields names a timer's fields in one deployment file's spelling.
type timerFields struct {
	cron, enable, payload string
	known                 map[string]bool
	list                  string // the known fields, for messages
}

// checkTimer checks one timer's configuration: only known fields, a cron
// expression FC accepts, enable a boolean, and a payload the function takes.
func checkTimer(p *problems, at string, v any, f timerFields, env settings.Settings, envOK bool) {
	cfg, ok := asMap(v)
	if !ok {
		p.add(at, "must be a mapping with %s and %s", f.cron, f.enable)
		return
	}
	for _, k := range sortedKeys(cfg) {
		if !f.known[k] {
			p.add(join(at, k), "is not a timer field (%s)", f.list)
		}
	}
	checkCron(p, join(at, f.cron), cfg[f.cron])
	if _, ok := cfg[f.enable].(bool); !ok {
		p.add(join(at, f.enable), "must be true or false, got %v", cfg[f.enable])
	}
	if pl, present := cfg[f.payload]; present && envOK {
		checkPayload(p, join(at, f.payload), pl, env)
	}
}
