package benchmark

import (
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// API limits the floor is computed with (see ecsapi and the ECS docs).
const (
	pageSize      = ecsapi.MaxPageSize    // DescribeInstances MaxResults
	deleteBatch   = ecsapi.MaxDeleteIDs   // IDs per DeleteInstances
	describeByID  = ecsapi.MaxDescribeIDs // IDs per DescribeInstances InstanceIds
	tagFilterCap  = ecsapi.TagFilterCap   // results of a tag-filtered listing
	tagPageSize   = 50                    // ListTagResources entries per page
	probePageSize = pageSize
)

// RegionShape is what the floor of one region depends on.
type RegionShape struct {
	Region    string
	Instances int // M: every instance in the region
	OptedIn   int // N: instances carrying the opt-in tag
	// TagEntries is how many ListTagResources entries the opted-in
	// instances make: the API returns one per (instance, tag), so an
	// instance with the opt-in and the keep tag makes two.
	TagEntries int
	Eligible   map[decide.Flags]int // eligible instances by flag group
	// Disks, Snapshots and EIPs in the region: the leftover listings page
	// through them (DescribeDisks 500 a page, DescribeSnapshots and
	// DescribeEipAddresses 100); the benchmark fleets have none.
	Disks, Snapshots, EIPs int
	// InstanceDisks: some eligible instance has a disk (then the
	// snapshots are listed too).
	InstanceDisks bool
}

// EligibleTotal is the number of eligible instances in the region.
func (s RegionShape) EligibleTotal() int {
	n := 0
	for _, e := range s.Eligible {
		n += e
	}
	return n
}

// Listing paths of the floor, named as in the sweep's report.
const (
	PathScan      = "scan"       // unfiltered DescribeInstances pages
	PathTagFilter = "tag-filter" // DescribeInstances filtered by the opt-in tag (complete under 1,000)
	PathTagIndex  = "tag-index"  // ListTagResources, then DescribeInstances by ID
)

// RegionFloor is the floor of one region.
type RegionFloor struct {
	Region   string
	Path     string         // cheapest correct listing
	Calls    map[string]int // by action
	Listing  int            // listing calls
	Releases int            // DeleteInstances calls
	Rechecks int            // DescribeInstances re-reads of data older than the freshness window
	// Leftovers are the listings of what the releases leave billed.
	Leftovers int
	Time      time.Duration // (Listing + Rechecks + Releases) × latency, one call after another
}

// Total is every call of the region.
func (r RegionFloor) Total() int { return r.Listing + r.Releases + r.Rechecks + r.Leftovers }

// Floor is the API floor of a whole fleet.
type Floor struct {
	Regions []RegionFloor
	Calls   map[string]int // by action, all regions
	Total   int
	// Time is the longest region's floor time: regions run in parallel,
	// the calls of one region one after another.
	Time time.Duration
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// ComputeFloor is the API floor of the regions at the given per-call
// latency. Per region, with M instances and N of them opted in:
//
//	listing  = 1 DescribeInstances                    if M ≤ 100
//	         = min(scan, tag path)                    otherwise, where
//	scan     = ⌈M/100⌉ DescribeInstances
//	tag path = ⌈N/100⌉ tag-filtered DescribeInstances  if N < 1,000
//	         = ⌈T/50⌉ ListTagResources + ⌈N/100⌉ DescribeInstances by ID
//	                                                   if N ≥ 1,000 (the tag filter's cap)
//	releases = Σ over flag groups ⌈eligible in group/100⌉ DeleteInstances
//	rechecks = Σ over flag groups ⌈stale share × eligible in group/100⌉
//	leftover = ⌈EIPs/100⌉ DescribeEipAddresses + ⌈disks/500⌉ DescribeDisks
//	           (+ ⌈snapshots/100⌉ DescribeSnapshots when the instances have
//	           disks), each at least 1, when the region has eligible instances
//
// with T the ListTagResources entries (one per tag of each opted-in
// instance). A region's releases start when its listing ends, after
// L = listing × latency; an instance listed at t is stale if L − t exceeds
// the freshness window F, so the stale share is max(0, L − F)/L. The floor
// needs no sample page: it knows M and N, which the sweep has to discover.
func ComputeFloor(shapes []RegionShape, latency, freshness time.Duration) Floor {
	f := Floor{Calls: map[string]int{}}
	for _, s := range shapes {
		r := RegionFloor{Region: s.Region, Calls: map[string]int{}}
		scan := max(1, ceilDiv(s.Instances, pageSize))
		switch {
		case s.Instances <= probePageSize:
			r.Path, r.Listing = PathScan, 1
			r.Calls[ecsapi.ActionDescribeInstances] = 1
		case s.OptedIn < tagFilterCap && max(1, ceilDiv(s.OptedIn, pageSize)) < scan:
			r.Path, r.Listing = PathTagFilter, max(1, ceilDiv(s.OptedIn, pageSize))
			r.Calls[ecsapi.ActionDescribeInstances] = r.Listing
		case s.OptedIn >= tagFilterCap && max(1, ceilDiv(s.TagEntries, tagPageSize))+ceilDiv(s.OptedIn, describeByID) < scan:
			tags := max(1, ceilDiv(s.TagEntries, tagPageSize))
			byID := ceilDiv(s.OptedIn, describeByID)
			r.Path, r.Listing = PathTagIndex, tags+byID
			r.Calls[ecsapi.ActionListTagResources] = tags
			r.Calls[ecsapi.ActionDescribeInstances] = byID
		default:
			r.Path, r.Listing = PathScan, scan
			r.Calls[ecsapi.ActionDescribeInstances] = scan
		}
		listTime := time.Duration(r.Listing) * latency
		stale := 0.0
		if listTime > freshness && listTime > 0 {
			stale = float64(listTime-freshness) / float64(listTime)
		}
		for _, e := range s.Eligible {
			r.Releases += ceilDiv(e, deleteBatch)
			if stale > 0 {
				r.Rechecks += ceilDiv(int(stale*float64(e)+0.999999), describeByID)
			}
		}
		r.Calls[ecsapi.ActionDeleteInstances] += r.Releases
		r.Calls[ecsapi.ActionDescribeInstances] += r.Rechecks
		if s.EligibleTotal() > 0 {
			eips, disks := max(1, ceilDiv(s.EIPs, 100)), max(1, ceilDiv(s.Disks, 500))
			r.Calls[ecsapi.ActionDescribeEipAddresses] += eips
			r.Calls[ecsapi.ActionDescribeDisks] += disks
			r.Leftovers = eips + disks
			if s.InstanceDisks {
				snaps := max(1, ceilDiv(s.Snapshots, 100))
				r.Calls[ecsapi.ActionDescribeSnapshots] += snaps
				r.Leftovers += snaps
			}
		}
		r.Time = time.Duration(r.Total()) * latency
		for a, n := range r.Calls {
			if n > 0 {
				f.Calls[a] += n
			} else {
				delete(r.Calls, a)
			}
		}
		f.Total += r.Total()
		f.Time = max(f.Time, r.Time)
		f.Regions = append(f.Regions, r)
	}
	return f
}
