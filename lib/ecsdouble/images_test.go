package ecsdouble

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func imagesReq(mutate func(*ecs.DescribeImagesRequest)) *ecs.DescribeImagesRequest {
	req := ecs.CreateDescribeImagesRequest()
	req.RegionId = "cn-hangzhou"
	req.ImageOwnerAlias = "self"
	if mutate != nil {
		mutate(req)
	}
	return req
}

func imageIDs(resp *ecs.DescribeImagesResponse) []string {
	var ids []string
	for _, im := range resp.Images.Image {
		ids = append(ids, im.ImageId)
	}
	return ids
}

func TestDescribeImagesListsOnlyAvailableUnlessStatusSaysOtherwise(t *testing.T) {
	s := startFleet(t, Fleet{Images: []Image{
		{ID: "m-avail", Region: "cn-hangzhou"},
		{ID: "m-creating", Region: "cn-hangzhou", Status: "Creating"},
		{ID: "m-failed", Region: "cn-hangzhou", Status: "CreateFailed"},
		{ID: "m-other-region", Region: "cn-beijing"},
	}})
	c := sdkClient(t, s)
	for name, tc := range map[string]struct {
		mutate func(*ecs.DescribeImagesRequest)
		want   []string
	}{
		"default status":     {nil, []string{"m-avail"}},
		"every status":       {func(r *ecs.DescribeImagesRequest) { r.Status = "Creating,Available,CreateFailed" }, []string{"m-avail", "m-creating", "m-failed"}},
		"one status":         {func(r *ecs.DescribeImagesRequest) { r.Status = "Creating" }, []string{"m-creating"}},
		"by ID":              {func(r *ecs.DescribeImagesRequest) { r.ImageId, r.Status = "m-failed", "Available,CreateFailed" }, []string{"m-failed"}},
		"by ID, not Status":  {func(r *ecs.DescribeImagesRequest) { r.ImageId = "m-failed" }, nil},
		"public images only": {func(r *ecs.DescribeImagesRequest) { r.ImageOwnerAlias = "system" }, nil},
		"shared with us":     {func(r *ecs.DescribeImagesRequest) { r.ImageOwnerAlias = "others" }, nil},
	} {
		resp, err := c.DescribeImages(imagesReq(tc.mutate))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := imageIDs(resp); !slices.Equal(got, tc.want) || resp.TotalCount != len(tc.want) || resp.RegionId != "cn-hangzhou" {
			t.Errorf("%s: %v (TotalCount %d, region %q), want %v", name, got, resp.TotalCount, resp.RegionId, tc.want)
		}
	}
	_, err := c.DescribeImages(imagesReq(func(r *ecs.DescribeImagesRequest) { r.ImageOwnerAlias = "mine" }))
	serverErr(t, err, 400, "InvalidImageOwnerAlias.ValueNotSupported")
}

