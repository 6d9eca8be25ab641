package cli

import (
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// Every variable the program reads is explained in --help, with its default.
func TestSettingsHelpCoversEveryVariable(t *testing.T) {
	var b strings.Builder
	writeSettingsHelp(&b)
	out := b.String()
	for _, n := range settings.Names {
		if settingsHelp[n] == "" {
			t.Errorf("%s has no --help text", n)
		}
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), n+" ") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("%s is missing from --help", n)
		} else if n != settings.EnvRegions && n != settings.EnvEndpoint && !strings.Contains(line, "(default ") {
			t.Errorf("%s has no default in --help: %q", n, line)
		}
	}
	if len(settingsHelp) != len(settings.Names) {
		t.Errorf("--help describes %d variables, the program reads %d", len(settingsHelp), len(settings.Names))
	}
}

func TestDefaultCronFromSYAML(t *testing.T) {
	root, err := findRepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	e, err := defaultCron(root)
	if err != nil {
		t.Fatal(err)
	}
	if e.Expr == "" || e.File != "s.yaml" || !strings.HasSuffix(e.Path, "triggerConfig.cronExpression") {
		t.Errorf("default cron %+v", e)
	}
	if _, err := findRepoRoot(t.TempDir()); err == nil {
		t.Error("found a repository root above a temporary directory")
	}
}
