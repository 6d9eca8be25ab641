package ecsconform_test

import (
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsconform"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

const (
	testAK     = "LTAI-conform-test"
	testSecret = "conform-secret-value"
)

// The HTTP double on 127.0.0.1, through the real SDK client.
func TestDouble(t *testing.T) {
	ecsconform.Run(t, func(t *testing.T, f ecsconform.Fleet) ecsconform.Model {
		srv, err := ecsdouble.Start(toDouble(f), ecsdouble.WithCredential(testAK, testSecret, ""), ecsdouble.WithRegions(f.Regions...))
		if err != nil {
			t.Fatalf("start the double: %v", err)
		}
		t.Cleanup(srv.Close)
		api, err := ecsapi.NewClient(ecsapi.Config{
			Credentials: ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret},
			Endpoint:    srv.URL(),
		})
		if err != nil {
			t.Fatalf("client: %v", err)
		}
		return ecsconform.Model{API: api, FailNext: func(action string, n, status int, code string) {
			srv.FailNext(action, n, ecsdouble.Error(status, code))
		}}
	})
}

func toDouble(f ecsconform.Fleet) ecsdouble.Fleet {
	var out ecsdouble.Fleet
	for _, in := range f.Instances {
		out.Instances = append(out.Instances, ecsdouble.Instance{ID: in.ID, Name: in.Name, Region: in.Region, Status: in.Status,
			ChargeType: in.ChargeType, ExpiredTime: in.ExpiredTime, CreationTime: in.CreationTime,
			DeletionProtection: in.DeletionProtection, LockReasons: in.LockReasons, Tags: in.Tags})
	}
	for _, d := range f.Disks {
		out.Disks = append(out.Disks, ecsdouble.Disk{ID: d.ID, Region: d.Region, Instance: d.InstanceID, Type: d.Type,
			Category: d.Category, SizeGiB: d.SizeGiB, ChargeType: d.ChargeType, DeleteWithInstance: d.DeleteWithInstance,
			DeleteAutoSnapshot: d.DeleteAutoSnapshot, Tags: d.Tags, CreationTime: d.CreationTime})
	}
	for _, s := range f.Snapshots {
		out.Snapshots = append(out.Snapshots, ecsdouble.Snapshot{ID: s.ID, Region: s.Region, Disk: s.SourceDiskID, Type: s.Type,
			Usage: s.Usage, SizeGiB: s.SizeGiB, Tags: s.Tags, CreationTime: s.CreationTime})
	}
	for _, e := range f.EIPs {
		out.EIPs = append(out.EIPs, ecsdouble.EIP{AllocationID: e.AllocationID, Address: e.Address, Region: e.Region,
			Instance: e.InstanceID, ChargeType: e.ChargeType, DeletionProtection: e.DeletionProtection, Tags: e.Tags})
	}
	for _, im := range f.Images {
		di := ecsdouble.Image{ID: im.ID, Region: im.Region, Name: im.Name, Status: im.Status, Usage: im.Usage,
			Public: im.IsPublic != nil && *im.IsPublic, Snapshots: im.SnapshotIDs, SizeGiB: im.SizeGiB, Tags: im.Tags, CreationTime: im.CreationTime}
		if im.SelfShared == "true" {
			di.SharedWith = []string{"1234567890"}
		}
		out.Images = append(out.Images, di)
	}
	return out
}
