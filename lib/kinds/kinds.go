// Package kinds holds the resource kinds swept by their own opt-in tag
// beside instances (REAPER_RESOURCES), as values in one explicit, ordered
// list: All. Each kind is one file holding everything about it: its name
// (the REAPER_RESOURCES word and the report's section), its noun, the
// narrow client interface it needs, how it lists (through the shared
// pager) and re-reads by ID, its safety rule as a pure function (what
// makes one held), how it is deleted, the resource type its marks are
// tagged with, and its RAM actions. The engine, settings, notices, CLI,
// benchmark and deployment checks iterate All; nothing outside a kind's
// file names it.
//
// The report does not import this package (this package's listings and
// writes record into the report, so the report sits below it): it keeps
// resource sections by name, as data, and the text and summary take the
// names from the report itself. Instances are not a Kind: they have
// capabilities no kind has (stops, release flags, the leftover report,
// the EIP hand-over) and their own path (packages discover, plan, ops).
package kinds

import (
	"context"
	"fmt"
	"slices"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// All is every kind, in the order a run sweeps them. A new kind is one
// file and one entry here.
var All = []Kind{Disks, Snapshots, EIPs, Images}

// Kind is one kind of resource. Its behaviour takes the scope's client as
// any: Supports says whether it implements the kind's narrow interface,
// and the engine asks before any other call, so a client that lacks a
// kind is a configuration error naming it, not a panic.
type Kind struct {
	// Name is the REAPER_RESOURCES word and the report section's name.
	Name string
	// Noun and Plural name one and several in notices, tables and errors.
	Noun, Plural string
	// Verb is what its delete is called in tables: delete or release.
	Verb string
	// Actions are the RAM actions it needs ("ecs:DescribeDisks").
	Actions []string
	// ReadAction and ReadLimit: its re-read by ID, and the most IDs one
	// re-read takes.
	ReadAction string
	ReadLimit  int
	// DeleteAction and TagAction name its writes in the report.
	DeleteAction, TagAction string
	// ResourceType is what its marks are tagged as.
	ResourceType string
	// Capped: the tag-filtered listing may be cut at ecsapi.TagFilterCap
	// without saying so, so a listing that reaches it is not trusted
	// (Listing applies it; List does not).
	Capped bool

	// Supports reports whether a client can sweep this kind.
	Supports func(api any) bool
	// List lists a region's resources of the kind that carry tagKey; the
	// engine calls it through Listing.
	List func(ctx context.Context, api any, c *call.Caller, region, tagKey string, rules decide.Rules) ([]Resource, *verdict.Failure)
	// Read re-reads resources by ID (at most ReadLimit), for freshness.
	Read func(ctx context.Context, api any, region string, ids []string, rules decide.Rules) ([]Resource, error)
	// Delete deletes one resource; it returns the request ID.
	Delete func(ctx context.Context, api any, region, id string) (string, error)
	// Tag writes tags on resources of resourceType (the kind's
	// ResourceType, which Mark passes); it returns the request ID.
	Tag func(ctx context.Context, api any, region, resourceType string, ids []string, tags map[string]string) (string, error)
}

// Resource is a resource of any kind as the engine plans it.
type Resource struct {
	ID, Name, Created, Region string
	Tags                      map[string]string
	// Held says why it must stay whatever its tags say ("": nothing).
	Held       verdict.Reason
	HeldDetail string
	// Leaves says what its delete leaves behind, still billed ("":
	// nothing); the report's item says it.
	Leaves string
}

// ResourceID implements the executor's Resource.
func (r Resource) ResourceID() string { return r.ID }

// ResourceRegion implements the executor's Resource.
func (r Resource) ResourceRegion() string { return r.Region }

// Decision is the record the rules decide.
func (r Resource) Decision() decide.Resource {
	return decide.Resource{ID: r.ID, Tags: r.Tags, Created: r.Created, Held: r.Held, HeldDetail: r.HeldDetail}
}

// Listing lists a region's resources of the kind that carry tagKey, and
// fails a Capped kind's listing that reached ECS's cap: the one place the
// cap is applied, so a new kind states it once, as data.
func (k Kind) Listing(ctx context.Context, api any, c *call.Caller, region, tagKey string, rules decide.Rules) ([]Resource, *verdict.Failure) {
	out, f := k.List(ctx, api, c, region, tagKey, rules)
	if k.Capped {
		f = capped(k.Plural, len(out), f)
	}
	return out, f
}

// Mark writes tags on resources of the kind, tagged as its ResourceType;
// it returns the request ID.
func (k Kind) Mark(ctx context.Context, api any, region string, ids []string, tags map[string]string) (string, error) {
	return k.Tag(ctx, api, region, k.ResourceType, ids, tags)
}

// Named returns the kind called name.
func Named(name string) (Kind, bool) {
	i := slices.IndexFunc(All, func(k Kind) bool { return k.Name == name })
	if i < 0 {
		return Kind{}, false
	}
	return All[i], true
}

// Names are the kinds' names, in order.
func Names() []string {
	out := make([]string, len(All))
	for i, k := range All {
		out[i] = k.Name
	}
	return out
}

// RAMActions is what a RAM policy for the sweep must allow, and nothing
// else: the instances' ECS actions and each kind's, each once.
// docs/ram-policy.json, the deployment files' policies and the session
// policy of every member account (lib/org) are this list.
func RAMActions() []string {
	out := make([]string, 0, len(ecsapi.InstanceActions))
	for _, a := range ecsapi.InstanceActions {
		out = append(out, "ecs:"+a)
	}
	for _, a := range Actions() {
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// Actions are every kind's RAM actions, each once, in order.
func Actions() []string {
	var out []string
	for _, k := range All {
		for _, a := range k.Actions {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// Unsupported is the configuration error of a client that lacks a kind.
func Unsupported(k Kind) *verdict.Failure {
	return &verdict.Failure{Code: CodeUnsupported, Message: fmt.Sprintf(
		"REAPER_RESOURCES includes %s, and this client cannot list or delete %s: nothing is released here", k.Name, k.Plural)}
}

// CodeUnsupported closes a scope whose client lacks a kind it sweeps.
const CodeUnsupported = "Config.KindUnsupported"

// capped fails a tag-filtered listing that reached ECS's cap: it may have
// been cut there, whether or not it says it ended.
func capped(k string, n int, f *verdict.Failure) *verdict.Failure {
	if f == nil && n >= ecsapi.TagFilterCap {
		return &verdict.Failure{Code: ecsapi.CodeBadResponse, Message: fmt.Sprintf("the tag-filtered %s listing reached %d, where ECS may cut it: not trusted to be complete", k, ecsapi.TagFilterCap)}
	}
	return f
}

// supports is Supports for a kind whose client interface is T.
func supports[T any](api any) bool {
	_, ok := api.(T)
	return ok
}

// client is api as T; the engine asked Supports first.
func client[T any](api any) T {
	t, ok := api.(T)
	if !ok {
		var zero T
		panic(fmt.Sprintf("kinds: the client %T is not a %T (Supports was not asked)", api, zero))
	}
	return t
}

// ecsTag is Tag for a kind whose client T tags with ECS's TagResources.
func ecsTag[T ecsTagger](ctx context.Context, api any, region, t string, ids []string, tags map[string]string) (string, error) {
	out, err := client[T](api).TagResources(ctx, ecsapi.TagInput{Region: region, InstanceIDs: ids, Tags: tags, ResourceType: t})
	return out.RequestID, err
}

// ecsTagger is ECS's TagResources, which every ECS kind tags with.
type ecsTagger interface {
	TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error)
}
