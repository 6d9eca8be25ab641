package ecsdouble

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// resources is the double's disks, snapshots and EIPs. Callers hold
// Server.mu.
type resources struct {
	disks     map[string]*Disk
	snapshots map[string]*Snapshot
	eips      map[string]*eipState
	images    map[string]*Image
}

type eipState struct {
	EIP
	status string
}

func newResources(f Fleet) *resources {
	r := &resources{disks: map[string]*Disk{}, snapshots: map[string]*Snapshot{}, eips: map[string]*eipState{}, images: newImages(f)}
	for _, d := range f.Disks {
		d := d
		d.Tags = maps.Clone(d.Tags)
		r.disks[d.ID] = &d
	}
	for _, sn := range f.Snapshots {
		sn := sn
		sn.Tags = maps.Clone(sn.Tags)
		r.snapshots[sn.ID] = &sn
	}
	for _, e := range f.EIPs {
		e := e
		e.Tags = maps.Clone(e.Tags)
		st := &eipState{EIP: e, status: "Available"}
		if e.Instance != "" {
			st.status = "InUse"
		}
		r.eips[e.AllocationID] = st
	}
	return r
}

// released follows an instance's release: its disks go or are kept, their
// automatic snapshots with them when DeleteAutoSnapshot, and its EIPs are
// unbound (Available, or Unassociating for an EIP that never settles).
func (r *resources) released(instanceID string) {
	for id, d := range r.disks {
		if d.Instance != instanceID {
			continue
		}
		if d.DeleteWithInstance {
			delete(r.disks, id)
			for sid, sn := range r.snapshots {
				if sn.Disk == id && d.DeleteAutoSnapshot && sn.Type == "auto" {
					delete(r.snapshots, sid)
				}
			}
			continue
		}
		d.Instance, d.ChargeType = "", "PostPaid" // kept: converted to pay-as-you-go
	}
	for _, e := range r.eips {
		if e.Instance == instanceID {
			e.Instance = ""
			e.status = "Available"
			if e.StaysUnassociating {
				e.status = "Unassociating"
			}
		}
	}
}

// Disk returns a disk as stored.
func (s *Server) Disk(id string) (Disk, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.res.disks[id]
	if !ok {
		return Disk{}, false
	}
	return *d, true
}

// Snapshot returns a snapshot as stored.
func (s *Server) Snapshot(id string) (Snapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sn, ok := s.res.snapshots[id]
	if !ok {
		return Snapshot{}, false
	}
	return *sn, true
}

// EIP returns an EIP as stored, with its status.
func (s *Server) EIP(id string) (EIP, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.res.eips[id]
	if !ok {
		return EIP{}, "", false
	}
	return e.EIP, e.status, true
}

// SetEIPStatus changes an EIP's status (e.g. to let one settle).
func (s *Server) SetEIPStatus(id, status string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.res.eips[id]; ok {
		e.status = status
	}
}

type diskTagJSON struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

func ecsTags(m map[string]string) []diskTagJSON {
	out := []diskTagJSON{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, diskTagJSON{k, m[k]})
	}
	return out
}

// page cuts a sorted ID list by NextToken (the next ID's offset).
func page(ids []string, token string, size int) (part []string, next string, bad bool) {
	offset := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(ids) {
			return nil, "", true
		}
		offset = n
	}
	end := min(offset+size, len(ids))
	if end < len(ids) {
		next = strconv.Itoa(end)
	}
	return ids[offset:end], next, false
}

func idFilter(p map[string]string, key string) (map[string]bool, *apiError) {
	raw := p[key]
	if raw == "" {
		return nil, nil
	}
	var ids []string
	if err := json.Unmarshal([]byte(raw), &ids); err != nil || len(ids) > 100 {
		return nil, errf(400, "InvalidParameter."+key, "The specified %s is not a JSON array of at most 100 IDs.", key)
	}
	set := map[string]bool{}
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}

func pageSize(p map[string]string, lo, hi, def int) int {
	n, err := strconv.Atoi(p["MaxResults"])
	if err != nil {
		return def
	}
	return max(lo, min(hi, n))
}

