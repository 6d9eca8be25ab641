package ecsdouble

import (
	"sort"
	"strings"
)

// tag is one key/value pair; a record keeps its tags sorted by key.
type tag struct{ k, v string }

// rec is the compact stored form of an Instance. Records are immutable once
// indexed except for the gone flag: a change replaces the record.
type rec struct {
	id, region, status, charge string
	expired, created           string
	name, zone, itype          string
	failWith                   string
	failStatus                 int
	protected                  bool
	gone                       bool // removed, released or replaced
	locks                      []string
	tags                       []tag
	// json is the record as DescribeInstances shows it, rendered once: a
	// record never changes (a changed instance gets a new record), and the
	// double should spend as little of the benchmarks' shared CPU as it can.
	json []byte
}

func (r *rec) tag(k string) (string, bool) {
	i := sort.Search(len(r.tags), func(i int) bool { return r.tags[i].k >= k })
	if i < len(r.tags) && r.tags[i].k == k {
		return r.tags[i].v, true
	}
	return "", false
}

// zoneID is the zone DescribeInstances shows: the instance's, or the
// region's first.
func (r *rec) zoneID() string {
	if r.zone != "" {
		return r.zone
	}
	return r.region + "-a"
}

func (r *rec) hasLock(reason string) bool {
	for _, l := range r.locks {
		if strings.EqualFold(l, reason) {
			return true
		}
	}
	return false
}

func (r *rec) instance() Instance {
	in := Instance{
		ID: r.id, Region: r.region, Status: r.status, ChargeType: r.charge,
		ExpiredTime: r.expired, CreationTime: r.created, DeletionProtection: r.protected,
		FailWith: r.failWith, FailStatus: r.failStatus, Name: r.name, Zone: r.zone, InstanceType: r.itype,
	}
	if len(r.locks) > 0 {
		in.LockReasons = append([]string(nil), r.locks...)
	}
	if len(r.tags) > 0 {
		in.Tags = make(map[string]string, len(r.tags))
		for _, t := range r.tags {
			in.Tags[t.k] = t.v
		}
	}
	return in
}

// index is a list of records sorted by ID; gone records are skipped when
// read and compacted away once they dominate.
type index struct {
	recs []*rec
	gone int
}

func (x *index) live() int { return len(x.recs) - x.gone }

func (x *index) insert(r *rec) {
	i := sort.Search(len(x.recs), func(i int) bool { return x.recs[i].id >= r.id })
	x.recs = append(x.recs, nil)
	copy(x.recs[i+1:], x.recs[i:])
	x.recs[i] = r
}

func (x *index) compactIfSparse() {
	if x.gone < 64 || x.gone*2 < len(x.recs) {
		return
	}
	out := x.recs[:0]
	for _, r := range x.recs {
		if !r.gone {
			out = append(out, r)
		}
	}
	clear(x.recs[len(out):])
	x.recs = out
	x.gone = 0
}

// regionIndex holds one region's records, all and per tag key.
type regionIndex struct {
	all   index
	byKey map[string]*index
	// version counts the region's changes; listings holds the matches of
	// recent page-number queries (by query fingerprint) as of a version.
	version  int
	listings map[string]*listing
}

// listing is the matches of one query at one version of its region.
type listing struct {
	version int
	recs    []*rec
}

// maxCachedListings bounds the queries a region remembers.
const maxCachedListings = 16

// store is the double's instance state. Callers hold Server.mu.
type store struct {
	byID    map[string]*rec
	regions map[string]*regionIndex
	intern  map[string]string
}

func newStore(f Fleet) *store {
	s := &store{
		byID:    make(map[string]*rec, len(f.Instances)),
		regions: map[string]*regionIndex{},
		intern:  map[string]string{},
	}
	for _, in := range f.Instances {
		r := s.toRec(in)
		s.byID[r.id] = r
		ri := s.region(r.region)
		ri.all.recs = append(ri.all.recs, r)
		for _, t := range r.tags {
			x := ri.byKey[t.k]
			if x == nil {
				x = &index{}
				ri.byKey[t.k] = x
			}
			x.recs = append(x.recs, r)
		}
	}
	byID := func(rs []*rec) {
		sort.Slice(rs, func(i, j int) bool { return rs[i].id < rs[j].id })
	}
	for _, ri := range s.regions {
		byID(ri.all.recs)
		for _, x := range ri.byKey {
			byID(x.recs)
		}
	}
	return s
}

func (s *store) in(v string) string {
	if v == "" {
		return ""
	}
	if w, ok := s.intern[v]; ok {
		return w
	}
	s.intern[v] = v
	return v
}

func (s *store) region(name string) *regionIndex {
	ri := s.regions[name]
	if ri == nil {
		ri = &regionIndex{byKey: map[string]*index{}, listings: map[string]*listing{}}
		s.regions[name] = ri
	}
	return ri
}

func (s *store) toRec(in Instance) *rec {
	r := &rec{
		id: in.ID, region: s.in(in.Region), status: s.in(in.Status), charge: s.in(in.ChargeType),
		expired: s.in(in.ExpiredTime), created: in.CreationTime,
		name: in.Name, zone: s.in(in.Zone), itype: s.in(in.InstanceType),
		failWith: s.in(in.FailWith), failStatus: in.FailStatus, protected: in.DeletionProtection,
	}
	if r.charge == "" {
		r.charge = "PostPaid"
	}
	if r.expired == "" && r.charge == "PostPaid" {
		r.expired = PostPaidExpiredTime
	}
	if len(in.LockReasons) > 0 {
		r.locks = make([]string, len(in.LockReasons))
		for i, l := range in.LockReasons {
			r.locks[i] = s.in(l)
		}
	}
	if len(in.Tags) > 0 {
		r.tags = make([]tag, 0, len(in.Tags))
		for k, v := range in.Tags {
			r.tags = append(r.tags, tag{s.in(k), v})
		}
		sort.Slice(r.tags, func(i, j int) bool { return r.tags[i].k < r.tags[j].k })
	}
	r.json = appendInstance(nil, render(r))
	return r
}

// drop marks r gone in every index that holds it.
func (s *store) drop(r *rec) {
	if r.gone {
		return
	}
	r.gone = true
	if s.byID[r.id] == r {
		delete(s.byID, r.id)
	}
	ri := s.regions[r.region]
	ri.version++
	ri.all.gone++
	for _, t := range r.tags {
		ri.byKey[t.k].gone++
	}
}

// put adds a record to every index (used for changed instances).
func (s *store) put(r *rec) {
	s.byID[r.id] = r
	ri := s.region(r.region)
	ri.version++
	ri.all.compactIfSparse()
	ri.all.insert(r)
	for _, t := range r.tags {
		x := ri.byKey[t.k]
		if x == nil {
			x = &index{}
			ri.byKey[t.k] = x
		}
		x.compactIfSparse()
		x.insert(r)
	}
}
