package ecsdouble

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Limits the double enforces.
const (
	// TagFilterCap is the most resources a tag-filtered DescribeInstances
	// returns across all pages; the listing then simply ends.
	TagFilterCap = 1000
	// TagPageSize is the number of entries per ListTagResources page.
	TagPageSize       = 50
	maxTagFilters     = 20
	maxDescribeIDs    = 100
	maxDeleteIDs      = 100
	maxTagResourceIDs = 50
)

// regionNames gives LocalName for the regions GenerateFleet uses.
var regionNames = map[string]string{
	"cn-hangzhou": "华东1（杭州）", "cn-shanghai": "华东2（上海）", "cn-beijing": "华北2（北京）",
	"cn-shenzhen": "华南1（深圳）", "cn-qingdao": "华北1（青岛）", "cn-zhangjiakou": "华北3（张家口）",
	"cn-huhehaote": "华北5（呼和浩特）", "cn-wulanchabu": "华北6（乌兰察布）", "cn-chengdu": "西南1（成都）",
	"cn-guangzhou": "华南3（广州）", "cn-heyuan": "华南2（河源）", "cn-nanjing": "华东5（南京-本地地域）",
	"cn-fuzhou": "华东6（福州-本地地域）", "cn-hongkong": "中国香港", "ap-southeast-1": "新加坡",
	"ap-southeast-3": "马来西亚（吉隆坡）", "ap-southeast-5": "印度尼西亚（雅加达）",
	"ap-northeast-1": "日本（东京）", "us-west-1": "美国（硅谷）", "eu-central-1": "德国（法兰克福）",
}

type regionJSON struct {
	RegionID       string `json:"RegionId"`
	LocalName      string `json:"LocalName"`
	RegionEndpoint string `json:"RegionEndpoint"`
	Status         string `json:"Status"`
}

func (s *Server) describeRegions(reqID string, _ map[string]string) reply {
	s.mu.Lock()
	ids := make([]string, 0, len(s.known))
	for r := range s.known {
		ids = append(ids, r)
	}
	s.mu.Unlock()
	sort.Strings(ids)
	regions := make([]regionJSON, len(ids))
	for i, id := range ids {
		name := regionNames[id]
		if name == "" {
			name = id
		}
		regions[i] = regionJSON{id, name, "ecs." + id + ".aliyuncs.com", "available"}
	}
	var out struct {
		RequestID string `json:"RequestId"`
		Regions   struct {
			Region []regionJSON `json:"Region"`
		} `json:"Regions"`
	}
	out.RequestID = reqID
	out.Regions.Region = regions
	return jsonReply(out)
}

// tagCond is one tag condition: key, and value unless keyOnly.
type tagCond struct {
	key     string
	values  []string // any of these; empty = key only
	keyOnly bool
}

func (c tagCond) match(r *rec) bool {
	v, ok := r.tag(c.key)
	if !ok {
		return false
	}
	if c.keyOnly {
		return true
	}
	for _, want := range c.values {
		if v == want {
			return true
		}
	}
	return false
}

func matchAll(r *rec, conds []tagCond) bool {
	for _, c := range conds {
		if !c.match(r) {
			return false
		}
	}
	return true
}

// parseTags reads Tag.N.Key / Tag.N.Value (N in 1..20). A Value without a
// Key is answered with valueErr.
func parseTags(p map[string]string, valueErr string) ([]tagCond, *apiError) {
	type kv struct {
		key, value     string
		hasKey, hasVal bool
	}
	byN := map[int]*kv{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, "Tag.")
		if !ok {
			continue
		}
		ns, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(ns)
		if !ok || err != nil || n < 1 {
			return nil, errf(400, "InvalidParameter", "Malformed tag parameter %q.", k)
		}
		if n > maxTagFilters {
			return nil, errf(400, "InvalidTagCount", "The count of tags exceeds %d.", maxTagFilters)
		}
		e := byN[n]
		if e == nil {
			e = &kv{}
			byN[n] = e
		}
		switch field {
		case "Key", "key":
			e.key, e.hasKey = v, true
		case "Value", "value":
			e.value, e.hasVal = v, true
		default:
			return nil, errf(400, "InvalidParameter", "Malformed tag parameter %q.", k)
		}
	}
	var out []tagCond
	for _, n := range slices.Sorted(maps.Keys(byN)) {
		e := byN[n]
		if !e.hasKey || e.key == "" {
			return nil, errf(400, valueErr, "Tag.%d.Value is set without Tag.%d.Key.", n, n)
		}
		c := tagCond{key: e.key, keyOnly: !e.hasVal}
		if e.hasVal {
			c.values = []string{e.value}
		}
		out = append(out, c)
	}
	return out, nil
}