func (s *Server) describeDisks(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	ids, e := idFilter(p, "DiskIds")
	if e != nil {
		return errorReply(reqID, e)
	}
	tagKey := p["Tag.1.Key"]
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []string
	for id, d := range s.res.disks {
		if d.Region != region || (ids != nil && !ids[id]) {
			continue
		}
		if _, ok := d.Tags[tagKey]; tagKey != "" && !ok {
			continue
		}
		match = append(match, id)
	}
	slices.Sort(match)
	part, next, bad := page(match, p["NextToken"], pageSize(p, 10, 500, 10))
	if bad {
		return errorReply(reqID, errf(400, "InvalidParameter.NextToken", "The specified NextToken is invalid."))
	}
	type diskJSON struct {
		DiskID             string `json:"DiskId"`
		RegionID           string `json:"RegionId"`
		Status             string `json:"Status"`
		Type               string `json:"Type"`
		Category           string `json:"Category"`
		Size               int    `json:"Size"`
		InstanceID         string `json:"InstanceId"`
		DiskChargeType     string `json:"DiskChargeType"`
		DeleteWithInstance bool   `json:"DeleteWithInstance"`
		DeleteAutoSnapshot bool   `json:"DeleteAutoSnapshot"`
		Portable           bool   `json:"Portable"`
		CreationTime       string `json:"CreationTime"`
		Tags               struct {
			Tag []diskTagJSON `json:"Tag"`
		} `json:"Tags"`
	}
	out := []any{}
	for _, id := range part {
		d := s.res.disks[id]
		j := diskJSON{DiskID: d.ID, RegionID: d.Region, Status: "Available", Type: d.Type, Category: d.Category, Size: d.SizeGiB,
			InstanceID: d.Instance, DiskChargeType: d.ChargeType, DeleteWithInstance: d.DeleteWithInstance,
			DeleteAutoSnapshot: d.DeleteAutoSnapshot, Portable: d.Type != "system", CreationTime: d.CreationTime}
		if d.Instance != "" {
			j.Status = "In_use"
		}
		if j.Type == "" {
			j.Type = "data"
		}
		if j.Category == "" {
			j.Category = "cloud_essd"
		}
		if j.Size == 0 {
			j.Size = 40
		}
		if j.DiskChargeType == "" {
			j.DiskChargeType = "PostPaid"
		}
		j.Tags.Tag = ecsTags(d.Tags)
		out = append(out, omitFields(j, d.Omit))
	}
	return jsonReply(map[string]any{"RequestId": reqID, "NextToken": next, "TotalCount": len(match), "Disks": map[string]any{"Disk": out}})
}

// omitFields returns v with the named answer fields left out.
func omitFields(v any, omit []string) any {
	if len(omit) == 0 {
		return v
	}
	b, _ := json.Marshal(v) // the answer types always marshal
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for _, k := range omit {
		delete(m, k)
	}
	return m
}

func (s *Server) describeSnapshots(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	ids, e := idFilter(p, "SnapshotIds")
	if e != nil {
		return errorReply(reqID, e)
	}
	tagKey := p["Tag.1.Key"]
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []string
	for id, sn := range s.res.snapshots {
		if sn.Region != region || (ids != nil && !ids[id]) || (p["DiskId"] != "" && sn.Disk != p["DiskId"]) {
			continue
		}
		if _, ok := sn.Tags[tagKey]; tagKey != "" && !ok {
			continue
		}
		match = append(match, id)
	}
	slices.Sort(match)
	part, next, bad := page(match, p["NextToken"], pageSize(p, 1, 100, 10))
	if bad {
		return errorReply(reqID, errf(400, "InvalidParameter.NextToken", "The specified NextToken is invalid."))
	}
	type snapJSON struct {
		SnapshotID     string `json:"SnapshotId"`
		SourceDiskID   string `json:"SourceDiskId"`
		SourceDiskSize string `json:"SourceDiskSize"`
		SnapshotType   string `json:"SnapshotType"`
		Usage          string `json:"Usage"`
		Status         string `json:"Status"`
		CreationTime   string `json:"CreationTime"`
		Tags           struct {
			Tag []diskTagJSON `json:"Tag"`
		} `json:"Tags"`
	}
	out := []any{}
	for _, id := range part {
		sn := s.res.snapshots[id]
		j := snapJSON{SnapshotID: sn.ID, SourceDiskID: sn.Disk, SourceDiskSize: strconv.Itoa(max(sn.SizeGiB, 0)), SnapshotType: sn.Type,
			Usage: sn.Usage, Status: "accomplished", CreationTime: sn.CreationTime}
		if j.SnapshotType == "" {
			j.SnapshotType = "user"
		}
		if j.Usage == "" {
			j.Usage = "none"
		}
		j.Tags.Tag = ecsTags(sn.Tags)
		out = append(out, omitFields(j, sn.Omit))
	}
	return jsonReply(map[string]any{"RequestId": reqID, "NextToken": next, "TotalCount": len(match), "Snapshots": map[string]any{"Snapshot": out}})
}

// The VPC API's actions (Version 2016-04-28).
var vpcActions = map[string]func(*Server, string, map[string]string) reply{
	"DescribeEipAddresses": (*Server).describeEipAddresses,
	"ReleaseEipAddress":    (*Server).releaseEipAddress,
	"TagResources":         (*Server).tagEIPs,
	"UnTagResources":       (*Server).untagEIPs,
}

