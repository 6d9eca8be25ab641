package kinds

import (
	"context"
	"fmt"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// ImageAPI is what sweeping custom images needs from a client.
type ImageAPI interface {
	DescribeImages(ctx context.Context, in ecsapi.ImageInput) (ecsapi.ImagePage, error)
	DeleteImage(ctx context.Context, region, imageID string) (string, error)
	ecsTagger
}

// Images are the account's own custom images deleted by their own tag
// (docs/images-facts.md): listed with ImageOwnerAlias=self in every
// state, by page number; deleted one at a time, never with Force; re-read
// one per call (whether DescribeImages takes several IDs is UNCONFIRMED).
// Their snapshots stay, as ordinary snapshots.
var Images = Kind{
	Name: "images", Noun: "image", Plural: "images", Verb: "delete",
	Actions:    []string{"ecs:" + ecsapi.ActionDescribeImages, "ecs:" + ecsapi.ActionDeleteImage, "ecs:" + ecsapi.ActionTagResources},
	ReadAction: ecsapi.ActionDescribeImages, ReadLimit: 1,
	DeleteAction: ecsapi.ActionDeleteImage, TagAction: ecsapi.ActionTagResources, ResourceType: "image",
	Capped:   true,
	Supports: supports[ImageAPI],
	List: func(ctx context.Context, api any, c *call.Caller, region, tagKey string, _ decide.Rules) ([]Resource, *verdict.Failure) {
		images, f := listImages(ctx, client[ImageAPI](api), c, region, tagKey)
		return resources(images, ImageResource), f
	},
	Read: func(ctx context.Context, api any, region string, ids []string, _ decide.Rules) ([]Resource, error) {
		var out []Resource
		for _, id := range ids {
			page, err := client[ImageAPI](api).DescribeImages(ctx, ecsapi.ImageInput{Region: region, ImageID: id})
			if err != nil {
				return out, err
			}
			for _, img := range page.Images {
				if img.ID == id { // an answer naming another image is not this one's
					out = append(out, ImageResource(img))
				}
			}
		}
		return out, nil
	},
	Delete: func(ctx context.Context, api any, region, id string) (string, error) {
		return client[ImageAPI](api).DeleteImage(ctx, region, id) // never with Force (ecsapi)
	},
	Tag: ecsTag[ImageAPI],
}

// listImages pages a region's own custom images by number through the
// shared pager, up to the total the API announced; tagKey filters.
func listImages(ctx context.Context, api ImageAPI, c *call.Caller, region, tagKey string) ([]cloud.Image, *verdict.Failure) {
	l := page.Listing{Name: ecsapi.ActionDescribeImages, PageSize: ecsapi.MaxImagePage}
	return collect(ctx, c, l, true, func(img cloud.Image) string { return img.ID },
		func(ctx context.Context, _ string, n int) (answer[cloud.Image], error) {
			p, err := api.DescribeImages(ctx, ecsapi.ImageInput{Region: region, TagKey: tagKey, Page: n})
			return answer[cloud.Image]{items: p.Images, total: p.TotalCount}, err
		})
}

// ImageHeld says why a custom image must stay whatever its tags say: an
// answer that lacks a fact the rule reads or holds a value the API does
// not document (invalid-data), an image that is not the account's own,
// instances were created from it, it is shared with another account or
// public (in-use), or it is not Available (transitional-state). "" when
// none applies. DeleteImage without Force refuses the in-use and shared
// cases too; this rule does not rely on it.
func ImageHeld(img cloud.Image) (verdict.Reason, string) {
	if problem := imageProblem(img); problem != "" {
		return verdict.InvalidData, problem
	}
	switch {
	case img.OwnerAlias != "self":
		return verdict.InvalidData, fmt.Sprintf("not the account's own image (ImageOwnerAlias=%q)", img.OwnerAlias)
	case img.Usage != "none":
		return verdict.InUse, "instances were created from it (Usage=instance): never deleted while used"
	case strings.EqualFold(img.SelfShared, "true"):
		return verdict.InUse, "shared with another account: never deleted while shared"
	case *img.IsPublic:
		return verdict.InUse, "published as a community image: never deleted while public"
	case img.Status != "Available":
		return verdict.Transitional, "status " + img.Status + " (only an Available image is deleted)"
	}
	return "", ""
}

// imageProblem says why a DescribeImages answer cannot be trusted: a fact
// the rule reads is missing or is not a value the API documents.
func imageProblem(img cloud.Image) string {
	switch {
	case img.Status == "":
		return "the API's answer has no Status"
	case img.OwnerAlias == "":
		return "the API's answer has no ImageOwnerAlias"
	case img.Usage != "instance" && img.Usage != "none":
		return fmt.Sprintf("the API's answer has no usable Usage (%q; want instance or none)", img.Usage)
	case !strings.EqualFold(img.SelfShared, "true") && !strings.EqualFold(img.SelfShared, "false"):
		return fmt.Sprintf("the API's answer has no usable IsSelfShared (%q; want true or false)", img.SelfShared)
	case img.IsPublic == nil:
		return "the API's answer has no IsPublic"
	}
	return ""
}

// ImageResource is a listed custom image as the engine plans it.
func ImageResource(img cloud.Image) Resource {
	r := Resource{ID: img.ID, Name: img.Name, Created: img.CreationTime, Tags: img.Tags, Region: img.Region}
	r.Held, r.HeldDetail = ImageHeld(img)
	if len(img.SnapshotIDs) > 0 {
		r.Leaves = "its snapshots " + strings.Join(img.SnapshotIDs, ", ") +
			" stay, billed: ordinary snapshots once the image is gone, which the snapshots kind sweeps by their own tag"
	}
	return r
}
