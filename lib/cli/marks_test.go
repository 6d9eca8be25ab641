package cli_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
)

// signedValue is a mark with its whole MAC.
var signedValue = regexp.MustCompile(`;sig=[A-Za-z0-9_-]{22}`)

// plan shows the marks a run would write by their content only: a whole
// value in its output could be tagged onto the instance by anyone who
// reads it, and the notice would be skipped.
func TestPlanShowsNoSignedMark(t *testing.T) {
	env := map[string]string{"REAPER_GRACE": "24h", "REAPER_RUNNING": "stop", "REAPER_RELEASE_EIPS": "true",
		"REAPER_MARK_SECRET": strings.Repeat("m", 40)}
	for _, args := range [][]string{{"plan", "--demo", "--json"}, {"plan", "--demo"}, {"plan", "--demo", "--horizon", "720h"}} {
		r := run(t, env, "", args...)
		r.must(t, cli.ExitOK)
		if leaked := signedValue.FindAllString(r.stdout+r.stderr, -1); len(leaked) > 0 {
			t.Errorf("%v shows %d signed marks: %v", args, len(leaked), leaked)
		}
	}
	// The would-be writes are still shown, by their content.
	if r := run(t, env, "", "plan", "--demo", "--json"); !strings.Contains(r.stdout, "reaper-notified=") || !strings.Contains(r.stdout, ";sig=…") {
		t.Errorf("plan --json does not show the marks it would write:\n%s", r.stdout)
	}
}
