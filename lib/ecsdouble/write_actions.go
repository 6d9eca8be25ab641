package ecsdouble

import (
	"maps"
	"sort"
	"strconv"
	"strings"
)

// The double's TagResources and StopInstances, as the API documents them
// (next-apis-facts.md A and B): TagResources takes ResourceType (instance,
// disk or snapshot here), 1..50
// ResourceId.N and 1..20 Tag.N.Key/Value, overwrites an existing key, keeps
// at most 20 tags per resource, and answers missing parameters with 404;
// StopInstances takes 1..100 InstanceId.N, stops Running instances
// (AllTogether: one instance it cannot stop fails the whole call), answers
// a dry run with DRYRUN.SUCCESS, and lists each instance's result with
// Code "200".

const (
	maxTagIDs    = 50
	maxTagsPer   = 20
	maxStopIDs   = 100
	tagKeyMaxLen = 128
)

// indexed reads PREFIX.N parameters in N order; it returns the problem key
// when an index is not a positive number.
func indexed(p map[string]string, prefix string) ([]string, string) {
	type kv struct {
		n int
		v string
	}
	var out []kv
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, prefix+".")
		if !ok || strings.Contains(rest, ".") {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 {
			return nil, k
		}
		out = append(out, kv{n, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n < out[j].n })
	vals := make([]string, len(out))
	for i, x := range out {
		vals[i] = x.v
	}
	return vals, ""
}