func TestDescribeImagesFiltersByTagAndPagesByNumber(t *testing.T) {
	var images []Image
	for i := range 25 {
		im := Image{ID: fmt.Sprintf("m-%02d", i), Region: "cn-hangzhou"}
		if i%5 != 0 {
			im.Tags = map[string]string{"reaper-expires": fmt.Sprintf("2026-11-%02d", 1+i%2)}
		}
		images = append(images, im)
	}
	s := startFleet(t, Fleet{Images: images})
	c := sdkClient(t, s)
	var got []string
	for page := 1; page <= 3; page++ {
		resp, err := c.DescribeImages(imagesReq(func(r *ecs.DescribeImagesRequest) {
			r.Tag = &[]ecs.DescribeImagesTag{{Key: "reaper-expires"}}
			r.PageSize, r.PageNumber = requests.NewInteger(8), requests.NewInteger(page)
		}))
		if err != nil {
			t.Fatal(err)
		}
		if resp.TotalCount != 20 || resp.PageNumber != page {
			t.Fatalf("page %d: TotalCount %d, PageNumber %d; want 20 and %d", page, resp.TotalCount, resp.PageNumber, page)
		}
		if want := min(8, 20-8*(page-1)); len(resp.Images.Image) != want {
			t.Fatalf("page %d holds %d images, want %d", page, len(resp.Images.Image), want)
		}
		got = append(got, imageIDs(resp)...)
	}
	if len(got) != 20 || slices.Contains(got, "m-00") || slices.Contains(got, "m-05") {
		t.Errorf("tag-filtered listing %v: want the 20 tagged images once each", got)
	}
	resp, err := c.DescribeImages(imagesReq(func(r *ecs.DescribeImagesRequest) {
		r.Tag = &[]ecs.DescribeImagesTag{{Key: "reaper-expires", Value: "2026-11-02"}}
		r.PageSize = requests.NewInteger(100)
	}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.TotalCount != 10 {
		t.Errorf("Tag.1.Value filter: TotalCount %d, want the 10 images with that value", resp.TotalCount)
	}
	_, err = c.DescribeImages(imagesReq(func(r *ecs.DescribeImagesRequest) { r.PageSize = requests.NewInteger(101) }))
	serverErr(t, err, 400, "InvalidParameter.PageSize")
	_, err = c.DescribeImages(imagesReq(func(r *ecs.DescribeImagesRequest) { r.Tag = &[]ecs.DescribeImagesTag{{Value: "x"}} }))
	serverErr(t, err, 400, "InvalidTag.Mismatch")
}

func TestDescribeImagesAnswersTheSafetyFactsAndCanLeaveThemOut(t *testing.T) {
	s := startFleet(t, Fleet{Images: []Image{
		{ID: "m-free", Region: "cn-hangzhou", Snapshots: []string{"s-sys", "s-data"}, Tags: map[string]string{"k": "v"}},
		{ID: "m-shared", Region: "cn-hangzhou", SharedWith: []string{"1234567890"}},
		{ID: "m-public", Region: "cn-hangzhou", Public: true},
		{ID: "m-used", Region: "cn-hangzhou", Usage: "instance"},
		{ID: "m-partial", Region: "cn-hangzhou", Omit: []string{"IsPublic", "IsSelfShared"}},
	}})
	st, m := raw(t, s, map[string]string{"Action": "DescribeImages", "RegionId": "cn-hangzhou", "ImageOwnerAlias": "self"})
	if st != 200 {
		t.Fatalf("status %d: %v", st, m)
	}
	byID := map[string]map[string]any{}
	for _, x := range m["Images"].(map[string]any)["Image"].([]any) {
		im := x.(map[string]any)
		byID[im["ImageId"].(string)] = im
	}
	for id, want := range map[string]string{
		"m-free":   "self Available none false false",
		"m-shared": "self Available none false true",
		"m-public": "self Available none true false",
		"m-used":   "self Available instance false false",
	} {
		im := byID[id]
		if got := fmt.Sprint(im["ImageOwnerAlias"], " ", im["Status"], " ", im["Usage"], " ", im["IsPublic"], " ", im["IsSelfShared"]); got != want {
			t.Errorf("%s answered %q, want %q", id, got, want)
		}
		if _, isString := im["IsSelfShared"].(string); !isString {
			t.Errorf("%s: IsSelfShared is %T, a string in the API", id, im["IsSelfShared"])
		}
	}
	partial := byID["m-partial"]
	if _, ok := partial["IsPublic"]; ok {
		t.Errorf("Omit kept IsPublic: %v", partial)
	}
	if _, ok := partial["IsSelfShared"]; ok || partial["Usage"] != "none" {
		t.Errorf("Omit kept IsSelfShared or dropped more: %v", partial)
	}
	c := sdkClient(t, s)
	resp, err := c.DescribeImages(imagesReq(func(r *ecs.DescribeImagesRequest) { r.ImageId = "m-free" }))
	if err != nil {
		t.Fatal(err)
	}
	im := resp.Images.Image[0]
	var snaps []string
	for _, d := range im.DiskDeviceMappings.DiskDeviceMapping {
		snaps = append(snaps, d.SnapshotId)
	}
	if !slices.Equal(snaps, []string{"s-sys", "s-data"}) || len(im.Tags.Tag) != 1 || im.Tags.Tag[0].TagKey != "k" {
		t.Errorf("m-free: snapshots %v, tags %v", snaps, im.Tags.Tag)
	}
}

func TestDeleteImageRefusesAnImageInUseWithTheDocumentedCodes(t *testing.T) {
	s := startFleet(t, Fleet{Images: []Image{
		{ID: "m-used", Region: "cn-hangzhou", Usage: "instance"},
		{ID: "m-shared", Region: "cn-hangzhou", SharedWith: []string{"1234567890"}},
		{ID: "m-public", Region: "cn-hangzhou", Public: true},
		{ID: "m-creating", Region: "cn-hangzhou", Status: "Creating"},
		{ID: "m-waiting", Region: "cn-hangzhou", Status: "Waiting"},
		{ID: "m-copying", Region: "cn-hangzhou", Task: "copying"},
		{ID: "m-importing", Region: "cn-hangzhou", Task: "importing"},
		{ID: "m-exporting", Region: "cn-hangzhou", Task: "exporting"},
		{ID: "m-free", Region: "cn-hangzhou"},
	}})
	c := sdkClient(t, s)
	del := func(id string, force bool) error {
		req := ecs.CreateDeleteImageRequest()
		req.RegionId, req.ImageId, req.Force = "cn-hangzhou", id, requests.NewBoolean(force)
		_, err := c.DeleteImage(req)
		return err
	}
	for id, code := range map[string]string{
		"m-used": "ImageUsingByInstance", "m-shared": "ImageUseShared", "m-public": "ImageUseShared",
		"m-creating": "ImageIsCreating", "m-waiting": "ImageIsCreating", "m-copying": "OperationDenied.ImageCopying",
		"m-importing": "ImageIsImporting", "m-exporting": "ImageIsExporting",
	} {
		serverErr(t, del(id, false), 403, code)
		if _, ok := s.Image(id); !ok {
			t.Errorf("%s deleted despite %s", id, code)
		}
	}
	if err := del("m-free", false); err != nil {
		t.Fatalf("an unused, unshared, Available image: %v", err)
	}
	if err := del("m-gone", false); err != nil {
		t.Errorf("a missing image is documented as ignored: %v", err)
	}
	// Force skips only the instance check, as documented.
	serverErr(t, del("m-shared", true), 403, "ImageUseShared")
	if err := del("m-used", true); err != nil {
		t.Errorf("Force on an image used by instances: %v", err)
	}
	if _, ok := s.Image("m-free"); ok {
		t.Error("m-free still stored")
	}
	if got := s.Released(); !slices.Contains(got, "m-free") || !slices.Contains(got, "m-used") || slices.Contains(got, "m-gone") {
		t.Errorf("Released() = %v", got)
	}
	_, err := c.DeleteImage(func() *ecs.DeleteImageRequest {
		req := ecs.CreateDeleteImageRequest()
		req.RegionId = "cn-hangzhou"
		return req
	}())
	serverErr(t, err, 400, "MissingParameter")
}

func TestDeleteImageKeepsItsSnapshotsAsOrdinarySnapshots(t *testing.T) {
	s := startFleet(t, Fleet{
		Disks: []Disk{{ID: "d-1", Region: "cn-hangzhou"}},
		Snapshots: []Snapshot{
			{ID: "s-sys", Region: "cn-hangzhou", Disk: "d-1", Usage: "image"},
			{ID: "s-data", Region: "cn-hangzhou", Disk: "d-1", Usage: "image_disk"},
		},
		Images: []Image{{ID: "m-1", Region: "cn-hangzhou", Snapshots: []string{"s-sys", "s-data"}}},
	})
	c := sdkClient(t, s)
	req := ecs.CreateDeleteImageRequest()
	req.RegionId, req.ImageId = "cn-hangzhou", "m-1"
	if _, err := c.DeleteImage(req); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"s-sys": "none", "s-data": "disk"} {
		sn, ok := s.Snapshot(id)
		if !ok || sn.Usage != want {
			t.Errorf("snapshot %s after its image's deletion: present %v, Usage %q; want kept with Usage %q", id, ok, sn.Usage, want)
		}
	}
	resp, err := c.DescribeImages(imagesReq(nil))
	if err != nil || len(resp.Images.Image) != 0 {
		t.Errorf("the deleted image is still listed: %v %v", imageIDs(resp), err)
	}
	// The snapshot once held by the image can now be deleted on its own.
	sreq := ecs.CreateDeleteSnapshotRequest()
	sreq.RegionId, sreq.SnapshotId = "cn-hangzhou", "s-sys"
	if _, err := c.DeleteSnapshot(sreq); err != nil {
		t.Errorf("the freed snapshot cannot be deleted: %v", err)
	}
}

func TestFleetRejectsMalformedImages(t *testing.T) {
	for name, f := range map[string]Fleet{
		"no region": {Images: []Image{{ID: "m-1"}}},
		"duplicate": {Images: []Image{{ID: "m-1", Region: "r"}, {ID: "m-1", Region: "r"}}},
		"status":    {Images: []Image{{ID: "m-1", Region: "r", Status: "available"}}},
		"usage":     {Images: []Image{{ID: "m-1", Region: "r", Usage: "instances"}}},
		"task":      {Images: []Image{{ID: "m-1", Region: "r", Task: "copy"}}},
	} {
		if err := f.Validate(); err == nil || !strings.Contains(err.Error(), "image") {
			t.Errorf("%s: Validate() = %v, want an error naming the image", name, err)
		}
	}
	f, err := ParseFleet([]byte(`{"instances":[],"images":[{"id":"m-1","region":"cn-hangzhou","sharedWith":["1"]}]}`))
	if err != nil || len(f.Images) != 1 || !slices.Equal(f.Regions(), []string{"cn-hangzhou"}) {
		t.Errorf("ParseFleet: %+v %v", f, err)
	}
}

// Marks on images are written with TagResources ResourceType=image.
func TestTagResourcesTagsImages(t *testing.T) {
	s := startFleet(t, Fleet{Images: []Image{{ID: "m-1", Region: "cn-hangzhou", Tags: map[string]string{"reaper-expires": "2026-11-01"}},
		{ID: "m-2", Region: "cn-beijing"}}})
	c := sdkClient(t, s)
	if _, err := c.TagResources(tagReq("image", "m-1")); err != nil {
		t.Fatal(err)
	}
	if im, _ := s.Image("m-1"); im.Tags["mark"] != "v" || im.Tags["reaper-expires"] != "2026-11-01" {
		t.Errorf("image tags %v", im.Tags)
	}
	_, err := c.TagResources(tagReq("image", "m-2")) // another region's image
	serverErr(t, err, 404, "InvalidResourceId.NotFound")
	_, err = c.TagResources(tagReq("image", "d-1"))
	serverErr(t, err, 404, "InvalidResourceId.NotFound")
}
