package engine

import (
	"context"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Through the real SDK and the double: each fact an answer leaves out, and
// each fact that makes an image used, holds it; a whole, unused, expired
// image is the only one eligible.
func TestImagesListedThroughTheSDKAreHeldByWhatTheAnswerSays(t *testing.T) {
	tags := map[string]string{"reaper-expires": "2026-11-01"}
	srv, err := ecsdouble.Start(ecsdouble.Fleet{Images: []ecsdouble.Image{
		{ID: "m-whole", Region: "cn-hangzhou", Tags: tags},
		{ID: "m-no-public", Region: "cn-hangzhou", Tags: tags, Omit: []string{"IsPublic"}},
		{ID: "m-no-shared", Region: "cn-hangzhou", Tags: tags, Omit: []string{"IsSelfShared"}},
		{ID: "m-no-usage", Region: "cn-hangzhou", Tags: tags, Omit: []string{"Usage"}},
		{ID: "m-no-status", Region: "cn-hangzhou", Tags: tags, Omit: []string{"Status"}},
		{ID: "m-no-owner", Region: "cn-hangzhou", Tags: tags, Omit: []string{"ImageOwnerAlias"}},
		{ID: "m-used", Region: "cn-hangzhou", Tags: tags, Usage: "instance"},
		{ID: "m-shared", Region: "cn-hangzhou", Tags: tags, SharedWith: []string{"1234567890"}},
		{ID: "m-public", Region: "cn-hangzhou", Tags: tags, Public: true},
		{ID: "m-failed", Region: "cn-hangzhou", Tags: tags, Status: "CreateFailed"},
	}}, ecsdouble.WithCredential("LTAI-images", "images-secret", ""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	api, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: "LTAI-images", AccessKeySecret: "images-secret"},
		Endpoint: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	page, err := api.DescribeImages(context.Background(), ecsapi.ImageInput{Region: "cn-hangzhou", TagKey: "reaper-expires"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]verdict.Reason{
		"m-whole": "", "m-no-public": verdict.InvalidData, "m-no-shared": verdict.InvalidData, "m-no-usage": verdict.InvalidData,
		"m-no-status": verdict.InvalidData, "m-no-owner": verdict.InvalidData, "m-used": verdict.InUse, "m-shared": verdict.InUse,
		"m-public": verdict.InUse, "m-failed": verdict.Transitional,
	}
	if len(page.Images) != len(want) {
		t.Fatalf("listed %d images, want %d", len(page.Images), len(want))
	}
	rules := fuzzEngine(false).opts.Rules
	for _, img := range page.Images {
		it := kinds.ImageResource(img)
		d := decide.DecideResource(it.Decision(), rules, fuzzNow)
		switch w := want[img.ID]; {
		case w == "" && !d.Release:
			t.Errorf("%s: %+v, want eligible", img.ID, d)
		case w != "" && (d.Release || d.Reason != w):
			t.Errorf("%s: %+v, want skipped/%s", img.ID, d, w)
		}
	}
}
