package kinds_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
)

// Each kind in the list is whole, named once, and its RAM actions are
// calls the client makes.
func TestEveryKindIsWhole(t *testing.T) {
	seen := map[string]bool{"instances": true} // REAPER_RESOURCES's other word
	for _, k := range kinds.All {
		if k.Name == "" || seen[k.Name] {
			t.Errorf("kind %q: no name, or named twice", k.Name)
		}
		seen[k.Name] = true
		if k.Noun == "" || k.Plural == "" || k.Verb == "" || k.ReadAction == "" || k.ReadLimit <= 0 ||
			k.DeleteAction == "" || k.TagAction == "" || k.ResourceType == "" || len(k.Actions) == 0 {
			t.Errorf("kind %s lacks metadata: %+v", k.Name, k)
		}
		if k.Supports == nil || k.List == nil || k.Read == nil || k.Delete == nil || k.Tag == nil {
			t.Errorf("kind %s lacks behaviour", k.Name)
		}
		for _, a := range k.Actions {
			service, action, _ := strings.Cut(a, ":")
			switch {
			case service == "ecs" && slices.Contains(ecsapi.Actions, action):
			case service == "vpc" && slices.Contains(ecsapi.VPCActions, action):
			default:
				t.Errorf("kind %s: RAM action %q is not a call of the client (ecsapi.Actions, ecsapi.VPCActions)", k.Name, a)
			}
		}
		for _, a := range []string{k.ReadAction, k.DeleteAction, k.TagAction} {
			if !slices.ContainsFunc(k.Actions, func(g string) bool { return strings.HasSuffix(g, ":"+a) }) {
				t.Errorf("kind %s calls %s without granting it", k.Name, a)
			}
		}
		if got, ok := kinds.Named(k.Name); !ok || got.Name != k.Name {
			t.Errorf("Named(%q) = %v", k.Name, ok)
		}
	}
	if _, ok := kinds.Named("instances"); ok {
		t.Error("instances are not a kind")
	}
}

// The production client and the engine's fake each implement every kind;
// a client without a kind's calls does not.
func TestTheClientsSupportEveryKind(t *testing.T) {
	var client *ecsapi.Client
	for _, k := range kinds.All {
		if !k.Supports(client) {
			t.Errorf("the ECS client does not support %s", k.Name)
		}
		if !k.Supports(fake.New(nil)) {
			t.Errorf("the fake does not support %s", k.Name)
		}
		if k.Supports(struct{}{}) {
			t.Errorf("%s: an empty client supports it", k.Name)
		}
	}
}
