package ecsdouble

import (
	"sort"
	"strconv"
	"strings"
)

// The double's TagResources and StopInstances, as the API documents them
// (next-apis-facts.md A and B): TagResources takes ResourceType, 1..50
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
	if p["ResourceType"] != "instance" {
		return errorReply(reqID, errf(404, "InvalidResourceType.NotFound", "The double tags instances only."))
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
	recs := make([]*rec, 0, len(ids))
	for _, id := range ids {
		r := s.st.byID[id]
		if r == nil || r.region != region {
			return errorReply(reqID, errf(404, "InvalidResourceId.NotFound", "The specified resource %s does not exist.", id))
		}
		recs = append(recs, r)
	}
	for _, r := range recs {
		in := r.instance()
		if in.Tags == nil {
			in.Tags = map[string]string{}
		}
		for _, t := range tags {
			in.Tags[t.k] = t.v // an existing key is overwritten
		}
		if len(in.Tags) > maxTagsPer {
			return errorReply(reqID, errf(400, "OperationDenied.QuotaExceed", "The resource %s would carry more than 20 tags.", r.id))
		}
	}
	for _, r := range recs {
		in := r.instance()
		if in.Tags == nil {
			in.Tags = map[string]string{}
		}
		for _, t := range tags {
			in.Tags[t.k] = t.v
		}
		s.st.drop(r)
		s.st.put(s.st.toRec(in))
	}
	return jsonReply(map[string]string{"RequestId": reqID})
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