func (s *Server) tagResources(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	if p["ResourceType"] == "" {
		return errorReply(reqID, errf(404, "MissingParameter.ResourceType", "The parameter ResourceType is required."))
	}
	resourceType := p["ResourceType"]
	switch resourceType {
	case "instance", "disk", "snapshot", "image":
	default:
		return errorReply(reqID, errf(404, "InvalidResourceType.NotFound", "The double tags instances, disks, snapshots and images only."))
	}
	ids, bad := indexed(p, "ResourceId")
	if bad != "" {
		return errorReply(reqID, errf(400, "InvalidParameter", "Malformed parameter %q.", bad))
	}
	if len(ids) == 0 {
		return errorReply(reqID, errf(404, "MissingParameter.ResourceIds", "The parameter ResourceId is required."))
	}
	if len(ids) > maxTagIDs {
		return errorReply(reqID, errf(400, "NumberExceed.ResourceIds", "The maximum number of ResourceIds is exceeded. Valid : 50"))
	}
	var tags []tag
	seen := map[string]bool{}
	for n := 1; ; n++ {
		k, hasKey := p["Tag."+strconv.Itoa(n)+".Key"]
		v, hasValue := p["Tag."+strconv.Itoa(n)+".Value"]
		if !hasKey && !hasValue {
			break
		}
		switch {
		case !hasKey || k == "":
			return errorReply(reqID, errf(400, "InvalidTagKey.Malformed", "The Tag.%d.Key is empty.", n))
		case len(k) > tagKeyMaxLen || strings.HasPrefix(strings.ToLower(k), "aliyun") || strings.HasPrefix(strings.ToLower(k), "acs:") || strings.Contains(k, "http://") || strings.Contains(k, "https://"):
			return errorReply(reqID, errf(400, "InvalidTagKey.Malformed", "The Tag.%d.Key is malformed.", n))
		case len(v) > tagKeyMaxLen || strings.HasPrefix(strings.ToLower(v), "acs:") || strings.Contains(v, "http://") || strings.Contains(v, "https://"):
			return errorReply(reqID, errf(400, "InvalidTagValue.Malformed", "The Tag.%d.Value is malformed.", n))
		case seen[k]:
			return errorReply(reqID, errf(400, "Duplicate.TagKey", "The Tag.%d.Key is duplicated.", n))
		}
		seen[k] = true
		tags = append(tags, tag{k, v})
	}
	if len(tags) == 0 {
		return errorReply(reqID, errf(404, "MissingParameter.Tags", "The parameter Tag is required."))
	}
	if len(tags) > maxTagsPer {
		return errorReply(reqID, errf(400, "NumberExceed.Tags", "The maximum number of Tags is exceeded."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every resource is checked before any is written: the call is all or
	// nothing, as ECS reports one code for the whole request.
	targets := make([]tagTarget, 0, len(ids))
	seenIDs := map[string]bool{}
	for _, id := range ids {
		if seenIDs[id] {
			continue
		}
		seenIDs[id] = true
		t, ok := s.tagTarget(resourceType, region, id)
		if !ok {
			return errorReply(reqID, errf(404, "InvalidResourceId.NotFound", "The specified resource %s does not exist.", id))
		}
		if e := s.tagRefusals[id]; e != nil {
			return errorReply(reqID, e)
		}
		merged := maps.Clone(t.tags)
		if merged == nil {
			merged = map[string]string{}
		}
		for _, tg := range tags {
			merged[tg.k] = tg.v // an existing key is overwritten
		}
		if len(merged) > maxTagsPer {
			return errorReply(reqID, errf(400, "OperationDenied.QuotaExceed", "The resource %s would carry more than 20 tags.", id))
		}
		t.tags = merged
		targets = append(targets, t)
	}
	for _, t := range targets {
		t.set(t.tags)
	}
	return jsonReply(map[string]string{"RequestId": reqID})
}

// tagTarget is one resource TagResources writes: its tags and how to
// store new ones.
type tagTarget struct {
	tags map[string]string
	set  func(map[string]string)
}

// tagTarget finds a resource of the type in the region. Callers hold s.mu.
func (s *Server) tagTarget(resourceType, region, id string) (tagTarget, bool) {
	switch resourceType {
	case "disk":
		d, ok := s.res.disks[id]
		if !ok || d.Region != region {
			return tagTarget{}, false
		}
		return tagTarget{tags: d.Tags, set: func(m map[string]string) { d.Tags = m }}, true
	case "snapshot":
		sn, ok := s.res.snapshots[id]
		if !ok || sn.Region != region {
			return tagTarget{}, false
		}
		return tagTarget{tags: sn.Tags, set: func(m map[string]string) { sn.Tags = m }}, true
	case "image":
		return s.imageTagTarget(region, id)
	}
	r := s.st.byID[id]
	if r == nil || r.region != region {
		return tagTarget{}, false
	}
	return tagTarget{tags: r.instance().Tags, set: func(m map[string]string) {
		in := r.instance()
		in.Tags = m
		s.st.drop(r)
		s.st.put(s.st.toRec(in))
	}}, true
}

// RefuseTags makes TagResources (ECS and VPC) refuse every call that
// names the resource id with this HTTP status and error code, as ECS does
// for a resource it will not tag (e.g. 403 InvalidResourceId.NotSupported
// or QuotaExceed.Tags). An empty code lifts the refusal.
func (s *Server) RefuseTags(id string, status int, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		delete(s.tagRefusals, id)
		return
	}
	if s.tagRefusals == nil {
		s.tagRefusals = map[string]*apiError{}
	}
	s.tagRefusals[id] = errf(status, code, "The resource %s cannot be tagged.", id)
}

type instanceResponseJSON struct {
	InstanceID     string `json:"InstanceId"`
	Code           string `json:"Code"`
	Message        string `json:"Message"`
	PreviousStatus string `json:"PreviousStatus"`
	CurrentStatus  string `json:"CurrentStatus"`
}

func (s *Server) stopInstances(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	ids, bad := indexed(p, "InstanceId")
	if bad != "" {
		return errorReply(reqID, errf(400, "InvalidParameter", "Malformed parameter %q.", bad))
	}
	if len(ids) == 0 {
		return errorReply(reqID, errf(400, "MissingParameter", "The input parameter \"InstanceId\" that is mandatory for processing this request is not supplied."))
	}
	if len(ids) > maxStopIDs {
		return errorReply(reqID, errf(403, "InvalidParameter.TooManyInstanceIds", "Instance ids cannot be more than %d.", maxStopIDs))
	}
	dryRun, e := parseBool(p, "DryRun")
	if e != nil {
		return errorReply(reqID, e)
	}
	if _, e := parseBool(p, "ForceStop"); e != nil {
		return errorReply(reqID, e)
	}
	switch p["StoppedMode"] {
	case "", "StopCharging", "KeepCharging":
	default:
		return errorReply(reqID, errf(400, "InvalidParameter.StoppedMode", "The specified StoppedMode is invalid."))
	}
	if bo := p["BatchOptimization"]; bo != "" && bo != "AllTogether" {
		return errorReply(reqID, errf(400, "InvalidParameter", "The double supports BatchOptimization=AllTogether only."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	recs := make([]*rec, 0, len(ids))
	for _, id := range ids {
		r := s.st.byID[id]
		switch {
		case r == nil || r.region != region:
			return errorReply(reqID, errf(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist: %s.", id))
		case r.hasLock("security"):
			return errorReply(reqID, errf(403, "InstanceLockedForSecurity", "The instance %s is locked for security reasons.", id))
		case r.charge == "PrePaid" && expiredAt(r.expired, now):
			return errorReply(reqID, errf(403, "InstanceExpiredOrInArrears", "The instance %s has expired or is in arrears.", id))
		case r.status != "Running":
			return errorReply(reqID, errf(403, "IncorrectInstanceStatus", "The instance %s is %s; only Running instances can be stopped.", id, r.status))
		}
		recs = append(recs, r)
	}
	if dryRun {
		return errorReply(reqID, errf(400, "DRYRUN.SUCCESS", "This request is a dryrun request with successful result."))
	}
	out := make([]instanceResponseJSON, 0, len(recs))
	for _, r := range recs {
		in := r.instance()
		in.Status = "Stopped" // at once: the double has no Stopping phase
		s.st.drop(r)
		s.st.put(s.st.toRec(in))
		out = append(out, instanceResponseJSON{InstanceID: r.id, Code: "200", Message: "success", PreviousStatus: "Running", CurrentStatus: "Stopping"})
	}
	return jsonReply(map[string]any{"RequestId": reqID, "InstanceResponses": map[string]any{"InstanceResponse": out}})
}