// pageToken is the opaque NextToken: a fingerprint of the query, how many
// items were returned so far, and where to resume.
type pageToken struct {
	fp    string
	count int
	after string // resume after this ID (DescribeInstances) / at it (ListTagResources)
	skip  int    // ListTagResources: tags of `after` already returned
}

func (t pageToken) encode() string {
	raw := fmt.Sprintf("%s|%d|%d|%s", t.fp, t.count, t.skip, t.after)
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func decodeToken(s, fp string) (pageToken, *apiError) {
	if s == "" {
		return pageToken{fp: fp}, nil
	}
	bad := errf(400, "InvalidNextToken.Malformed", "The specified NextToken is invalid or does not belong to this query.")
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageToken{}, bad
	}
	parts := strings.SplitN(string(raw), "|", 4)
	if len(parts) != 4 || parts[0] != fp {
		return pageToken{}, bad
	}
	count, err1 := strconv.Atoi(parts[1])
	skip, err2 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || count < 0 || skip < 0 {
		return pageToken{}, bad
	}
	return pageToken{fp: fp, count: count, skip: skip, after: parts[3]}, nil
}

func fingerprint(parts ...string) string {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

func condsKey(conds []tagCond) string {
	var b strings.Builder
	for _, c := range conds {
		fmt.Fprintf(&b, "%q=%q/%v;", c.key, c.values, c.keyOnly)
	}
	return b.String()
}

func (s *Server) checkRegion(p map[string]string) (string, *apiError) {
	region := p["RegionId"]
	if region == "" {
		return "", errf(400, "MissingParameter", "The input parameter \"RegionId\" that is mandatory for processing this request is not supplied.")
	}
	s.mu.Lock()
	ok := s.known[region]
	s.mu.Unlock()
	if !ok {
		return "", errf(404, "InvalidRegionId.NotFound", "The specified RegionId %q does not exist.", region)
	}
	return region, nil
}

// sortedUnique sorts ids and drops duplicates in place.
func sortedUnique(ids []string) []string {
	sort.Strings(ids)
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// cursor walks candidate records in ID order.
type cursor struct {
	ids  []string // ID-filter mode
	base *index   // index mode
	i    int
}

func (s *Server) next(c *cursor) *rec {
	if c.base != nil {
		for c.i < len(c.base.recs) {
			r := c.base.recs[c.i]
			c.i++
			if !r.gone {
				return r
			}
		}
		return nil
	}
	for c.i < len(c.ids) {
		r := s.st.byID[c.ids[c.i]]
		c.i++
		if r != nil {
			return r
		}
	}
	return nil
}

// newCursor positions a cursor at the first candidate with ID > after (or
// >= after when inclusive). Callers hold s.mu.
func (s *Server) newCursor(region string, ids []string, conds []tagCond, after string, inclusive bool) (*cursor, int) {
	if ids != nil {
		i := sort.Search(len(ids), func(i int) bool {
			if inclusive {
				return ids[i] >= after
			}
			return ids[i] > after
		})
		return &cursor{ids: ids, i: i}, len(ids)
	}
	ri := s.st.regions[region]
	if ri == nil {
		return &cursor{base: &index{}}, 0
	}
	base := &ri.all
	for _, c := range conds {
		x := ri.byKey[c.key]
		if x == nil {
			return &cursor{base: &index{}}, 0
		}
		if x.live() < base.live() {
			base = x
		}
	}
	base.compactIfSparse()
	i := 0
	if after != "" {
		i = sort.Search(len(base.recs), func(i int) bool {
			if inclusive {
				return base.recs[i].id >= after
			}
			return base.recs[i].id > after
		})
	}
	return &cursor{base: base, i: i}, base.live()
}

var validStatus = map[string]bool{"Pending": true, "Running": true, "Starting": true, "Stopping": true, "Stopped": true}

func (s *Server) describeInstances(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	conds, e := parseTags(p, "InvalidTag.Mismatch")
	if e != nil {
		return errorReply(reqID, e)
	}
	var ids []string
	if raw, ok := p["InstanceIds"]; ok {
		if err := json.Unmarshal([]byte(raw), &ids); err != nil {
			return errorReply(reqID, errf(400, "InvalidInstanceIds.Malformed", "The specified InstanceIds is not a valid JSON array of strings."))
		}
		if len(ids) > maxDescribeIDs {
			return errorReply(reqID, errf(400, "InvalidInstanceIds.Malformed", "The specified InstanceIds holds more than %d IDs.", maxDescribeIDs))
		}
		if ids == nil {
			ids = []string{}
		}
		ids = sortedUnique(ids)
	}
	status, charge, lock := p["Status"], p["InstanceChargeType"], p["LockReason"]
	if status != "" && !validStatus[status] {
		return errorReply(reqID, errf(404, "InvalidStatus.NotFound", "The specified Status %q is not valid.", status))
	}
	if charge != "" && charge != "PrePaid" && charge != "PostPaid" {
		return errorReply(reqID, errf(404, "InvalidInstanceChargeType.NotFound", "The specified InstanceChargeType %q is not valid.", charge))
	}
	switch strings.ToLower(lock) {
	case "", "financial", "security", "recycling", "dedicatedhostfinancial", "refunded":
	default:
		return errorReply(reqID, errf(404, "InvalidLockReason.NotFound", "The specified LockReason %q is not valid.", lock))
	}
	dryRun, e := parseBool(p, "DryRun")
	if e != nil {
		return errorReply(reqID, e)
	}
	if dryRun {
		if s.describeDenied.Load() {
			return errorReply(reqID, errf(403, "Forbidden.RAM", "User not authorized to operate on the specified resource, or this API doesn't support RAM."))
		}
		return errorReply(reqID, errf(400, "DryRunOperation", "Request validation has been passed with DryRun flag set."))
	}
	if s.describeDenied.Load() {
		out := describeJSON{RequestID: reqID, PageSize: 10, PageNumber: 1}
		out.Instances.Instance = []instJSON{}
		return jsonReply(out)
	}
	zone := p["ZoneId"]
	match := func(r *rec) bool {
		return r.region == region && matchAll(r, conds) &&
			(status == "" || r.status == status) && (charge == "" || r.charge == charge) &&
			(lock == "" || r.hasLock(lock)) && (zone == "" || r.zoneID() == zone)
	}
	idsKey := "-"
	if ids != nil {
		idsKey = strings.Join(ids, ",")
	}
	fp := fingerprint("DescribeInstances", region, condsKey(conds), idsKey, status, charge, strings.ToLower(lock), zone)
	// MaxResults or NextToken select token paging, in which the API
	// ignores PageNumber and PageSize and TotalCount means nothing;
	// otherwise the listing pages by number with an exact TotalCount.
	if p["MaxResults"] == "" && p["NextToken"] == "" {
		return s.describeByNumber(reqID, p, region, ids, conds, fp, match)
	}
	size := 10
	if ms := p["MaxResults"]; ms != "" {
		n, err := strconv.Atoi(ms)
		if err != nil {
			return errorReply(reqID, errf(400, "InvalidParameter.MaxResults", "The specified MaxResults %q is not an integer.", ms))
		}
		size = min(max(n, 10), 100)
	}
	tok, e := decodeToken(p["NextToken"], fp)
	if e != nil {
		return errorReply(reqID, e)
	}
	limit := size
	capped := len(conds) > 0
	if capped {
		limit = min(limit, TagFilterCap-tok.count)
	}

	s.mu.Lock()
	cur, total := s.newCursor(region, ids, conds, tok.after, false)
	var page []*rec
	more := false
	for r := s.next(cur); r != nil; r = s.next(cur) {
		if !match(r) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, r)
	}
	s.mu.Unlock()

	if capped {
		total = min(total, TagFilterCap)
	}
	next := ""
	if capped && tok.count+len(page) >= TagFilterCap {
		more = false // the documented cap: the listing just ends
	}
	if more && len(page) > 0 {
		next = pageToken{fp: fp, count: tok.count + len(page), after: page[len(page)-1].id}.encode()
	}
	head := describeJSON{RequestID: reqID, NextToken: next, TotalCount: total, PageSize: size, PageNumber: 1}
	buf := pageBuffers.Get().(*[]byte)
	return reply{status: 200, body: appendPage((*buf)[:0], head, page), buf: buf}
}

// describeByNumber answers a DescribeInstances that pages by PageNumber
// and PageSize: page n holds the matches (n-1)×size up to n×size in ID
// order, TotalCount counts them all (at most TagFilterCap with a tag
// filter, whose listing just ends there), and a page past the end is
// empty. A NextToken resuming after the page's last ID comes with every
// page that has more after it, as the first page of a token listing.
func (s *Server) describeByNumber(reqID string, p map[string]string, region string, ids []string, conds []tagCond,
	fp string, match func(*rec) bool) reply {
	size := 10
	if v := p["PageSize"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return errorReply(reqID, errf(400, "InvalidParameter.PageSize", "The specified PageSize %q is not an integer from 1 to 100.", v))
		}
		size = n
	}
	number := 1
	if v := p["PageNumber"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return errorReply(reqID, errf(400, "InvalidParameter.PageNumber", "The specified PageNumber %q is not a positive integer.", v))
		}
		number = n
	}
	s.mu.Lock()
	all := s.matches(region, ids, conds, fp, match)
	s.mu.Unlock()
	if len(conds) > 0 && len(all) > TagFilterCap {
		all = all[:TagFilterCap]
	}
	start := len(all)
	if number-1 <= (len(all)-1)/size {
		start = (number - 1) * size
	}
	end := min(start+size, len(all))
	page := all[start:end]
	next := ""
	if end < len(all) && len(page) > 0 {
		next = pageToken{fp: fp, count: end, after: page[len(page)-1].id}.encode()
	}
	head := describeJSON{RequestID: reqID, NextToken: next, TotalCount: len(all), PageSize: size, PageNumber: number}
	buf := pageBuffers.Get().(*[]byte)
	return reply{status: 200, body: appendPage((*buf)[:0], head, page), buf: buf}
}

