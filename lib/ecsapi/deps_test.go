package ecsapi_test

import (
	"os/exec"
	"strings"
	"testing"
)

// The ECS boundary speaks its own types (lib/cloud): it does not import
// the rules, nor anything of the engine.
func TestBoundaryImportsNoRules(t *testing.T) {
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"lib/decide", "lib/engine", "lib/report", "lib/settings"} {
		if strings.Contains(string(out), "/ecs-reaper/"+pkg+"\n") {
			t.Errorf("lib/ecsapi depends on %s", pkg)
		}
	}
	if !strings.Contains(string(out), "/ecs-reaper/lib/cloud\n") {
		t.Error("the dependency list lacks lib/cloud: the check reads the wrong list")
	}
}
