package e2e_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// Every write that failed fails the run, whatever its kind, and the run's
// error names it: kind, ID and the API's code.
func TestEveryFailedWriteFailsTheRun(t *testing.T) {
	cases := []struct {
		name    string
		fleet   func() ecsdouble.Fleet
		opts    func(*engine.Options)
		fault   ecsdouble.Rule
		section func(*report.Region) *report.Section
		id      string
		want    []string
	}{
		{
			name:    "a disk delete answered IncorrectDiskStatus",
			fleet:   resourceFleet,
			opts:    func(o *engine.Options) { o.Resources = []string{kinds.Disks.Name} },
			fault:   ecsdouble.Rule{Action: "DeleteDisk", Fault: ecsdouble.Error(403, "IncorrectDiskStatus")},
			section: func(r *report.Region) *report.Section { return r.Section("disks") },
			id:      "d-expired-free",
			want:    []string{"disk d-expired-free", "DeleteDisk failed", "IncorrectDiskStatus"},
		},
		{
			name:    "a snapshot delete refused",
			fleet:   resourceFleet,
			opts:    func(o *engine.Options) { o.Resources = []string{kinds.Snapshots.Name} },
			fault:   ecsdouble.Rule{Action: "DeleteSnapshot", Fault: ecsdouble.Error(403, "SnapshotCreatedImage")},
			section: func(r *report.Region) *report.Section { return r.Section("snapshots") },
			id:      "s-expired-free",
			want:    []string{"snapshot s-expired-free", "DeleteSnapshot failed", "SnapshotCreatedImage"},
		},
		{
			name:    "an EIP release answered IncorrectEipStatus",
			fleet:   resourceFleet,
			opts:    func(o *engine.Options) { o.Resources = []string{kinds.EIPs.Name} },
			fault:   ecsdouble.Rule{Action: "ReleaseEipAddress", Fault: ecsdouble.Error(400, "IncorrectEipStatus")},
			section: func(r *report.Region) *report.Section { return r.Section("eips") },
			id:      "eip-expired-free",
			want:    []string{"EIP eip-expired-free", "ReleaseEipAddress failed", "IncorrectEipStatus"},
		},
		{
			name:    "the EIP of a released instance answered IncorrectEipStatus",
			fleet:   leftoverFleet,
			opts:    func(o *engine.Options) { o.ReleaseEIPs, o.EIPMarkKey, o.EIPPollWait = true, eipMark, time.Millisecond },
			fault:   ecsdouble.Rule{Action: "ReleaseEipAddress", Fault: ecsdouble.Error(400, "IncorrectEipStatus")},
			section: func(r *report.Region) *report.Section { return r.Section("eips") },
			id:      "eip-a",
			want:    []string{"EIP eip-a", "IncorrectEipStatus"},
		},
		{
			name: "a hand-over mark that could not be written",
			fleet: func() ecsdouble.Fleet {
				f := leftoverFleet()
				f.EIPs[0].StaysUnassociating = true
				return f
			},
			opts:    func(o *engine.Options) { o.ReleaseEIPs, o.EIPMarkKey, o.EIPPollWait = true, eipMark, time.Millisecond },
			fault:   ecsdouble.Rule{Action: "TagResources", Fault: ecsdouble.Error(400, "InvalidTagKey.Malformed")},
			section: func(r *report.Region) *report.Section { return r.Section("eips") },
			id:      "eip-a",
			want:    []string{"EIP eip-a", "hand-over mark", "InvalidTagKey.Malformed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.fleet())
			e.srv.Inject(tc.fault)
			opts := options()
			tc.opts(&opts)
			rep, err := run(t, e, opts, "cn-hangzhou")
			if !errors.Is(err, engine.ErrReleaseFailed) {
				t.Fatalf("err %v: want the run failed", err)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
			if rep.Error == "" || rep.Error != err.Error() {
				t.Errorf("report error %q, want the run's error", rep.Error)
			}
			if got := sectionOutcomes(tc.section(rep.Regions[0]))[tc.id]; !strings.HasPrefix(got, "failed/") {
				t.Errorf("%s: %q, want failed with the code", tc.id, got)
			}
		})
	}
}

const eipMark = "reaper-notified-released-with"

// A disk's notice mark that ECS refused fails the run, naming the disk;
// the owner's other disk is marked.
func TestRefusedDiskNoticeMarkFailsTheRun(t *testing.T) {
	owned := map[string]string{optIn: "2026-11-01", ownerKey: "alice"}
	e := newEnv(t, ecsdouble.Fleet{Disks: []ecsdouble.Disk{
		{ID: "d-marked", Region: "cn-hangzhou", Tags: owned},
		{ID: "d-refused", Region: "cn-hangzhou", Tags: owned},
	}})
	e.srv.RefuseTags("d-refused", 403, "InvalidResourceId.NotSupported")
	opts := options()
	opts.Resources, opts.SkipInstances = []string{kinds.Disks.Name}, true
	opts.Lifecycle, opts.Notifier = lifecycle, &notices{}
	rep, err := run(t, e, opts, "cn-hangzhou")
	if !errors.Is(err, engine.ErrReleaseFailed) || !strings.Contains(err.Error(), "disk d-refused") || !strings.Contains(err.Error(), "InvalidResourceId.NotSupported") {
		t.Fatalf("err %v: want the run failed naming the disk and the code", err)
	}
	got := sectionOutcomes(rep.Regions[0].Section("disks"))
	if got["d-marked"] != "notified/" || got["d-refused"] != "failed/InvalidResourceId.NotSupported" || rep.Error == "" {
		t.Fatalf("disks %v, report error %q", got, rep.Error)
	}
}
