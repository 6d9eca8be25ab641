package benchmark

import (
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// PhysicalFloor is the least wall time the API allows, as opposed to the
// sequential Floor: the calls are the floor's, but each region's work only
// waits on what it depends on, and on the rate limit.
type PhysicalFloor struct {
	Regions []RegionPhysical
	// Time is the slowest region's: regions run in parallel and the rate
	// limit is per region.
	Time time.Duration
	// Calls is the floor's calls with the re-reads the physical listing
	// time needs (none while it stays inside the freshness window).
	Calls int
	// RateLimit is the calls per second per action and region it assumed
	// (0: none).
	RateLimit int
}

// RegionPhysical is one region's physical floor.
type RegionPhysical struct {
	Region string
	// Listing, Leftovers and Writes are the phases: the listing (a first
	// page, then the rest at once), the leftover listings beside it, and
	// the re-reads and releases after it.
	Listing, Leftovers, Writes time.Duration
	Rechecks                   int
	Time                       time.Duration // max(Listing, Leftovers) + Writes
}

// ComputePhysicalFloor is the physical floor of the regions at the latency,
// with the double's rate limit rate (calls per second per action and
// region; 0 is none) and the freshness window. Per region, each phase
// takes whichever binds of its dependency chain at the latency and its
// calls at the rate, where n calls of one action take ⌊(n−1)/rate⌋ s +
// latency (the double admits rate calls in any second):
//
//	listing   = max(steps × latency, listing calls at the rate), where steps is
//	            1 for a single page, 2 for a first page and then the others
//	            (by page number) at once, or the ListTagResources pages (a
//	            NextToken chain) + 1 for the tag index
//	leftovers = max(pages × latency, pages at the rate) of the longest
//	            leftover listing (a NextToken chain), beside the listing
//	writes    = max(latency, re-reads at the rate) when the listing outlasts
//	            the freshness window (stale share as in ComputeFloor)
//	          + max(latency, releases at the rate) when anything is eligible
func ComputePhysicalFloor(shapes []RegionShape, latency time.Duration, rate int, freshness time.Duration) PhysicalFloor {
	base := ComputeFloor(shapes, latency, freshness)
	pf := PhysicalFloor{RateLimit: rate}
	// phase is the least time n calls of one action take: their chain of
	// steps at the latency, or the rate limit's windows (the k-th call,
	// from 0, is admitted in second ⌊k/rate⌋) plus the last call's latency.
	phase := func(steps, n int) time.Duration {
		t := time.Duration(steps) * latency
		if rate > 0 && n > 0 {
			t = max(t, time.Duration((n-1)/rate)*time.Second+latency)
		}
		return t
	}
	for i, r := range base.Regions {
		s := shapes[i]
		p := RegionPhysical{Region: r.Region}
		tags := r.Calls[ecsapi.ActionListTagResources]
		describe := r.Listing - tags
		steps := 1
		switch {
		case r.Path == PathTagIndex:
			steps = tags + 1
		case r.Listing > 1:
			steps = 2
		}
		p.Listing = max(phase(steps, describe), phase(0, tags))
		for _, a := range []string{ecsapi.ActionDescribeEipAddresses, ecsapi.ActionDescribeDisks, ecsapi.ActionDescribeSnapshots} {
			if n := r.Calls[a]; n > 0 {
				p.Leftovers = max(p.Leftovers, phase(n, n))
			}
		}
		stale := 0.0
		if p.Listing > freshness && p.Listing > 0 {
			stale = float64(p.Listing-freshness) / float64(p.Listing)
		}
		for _, e := range s.Eligible {
			if stale > 0 {
				p.Rechecks += ceilDiv(int(stale*float64(e)+0.999999), describeByID)
			}
		}
		if p.Rechecks > 0 {
			p.Writes += phase(1, p.Rechecks)
		}
		if r.Releases > 0 {
			p.Writes += phase(1, r.Releases)
		}
		p.Time = max(p.Listing, p.Leftovers) + p.Writes
		pf.Time = max(pf.Time, p.Time)
		pf.Calls += r.Total() - r.Rechecks + p.Rechecks
		pf.Regions = append(pf.Regions, p)
	}
	return pf
}
