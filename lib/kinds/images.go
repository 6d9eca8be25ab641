package kinds

import (
	"fmt"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

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
	return r
}
