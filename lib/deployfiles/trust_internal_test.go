package deployfiles

import (
	"encoding/json"
	"os"
	"testing"
)

// The trust policy the README's one-command role setup uses lets only
// Function Compute assume the role.
func TestTrustPolicyFileTrustsOnlyFC(t *testing.T) {
	b, err := os.ReadFile("../../docs/ram-trust-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	p := &problems{file: "docs/ram-trust-policy.json"}
	checkTrust(p, "", doc)
	if len(p.list) != 0 {
		t.Errorf("problems: %v", p.list)
	}
	doc["Statement"].([]any)[0].(map[string]any)["Principal"] = map[string]any{"Service": []any{"fc.aliyuncs.com", "ecs.aliyuncs.com"}}
	p = &problems{file: "docs/ram-trust-policy.json"}
	if checkTrust(p, "", doc); len(p.list) == 0 {
		t.Error("a trust policy naming another service passed")
	}
}
