package ecsconform

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// Regions and keys the scenarios use.
const (
	hz    = "cn-hangzhou"
	sh    = "cn-shanghai"
	bj    = "cn-beijing"
	optIn = "reaper-expires"
	owner = "owner"
)

// maxPages bounds every listing the suite makes itself.
const maxPages = 100

// Run runs every scenario against the models newModel starts.
func Run(t *testing.T, newModel NewModel) {
	t.Run("DescribeRegions", func(t *testing.T) { testRegions(t, newModel) })
	t.Run("InstancesPaged", func(t *testing.T) { testInstancesPaged(t, newModel) })
	t.Run("InstancesByTagAndID", func(t *testing.T) { testInstancesFiltered(t, newModel) })
	t.Run("TagFilterCap", func(t *testing.T) { testTagFilterCap(t, newModel) })
	t.Run("TokenReplayAndReleaseBetweenPages", func(t *testing.T) { testTokens(t, newModel) })
	t.Run("Discovery", func(t *testing.T) { testDiscovery(t, newModel) })
	t.Run("Throttling", func(t *testing.T) { testThrottling(t, newModel) })
	t.Run("NotFoundAfterRelease", func(t *testing.T) { testNotFoundAfterRelease(t, newModel) })
	t.Run("DeleteInstances", func(t *testing.T) { testDeleteInstances(t, newModel) })
	t.Run("StopInstances", func(t *testing.T) { testStop(t, newModel) })
	t.Run("TagResources", func(t *testing.T) { testTag(t, newModel) })
	t.Run("Disks", func(t *testing.T) { testDisks(t, newModel) })
	t.Run("Snapshots", func(t *testing.T) { testSnapshots(t, newModel) })
	t.Run("EIPs", func(t *testing.T) { testEIPs(t, newModel) })
	t.Run("Images", func(t *testing.T) { testImages(t, newModel) })
	t.Run("ReleaseFreesResources", func(t *testing.T) { testReleaseFreesResources(t, newModel) })
}

// instance is a Stopped pay-as-you-go instance with every field set the
// way both models serve it.
func instance(region, id string, tags map[string]string) cloud.Instance {
	return cloud.Instance{ID: id, Name: "name-" + id, Region: region, Status: "Stopped", ChargeType: "PostPaid",
		ExpiredTime: "2099-12-31T15:59Z", CreationTime: "2026-01-01T00:00Z", Tags: tags}
}

// instances returns n instances named prefix00000.., tagged with the
// opt-in key when tagged.
func instances(region, prefix string, n int, tagged bool) []cloud.Instance {
	out := make([]cloud.Instance, n)
	for i := range out {
		var tags map[string]string
		if tagged {
			tags = map[string]string{optIn: "2026-11-01", owner: "ops"}
		}
		out[i] = instance(region, fmt.Sprintf("i-%s%05d", prefix, i), tags)
	}
	return out
}

func ctx(t *testing.T) context.Context { return t.Context() }

// listInstances reads every page of a DescribeInstances query.
func listInstances(t *testing.T, api API, in ecsapi.DescribeInput) (all []cloud.Instance, pages int) {
	t.Helper()
	for pages < maxPages {
		page, err := api.DescribeInstances(ctx(t), in)
		if err != nil {
			t.Fatalf("DescribeInstances %+v: %s", in, describe(err))
		}
		pages++
		if in.MaxResults > 0 && len(page.Instances) > in.MaxResults {
			t.Fatalf("a page of %d instances for MaxResults %d", len(page.Instances), in.MaxResults)
		}
		if page.RequestID == "" {
			t.Fatalf("DescribeInstances page without a RequestId")
		}
		all = append(all, page.Instances...)
		if page.NextToken == "" {
			return all, pages
		}
		in.NextToken = page.NextToken
	}
	t.Fatalf("DescribeInstances %+v: more than %d pages", in, maxPages)
	return nil, 0
}

func instanceIDs(list []cloud.Instance) []string {
	out := make([]string, len(list))
	for i, in := range list {
		out[i] = in.ID
	}
	slices.Sort(out)
	return out
}

// once fails when an ID is listed twice.
func once(t *testing.T, what string, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("%s: %s listed twice", what, id)
		}
		seen[id] = true
	}
}

func sameIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	got, want = slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Fatalf("%s: listed %d IDs %v, want %d %v", what, len(got), abbreviate(got), len(want), abbreviate(want))
	}
}

func abbreviate(ids []string) []string {
	if len(ids) > 6 {
		return append(slices.Clone(ids[:6]), "…")
	}
	return ids
}

func wantCode(t *testing.T, what string, err error, code string, class ecsapi.Class) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: success, want %s", what, code)
	}
	if ecsapi.Code(err) != code || ecsapi.Classify(err) != class {
		t.Fatalf("%s: %s, want code %s of class %s", what, describe(err), code, class)
	}
}

