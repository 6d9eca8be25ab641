package ecsdouble

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Image is one fake custom image of the account (ImageOwnerAlias self),
// served by DescribeImages and deleted by DeleteImage as documented (see
// docs/images-facts.md):
//
//   - DescribeImages lists only Available images unless Status names
//     others (a comma-separated list); Tag.N.Key/Value (N up to 20) must
//     all match; ImageId selects one image; Usage filters instance/none;
//     pages by PageNumber and PageSize (1..100, default 10; above 100 the
//     double answers 400 InvalidParameter.PageSize, its own choice) with
//     TotalCount; ImageOwnerAlias system, others or marketplace list none
//     of these images.
//   - DeleteImage refuses, all 403: Usage instance (ImageUsingByInstance,
//     unless Force), shared with an account or public (ImageUseShared),
//     Creating or Waiting (ImageIsCreating), a copy, import or export
//     under way (OperationDenied.ImageCopying, ImageIsImporting,
//     ImageIsExporting). A missing image is ignored (documented). The
//     image's snapshots stay, no longer used by it (Usage image becomes
//     none, image_disk becomes disk).
type Image struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	Name   string `json:"name,omitempty"`
	// Status: Creating, Waiting, Available (default), UnAvailable,
	// CreateFailed, Deprecated.
	Status string `json:"status,omitempty"`
	// Usage: instance (instances were created from it) or none (default).
	Usage string `json:"usage,omitempty"`
	// SharedWith are the accounts it is shared with (IsSelfShared).
	SharedWith []string `json:"sharedWith,omitempty"`
	// Public: published as a community image (IsPublic).
	Public bool `json:"public,omitempty"`
	// Task is a copy, import or export under way: copying, importing,
	// exporting.
	Task         string            `json:"task,omitempty"`
	Snapshots    []string          `json:"snapshots,omitempty"` // DiskDeviceMappings
	SizeGiB      int               `json:"size,omitempty"`      // default 40
	Tags         map[string]string `json:"tags,omitempty"`
	CreationTime string            `json:"creationTime,omitempty"`
	// Omit names DescribeImages answer fields left out (e.g. "IsPublic").
	Omit []string `json:"omit,omitempty"`
}

// imageStatuses are the documented states; the fleet may hold no other.
var imageStatuses = []string{"Creating", "Waiting", "Available", "UnAvailable", "CreateFailed", "Deprecated"}

func validateImages(images []Image) error {
	seen := map[string]bool{}
	for i, im := range images {
		switch {
		case im.ID == "" || im.Region == "":
			return fmt.Errorf("fleet image %d: id and region are required", i)
		case seen[im.ID]:
			return fmt.Errorf("fleet image %d: duplicate id %q", i, im.ID)
		case im.Status != "" && !slices.Contains(imageStatuses, im.Status):
			return fmt.Errorf("fleet image %s: status %q is not one of %v", im.ID, im.Status, imageStatuses)
		case im.Usage != "" && im.Usage != "instance" && im.Usage != "none":
			return fmt.Errorf("fleet image %s: usage %q is not instance or none", im.ID, im.Usage)
		case im.Task != "" && im.Task != "copying" && im.Task != "importing" && im.Task != "exporting":
			return fmt.Errorf("fleet image %s: task %q is not copying, importing or exporting", im.ID, im.Task)
		}
		seen[im.ID] = true
	}
	return nil
}

func newImages(f Fleet) map[string]*Image {
	out := make(map[string]*Image, len(f.Images))
	for _, im := range f.Images {
		im := im
		im.Tags = maps.Clone(im.Tags)
		im.SharedWith = slices.Clone(im.SharedWith)
		im.Snapshots = slices.Clone(im.Snapshots)
		if im.Status == "" {
			im.Status = "Available"
		}
		if im.Usage == "" {
			im.Usage = "none"
		}
		out[im.ID] = &im
	}
	return out
}

// Image returns an image as stored.
func (s *Server) Image(id string) (Image, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.res.images[id]
	if !ok {
		return Image{}, false
	}
	return *im, true
}

// imageTagTarget finds an image for TagResources (ResourceType image).
// Callers hold s.mu.
func (s *Server) imageTagTarget(region, id string) (tagTarget, bool) {
	im, ok := s.res.images[id]
	if !ok || im.Region != region {
		return tagTarget{}, false
	}
	return tagTarget{tags: im.Tags, set: func(m map[string]string) { im.Tags = m }}, true
}

// imageTags reads Tag.N.Key/Value (N 1..20): every pair must match.
func imageTags(p map[string]string) (map[string]*string, *apiError) {
	tags := map[string]*string{}
	for k := range p {
		rest, ok := strings.CutPrefix(k, "Tag.")
		if !ok {
			continue
		}
		n, field, _ := strings.Cut(rest, ".")
		i, err := strconv.Atoi(n)
		if err != nil || i < 1 || (field != "Key" && field != "Value") {
			return nil, errf(400, "InvalidParameter", "The specified parameter %s is not valid.", k)
		}
		if i > 20 {
			return nil, errf(400, "InvalidTagCount", "The specified tags are beyond the permitted range.")
		}
		key, hasKey := p["Tag."+n+".Key"]
		if !hasKey || key == "" {
			return nil, errf(400, "InvalidTag.Mismatch", "The specified Tag.n.Key and Tag.n.Value are not match.")
		}
		if v, ok := p["Tag."+n+".Value"]; ok && v != "" {
			tags[key] = &v
		} else if _, seen := tags[key]; !seen {
			tags[key] = nil
		}
	}
	return tags, nil
}

