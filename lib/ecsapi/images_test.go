package ecsapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// startImages serves images through the double; edit, when set, rewrites
// every JSON answer on its way back.
func startImages(t *testing.T, edit func(map[string]any), images ...ecsdouble.Image) (*ecsdouble.Server, *ecsapi.Client) {
	t.Helper()
	srv, err := ecsdouble.Start(ecsdouble.Fleet{Images: images}, ecsdouble.WithCredential(ak, secret, token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	c, err := ecsapi.NewClient(ecsapi.Config{
		Credentials: ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: token},
		Endpoint:    srv.URL(),
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r)
			if err != nil || edit == nil {
				return resp, err
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				return nil, err
			}
			var m map[string]any
			if json.Unmarshal(b, &m) == nil {
				edit(m)
				b, _ = json.Marshal(m)
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return resp, nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func TestDescribeImagesAsksForOwnImagesInEveryStateAndMapsTheFacts(t *testing.T) {
	srv, c := startImages(t, nil,
		ecsdouble.Image{ID: "m-free", Region: "cn-hangzhou", Name: "build-42", SizeGiB: 20, CreationTime: "2026-01-01T00:00:00Z",
			Snapshots: []string{"s-sys", "s-data"}, Tags: map[string]string{"reaper-expires": "2026-02-01"}},
		ecsdouble.Image{ID: "m-shared", Region: "cn-hangzhou", SharedWith: []string{"1234567890"}, Tags: map[string]string{"reaper-expires": "x"}},
		ecsdouble.Image{ID: "m-public", Region: "cn-hangzhou", Public: true, Usage: "instance", Tags: map[string]string{"reaper-expires": "x"}},
		ecsdouble.Image{ID: "m-creating", Region: "cn-hangzhou", Status: "Creating", Tags: map[string]string{"reaper-expires": "x"}},
		ecsdouble.Image{ID: "m-untagged", Region: "cn-hangzhou"},
	)
	page, err := c.DescribeImages(context.Background(), ecsapi.ImageInput{Region: "cn-hangzhou", TagKey: "reaper-expires"})
	if err != nil {
		t.Fatal(err)
	}
	p := lastCall(srv).Params
	if p["ImageOwnerAlias"] != "self" || p["Status"] != ecsapi.ImageStatuses || p["PageSize"] != "100" || p["PageNumber"] != "1" ||
		p["Tag.1.Key"] != "reaper-expires" || p["ImageId"] != "" {
		t.Errorf("DescribeImages sent %v", p)
	}
	if page.TotalCount != 4 || page.RequestID == "" || len(page.Images) != 4 {
		t.Fatalf("page %+v: want the 4 tagged images, in every state, with TotalCount and a request ID", page)
	}
	byID := map[string]cloud.Image{}
	for _, im := range page.Images {
		byID[im.ID] = im
	}
	free := byID["m-free"]
	if free.Name != "build-42" || free.Region != "cn-hangzhou" || free.Status != "Available" || free.OwnerAlias != "self" ||
		free.Usage != "none" || free.SelfShared != "false" || free.IsPublic == nil || *free.IsPublic || free.SizeGiB != 20 ||
		free.CreationTime != "2026-01-01T00:00:00Z" || !slices.Equal(free.SnapshotIDs, []string{"s-sys", "s-data"}) ||
		free.Tags["reaper-expires"] != "2026-02-01" {
		t.Errorf("m-free mapped as %+v", free)
	}
	if byID["m-shared"].SelfShared != "true" {
		t.Errorf("m-shared: IsSelfShared %q", byID["m-shared"].SelfShared)
	}
	if pub := byID["m-public"]; pub.IsPublic == nil || !*pub.IsPublic || pub.Usage != "instance" {
		t.Errorf("m-public mapped as %+v", pub)
	}
	if byID["m-creating"].Status != "Creating" {
		t.Errorf("m-creating: status %q", byID["m-creating"].Status)
	}
	// One image by ID, for the re-read before a delete.
	if _, err := c.DescribeImages(context.Background(), ecsapi.ImageInput{Region: "cn-hangzhou", ImageID: "m-creating"}); err != nil {
		t.Fatal(err)
	}
	if got := lastCall(srv).Params["ImageId"]; got != "m-creating" {
		t.Errorf("ImageId sent as %q", got)
	}
}

func TestDescribeImagesKeepsAMissingFactMissing(t *testing.T) {
	_, c := startImages(t, nil,
		ecsdouble.Image{ID: "m-whole", Region: "cn-hangzhou"},
		ecsdouble.Image{ID: "m-no-public", Region: "cn-hangzhou", Omit: []string{"IsPublic"}},
		ecsdouble.Image{ID: "m-no-shared", Region: "cn-hangzhou", Omit: []string{"IsSelfShared"}},
		ecsdouble.Image{ID: "m-no-usage", Region: "cn-hangzhou", Omit: []string{"Usage", "Status", "ImageOwnerAlias"}},
	)
	page, err := c.DescribeImages(context.Background(), ecsapi.ImageInput{Region: "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]cloud.Image{}
	for _, im := range page.Images {
		byID[im.ID] = im
	}
	if im := byID["m-whole"]; im.IsPublic == nil || im.SelfShared != "false" {
		t.Errorf("a whole answer: IsPublic %v, IsSelfShared %q", im.IsPublic, im.SelfShared)
	}
	if im := byID["m-no-public"]; im.IsPublic != nil {
		t.Errorf("an answer without IsPublic reads as %v, want nil (unknown), not false", *im.IsPublic)
	}
	if im := byID["m-no-shared"]; im.SelfShared != "" {
		t.Errorf("an answer without IsSelfShared reads as %q", im.SelfShared)
	}
	if im := byID["m-no-usage"]; im.Usage != "" || im.Status != "" || im.OwnerAlias != "" {
		t.Errorf("an answer without Usage, Status, ImageOwnerAlias reads as %+v", im)
	}
}

func TestDescribeImagesPagesByNumber(t *testing.T) {
	var images []ecsdouble.Image
	for i := range 150 {
		images = append(images, ecsdouble.Image{ID: fmt.Sprintf("m-%03d", i), Region: "cn-hangzhou"})
	}
	_, c := startImages(t, nil, images...)
	var ids []string
	for n := 1; n <= 2; n++ {
		page, err := c.DescribeImages(context.Background(), ecsapi.ImageInput{Region: "cn-hangzhou", Page: n})
		if err != nil {
			t.Fatal(err)
		}
		if page.TotalCount != 150 {
			t.Fatalf("page %d: TotalCount %d", n, page.TotalCount)
		}
		for _, im := range page.Images {
			ids = append(ids, im.ID)
		}
	}
	slices.Sort(ids)
	if len(slices.Compact(ids)) != 150 {
		t.Errorf("two pages of 100 listed %d distinct images, want 150", len(slices.Compact(ids)))
	}
}

func TestDescribeImagesRejectsAnAnswerItCannotTrust(t *testing.T) {
	for name, edit := range map[string]func(map[string]any){
		"no TotalCount":  func(m map[string]any) { delete(m, "TotalCount") },
		"no RequestId":   func(m map[string]any) { delete(m, "RequestId") },
		"another region": func(m map[string]any) { m["RegionId"] = "cn-beijing" },
		"an image without ID": func(m map[string]any) {
			m["Images"].(map[string]any)["Image"].([]any)[0].(map[string]any)["ImageId"] = ""
		},
		"IsPublic a string": func(m map[string]any) {
			m["Images"].(map[string]any)["Image"].([]any)[0].(map[string]any)["IsPublic"] = "false"
		},
	} {
		t.Run(name, func(t *testing.T) {
			_, c := startImages(t, edit, ecsdouble.Image{ID: "m-1", Region: "cn-hangzhou"})
			page, err := c.DescribeImages(context.Background(), ecsapi.ImageInput{Region: "cn-hangzhou"})
			if err == nil || ecsapi.Code(err) != ecsapi.CodeBadResponse {
				t.Fatalf("got %+v, %v; want %s", page, err, ecsapi.CodeBadResponse)
			}
		})
	}
}

func TestDeleteImageNeverForcesAndClassifiesTheRefusals(t *testing.T) {
	srv, c := startImages(t, nil,
		ecsdouble.Image{ID: "m-used", Region: "cn-hangzhou", Usage: "instance"},
		ecsdouble.Image{ID: "m-shared", Region: "cn-hangzhou", SharedWith: []string{"1234567890"}},
		ecsdouble.Image{ID: "m-free", Region: "cn-hangzhou"},
	)
	ctx := context.Background()
	for id, code := range map[string]string{"m-used": "ImageUsingByInstance", "m-shared": "ImageUseShared"} {
		_, err := c.DeleteImage(ctx, "cn-hangzhou", id)
		if ecsapi.Code(err) != code || ecsapi.Classify(err) != ecsapi.ClassInstance {
			t.Errorf("%s: %v (class %v), want %s classified %v", id, err, ecsapi.Classify(err), code, ecsapi.ClassInstance)
		}
		if got := lastCall(srv).Params["Force"]; got != "false" {
			t.Errorf("DeleteImage sent Force=%q, want false", got)
		}
		if _, ok := srv.Image(id); !ok {
			t.Errorf("%s was deleted", id)
		}
	}
	reqID, err := c.DeleteImage(ctx, "cn-hangzhou", "m-free")
	if err != nil || reqID == "" {
		t.Fatalf("m-free: %q, %v", reqID, err)
	}
	if _, ok := srv.Image("m-free"); ok {
		t.Error("m-free is still there")
	}
	if _, err := c.DeleteImage(ctx, "cn-hangzhou", ""); err == nil {
		t.Error("an empty image ID was sent")
	}
}

func TestImageErrorCodesAreClassified(t *testing.T) {
	for code, want := range map[string]ecsapi.Class{
		"ImageUsingByInstance":         ecsapi.ClassInstance,
		"ImageUseShared":               ecsapi.ClassInstance,
		"ImageIsCreating":              ecsapi.ClassInstance,
		"OperationDenied.ImageCopying": ecsapi.ClassInstance,
		"ImageIsImporting":             ecsapi.ClassInstance,
		"ImageIsExporting":             ecsapi.ClassInstance,
		"InvalidImageId.NotFound":      ecsapi.ClassNotFound,
	} {
		status := 403
		if want == ecsapi.ClassNotFound {
			status = 404
		}
		if got := ecsapi.ClassifyCode(code, status); got != want {
			t.Errorf("%s (HTTP %d): %v, want %v", code, status, got, want)
		}
	}
}
