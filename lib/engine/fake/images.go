package fake

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// DescribeImages pages the region's own custom images by number
// (PageSize 100) in ID order, in every state, filtered by tag key or one
// image ID; TotalCount counts every match.
func (c *Cloud) DescribeImages(ctx context.Context, in ecsapi.ImageInput) (ecsapi.ImagePage, error) {
	var ids []string
	if in.ImageID != "" {
		ids = []string{in.ImageID}
	}
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDescribeImages, Region: in.Region, IDs: ids, Page: in.Page}, in); err != nil {
		return ecsapi.ImagePage{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.regions, in.Region) {
		return ecsapi.ImagePage{}, Err(ecsapi.ActionDescribeImages, in.Region, "InvalidRegionId.NotFound", 404)
	}
	var match []cloud.Image
	for _, im := range c.res.Images {
		_, tagged := im.Tags[in.TagKey]
		if im.Region == in.Region && (in.ImageID == "" || im.ID == in.ImageID) && (in.TagKey == "" || tagged) {
			im.Tags, im.SnapshotIDs = maps.Clone(im.Tags), slices.Clone(im.SnapshotIDs)
			match = append(match, im)
		}
	}
	slices.SortFunc(match, func(a, b cloud.Image) int { return strings.Compare(a.ID, b.ID) })
	if in.TagKey != "" && c.TagFilterCap > 0 && len(match) > c.TagFilterCap {
		match = match[:c.TagFilterCap]
	}
	page := max(1, in.Page)
	from := min(len(match), (page-1)*ecsapi.MaxImagePage)
	to := min(len(match), from+ecsapi.MaxImagePage)
	return ecsapi.ImagePage{Images: match[from:to], TotalCount: len(match), RequestID: c.requestID()}, nil
}

// DeleteImage deletes a custom image as ECS does without Force (the only
// way the reaper asks): a missing image is ignored; one instances were
// created from, shared or public, or being created, is refused. Its
// snapshots stay, no longer used by it.
func (c *Cloud) DeleteImage(ctx context.Context, region, id string) (string, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDeleteImage, Region: region, IDs: []string{id}}, id); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.res.Images, func(im cloud.Image) bool { return im.ID == id && im.Region == region })
	if i < 0 {
		return c.requestID(), nil // documented: a missing image is ignored
	}
	im := c.res.Images[i]
	switch {
	case im.Status == "Creating" || im.Status == "Waiting":
		return "", Err(ecsapi.ActionDeleteImage, region, "ImageIsCreating", 403)
	case strings.EqualFold(im.SelfShared, "true") || (im.IsPublic != nil && *im.IsPublic):
		return "", Err(ecsapi.ActionDeleteImage, region, "ImageUseShared", 403)
	case im.Usage == "instance":
		return "", Err(ecsapi.ActionDeleteImage, region, "ImageUsingByInstance", 403)
	}
	c.res.Images = slices.Delete(c.res.Images, i, i+1)
	for j, sn := range c.res.Snapshots {
		if slices.Contains(im.SnapshotIDs, sn.ID) {
			switch sn.Usage {
			case "image":
				c.res.Snapshots[j].Usage = "none"
			case "image_disk":
				c.res.Snapshots[j].Usage = "disk"
			}
		}
	}
	c.released = append(c.released, id)
	return c.requestID(), nil
}
