package ecsconform

import (
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// image is the account's own Available custom image, unused, neither
// shared nor public.
func image(region, id string, tags map[string]string) cloud.Image {
	no := false
	return cloud.Image{ID: id, Name: "name-" + id, Region: region, Status: "Available", OwnerAlias: "self", Usage: "none",
		IsPublic: &no, SelfShared: "false", SizeGiB: 40, CreationTime: "2026-01-01T00:00Z", Tags: tags}
}

func listImages(t *testing.T, api API, in ecsapi.ImageInput) []cloud.Image {
	t.Helper()
	var all []cloud.Image
	for n := 1; n <= maxPages; n++ {
		in.Page = n
		page, err := api.DescribeImages(ctx(t), in)
		if err != nil {
			t.Fatalf("DescribeImages page %d: %v", n, err)
		}
		if len(page.Images) > ecsapi.MaxImagePage {
			t.Fatalf("a DescribeImages page of %d", len(page.Images))
		}
		all = append(all, page.Images...)
		if len(all) >= page.TotalCount || len(page.Images) == 0 {
			return all
		}
	}
	t.Fatal("DescribeImages never ended")
	return nil
}

// Images: listed by number in every state with the safety facts, by tag
// and by ID; deleted one at a time without Force, refused when used,
// shared, public or being created; a deleted image's snapshots stay, no
// longer used by it.
func testImages(t *testing.T, newModel NewModel) {
	var fleet, want []cloud.Image
	for i := range 150 {
		img := image(hz, fmt.Sprintf("m-%05d", i), tagged(i))
		fleet = append(fleet, img)
		if img.Tags != nil {
			want = append(want, img)
		}
	}
	yes := true
	fleet[1].Usage = "instance"
	fleet[2].SelfShared = "true"
	fleet[3].IsPublic = &yes
	fleet[4].Status = "CreateFailed"
	fleet[5].SnapshotIDs = []string{"s-of-image"}
	fleet[6].Status = "Creating"
	held := snapshot(hz, "s-of-image", "d-gone", nil)
	held.Usage = "image"
	m := newModel(t, Fleet{Images: append(slices.Clone(fleet), image(sh, "m-other", tagged(0))), Snapshots: []cloud.Snapshot{held}})
	all := listImages(t, m.API, ecsapi.ImageInput{Region: hz})
	once(t, "DescribeImages", ids(all))
	sameIDs(t, "DescribeImages", ids(all), ids(fleet))
	for _, img := range all[:7] {
		i := slices.IndexFunc(fleet, func(f cloud.Image) bool { return f.ID == img.ID })
		if !reflect.DeepEqual(img, fleet[i]) {
			t.Errorf("image as listed\n got %+v\nwant %+v", img, fleet[i])
		}
	}
	sameIDs(t, "DescribeImages by tag", ids(listImages(t, m.API, ecsapi.ImageInput{Region: hz, TagKey: optIn})), ids(want))
	sameIDs(t, "DescribeImages by ID", ids(listImages(t, m.API, ecsapi.ImageInput{Region: hz, ImageID: "m-00009"})), []string{"m-00009"})
	sameIDs(t, "DescribeImages by another region's ID", ids(listImages(t, m.API, ecsapi.ImageInput{Region: hz, ImageID: "m-other"})), nil)

	for _, c := range []struct {
		what string
		id   string
		code string
	}{
		{"delete an image instances were created from (never with Force)", fleet[1].ID, "ImageUsingByInstance"},
		{"delete a shared image", fleet[2].ID, "ImageUseShared"},
		{"delete a public image", fleet[3].ID, "ImageUseShared"},
		{"delete an image being created", fleet[6].ID, "ImageIsCreating"},
	} {
		_, err := m.API.DeleteImage(ctx(t), hz, c.id)
		wantCode(t, c.what, err, c.code, ecsapi.ClassInstance)
	}
	_, err := m.API.DeleteImage(ctx(t), hz, fleet[0].ID)
	noErr(t, "delete an image", err)
	_, err = m.API.DeleteImage(ctx(t), hz, fleet[0].ID)
	noErr(t, "delete a missing image (documented: ignored)", err)
	_, err = m.API.DeleteImage(ctx(t), hz, fleet[5].ID)
	noErr(t, "delete an image with a snapshot", err)
	left := listImages(t, m.API, ecsapi.ImageInput{Region: hz})
	if slices.ContainsFunc(left, func(img cloud.Image) bool { return img.ID == fleet[0].ID || img.ID == fleet[5].ID }) || len(left) != len(fleet)-2 {
		t.Errorf("images after the deletes: %d, want %d without %s and %s", len(left), len(fleet)-2, fleet[0].ID, fleet[5].ID)
	}
	snaps := listSnapshots(t, m.API, ecsapi.ListInput{Region: hz, IDs: []string{"s-of-image"}})
	if len(snaps) != 1 || snaps[0].Usage != "none" {
		t.Errorf("the deleted image's snapshot: %+v, want it kept with Usage none", snaps)
	}
}
