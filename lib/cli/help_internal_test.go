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
	specs := settings.Specs()
	if len(specs) != len(settings.Names) {
		t.Fatalf("--help describes %d variables, the program reads %d", len(specs), len(settings.Names))
	}
	for _, sp := range specs {
		if sp.Help == "" {
			t.Errorf("%s has no --help text", sp.Name)
		}
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), sp.Name+" ") {
				line = l
			}
		}
		if line == "" {
			t.Errorf("%s is missing from --help", sp.Name)
		} else if sp.Default != "" && !strings.Contains(line, "(default "+sp.Default+")") {
			t.Errorf("%s has no default in --help: %q", sp.Name, line)
		}
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