func (s *Server) describeImages(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	switch p["ImageOwnerAlias"] {
	case "", "self", "system", "others", "marketplace":
	default:
		return errorReply(reqID, errf(400, "InvalidImageOwnerAlias.ValueNotSupported", "The specified ImageOwnerAlias value is not supported."))
	}
	switch p["Usage"] {
	case "", "instance", "none":
	default:
		return errorReply(reqID, errf(404, "InvalidUsage", "The specified Usage is not valid."))
	}
	tags, e := imageTags(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	size, err := strconv.Atoi(p["PageSize"])
	if err != nil || size < 1 {
		size = 10
	}
	if size > 100 {
		return errorReply(reqID, errf(400, "InvalidParameter.PageSize", "PageSize must be at most 100."))
	}
	number, err := strconv.Atoi(p["PageNumber"])
	if err != nil || number < 1 {
		number = 1
	}
	statuses := []string{"Available"} // documented default
	if raw := p["Status"]; raw != "" {
		statuses = strings.Split(raw, ",")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []string
	for id, im := range s.res.images {
		own := p["ImageOwnerAlias"] == "" || p["ImageOwnerAlias"] == "self"
		if !own || im.Region != region || !slices.Contains(statuses, im.Status) ||
			(p["ImageId"] != "" && id != p["ImageId"]) || (p["Usage"] != "" && im.Usage != p["Usage"]) || !tagsMatch(im.Tags, tags) {
			continue
		}
		match = append(match, id)
	}
	slices.Sort(match)
	start := min((number-1)*size, len(match))
	end := min(start+size, len(match))
	type mappingJSON struct {
		SnapshotID string `json:"SnapshotId"`
		Size       string `json:"Size"`
		Type       string `json:"Type"`
	}
	type imageJSON struct {
		ImageID            string `json:"ImageId"`
		ImageName          string `json:"ImageName"`
		ImageOwnerAlias    string `json:"ImageOwnerAlias"`
		Status             string `json:"Status"`
		Usage              string `json:"Usage"`
		IsPublic           bool   `json:"IsPublic"`
		IsSelfShared       string `json:"IsSelfShared"`
		Size               int    `json:"Size"`
		CreationTime       string `json:"CreationTime"`
		Progress           string `json:"Progress"`
		DiskDeviceMappings struct {
			DiskDeviceMapping []mappingJSON `json:"DiskDeviceMapping"`
		} `json:"DiskDeviceMappings"`
		Tags struct {
			Tag []diskTagJSON `json:"Tag"`
		} `json:"Tags"`
	}
	out := []any{}
	for _, id := range match[start:end] {
		im := s.res.images[id]
		j := imageJSON{ImageID: im.ID, ImageName: im.Name, ImageOwnerAlias: "self", Status: im.Status, Usage: im.Usage,
			IsPublic: im.Public, IsSelfShared: strconv.FormatBool(len(im.SharedWith) > 0), Size: im.SizeGiB,
			CreationTime: im.CreationTime, Progress: "100%"}
		if j.Size == 0 {
			j.Size = 40
		}
		j.DiskDeviceMappings.DiskDeviceMapping = []mappingJSON{}
		for i, sid := range im.Snapshots {
			typ := "data"
			if i == 0 {
				typ = "system"
			}
			j.DiskDeviceMappings.DiskDeviceMapping = append(j.DiskDeviceMappings.DiskDeviceMapping, mappingJSON{sid, strconv.Itoa(j.Size), typ})
		}
		j.Tags.Tag = ecsTags(im.Tags)
		out = append(out, omitFields(j, im.Omit))
	}
	return jsonReply(map[string]any{"RequestId": reqID, "RegionId": region, "TotalCount": len(match), "PageNumber": number,
		"PageSize": size, "Images": map[string]any{"Image": out}})
}

// tagsMatch: every asked key is present, with the asked value when one was
// given.
func tagsMatch(have map[string]string, want map[string]*string) bool {
	for k, v := range want {
		got, ok := have[k]
		if !ok || (v != nil && got != *v) {
			return false
		}
	}
	return true
}

func (s *Server) deleteImage(reqID string, p map[string]string) reply {
	if _, e := s.checkRegion(p); e != nil {
		return errorReply(reqID, e)
	}
	force, e := parseBool(p, "Force")
	if e != nil {
		return errorReply(reqID, e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	im, ok := s.res.images[p["ImageId"]]
	switch {
	case p["ImageId"] == "":
		return errorReply(reqID, errf(400, "MissingParameter", "The input parameter \"ImageId\" is required."))
	case !ok:
		return jsonReply(map[string]string{"RequestId": reqID}) // documented: a missing image is ignored
	case im.Task == "copying":
		return errorReply(reqID, errf(403, "OperationDenied.ImageCopying", "The Image is coping."))
	case im.Task == "importing":
		return errorReply(reqID, errf(403, "ImageIsImporting", "The specified Image is importing."))
	case im.Task == "exporting":
		return errorReply(reqID, errf(403, "ImageIsExporting", "The specified Image is exporting. Please cancel task first."))
	case im.Status == "Creating" || im.Status == "Waiting":
		return errorReply(reqID, errf(403, "ImageIsCreating", "The specified image is being created."))
	case len(im.SharedWith) > 0 || im.Public:
		return errorReply(reqID, errf(403, "ImageUseShared", "The specified image has been shared to others."))
	case im.Usage == "instance" && !force:
		return errorReply(reqID, errf(403, "ImageUsingByInstance", "The specified image has been used to create instances."))
	}
	delete(s.res.images, im.ID)
	for _, sid := range im.Snapshots {
		if sn, ok := s.res.snapshots[sid]; ok {
			switch sn.Usage {
			case "image":
				sn.Usage = "none"
			case "image_disk":
				sn.Usage = "disk"
			}
		}
	}
	s.released[im.ID] = true
	return jsonReply(map[string]string{"RequestId": reqID})
}