func wantClass(t *testing.T, what string, err error, class ecsapi.Class) {
	t.Helper()
	if ecsapi.Classify(err) != class || err == nil {
		t.Fatalf("%s: %s, want class %s", what, describe(err), class)
	}
}

func noErr(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %s", what, describe(err))
	}
}

func testRegions(t *testing.T, newModel NewModel) {
	m := newModel(t, Fleet{
		Instances: instances(hz, "a", 2, false),
		Disks:     []cloud.Disk{disk(sh, "d-only", "", nil)},
		Regions:   []string{bj},
	})
	got, err := m.API.DescribeRegions(ctx(t))
	noErr(t, "DescribeRegions", err)
	sameIDs(t, "DescribeRegions", got.RegionIDs, []string{bj, hz, sh})
	if got.RequestID == "" {
		t.Errorf("DescribeRegions without a RequestId")
	}
}

func testInstancesPaged(t *testing.T, newModel NewModel) {
	fleet := instances(hz, "p", 250, false)
	fleet[3].Status, fleet[3].DeletionProtection = "Running", true
	fleet[4].ChargeType, fleet[4].ExpiredTime, fleet[4].LockReasons = "PrePaid", "2026-11-10T16:00Z", []string{"financial"}
	fleet[5].Tags = map[string]string{optIn: "", owner: "ops", "cost": "x"}
	m := newModel(t, Fleet{Instances: append(slices.Clone(fleet), instances(sh, "q", 3, true)...)})
	all, pages := listInstances(t, m.API, ecsapi.DescribeInput{Region: hz, MaxResults: 100})
	if pages != 3 {
		t.Errorf("250 instances in %d pages of 100", pages)
	}
	once(t, "unfiltered", instanceIDs(all))
	sameIDs(t, "unfiltered", instanceIDs(all), instanceIDs(fleet))
	byID := map[string]cloud.Instance{}
	for _, in := range all {
		byID[in.ID] = in
	}
	for _, want := range fleet[:8] {
		if got := byID[want.ID]; !reflect.DeepEqual(got, want) {
			t.Errorf("instance as listed\n got %+v\nwant %+v", got, want)
		}
	}
	// TagKeys keeps only the tags asked for.
	kept, _ := listInstances(t, m.API, ecsapi.DescribeInput{Region: hz, InstanceIDs: []string{fleet[5].ID}, TagKeys: []string{optIn, "absent"}})
	if len(kept) != 1 || !maps.Equal(kept[0].Tags, map[string]string{optIn: ""}) {
		t.Errorf("TagKeys [%s absent]: %+v", optIn, kept)
	}
}

func testInstancesFiltered(t *testing.T, newModel NewModel) {
	tagged := instances(hz, "t", 40, true)
	tagged[0].Tags[optIn] = "" // an empty value still carries the key
	for i, in := range tagged {
		for k := range 18 { // 20 tags, the opt-in key among them
			in.Tags[fmt.Sprintf("%c-%02d", 'a'+rune(i%26), k)] = "x"
		}
	}
	untagged := instances(hz, "u", 60, false)
	other := instances(sh, "o", 5, true)
	m := newModel(t, Fleet{Instances: slices.Concat(tagged, untagged, other)})
	got, _ := listInstances(t, m.API, ecsapi.DescribeInput{Region: hz, TagKey: optIn, MaxResults: 10})
	once(t, "tag filter", instanceIDs(got))
	sameIDs(t, "tag filter", instanceIDs(got), instanceIDs(tagged))
	ids := []string{tagged[1].ID, untagged[2].ID, "i-unknown", other[0].ID}
	got, _ = listInstances(t, m.API, ecsapi.DescribeInput{Region: hz, InstanceIDs: ids, MaxResults: 100})
	sameIDs(t, "by ID (one unknown, one of another region)", instanceIDs(got), []string{tagged[1].ID, untagged[2].ID})
	// ListTagResources lists each tagged instance once, however many
	// tags it carries and wherever its pages cut them.
	sameIDs(t, "ListTagResources", listTagged(t, m.API, hz), instanceIDs(tagged))
	// A dry run answers DryRunOperation, which reads as an empty page.
	dry, err := m.API.DescribeInstances(ctx(t), ecsapi.DescribeInput{Region: hz, DryRun: true})
	if err != nil || len(dry.Instances) != 0 || dry.NextToken != "" || dry.RequestID == "" {
		t.Errorf("dry-run DescribeInstances: %d instances, NextToken %q, RequestId %q, %s", len(dry.Instances), dry.NextToken, dry.RequestID, describe(err))
	}
	// An unknown region is a region problem, not an empty one.
	const nowhere = "cn-nowhere"
	_, err = m.API.DescribeInstances(ctx(t), ecsapi.DescribeInput{Region: nowhere, MaxResults: 100})
	wantCode(t, "DescribeInstances in an unknown region", err, "InvalidRegionId.NotFound", ecsapi.ClassRegion)
	_, err = m.API.ListTagResources(ctx(t), ecsapi.ListTagInput{Region: nowhere, TagKey: optIn})
	wantCode(t, "ListTagResources in an unknown region", err, "InvalidRegionId.NotFound", ecsapi.ClassRegion)
	_, err = m.API.DescribeDisks(ctx(t), ecsapi.ListInput{Region: nowhere})
	wantCode(t, "DescribeDisks in an unknown region", err, "InvalidRegionId.NotFound", ecsapi.ClassRegion)
	_, err = m.API.DescribeSnapshots(ctx(t), ecsapi.ListInput{Region: nowhere})
	wantCode(t, "DescribeSnapshots in an unknown region", err, "InvalidRegionId.NotFound", ecsapi.ClassRegion)
	_, err = m.API.DescribeEipAddresses(ctx(t), ecsapi.EIPInput{Region: nowhere, Page: 1})
	wantClass(t, "DescribeEipAddresses in an unknown region", err, ecsapi.ClassRegion)
}