func (s *Server) describeEipAddresses(reqID string, p map[string]string) reply {
	region, e := s.checkRegion(p)
	if e != nil {
		return errorReply(reqID, e)
	}
	size, err := strconv.Atoi(p["PageSize"])
	if err != nil || size < 1 {
		size = 10
	}
	if size > 100 {
		return errorReply(reqID, errf(400, "InvalidParameter.PageSize", "PageSize must be at most 100."))
	}
	number, err := strconv.Atoi(p["PageNumber"])
	if err != nil || number < 1 {
		number = 1
	}
	var want map[string]bool
	if raw := p["AllocationId"]; raw != "" {
		want = map[string]bool{}
		for _, id := range strings.Split(raw, ",") {
			want[id] = true
		}
	}
	tagKey := p["Tag.1.Key"]
	s.mu.Lock()
	defer s.mu.Unlock()
	var match []string
	for id, eip := range s.res.eips {
		if eip.Region != region || (want != nil && !want[id]) {
			continue
		}
		if _, ok := eip.Tags[tagKey]; tagKey != "" && !ok {
			continue
		}
		match = append(match, id)
	}
	slices.Sort(match)
	start := min((number-1)*size, len(match))
	end := min(start+size, len(match))
	type tagJSON struct{ Key, Value string }
	type eipJSON struct {
		AllocationID       string `json:"AllocationId"`
		IPAddress          string `json:"IpAddress"`
		RegionID           string `json:"RegionId"`
		Status             string `json:"Status"`
		InstanceID         string `json:"InstanceId"`
		InstanceType       string `json:"InstanceType"`
		ChargeType         string `json:"ChargeType"`
		DeletionProtection bool   `json:"DeletionProtection"`
		Tags               struct {
			Tag []tagJSON `json:"Tag"`
		} `json:"Tags"`
	}
	out := []eipJSON{}
	for _, id := range match[start:end] {
		e := s.res.eips[id]
		j := eipJSON{AllocationID: e.AllocationID, IPAddress: e.Address, RegionID: e.Region, Status: e.status, InstanceID: e.Instance,
			ChargeType: e.ChargeType, DeletionProtection: e.DeletionProtection}
		if e.Instance != "" {
			j.InstanceType = "EcsInstance"
		}
		if j.ChargeType == "" {
			j.ChargeType = "PostPaid"
		}
		for _, k := range slices.Sorted(maps.Keys(e.Tags)) {
			j.Tags.Tag = append(j.Tags.Tag, tagJSON{k, e.Tags[k]})
		}
		out = append(out, j)
	}
	return jsonReply(map[string]any{"RequestId": reqID, "TotalCount": len(match), "PageNumber": number, "PageSize": size,
		"EipAddresses": map[string]any{"EipAddress": out}})
}