// matches lists every record the query selects, in ID order. A listing by
// page number reads the same query page after page, so the list is kept
// per region until the region's instances change. Callers hold s.mu; the
// returned slice is never changed afterwards.
func (s *Server) matches(region string, ids []string, conds []tagCond, fp string, match func(*rec) bool) []*rec {
	collect := func() []*rec {
		var out []*rec
		cur, _ := s.newCursor(region, ids, conds, "", false)
		for r := s.next(cur); r != nil; r = s.next(cur) {
			if match(r) {
				out = append(out, r)
			}
		}
		return out
	}
	ri := s.st.regions[region]
	if ids != nil || ri == nil {
		return collect()
	}
	if m := ri.listings[fp]; m != nil && m.version == ri.version {
		return m.recs
	}
	if len(ri.listings) >= maxCachedListings {
		clear(ri.listings)
	}
	m := &listing{version: ri.version, recs: collect()}
	ri.listings[fp] = m
	return m.recs
}

type describeJSON struct {
	RequestID  string `json:"RequestId"`
	NextToken  string `json:"NextToken"`
	TotalCount int    `json:"TotalCount"`
	PageSize   int    `json:"PageSize"`
	PageNumber int    `json:"PageNumber"`
	Instances  struct {
		Instance []instJSON `json:"Instance"`
	} `json:"Instances"`
}

