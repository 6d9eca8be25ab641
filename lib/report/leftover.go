package report

import (
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Leftover is what stays billed after an instance's release: its EIPs
// (never released with it), its disks with DeleteWithInstance=false (kept
// as pay-as-you-go disks), and the snapshots of its disks that survive
// (manual ones always; automatic ones when DeleteAutoSnapshot=false, and
// every snapshot of a kept disk).
type Leftover struct {
	InstanceID string `json:"instanceId"`
	// Owner is the instance's owner (REAPER_OWNER_TAG), so the bill left
	// behind is joined to a person without a second lookup.
	Owner     string         `json:"owner,omitempty"`
	EIPs      []LeftEIP      `json:"eips,omitempty"`
	Disks     []LeftDisk     `json:"disks,omitempty"`
	Snapshots []LeftSnapshot `json:"snapshots,omitempty"`
}

// LeftEIP is an EIP that stays.
type LeftEIP struct {
	AllocationID string `json:"allocationId"`
	Address      string `json:"address"`
}

// LeftDisk is a disk that stays.
type LeftDisk struct {
	ID       string `json:"id"`
	SizeGiB  int    `json:"sizeGiB"`
	Category string `json:"category"`
	Type     string `json:"type"`
}

// LeftSnapshot is a snapshot that stays.
type LeftSnapshot struct {
	ID      string `json:"id"`
	Type    string `json:"type"` // automatic or manual
	SizeGiB int    `json:"sizeGiB"`
	DiskID  string `json:"diskId"`
}

// LeftoverSummary counts what the released instances leave billed.
type LeftoverSummary struct {
	// Complete is false when a leftover listing failed: the section may
	// miss things (the releases went on regardless).
	Complete    bool   `json:"complete"`
	Error       string `json:"error,omitempty"`
	Instances   int    `json:"instances"`
	EIPs        int    `json:"eips"`
	Disks       int    `json:"disks"`
	DiskGiB     int    `json:"diskGiB"`
	Snapshots   int    `json:"snapshots"`
	SnapshotGiB int    `json:"snapshotGiB"`
	// Unlisted counts the instances counted here whose leftovers the
	// region does not list (an organisation's report past its budget:
	// WritesView).
	Unlisted int `json:"unlisted,omitempty"`
}

func (s *LeftoverSummary) add(l *Leftover) {
	s.Instances++
	s.EIPs += len(l.EIPs)
	s.Disks += len(l.Disks)
	for _, d := range l.Disks {
		s.DiskGiB += d.SizeGiB
	}
	s.Snapshots += len(l.Snapshots)
	for _, sn := range l.Snapshots {
		s.SnapshotGiB += sn.SizeGiB
	}
}

// finishLeftovers keeps the leftovers of the instances this run released
// (or would release) and sums them.
func (r *Region) finishLeftovers() {
	if r.leftovers == nil && r.LeftoverSummary == nil {
		return
	}
	done := map[string]bool{}
	for _, g := range r.Groups {
		if g.Outcome == verdict.Released || g.Outcome == verdict.WouldRelease {
			for _, it := range g.Instances {
				done[it.ID] = true
			}
		}
	}
	sum := r.LeftoverSummary
	if sum == nil {
		sum = &LeftoverSummary{Complete: true}
	}
	sum.Instances, sum.EIPs, sum.Disks, sum.DiskGiB, sum.Snapshots, sum.SnapshotGiB = 0, 0, 0, 0, 0, 0
	r.Leftovers = nil
	for id, l := range r.leftovers {
		if done[id] && (len(l.EIPs)+len(l.Disks)+len(l.Snapshots) > 0) {
			r.Leftovers = append(r.Leftovers, l)
			sum.add(l)
		}
	}
	slices.SortFunc(r.Leftovers, func(a, b *Leftover) int { return strings.Compare(a.InstanceID, b.InstanceID) })
	r.LeftoverSummary = sum
}

// totalLeftovers sums the regions' leftover summaries.
func (rep *Report) totalLeftovers() { rep.Leftovers = sumLeftovers(rep.Regions) }

// sumLeftovers sums the regions' leftovers; nil when none has any.
func sumLeftovers(regions []*Region) *LeftoverSummary {
	var t *LeftoverSummary
	for _, r := range regions {
		s := r.LeftoverSummary
		if s == nil {
			continue
		}
		if t == nil {
			t = &LeftoverSummary{Complete: true}
		}
		t.Complete = t.Complete && s.Complete
		t.Instances += s.Instances
		t.EIPs += s.EIPs
		t.Disks += s.Disks
		t.DiskGiB += s.DiskGiB
		t.Snapshots += s.Snapshots
		t.SnapshotGiB += s.SnapshotGiB
		t.Unlisted += s.Unlisted
	}
	return t
}