func (s *Server) releaseEipAddress(reqID string, p map[string]string) reply {
	if _, e := s.checkRegion(p); e != nil {
		return errorReply(reqID, e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.res.eips[p["AllocationId"]]
	switch {
	case !ok:
		return errorReply(reqID, errf(404, "InvalidAllocationId.NotFound", "The specified AllocationId is not found."))
	case e.DeletionProtection:
		return errorReply(reqID, errf(400, "InvalidOperation.DeletionProtection", "The EIP has deletion protection."))
	case e.ChargeType == "PrePaid":
		return errorReply(reqID, errf(400, "Forbidden.ChargeTypeIsPrepaid", "A subscription EIP cannot be released."))
	case e.status != "Available":
		return errorReply(reqID, errf(400, "IncorrectEipStatus", "The EIP is %s, not Available.", e.status))
	}
	delete(s.res.eips, e.AllocationID) // Releasing, then gone: at once in the double
	s.released[e.AllocationID] = true
	return jsonReply(map[string]string{"RequestId": reqID})
}

func (s *Server) tagEIPs(reqID string, p map[string]string) reply {
	if _, e := s.checkRegion(p); e != nil {
		return errorReply(reqID, e)
	}
	if !strings.EqualFold(p["ResourceType"], "EIP") {
		return errorReply(reqID, errf(404, "InvalidResourceType.NotFound", "The double tags EIPs only on the VPC API."))
	}
	ids, bad := indexed(p, "ResourceId")
	if bad != "" || len(ids) == 0 || len(ids) > maxTagIDs {
		return errorReply(reqID, errf(400, "InvalidParameter", "ResourceId.N must hold 1..50 IDs."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tagged := map[string]map[string]string{}
	for _, id := range ids {
		e, ok := s.res.eips[id]
		if !ok {
			return errorReply(reqID, errf(404, "InvalidResourceId.NotFound", "The specified resource %s does not exist.", id))
		}
		if refusal := s.tagRefusals[id]; refusal != nil {
			return errorReply(reqID, refusal)
		}
		merged := maps.Clone(e.Tags)
		if merged == nil {
			merged = map[string]string{}
		}
		for n := 1; ; n++ {
			k, ok := p["Tag."+strconv.Itoa(n)+".Key"]
			if !ok {
				break
			}
			merged[k] = p["Tag."+strconv.Itoa(n)+".Value"]
		}
		tagged[id] = merged
	}
	for id, m := range tagged {
		s.res.eips[id].Tags = m
	}
	return jsonReply(map[string]string{"RequestId": reqID})
}

// untagEIPs removes TagKey.N from EIPs (UnTagResources, ResourceType EIP):
// all or nothing, as tagEIPs; a key an EIP does not carry is no error.
func (s *Server) untagEIPs(reqID string, p map[string]string) reply {
	if _, e := s.checkRegion(p); e != nil {
		return errorReply(reqID, e)
	}
	if !strings.EqualFold(p["ResourceType"], "EIP") {
		return errorReply(reqID, errf(404, "InvalidResourceType.NotFound", "The double untags EIPs only on the VPC API."))
	}
	ids, bad := indexed(p, "ResourceId")
	if bad != "" || len(ids) == 0 || len(ids) > maxTagIDs {
		return errorReply(reqID, errf(400, "InvalidParameter", "ResourceId.N must hold 1..50 IDs."))
	}
	keys, bad := indexed(p, "TagKey")
	if bad != "" || len(keys) == 0 {
		return errorReply(reqID, errf(400, "MissingParameter", "TagKey.N is required (the double never removes all tags)."))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		if _, ok := s.res.eips[id]; !ok {
			return errorReply(reqID, errf(404, "InvalidResourceId.NotFound", "The specified resource %s does not exist.", id))
		}
		if refusal := s.tagRefusals[id]; refusal != nil {
			return errorReply(reqID, refusal)
		}
	}
	for _, id := range ids {
		e := s.res.eips[id]
		tags := maps.Clone(e.Tags)
		for _, k := range keys {
			delete(tags, k)
		}
		e.Tags = tags
	}
	return jsonReply(map[string]string{"RequestId": reqID})
}

func (s *Server) deleteDisk(reqID string, p map[string]string) reply {
	if _, e := s.checkRegion(p); e != nil {
		return errorReply(reqID, e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.res.disks[p["DiskId"]]
	switch {
	case p["DiskId"] == "":
		return errorReply(reqID, errf(400, "MissingParameter", "The input parameter \"DiskId\" is required."))
	case !ok:
		return jsonReply(map[string]string{"RequestId": reqID}) // documented: a missing disk is ignored
	case d.Instance != "":
		return errorReply(reqID, errf(403, "DiskStillAttached", "The disk %s is still attached to %s.", d.ID, d.Instance))
	case d.ChargeType == "PrePaid":
		return errorReply(reqID, errf(403, "InvalidDiskChargeType.NotSupported", "A subscription disk cannot be released on its own."))
	}
	delete(s.res.disks, d.ID)
	for id, sn := range s.res.snapshots {
		if sn.Disk == d.ID && sn.Type == "auto" && d.DeleteAutoSnapshot {
			delete(s.res.snapshots, id)
		}
	}
	s.released[d.ID] = true
	return jsonReply(map[string]string{"RequestId": reqID})
}

func (s *Server) deleteSnapshot(reqID string, p map[string]string) reply {
	if _, e := s.checkRegion(p); e != nil {
		return errorReply(reqID, e)
	}
	force, e := parseBool(p, "Force")
	if e != nil {
		return errorReply(reqID, e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sn, ok := s.res.snapshots[p["SnapshotId"]]
	switch {
	case p["SnapshotId"] == "":
		return errorReply(reqID, errf(400, "MissingParameter", "The input parameter \"SnapshotId\" is required."))
	case !ok:
		return jsonReply(map[string]string{"RequestId": reqID}) // documented: a missing snapshot is ignored
	case sn.Usage == "image" || sn.Usage == "image_disk":
		return errorReply(reqID, errf(403, "SnapshotCreatedImage", "The snapshot %s was used to create an image.", sn.ID))
	case sn.Usage == "disk" && !force:
		return errorReply(reqID, errf(403, "SnapshotCreatedDisk", "The snapshot %s was used to create a disk.", sn.ID))
	}
	delete(s.res.snapshots, sn.ID)
	s.released[sn.ID] = true
	return jsonReply(map[string]string{"RequestId": reqID})
}