type lockJSON struct {
	LockReason string `json:"LockReason"`
	LockMsg    string `json:"LockMsg"`
}

type tagJSON struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

type instJSON struct {
	InstanceID         string `json:"InstanceId"`
	InstanceName       string `json:"InstanceName"`
	HostName           string `json:"HostName"`
	RegionID           string `json:"RegionId"`
	ZoneID             string `json:"ZoneId"`
	InstanceType       string `json:"InstanceType"`
	CPU                int    `json:"Cpu"`
	Memory             int    `json:"Memory"`
	OSType             string `json:"OSType"`
	Status             string `json:"Status"`
	InstanceChargeType string `json:"InstanceChargeType"`
	InternetChargeType string `json:"InternetChargeType"`
	ExpiredTime        string `json:"ExpiredTime"`
	CreationTime       string `json:"CreationTime"`
	StartTime          string `json:"StartTime"`
	AutoReleaseTime    string `json:"AutoReleaseTime"`
	DeletionProtection bool   `json:"DeletionProtection"`
	SpotStrategy       string `json:"SpotStrategy"`
	OperationLocks     struct {
		LockReason []lockJSON `json:"LockReason"`
	} `json:"OperationLocks"`
	Tags *struct {
		Tag []tagJSON `json:"Tag"`
	} `json:"Tags,omitempty"`
}

