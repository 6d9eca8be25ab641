package ecsapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/responses"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
)

// Custom image actions (ECS 2014-05-26); the facts behind them are in
// docs/images-facts.md.
const (
	ActionDescribeImages = "DescribeImages"
	ActionDeleteImage    = "DeleteImage"
)

// ImageActions is every action the custom-image kind calls.
var ImageActions = []string{ActionDescribeImages, ActionDeleteImage}

// MaxImagePage is DescribeImages' largest PageSize; it pages by number.
const MaxImagePage = 100

// ImageStatuses asks DescribeImages for images in every documented state:
// without Status it lists only Available ones, and a tagged image in
// another state would then go unreported instead of being shown as held.
const ImageStatuses = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"

// ImageInput selects one page of a region's own custom images: all, those
// carrying a tag key, or one image by ID (the API documents one ID).
type ImageInput struct {
	Region  string
	TagKey  string
	ImageID string
	Page    int // 1-based
}

// ImagePage is one page of DescribeImages.
type ImagePage struct {
	Images     []cloud.Image
	TotalCount int
	RequestID  string
}

// imagesBody is the part of DescribeImages the sweep reads, decoded
// strictly: TotalCount and IsPublic are pointers, so that an answer
// without them is untrusted rather than read as 0 or "not public".
type imagesBody struct {
	RequestId  string
	RegionId   string
	TotalCount *int
	Images     struct {
		Image []struct {
			ImageId            string
			ImageName          string
			ImageOwnerAlias    string
			Status             string
			Usage              string
			IsPublic           *bool
			IsSelfShared       string
			Size               int
			CreationTime       string
			DiskDeviceMappings struct {
				DiskDeviceMapping []struct{ SnapshotId string }
			}
			Tags struct {
				Tag []struct{ TagKey, TagValue string }
			}
		}
	}
}

// DescribeImages lists one page of a region's custom images
// (ImageOwnerAlias=self), in every state.
func (c *Client) DescribeImages(ctx context.Context, in ImageInput) (ImagePage, error) {
	const action = ActionDescribeImages
	client, err := c.sdkClient(ctx, in.Region, nil)
	if err != nil {
		return ImagePage{}, err
	}
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId = in.Region
	req.ImageOwnerAlias = "self"
	req.Status = ImageStatuses
	req.PageSize = requests.NewInteger(MaxImagePage)
	req.PageNumber = requests.NewInteger(max(1, in.Page))
	req.ImageId = in.ImageID
	if in.TagKey != "" {
		req.Tag = &[]ecs.DescribeImagesTag{{Key: in.TagKey}}
	}
	if err := c.prepare(ctx, action, req); err != nil {
		return ImagePage{}, c.wrap(ctx, action, in.Region, err)
	}
	resp := responses.NewCommonResponse()
	if _, err := guard(action, in.Region, func() (struct{}, error) { return struct{}{}, client.DoAction(req, resp) }); err != nil {
		return ImagePage{}, c.wrap(ctx, action, in.Region, err)
	}
	var body imagesBody
	if err := json.Unmarshal(resp.GetHttpContentBytes(), &body); err != nil {
		return ImagePage{}, malformed(action, in.Region, "not the expected JSON")
	}
	switch {
	case body.RequestId == "" || body.TotalCount == nil:
		return ImagePage{}, malformed(action, in.Region, "no RequestId or TotalCount")
	case body.RegionId != "" && body.RegionId != in.Region:
		return ImagePage{}, malformed(action, in.Region, "images of region "+strconv.Quote(body.RegionId))
	}
	page := ImagePage{TotalCount: *body.TotalCount, RequestID: body.RequestId}
	for _, x := range body.Images.Image {
		if x.ImageId == "" {
			return ImagePage{}, malformed(action, in.Region, "an image without ImageId")
		}
		img := cloud.Image{ID: x.ImageId, Name: x.ImageName, Region: in.Region, Status: x.Status, OwnerAlias: x.ImageOwnerAlias,
			Usage: x.Usage, IsPublic: x.IsPublic, SelfShared: x.IsSelfShared, SizeGiB: x.Size, CreationTime: x.CreationTime}
		for _, m := range x.DiskDeviceMappings.DiskDeviceMapping {
			if m.SnapshotId != "" {
				img.SnapshotIDs = append(img.SnapshotIDs, m.SnapshotId)
			}
		}
		for _, t := range x.Tags.Tag {
			if img.Tags == nil {
				img.Tags = map[string]string{}
			}
			img.Tags[t.TagKey] = t.TagValue
		}
		page.Images = append(page.Images, img)
	}
	return page, nil
}

// DeleteImage deletes one custom image, never with Force: ECS then refuses
// an image instances were created from or one shared with other accounts.
// ECS documents that a missing image is ignored: a success is no proof,
// and the sweep re-reads first. The image's snapshots stay.
func (c *Client) DeleteImage(ctx context.Context, region, imageID string) (string, error) {
	const action = ActionDeleteImage
	if imageID == "" {
		return "", fmt.Errorf("delete image in %s: no image ID", region)
	}
	client, err := c.sdkClient(ctx, region, nil)
	if err != nil {
		return "", err
	}
	req := ecs.CreateDeleteImageRequest()
	req.RegionId = region
	req.ImageId = imageID
	req.Force = requests.NewBoolean(false)
	if err := c.prepare(ctx, action, req); err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	resp, err := guard(action, region, func() (*ecs.DeleteImageResponse, error) { return client.DeleteImage(req) })
	if err != nil {
		return "", c.wrap(ctx, action, region, err)
	}
	if resp.RequestId == "" {
		return "", malformed(action, region, "no RequestId")
	}
	return resp.RequestId, nil
}
