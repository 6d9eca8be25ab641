package kinds_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
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

// Capped is data the listing keeps: a capped kind's listing that reaches
// ECS's tag-filter cap is not trusted, whatever its own List says; an
// uncapped kind's, or one below the cap, is.
func TestACappedKindsListingAtTheCapIsNotTrusted(t *testing.T) {
	listing := func(n int) func(context.Context, any, *call.Caller, string, string, decide.Rules) ([]kinds.Resource, *verdict.Failure) {
		return func(context.Context, any, *call.Caller, string, string, decide.Rules) ([]kinds.Resource, *verdict.Failure) {
			return make([]kinds.Resource, n), nil
		}
	}
	for _, tc := range []struct {
		capped bool
		n      int
		fails  bool
	}{
		{true, ecsapi.TagFilterCap, true},
		{true, ecsapi.TagFilterCap + 5, true},
		{true, ecsapi.TagFilterCap - 1, false},
		{false, ecsapi.TagFilterCap, false},
	} {
		k := kinds.Kind{Name: "widgets", Plural: "widgets", Capped: tc.capped, List: listing(tc.n)}
		got, f := k.Listing(t.Context(), nil, nil, "r-1", "k", decide.Rules{})
		if (f != nil) != tc.fails || len(got) != tc.n {
			t.Errorf("capped %v, %d listed: failure %+v, %d returned; want failing %v", tc.capped, tc.n, f, len(got), tc.fails)
		}
		if f != nil && (f.Code != ecsapi.CodeBadResponse || !strings.Contains(f.Message, "widgets")) {
			t.Errorf("failure %+v: want %s naming the kind", f, ecsapi.CodeBadResponse)
		}
	}
	// Every kind the cap may cut says so.
	for _, k := range kinds.All {
		if k.Name != kinds.EIPs.Name && !k.Capped {
			t.Errorf("kind %s lists through ECS's tag filter and is not Capped", k.Name)
		}
	}
}

// tagRecorder is the fake, recording the resource type of each
// TagResources.
type tagRecorder struct {
	*fake.Cloud
	types []string
}

func (r *tagRecorder) TagResources(_ context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error) {
	r.types = append(r.types, in.ResourceType)
	return ecsapi.TagOutput{RequestID: "req"}, nil
}

// A kind's marks are tagged as its ResourceType: the field is what the
// write sends, not a label beside it.
func TestAKindsMarksAreTaggedAsItsResourceType(t *testing.T) {
	for _, k := range kinds.All {
		if k.Name == kinds.EIPs.Name {
			continue // the VPC API's TagResources, always of type EIP
		}
		for _, typ := range []string{k.ResourceType, "widget"} {
			rec := &tagRecorder{Cloud: fake.New(nil)}
			k.ResourceType = typ
			if _, err := k.Mark(t.Context(), rec, "r-1", []string{"x-1"}, map[string]string{"k": "v"}); err != nil {
				t.Fatal(err)
			}
			if len(rec.types) != 1 || rec.types[0] != typ {
				t.Errorf("kind %s with ResourceType %q tagged as %v", k.Name, typ, rec.types)
			}
		}
	}
}
