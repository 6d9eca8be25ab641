package ecsdouble

import (
	"fmt"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func tagReq(resourceType string, ids ...string) *ecs.TagResourcesRequest {
	req := ecs.CreateTagResourcesRequest()
	req.RegionId = "cn-hangzhou"
	req.ResourceType = resourceType
	req.ResourceId = &ids
	req.Tag = &[]ecs.TagResourcesTag{{Key: "mark", Value: "v"}}
	return req
}

// TagResources takes disks and snapshots as ECS does, keeps each resource
// under 20 tags with ECS's code, refuses the types it does not serve, and
// RefuseTags refuses one resource until lifted.
func TestTagResourcesTypesQuotaAndRefusals(t *testing.T) {
	full := map[string]string{}
	for i := range 20 {
		full[fmt.Sprintf("k%02d", i)] = "x"
	}
	s := startFleet(t, Fleet{
		Instances: []Instance{{ID: "i-1", Region: "cn-hangzhou", Status: "Stopped"}},
		Disks:     []Disk{{ID: "d-1", Region: "cn-hangzhou"}, {ID: "d-full", Region: "cn-hangzhou", Tags: full}},
		Snapshots: []Snapshot{{ID: "s-1", Region: "cn-hangzhou", Disk: "d-1"}},
	})
	c := sdkClient(t, s)
	if _, err := c.TagResources(tagReq("disk", "d-1")); err != nil {
		t.Fatalf("disk: %v", err)
	}
	if _, err := c.TagResources(tagReq("snapshot", "s-1")); err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if d, _ := s.Disk("d-1"); d.Tags["mark"] != "v" {
		t.Errorf("disk tags %v", d.Tags)
	}
	if sn, _ := s.Snapshot("s-1"); sn.Tags["mark"] != "v" {
		t.Errorf("snapshot tags %v", sn.Tags)
	}
	_, err := c.TagResources(tagReq("disk", "d-1", "d-full"))
	serverErr(t, err, 400, "OperationDenied.QuotaExceed")
	if d, _ := s.Disk("d-1"); len(d.Tags) != 1 {
		t.Errorf("a refused call wrote to d-1: %v", d.Tags)
	}
	_, err = c.TagResources(tagReq("disk", "i-1"))
	serverErr(t, err, 404, "InvalidResourceId.NotFound")
	_, err = c.TagResources(tagReq("securitygroup", "sg-1"))
	serverErr(t, err, 404, "InvalidResourceType.NotFound")

	s.RefuseTags("i-1", 403, "InvalidResourceId.NotSupported")
	_, err = c.TagResources(tagReq("instance", "i-1"))
	serverErr(t, err, 403, "InvalidResourceId.NotSupported")
	s.RefuseTags("i-1", 0, "")
	if _, err := c.TagResources(tagReq("instance", "i-1")); err != nil {
		t.Fatalf("after the refusal was lifted: %v", err)
	}
	if in, _ := s.Instance("i-1"); in.Tags["mark"] != "v" {
		t.Errorf("instance tags %v", in.Tags)
	}
}