// listTagged reads every page of ListTagResources, de-duplicated.
func listTagged(t *testing.T, api API, region string) []string {
	t.Helper()
	var ids []string
	in := ecsapi.ListTagInput{Region: region, TagKey: optIn}
	for range maxPages {
		page, err := api.ListTagResources(ctx(t), in)
		noErr(t, "ListTagResources", err)
		ids = append(ids, page.InstanceIDs...)
		if page.NextToken == "" {
			slices.Sort(ids)
			return slices.Compact(ids)
		}
		in.NextToken = page.NextToken
	}
	t.Fatalf("ListTagResources: more than %d pages", maxPages)
	return nil
}

func testTagFilterCap(t *testing.T, newModel NewModel) {
	tagged := instances(hz, "c", ecsapi.TagFilterCap+50, true)
	m := newModel(t, Fleet{Instances: slices.Concat(tagged, instances(hz, "n", 20, false))})
	got, _ := listInstances(t, m.API, ecsapi.DescribeInput{Region: hz, TagKey: optIn, MaxResults: 100})
	if len(got) != ecsapi.TagFilterCap {
		t.Fatalf("a tag filter over %d tagged instances listed %d, want the cap of %d and no more", len(tagged), len(got), ecsapi.TagFilterCap)
	}
	once(t, "capped tag filter", instanceIDs(got))
	all, _ := listInstances(t, m.API, ecsapi.DescribeInput{Region: hz, MaxResults: 100})
	if len(all) != len(tagged)+20 {
		t.Errorf("unfiltered listing: %d, want %d (the cap is the tag filter's only)", len(all), len(tagged)+20)
	}
	sameIDs(t, "ListTagResources (no cap)", listTagged(t, m.API, hz), instanceIDs(tagged))
}

func testTokens(t *testing.T, newModel NewModel) {
	fleet := instances(hz, "r", 250, false)
	m := newModel(t, Fleet{Instances: fleet})
	first, err := m.API.DescribeInstances(ctx(t), ecsapi.DescribeInput{Region: hz, MaxResults: 100})
	noErr(t, "first page", err)
	if first.NextToken == "" || len(first.Instances) != 100 {
		t.Fatalf("first page: %d instances, NextToken %q", len(first.Instances), first.NextToken)
	}
	// A token read twice gives the same page.
	in := ecsapi.DescribeInput{Region: hz, MaxResults: 100, NextToken: first.NextToken}
	a, err := m.API.DescribeInstances(ctx(t), in)
	noErr(t, "second page", err)
	b, err := m.API.DescribeInstances(ctx(t), in)
	noErr(t, "second page again", err)
	if !slices.Equal(instanceIDs(a.Instances), instanceIDs(b.Instances)) || len(a.Instances) != 100 {
		t.Errorf("a NextToken read twice: %d then %d instances, not the same page", len(a.Instances), len(b.Instances))
	}
	// A token that was never handed out is refused.
	_, err = m.API.DescribeInstances(ctx(t), ecsapi.DescribeInput{Region: hz, MaxResults: 100, NextToken: "not-a-token"})
	wantClass(t, "an unknown NextToken", err, ecsapi.ClassFatal)

	// Instances released from a page already read shift nothing: every
	// instance is still listed exactly once.
	var gone []string
	for _, in := range first.Instances[:10] {
		gone = append(gone, in.ID)
	}
	_, err = m.API.DeleteInstances(ctx(t), ecsapi.DeleteInput{Region: hz, InstanceIDs: gone})
	noErr(t, "release 10 of the first page", err)
	rest, _ := listInstances(t, m.API, ecsapi.DescribeInput{Region: hz, MaxResults: 100, NextToken: first.NextToken})
	seen := slices.Concat(instanceIDs(first.Instances), instanceIDs(rest))
	once(t, "a listing with releases between pages", seen)
	sameIDs(t, "a listing with releases between pages", seen, instanceIDs(fleet))
}
