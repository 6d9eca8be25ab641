// Package leftover finds, before a release, what the release will leave
// billed: the EIPs bound to the instances (never released with them), their
// disks with DeleteWithInstance=false, and the snapshots of their disks that
// survive. It lists the region's disks, EIPs and snapshots page by page and
// joins them on instance and disk IDs: a few calls per region, never one
// per instance. After the release the associations are gone, so this runs
// first; the EIP and disk listings start (Start) as soon as the instance
// listing finds a first instance to release, and run alongside it. Its listings are the kinds' own (package kinds).
package leftover

import (
	"context"
	"slices"
	"sync"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// API is what the leftover listings need from a scope's clients: the
// listings of the disk, snapshot and EIP kinds.
type API interface {
	kinds.DiskLister
	kinds.SnapshotLister
	kinds.EIPLister
}

// Found is what the listings found for the instances.
type Found struct {
	Leftovers map[string]*report.Leftover
	// EIPs are the instances' EIPs as listed, for releasing them after.
	EIPs map[string][]cloud.EIP // instance ID → its EIPs
	// EIPsListed: the region's EIPs were listed, so EIPs is whole.
	EIPsListed bool
}

// Gather lists the region and returns what each instance's release leaves
// billed. A failed listing returns what was found with the failure: the
// releases go on, and the report marks the section incomplete.
func Gather(ctx context.Context, api API, c *call.Caller, region string, instanceIDs []string) (Found, *verdict.Failure) {
	return Start(ctx, api, c, region).Join(ctx, api, c, region, instanceIDs)
}

// Listing is a region's EIP and disk listings, started before the
// instances to release are known, so that they run alongside the
// instance listing rather than after it.
type Listing struct {
	done    chan struct{}
	eips    []cloud.EIP
	disks   []cloud.Disk
	eipFail *verdict.Failure
	diskErr *verdict.Failure
}

// Start lists the region's EIPs and disks, both at once, in the
// background.
func Start(ctx context.Context, api API, c *call.Caller, region string) *Listing {
	l := &Listing{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		var wg sync.WaitGroup
		wg.Go(func() { l.eips, l.eipFail = listEIPs(ctx, api, c, region) })
		wg.Go(func() { l.disks, l.diskErr = kinds.ListDisks(ctx, api, c, region, "") })
		wg.Wait()
	}()
	return l
}

// Failed is a listing that failed before it started (the client cannot
// list): joined, it reports f.
func Failed(f *verdict.Failure) *Listing {
	l := &Listing{done: make(chan struct{}), eipFail: f}
	close(l.done)
	return l
}

// Wait returns once the listings have ended.
func (l *Listing) Wait() { <-l.done }

// Join waits for the listings and returns what each of instanceIDs'
// release leaves billed; it lists the snapshots when one of them has a
// disk.
func (l *Listing) Join(ctx context.Context, api API, c *call.Caller, region string, instanceIDs []string) (Found, *verdict.Failure) {
	l.Wait()
	// A join on the sorted IDs: no set of every eligible ID beside them.
	if !slices.IsSorted(instanceIDs) {
		instanceIDs = slices.Sorted(slices.Values(instanceIDs))
	}
	want := func(id string) bool {
		_, ok := slices.BinarySearch(instanceIDs, id)
		return ok
	}
	found := Found{Leftovers: map[string]*report.Leftover{}, EIPs: map[string][]cloud.EIP{}}
	entry := func(id string) *report.Leftover {
		l := found.Leftovers[id]
		if l == nil {
			l = &report.Leftover{InstanceID: id}
			found.Leftovers[id] = l
		}
		return l
	}

	if l.eipFail != nil {
		return found, leftoverFailure(l.eipFail)
	}
	found.EIPsListed = true
	for _, e := range l.eips {
		if want(e.InstanceID) {
			found.EIPs[e.InstanceID] = append(found.EIPs[e.InstanceID], e)
			entry(e.InstanceID).EIPs = append(entry(e.InstanceID).EIPs, report.LeftEIP{AllocationID: e.AllocationID, Address: e.Address})
		}
	}

	if l.diskErr != nil {
		return found, leftoverFailure(l.diskErr)
	}
	diskOf := map[string]cloud.Disk{} // disk ID → disk, for the instances' disks
	for _, d := range l.disks {
		if !want(d.InstanceID) {
			continue
		}
		diskOf[d.ID] = d
		if !d.DeleteWithInstance {
			entry(d.InstanceID).Disks = append(entry(d.InstanceID).Disks, report.LeftDisk{ID: d.ID, SizeGiB: d.SizeGiB, Category: d.Category, Type: d.Type})
		}
	}
	if len(diskOf) == 0 {
		return found, nil
	}
	snaps, err := kinds.ListSnapshots(ctx, api, c, region, "")
	if err != nil {
		return found, leftoverFailure(err)
	}
	for _, sn := range snaps {
		d, ok := diskOf[sn.SourceDiskID]
		if !ok {
			continue
		}
		// A kept disk keeps all its snapshots; a released one keeps its
		// manual snapshots, and its automatic ones unless
		// DeleteAutoSnapshot.
		if d.DeleteWithInstance && sn.Automatic() && d.DeleteAutoSnapshot {
			continue
		}
		kind := "manual"
		if sn.Automatic() {
			kind = "automatic"
		}
		entry(d.InstanceID).Snapshots = append(entry(d.InstanceID).Snapshots, report.LeftSnapshot{ID: sn.ID, Type: kind, SizeGiB: sn.SizeGiB, DiskID: d.ID})
	}
	for _, l := range found.Leftovers {
		slices.SortFunc(l.Disks, func(a, b report.LeftDisk) int { return compare(a.ID, b.ID) })
		slices.SortFunc(l.Snapshots, func(a, b report.LeftSnapshot) int { return compare(a.ID, b.ID) })
	}
	return found, nil
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func leftoverFailure(f *verdict.Failure) *verdict.Failure {
	c := *f // a Listing may be joined more than once
	c.Message = "leftover listing: " + f.Message
	return &c
}

func listEIPs(ctx context.Context, api API, c *call.Caller, region string) ([]cloud.EIP, *verdict.Failure) {
	return kinds.ListEIPs(ctx, api, c, region, "")
}