func render(r *rec) instJSON {
	j := instJSON{
		InstanceID: r.id, InstanceName: r.name, HostName: r.id, RegionID: r.region, ZoneID: r.zone,
		InstanceType: r.itype, CPU: 2, Memory: 8192, OSType: "linux", Status: r.status,
		InstanceChargeType: r.charge, InternetChargeType: "PayByTraffic", ExpiredTime: r.expired,
		CreationTime: r.created, StartTime: r.created, DeletionProtection: r.protected, SpotStrategy: "NoSpot",
	}
	if j.InstanceName == "" {
		j.InstanceName = "launch-advisor-" + strings.TrimPrefix(r.id, "i-")
	}
	if j.ZoneID == "" {
		j.ZoneID = r.region + "-a"
	}
	if j.InstanceType == "" {
		j.InstanceType = "ecs.g7.large"
	}
	j.OperationLocks.LockReason = make([]lockJSON, len(r.locks))
	for i, l := range r.locks {
		j.OperationLocks.LockReason[i] = lockJSON{LockReason: l}
	}
	if len(r.tags) > 0 {
		j.Tags = &struct {
			Tag []tagJSON `json:"Tag"`
		}{make([]tagJSON, len(r.tags))}
		for i, t := range r.tags {
			j.Tags.Tag[i] = tagJSON{t.k, t.v}
		}
	}
	return j
}

// parseTagFilters reads TagFilter.N.TagKey and TagFilter.N.TagValues.M.
func parseTagFilters(p map[string]string) ([]tagCond, *apiError) {
	byN := map[int]*tagCond{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, "TagFilter.")
		if !ok {
			continue
		}
		ns, field, _ := strings.Cut(rest, ".")
		n, err := strconv.Atoi(ns)
		if err != nil || n < 1 || n > 10 {
			return nil, errf(400, "InvalidParameter", "Malformed or out-of-range tag filter %q (N is 1..10).", k)
		}
		c := byN[n]
		if c == nil {
			c = &tagCond{}
			byN[n] = c
		}
		switch {
		case field == "TagKey":
			c.key = v
		case strings.HasPrefix(field, "TagValues."):
			c.values = append(c.values, v)
		default:
			return nil, errf(400, "InvalidParameter", "Malformed tag filter %q.", k)
		}
	}
	var out []tagCond
	for _, n := range slices.Sorted(maps.Keys(byN)) {
		c := byN[n]
		if c.key == "" {
			return nil, errf(400, "InvalidParameter", "TagFilter.%d.TagKey is required.", n)
		}
		sort.Strings(c.values)
		c.keyOnly = len(c.values) == 0
		out = append(out, *c)
	}
	return out, nil
}

type tagResourceJSON struct {
	ResourceID   string `json:"ResourceId"`
	ResourceType string `json:"ResourceType"`
	TagKey       string `json:"TagKey"`
	TagValue     string `json:"TagValue"`
}

