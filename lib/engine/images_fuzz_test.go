package engine

import (
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// The seed corpus is testdata/fuzz/FuzzImageDecision: a whole answer, one
// without each fact, and one for each reason to hold.
func FuzzImageDecision(f *testing.F) {
	f.Fuzz(func(t *testing.T, id, status, owner, usage, shared string, publicKnown, public bool, expiry, mark string, keep, lifecycle bool) {
		img := cloud.Image{ID: id, Region: "cn-hangzhou", Status: status, OwnerAlias: owner, Usage: usage, SelfShared: shared,
			CreationTime: "2026-01-01T00:00Z", Tags: fuzzTags(expiry, mark, keep)}
		if publicKnown {
			img.IsPublic = &public
		}
		var missing string
		switch {
		case status == "":
			missing = "Status"
		case owner == "":
			missing = "ImageOwnerAlias"
		case usage == "":
			missing = "Usage"
		case shared == "":
			missing = "IsSelfShared"
		case !publicKnown:
			missing = "IsPublic"
		}
		it := kinds.ImageResource(img)
		checkPartial(t, it, missing, lifecycle)
		// Whatever the answer holds, only the account's own Available image,
		// used by no instance, neither shared nor public, can be eligible.
		d := decide.DecideResource(it.Decision(), fuzzEngine(lifecycle).opts.Rules, fuzzNow)
		if d.Release && (status != "Available" || owner != "self" || usage != "none" || !strings.EqualFold(shared, "false") ||
			!publicKnown || public) {
			t.Fatalf("eligible: %+v (public %v)", img, public)
		}
	})
}

func wholeImage() cloud.Image {
	no := false
	return cloud.Image{ID: "m-bp1aaaa", Region: "cn-hangzhou", Status: "Available", OwnerAlias: "self", Usage: "none",
		SelfShared: "false", IsPublic: &no, CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{"reaper-expires": "2026-11-01"}}
}

// The fuzz invariants can fail: a whole expired image is eligible, each
// missing fact alone holds it as invalid-data, and each fact that makes an
// image used holds it with its own reason.
func TestImageHeldByEachFact(t *testing.T) {
	rules := fuzzEngine(false).opts.Rules
	decideImage := func(img cloud.Image) decide.Decision {
		it := kinds.ImageResource(img)
		return decide.DecideResource(it.Decision(), rules, fuzzNow)
	}
	if d := decideImage(wholeImage()); !d.Release {
		t.Fatalf("a whole expired image is not eligible: %+v", d)
	}
	yes := true
	for name, tc := range map[string]struct {
		edit func(*cloud.Image)
		want verdict.Reason
	}{
		"no Status":                {func(i *cloud.Image) { i.Status = "" }, verdict.InvalidData},
		"no ImageOwnerAlias":       {func(i *cloud.Image) { i.OwnerAlias = "" }, verdict.InvalidData},
		"no Usage":                 {func(i *cloud.Image) { i.Usage = "" }, verdict.InvalidData},
		"undocumented Usage":       {func(i *cloud.Image) { i.Usage = "maybe" }, verdict.InvalidData},
		"no IsSelfShared":          {func(i *cloud.Image) { i.SelfShared = "" }, verdict.InvalidData},
		"undocumented IsSelfShare": {func(i *cloud.Image) { i.SelfShared = "1" }, verdict.InvalidData},
		"no IsPublic":              {func(i *cloud.Image) { i.IsPublic = nil }, verdict.InvalidData},
		"another owner":            {func(i *cloud.Image) { i.OwnerAlias = "others" }, verdict.InvalidData},
		"used by instances":        {func(i *cloud.Image) { i.Usage = "instance" }, verdict.InUse},
		"shared":                   {func(i *cloud.Image) { i.SelfShared = "true" }, verdict.InUse},
		"shared, capitalised":      {func(i *cloud.Image) { i.SelfShared = "True" }, verdict.InUse},
		"public":                   {func(i *cloud.Image) { i.IsPublic = &yes }, verdict.InUse},
		"creating":                 {func(i *cloud.Image) { i.Status = "Creating" }, verdict.Transitional},
		"create failed":            {func(i *cloud.Image) { i.Status = "CreateFailed" }, verdict.Transitional},
		"deprecated":               {func(i *cloud.Image) { i.Status = "Deprecated" }, verdict.Transitional},
	} {
		img := wholeImage()
		tc.edit(&img)
		if got := decideImage(img); got.Release || got.Reason != tc.want {
			t.Errorf("%s: %+v, want skipped/%s", name, got, tc.want)
		}
		if v := fuzzEngine(false).recheckResource(kinds.ImageResource(img), fuzzNow); v.Keep {
			t.Errorf("%s: passes the re-read before the delete", name)
		}
	}
}
