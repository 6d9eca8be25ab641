package handler

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestSetMemoryLimit(t *testing.T) {
	defer debug.SetMemoryLimit(math.MaxInt64)
	defer debug.SetGCPercent(100)
	env := func(m map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
	}
	if got := SetMemoryLimit(env(map[string]string{"FC_FUNCTION_MEMORY_SIZE": "128"})); got != 64<<20 {
		t.Errorf("128 MB function: limit %d, want 64 MiB", got)
	}
	if debug.SetMemoryLimit(-1) != 64<<20 {
		t.Error("the limit was not applied to the runtime")
	}
	if got := SetMemoryLimit(env(map[string]string{"FC_FUNCTION_MEMORY_SIZE": "128", "GOMEMLIMIT": "100MiB"})); got != 0 {
		t.Errorf("GOMEMLIMIT set by the user was overridden: %d", got)
	}
	for _, bad := range []string{"", "lots", "-5"} {
		if got := SetMemoryLimit(env(map[string]string{"FC_FUNCTION_MEMORY_SIZE": bad})); got != 0 {
			t.Errorf("memory %q: limit %d, want none", bad, got)
		}
	}
}