// listTagResources returns every tag of each matching instance, one entry
// per (instance, tag), ordered by instance ID then tag key, 50 per page.
func (s *Server) listTagResources(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	rt := p["ResourceType"]
	if rt == "" {
		return errorReply(reqID, errf(400, "MissingParameter", "The input parameter \"ResourceType\" that is mandatory for processing this request is not supplied."))
	}
	if !strings.EqualFold(rt, "instance") {
		return errorReply(reqID, errf(400, "InvalidResourceType.NotFound", "The double only serves ResourceType=instance, got %q.", rt))
	}
	conds, e := parseTags(p, "InvalidParameter.TagValue")
	if e != nil {
		return errorReply(reqID, e)
	}
	filters, e := parseTagFilters(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	conds = append(conds, filters...)
	var ids []string
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, "ResourceId.")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			return errorReply(reqID, errf(400, "InvalidParameter", "Malformed parameter %q.", k))
		}
		if n > maxTagResourceIDs {
			return errorReply(reqID, errf(400, "InvalidParameter.ResourceId", "ResourceId.N takes at most %d IDs.", maxTagResourceIDs))
		}
		ids = append(ids, v)
	}
	if ids == nil && len(conds) == 0 {
		return errorReply(reqID, errf(400, "MissingParameter", "Specify at least one of ResourceId.N, Tag.N or TagFilter.N."))
	}
	if ids != nil {
		ids = sortedUnique(ids)
	}
	idsKey := "-"
	if ids != nil {
		idsKey = strings.Join(ids, ",")
	}
	fp := fingerprint("ListTagResources", region, condsKey(conds), idsKey)
	tok, e := decodeToken(p["NextToken"], fp)
	if e != nil {
		return errorReply(reqID, e)
	}

	var entries []tagResourceJSON
	next := ""
	s.mu.Lock()
	cur, _ := s.newCursor(region, ids, conds, tok.after, true)
	for r := s.next(cur); r != nil; r = s.next(cur) {
		if r.region != region || !matchAll(r, conds) {
			continue
		}
		start := 0
		if r.id == tok.after {
			start = tok.skip
		}
		for i := start; i < len(r.tags); i++ {
			if len(entries) == TagPageSize {
				next = pageToken{fp: fp, count: tok.count + len(entries), after: r.id, skip: i}.encode()
				break
			}
			entries = append(entries, tagResourceJSON{r.id, "instance", r.tags[i].k, r.tags[i].v})
		}
		if next != "" {
			break
		}
	}
	s.mu.Unlock()

	var out struct {
		RequestID    string `json:"RequestId"`
		NextToken    string `json:"NextToken"`
		TagResources struct {
			TagResource []tagResourceJSON `json:"TagResource"`
		} `json:"TagResources"`
	}
	out.RequestID, out.NextToken = reqID, next
	out.TagResources.TagResource = entries
	if entries == nil {
		out.TagResources.TagResource = []tagResourceJSON{}
	}
	return jsonReply(out)
}

// deleteStatus is the documented HTTP status of DeleteInstances codes.
func deleteStatus(code string) int {
	switch {
	case strings.HasPrefix(code, "DependencyViolation."), code == "InvalidParameter.CrossRegionNotSupport", code == "DRYRUN.SUCCESS":
		return 400
	case strings.HasSuffix(code, ".NotFound"):
		return 404
	case code == "InvalidParameter", code == "InternalError":
		return 500
	}
	return 403
}

func parseBool(p map[string]string, k string) (bool, *apiError) {
	switch strings.ToLower(p[k]) {
	case "":
		return false, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errf(400, "InvalidParameter", "The parameter %s must be true or false, got %q.", k, p[k])
}

var expiryLayouts = []string{"2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00"}

func expiredAt(s string, now time.Time) bool {
	for _, l := range expiryLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return !t.After(now)
		}
	}
	return false
}

