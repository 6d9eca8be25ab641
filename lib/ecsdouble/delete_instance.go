package ecsdouble

import "strings"

// DeleteInstance (singular) releases one instance per call, the way Alibaba's
// OOS templates and tools such as alicloud-nuke do; benchmarks use it as the
// naive baseline. It takes InstanceId, Force, TerminateSubscription and
// DryRun (no ClientToken, no ForceStop) and applies the same per-instance
// checks as DeleteInstances, in the same order. Codes as chosen here:
//
//	400 MissingParameter             InstanceId missing or empty
//	400 InvalidParameter             a flag that is not true or false
//	404 InvalidInstanceId.NotFound   no such instance in RegionId (released, removed, or in another region)
//	403 ...                          the DeleteInstances per-instance codes (protection, locks, charge type, status)
//	400 DRYRUN.SUCCESS               a DryRun that would pass
//
// beforeDelete hooks (BeforeDelete) see it like a one-ID DeleteInstances.
func (s *Server) deleteInstance(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	id := strings.TrimSpace(p["InstanceId"])
	if id == "" {
		return errorReply(reqID, errf(400, "MissingParameter", "The input parameter \"InstanceId\" that is mandatory for processing this request is not supplied."))
	}
	var flags [3]bool
	for i, k := range []string{"DryRun", "Force", "TerminateSubscription"} {
		if flags[i], e = parseBool(p, k); e != nil {
			return errorReply(reqID, e)
		}
	}
	dryRun, force, terminate := flags[0], flags[1], flags[2]
	if !dryRun {
		s.mu.Lock()
		hook := s.beforeDelete
		s.mu.Unlock()
		if hook != nil {
			hook(region, []string{id})
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.byID[id]
	if r == nil || r.region != region {
		return errorReply(reqID, errf(404, "InvalidInstanceId.NotFound", "The specified InstanceId does not exist: %s.", id))
	}
	if e := checkDelete(r, s.clock(), force, terminate); e != nil {
		return errorReply(reqID, e)
	}
	if dryRun {
		return errorReply(reqID, errf(400, "DRYRUN.SUCCESS", "This request is a dryrun request with successful result."))
	}
	if !r.gone {
		s.st.drop(r)
		s.released[r.id] = true
		s.res.released(r.id)
	}
	return jsonReply(map[string]string{"RequestId": reqID})
}