// deleteInstances applies the documented checks, all or nothing: the first
// failing instance (in request order) decides the single error code.
func (s *Server) deleteInstances(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	var ids []string
	for k := range p {
		rest, ok := strings.CutPrefix(k, "InstanceId.")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(rest); err != nil || n < 1 {
			return errorReply(reqID, errf(400, "InvalidParameter", "Malformed parameter %q.", k))
		}
		ids = append(ids, k)
	}
	if len(ids) == 0 {
		return errorReply(reqID, errf(400, "MissingParameter", "The input parameter \"InstanceId\" that is mandatory for processing this request is not supplied."))
	}
	if len(ids) > maxDeleteIDs {
		return errorReply(reqID, errf(403, "InvalidParameter.TooManyInstanceIds", "Instance ids cannot be more than %d.", maxDeleteIDs))
	}
	sort.Slice(ids, func(i, j int) bool { // request order: InstanceId.1, .2, ...
		a, _ := strconv.Atoi(ids[i][len("InstanceId."):])
		b, _ := strconv.Atoi(ids[j][len("InstanceId."):])
		return a < b
	})
	for i, k := range ids {
		ids[i] = p[k]
		if ids[i] == "" {
			return errorReply(reqID, errf(400, "InvalidParameter", "%s is empty.", k))
		}
	}
	var flags [4]bool
	for i, k := range []string{"DryRun", "Force", "ForceStop", "TerminateSubscription"} {
		if flags[i], e = parseBool(p, k); e != nil {
			return errorReply(reqID, e)
		}
	}
	dryRun, force, terminate := flags[0], flags[1], flags[3]
	token := p["ClientToken"]
	if len(token) > 64 || strings.IndexFunc(token, func(r rune) bool { return r > 0x7e || r < 0x20 }) >= 0 {
		return errorReply(reqID, errf(400, "InvalidParameter", "ClientToken must be at most 64 ASCII characters."))
	}
	sorted := sortedUnique(append([]string(nil), ids...))
	fp := fmt.Sprintf("%s|%s|force=%s|forceStop=%s|terminate=%s", region, strings.Join(sorted, ","),
		strings.ToLower(p["Force"]), strings.ToLower(p["ForceStop"]), strings.ToLower(p["TerminateSubscription"]))

	if token != "" && !dryRun {
		s.mu.Lock()
		prev, ok := s.tokens[token]
		s.mu.Unlock()
		if ok && prev.fingerprint == fp {
			rep := jsonReply(map[string]string{"RequestId": prev.requestID})
			rep.reqID = prev.requestID
			return rep
		}
		if ok {
			return errorReply(reqID, errf(400, "IdempotentParameterMismatch", "The specified ClientToken was used with different parameters."))
		}
	}
	if !dryRun {
		s.mu.Lock()
		hook := s.beforeDelete
		s.mu.Unlock()
		if hook != nil {
			hook(region, append([]string(nil), ids...))
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if prev, ok := s.tokens[token]; ok && token != "" && !dryRun { // a concurrent twin won
		if prev.fingerprint != fp {
			return errorReply(reqID, errf(400, "IdempotentParameterMismatch", "The specified ClientToken was used with different parameters."))
		}
		rep := jsonReply(map[string]string{"RequestId": prev.requestID})
		rep.reqID = prev.requestID
		return rep
	}
	now := s.clock()
	recs := make([]*rec, 0, len(ids))
	for _, id := range ids {
		if r := s.st.byID[id]; r != nil && r.region != region {
			return errorReply(reqID, errf(400, "InvalidParameter.CrossRegionNotSupport", "Instances of multiple regions not support."))
		}
	}
	for _, id := range ids {
		r := s.st.byID[id]
		if r == nil {
			return errorReply(reqID, errf(404, "InvalidInstanceIds.NotFound", "The specified InstanceIds does not exist: %s.", id))
		}
		if e := checkDelete(r, now, force, terminate); e != nil {
			return errorReply(reqID, e)
		}
		recs = append(recs, r)
	}
	if dryRun {
		return errorReply(reqID, errf(400, "DRYRUN.SUCCESS", "This request is a dryrun request with successful result."))
	}
	for _, r := range recs {
		if !r.gone {
			s.st.drop(r)
			s.released[r.id] = true
			s.res.released(r.id)
		}
	}
	if token != "" {
		s.tokens[token] = tokenRec{fp, reqID}
	}
	return jsonReply(map[string]string{"RequestId": reqID})
}

// checkDelete is the per-instance check order: forced code, deletion
// protection, security lock, charge type, status.
func checkDelete(r *rec, now time.Time, force, terminate bool) *apiError {
	if r.failWith != "" {
		st := r.failStatus
		if st == 0 {
			st = deleteStatus(r.failWith)
		}
		return errf(st, r.failWith, "Instance %s: simulated %s.", r.id, r.failWith)
	}
	if r.protected {
		return errf(403, "InvalidOperation.DeletionProtection", "The operation is not allowed due to deletion protection: %s.", r.id)
	}
	if r.hasLock("security") {
		return errf(403, "InstanceLockedForSecurity", "The specified operation is denied as your instance %s is locked for security reasons.", r.id)
	}
	if r.charge == "PrePaid" {
		if !expiredAt(r.expired, now) {
			return errf(403, "ChargeTypeViolation", "The subscription instance %s has not expired.", r.id)
		}
		if !terminate {
			return errf(403, "ChargeTypeViolation", "The expired subscription instance %s needs TerminateSubscription=true.", r.id)
		}
	}
	switch r.status {
	case "Stopped":
	case "Running":
		if !force {
			return errf(403, "IncorrectInstanceStatus", "The instance %s is Running; Force=true is required.", r.id)
		}
	case "Initializing":
		return errf(403, "IncorrectInstanceStatus.Initializing", "The instance %s is initializing.", r.id)
	default:
		return errf(403, "IncorrectInstanceStatus", "The instance %s is %s, which does not support this operation.", r.id, r.status)
	}
	return nil
}
