// Package fake is an in-memory ECS for the engine's own tests: it
// implements the engine's API interfaces (listing by tag, by ID and
// unfiltered with NextToken or PageNumber pages, ListTagResources, DeleteInstances with
// ECS's refusals, DescribeRegions) without HTTP, so that the engine's suite
// runs in well under a second and works inside testing/synctest bubbles.
// The HTTP double (lib/ecsdouble) stays for the SDK boundary, signatures
// and end-to-end runs; lib/ecsconform runs one suite against both, so
// that this fake answers as the double does.
package fake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// Call is one request the fake answered.
type Call struct {
	Action string
	Region string
	IDs    []string // InstanceIds asked for, or released
	Token  string   // NextToken or ClientToken
	Page   int      // DescribeInstances PageNumber; 0 when by token
	DryRun bool
	Params ecsapi.DeleteInput // DeleteInstances only
	Code   string             // the error answered; "" on success
	Time   time.Time
}

// Cloud is one account's ECS. It is safe for concurrent use.
type Cloud struct {
	mu        sync.Mutex
	instances map[string]cloud.Instance
	regions   []string
	calls     []Call
	released  []string
	tokens    map[string]tokenRecord
	// Latency delays every answer (or until the caller's context ends).
	Latency time.Duration
	// Fault, when set, runs before every request (outside the lock) and
	// may answer it with an error; it may also mutate the fleet.
	Fault func(action string, in any) error
	// TagFilterCap is the most a tag-filtered listing returns (ECS: 1,000).
	TagFilterCap int
	// Now is the clock a subscription's ExpiredTime is read against
	// (time.Now when nil), as the double's WithClock.
	Now func() time.Time
	seq int
	res Resources
}

// New returns a cloud serving instances; regions are those of the
// instances unless more are given.
func New(instances []cloud.Instance, regions ...string) *Cloud {
	c := &Cloud{instances: map[string]cloud.Instance{}, tokens: map[string]tokenRecord{}, TagFilterCap: ecsapi.TagFilterCap}
	seen := map[string]bool{}
	for _, r := range regions {
		seen[r] = true
	}
	for _, in := range instances {
		c.instances[in.ID] = clone(in)
		seen[in.Region] = true
	}
	c.regions = slices.Sorted(maps.Keys(seen))
	return c
}

func clone(in cloud.Instance) cloud.Instance {
	in.Tags = maps.Clone(in.Tags)
	in.LockReasons = slices.Clone(in.LockReasons)
	return in
}

// Mutate changes an instance in place.
func (c *Cloud) Mutate(id string, f func(*cloud.Instance)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in, ok := c.instances[id]; ok {
		f(&in)
		c.instances[id] = in
	}
}

// Remove deletes an instance as if released elsewhere.
func (c *Cloud) Remove(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.instances, id)
}

// Released returns the IDs released, sorted.
func (c *Cloud) Released() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(slices.Values(c.released))
}

// Calls returns the calls answered so far.
func (c *Cloud) Calls() []Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

// Count returns how many calls of action were answered.
func (c *Cloud) Count(action string) int {
	n := 0
	for _, call := range c.Calls() {
		if call.Action == action {
			n++
		}
	}
	return n
}

// Err builds the error ECS answers with code.
func Err(action, region, code string, status int) error {
	return &ecsapi.Error{Action: action, Region: region, Code: code, HTTPStatus: status, Message: code,
		RequestID: "fake-" + code, Class: ecsapi.ClassifyCode(code, status)}
}

// begin waits the latency, runs the fault and records the call.
func (c *Cloud) begin(ctx context.Context, call Call, in any) error {
	if c.Latency > 0 {
		t := time.NewTimer(c.Latency)
		select {
		case <-ctx.Done():
			t.Stop()
			return &ecsapi.Error{Action: call.Action, Region: call.Region, Code: ecsapi.CodeCanceled, Class: ecsapi.ClassCanceled}
		case <-t.C:
		}
	}
	if err := ctx.Err(); err != nil {
		return &ecsapi.Error{Action: call.Action, Region: call.Region, Code: ecsapi.CodeCanceled, Class: ecsapi.ClassCanceled}
	}
	var err error
	if c.Fault != nil {
		err = c.Fault(call.Action, in)
	}
	call.Time = time.Now()
	if err != nil {
		call.Code = ecsapi.Code(err)
	}
	c.mu.Lock()
	c.calls = append(c.calls, call)
	c.mu.Unlock()
	return err
}

// DescribeRegions lists the fleet's regions.
func (c *Cloud) DescribeRegions(ctx context.Context) (ecsapi.Regions, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDescribeRegions}, nil); err != nil {
		return ecsapi.Regions{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return ecsapi.Regions{RegionIDs: slices.Clone(c.regions), RequestID: c.requestID()}, nil
}

func (c *Cloud) requestID() string {
	c.seq++
	return "fake-req-" + strconv.Itoa(c.seq)
}

// DescribeInstances pages the region's instances in ID order, filtered by
// tag key or IDs; NextToken resumes after the last ID listed, so that an
// instance released between pages shifts nothing (as the double's cursor).
func (c *Cloud) DescribeInstances(ctx context.Context, in ecsapi.DescribeInput) (ecsapi.DescribePage, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDescribeInstances, Region: in.Region, IDs: in.InstanceIDs, Token: in.NextToken, Page: in.PageNumber, DryRun: in.DryRun}, in); err != nil {
		return ecsapi.DescribePage{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if in.DryRun {
		return ecsapi.DescribePage{RequestID: c.requestID()}, nil
	}
	if !slices.Contains(c.regions, in.Region) {
		return ecsapi.DescribePage{}, Err(ecsapi.ActionDescribeInstances, in.Region, "InvalidRegionId.NotFound", 404)
	}
	var match []cloud.Instance
	for _, inst := range c.instances {
		switch {
		case inst.Region != in.Region:
		case len(in.InstanceIDs) > 0 && !slices.Contains(in.InstanceIDs, inst.ID):
		case in.TagKey != "" && !hasTag(inst, in.TagKey):
		default:
			match = append(match, inst)
		}
	}
	slices.SortFunc(match, func(a, b cloud.Instance) int { return strings.Compare(a.ID, b.ID) })
	if in.TagKey != "" && len(match) > c.TagFilterCap {
		match = match[:c.TagFilterCap]
	}
	if in.PageNumber > 0 {
		// By number: the matches as they are now, with their TotalCount.
		size := in.PageSize
		if size <= 0 || size > ecsapi.MaxPageSize {
			size = ecsapi.MaxPageSize
		}
		from := min((in.PageNumber-1)*size, len(match))
		page := ecsapi.DescribePage{RequestID: c.requestID(), TotalCount: len(match)}
		for _, inst := range match[from:min(from+size, len(match))] {
			page.Instances = append(page.Instances, keepTags(clone(inst), in.TagKeys))
		}
		return page, nil
	}
	size := in.MaxResults
	if size <= 0 || size > ecsapi.MaxPageSize {
		size = ecsapi.MaxPageSize
	}
	part, next, ok := pageAfter(match, func(i cloud.Instance) string { return i.ID }, in.NextToken, size)
	if !ok {
		return ecsapi.DescribePage{}, Err(ecsapi.ActionDescribeInstances, in.Region, "InvalidNextToken.Malformed", 400)
	}
	page := ecsapi.DescribePage{RequestID: c.requestID(), NextToken: next}
	for _, inst := range part {
		page.Instances = append(page.Instances, keepTags(clone(inst), in.TagKeys))
	}
	return page, nil
}

// pageAfter cuts one page of size from list (sorted by id) after the ID
// token names ("after-<ID>"); ok is false for a token it did not hand out.
func pageAfter[T any](list []T, id func(T) string, token string, size int) (part []T, next string, ok bool) {
	start := 0
	if token != "" {
		after, found := strings.CutPrefix(token, "after-")
		if !found || after == "" {
			return nil, "", false
		}
		start, _ = slices.BinarySearchFunc(list, after, func(x T, a string) int { return strings.Compare(id(x), a) })
		if start < len(list) && id(list[start]) == after {
			start++
		}
	}
	end := min(start+size, len(list))
	if end < len(list) && end > start {
		next = "after-" + id(list[end-1])
	}
	return list[start:end], next, true
}

func hasTag(inst cloud.Instance, key string) bool {
	_, ok := inst.Tags[key]
	return ok
}

func keepTags(inst cloud.Instance, keys []string) cloud.Instance {
	if keys == nil {
		return inst
	}
	for k := range inst.Tags {
		if !slices.Contains(keys, k) {
			delete(inst.Tags, k)
		}
	}
	return inst
}

// ListTagResources pages the IDs carrying the tag key, 50 a page.
func (c *Cloud) ListTagResources(ctx context.Context, in ecsapi.ListTagInput) (ecsapi.TagPage, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionListTagResources, Region: in.Region, Token: in.NextToken}, in); err != nil {
		return ecsapi.TagPage{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.regions, in.Region) {
		return ecsapi.TagPage{}, Err(ecsapi.ActionListTagResources, in.Region, "InvalidRegionId.NotFound", 404)
	}
	var ids []string
	for _, inst := range c.instances {
		if inst.Region == in.Region && hasTag(inst, in.TagKey) {
			ids = append(ids, inst.ID)
		}
	}
	slices.Sort(ids)
	offset, _ := strconv.Atoi(strings.TrimPrefix(in.NextToken, "tags-"))
	end := min(offset+50, len(ids))
	page := ecsapi.TagPage{InstanceIDs: slices.Clone(ids[min(offset, len(ids)):end]), RequestID: c.requestID()}
	if end < len(ids) {
		page.NextToken = "tags-" + strconv.Itoa(end)
	}
	return page, nil
}

// tokenRecord is what a ClientToken was first used for, and its answer.
type tokenRecord struct{ fingerprint, requestID string }

func (c *Cloud) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// expired reports whether a subscription's ExpiredTime has passed; an
// unreadable one has not (the API would not release it either).
func expired(inst cloud.Instance, now time.Time) bool {
	for _, layout := range []string{"2006-01-02T15:04Z07:00", "2006-01-02T15:04:05Z07:00"} {
		if t, err := time.Parse(layout, inst.ExpiredTime); err == nil {
			return !t.After(now)
		}
	}
	return false
}

// DeleteInstances releases the batch, or refuses it whole with the code
// ECS gives the first instance it cannot release.
func (c *Cloud) DeleteInstances(ctx context.Context, in ecsapi.DeleteInput) (ecsapi.DeleteOutput, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDeleteInstances, Region: in.Region, IDs: in.InstanceIDs, Token: in.ClientToken, DryRun: in.DryRun, Params: in}, in); err != nil {
		return ecsapi.DeleteOutput{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	const action = ecsapi.ActionDeleteInstances
	fingerprint := fmt.Sprint(in.Region, in.InstanceIDs, in.TerminateSubscription, in.Force)
	if prev, ok := c.tokens[in.ClientToken]; ok && in.ClientToken != "" && !in.DryRun {
		if prev.fingerprint != fingerprint {
			return ecsapi.DeleteOutput{}, Err(action, in.Region, "IdempotentParameterMismatch", 400)
		}
		return ecsapi.DeleteOutput{RequestID: prev.requestID}, nil // the first call's answer
	}
	for _, id := range in.InstanceIDs {
		if inst, ok := c.instances[id]; ok && inst.Region != in.Region {
			return ecsapi.DeleteOutput{}, Err(action, in.Region, "InvalidParameter.CrossRegionNotSupport", 400)
		}
	}
	for _, id := range in.InstanceIDs {
		inst, ok := c.instances[id]
		if !ok {
			return ecsapi.DeleteOutput{}, Err(action, in.Region, "InvalidInstanceIds.NotFound", 404)
		}
		if code := refusal(inst, in, c.now()); code != "" {
			return ecsapi.DeleteOutput{}, Err(action, in.Region, code, 403)
		}
	}
	if in.DryRun {
		return ecsapi.DeleteOutput{RequestID: c.requestID(), DryRunPassed: true}, nil
	}
	out := ecsapi.DeleteOutput{RequestID: c.requestID()}
	if in.ClientToken != "" {
		c.tokens[in.ClientToken] = tokenRecord{fingerprint, out.RequestID}
	}
	for _, id := range in.InstanceIDs {
		delete(c.instances, id)
		c.released = append(c.released, id)
		c.releasedResources(id)
	}
	return out, nil
}

// refusal is the code ECS answers for an instance it will not release.
func refusal(inst cloud.Instance, in ecsapi.DeleteInput, now time.Time) string {
	for _, l := range inst.LockReasons {
		if strings.EqualFold(l, "security") {
			return "InstanceLockedForSecurity"
		}
	}
	switch {
	case inst.DeletionProtection:
		return "InvalidOperation.DeletionProtection"
	case inst.Status == "Running" && !in.Force:
		return "IncorrectInstanceStatus"
	case inst.Status != "Running" && inst.Status != "Stopped":
		return "IncorrectInstanceStatus"
	case inst.ChargeType == "PrePaid" && (!expired(inst, now) || !in.TerminateSubscription):
		return "ChargeTypeViolation"
	}
	return ""
}

// TagResources writes tags on instances, disks or snapshots (an existing
// key is overwritten), all or nothing: one unknown ID, or one resource
// that would carry more than 20 tags, fails the call.
func (c *Cloud) TagResources(ctx context.Context, in ecsapi.TagInput) (ecsapi.TagOutput, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionTagResources, Region: in.Region, IDs: in.InstanceIDs}, in); err != nil {
		return ecsapi.TagOutput{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	const action = ecsapi.ActionTagResources
	if len(in.InstanceIDs) > ecsapi.MaxTagIDs {
		return ecsapi.TagOutput{}, Err(action, in.Region, "NumberExceed.ResourceIds", 400)
	}
	merged := make([]map[string]string, len(in.InstanceIDs))
	for i, id := range in.InstanceIDs {
		tags, ok := c.tagsOf(in.ResourceType, in.Region, id)
		if !ok {
			return ecsapi.TagOutput{}, Err(action, in.Region, "InvalidResourceId.NotFound", 404)
		}
		m := maps.Clone(tags)
		if m == nil {
			m = map[string]string{}
		}
		maps.Copy(m, in.Tags)
		if len(m) > maxTagsPerResource {
			return ecsapi.TagOutput{}, Err(action, in.Region, "OperationDenied.QuotaExceed", 400)
		}
		merged[i] = m
	}
	for i, id := range in.InstanceIDs {
		c.setTags(in.ResourceType, id, merged[i])
	}
	return ecsapi.TagOutput{RequestID: c.requestID()}, nil
}

// maxTagsPerResource is ECS's quota of tags on one resource.
const maxTagsPerResource = 20

// tagsOf finds a resource of the type (instance when empty) in the
// region; callers hold mu.
func (c *Cloud) tagsOf(resourceType, region, id string) (map[string]string, bool) {
	switch resourceType {
	case "", "instance":
		inst, ok := c.instances[id]
		return inst.Tags, ok && inst.Region == region
	case "disk":
		i := slices.IndexFunc(c.res.Disks, func(d cloud.Disk) bool { return d.ID == id && d.Region == region })
		if i < 0 {
			return nil, false
		}
		return c.res.Disks[i].Tags, true
	case "snapshot":
		i := slices.IndexFunc(c.res.Snapshots, func(s cloud.Snapshot) bool { return s.ID == id && s.Region == region })
		if i < 0 {
			return nil, false
		}
		return c.res.Snapshots[i].Tags, true
	case "image":
		i := slices.IndexFunc(c.res.Images, func(im cloud.Image) bool { return im.ID == id && im.Region == region })
		if i < 0 {
			return nil, false
		}
		return c.res.Images[i].Tags, true
	}
	return nil, false
}

// setTags replaces a found resource's tags; callers hold mu.
func (c *Cloud) setTags(resourceType, id string, tags map[string]string) {
	switch resourceType {
	case "", "instance":
		inst := c.instances[id]
		inst.Tags = tags
		c.instances[id] = inst
	case "disk":
		c.res.Disks[slices.IndexFunc(c.res.Disks, func(d cloud.Disk) bool { return d.ID == id })].Tags = tags
	case "snapshot":
		c.res.Snapshots[slices.IndexFunc(c.res.Snapshots, func(s cloud.Snapshot) bool { return s.ID == id })].Tags = tags
	case "image":
		c.res.Images[slices.IndexFunc(c.res.Images, func(im cloud.Image) bool { return im.ID == id })].Tags = tags
	}
}

// StopInstances stops Running instances, all together.
func (c *Cloud) StopInstances(ctx context.Context, in ecsapi.StopInput) (ecsapi.StopOutput, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionStopInstances, Region: in.Region, IDs: in.InstanceIDs, DryRun: in.DryRun}, in); err != nil {
		return ecsapi.StopOutput{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range in.InstanceIDs {
		inst, ok := c.instances[id]
		switch {
		case !ok || inst.Region != in.Region:
			return ecsapi.StopOutput{}, Err(ecsapi.ActionStopInstances, in.Region, "InvalidInstanceId.NotFound", 404)
		case slices.ContainsFunc(inst.LockReasons, func(l string) bool { return strings.EqualFold(l, "security") }):
			return ecsapi.StopOutput{}, Err(ecsapi.ActionStopInstances, in.Region, "InstanceLockedForSecurity", 403)
		case inst.ChargeType == "PrePaid" && expired(inst, c.now()):
			return ecsapi.StopOutput{}, Err(ecsapi.ActionStopInstances, in.Region, "InstanceExpiredOrInArrears", 403)
		case inst.Status != "Running":
			return ecsapi.StopOutput{}, Err(ecsapi.ActionStopInstances, in.Region, "IncorrectInstanceStatus", 403)
		}
	}
	if in.DryRun {
		return ecsapi.StopOutput{RequestID: c.requestID(), DryRunPassed: true}, nil
	}
	for _, id := range in.InstanceIDs {
		inst := c.instances[id]
		inst.Status = "Stopped"
		c.instances[id] = inst
	}
	return ecsapi.StopOutput{RequestID: c.requestID()}, nil
}

// Instance returns an instance as stored.
func (c *Cloud) Instance(id string) (cloud.Instance, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.instances[id]
	return clone(in), ok
}

// Resources are the fake's disks, snapshots and EIPs; set them before a
// run. Releasing an instance keeps or drops its disks as ECS does and
// unbinds its EIPs (Available, or EIPStatusAfterRelease when set).
type Resources struct {
	Disks                 []cloud.Disk
	Snapshots             []cloud.Snapshot
	EIPs                  []cloud.EIP
	EIPStatusAfterRelease string
	// Images are the account's own custom images (images.go).
	Images []cloud.Image
}

// SetResources replaces the fake's disks, snapshots and EIPs; their
// regions become known, as a region may hold resources and no instance.
func (c *Cloud) SetResources(r Resources) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r.Disks, r.Snapshots, r.EIPs, r.Images = slices.Clone(r.Disks), slices.Clone(r.Snapshots), slices.Clone(r.EIPs), slices.Clone(r.Images)
	c.res = r
	regions := slices.Clone(c.regions)
	for _, d := range r.Disks {
		regions = append(regions, d.Region)
	}
	for _, s := range r.Snapshots {
		regions = append(regions, s.Region)
	}
	for _, e := range r.EIPs {
		regions = append(regions, e.Region)
	}
	for _, im := range r.Images {
		regions = append(regions, im.Region)
	}
	slices.Sort(regions)
	c.regions = slices.Compact(regions)
}

// EIPs returns the fake's EIPs.
func (c *Cloud) EIPs() []cloud.EIP {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.res.EIPs)
}

// DescribeDisks pages the region's disks in ID order, 500 at a time,
// filtered by tag key or IDs.
func (c *Cloud) DescribeDisks(ctx context.Context, in ecsapi.ListInput) (ecsapi.DiskPage, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDescribeDisks, Region: in.Region, IDs: in.IDs, Token: in.NextToken}, in); err != nil {
		return ecsapi.DiskPage{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.regions, in.Region) {
		return ecsapi.DiskPage{}, Err(ecsapi.ActionDescribeDisks, in.Region, "InvalidRegionId.NotFound", 404)
	}
	var match []cloud.Disk
	for _, d := range c.res.Disks {
		if selected(in, d.Region, d.ID, d.Tags) {
			d.Tags = maps.Clone(d.Tags)
			match = append(match, d)
		}
	}
	slices.SortFunc(match, func(a, b cloud.Disk) int { return strings.Compare(a.ID, b.ID) })
	part, next, ok := pageAfter(match, func(d cloud.Disk) string { return d.ID }, in.NextToken, ecsapi.MaxDiskPage)
	if !ok {
		return ecsapi.DiskPage{}, Err(ecsapi.ActionDescribeDisks, in.Region, "InvalidParameter.NextToken", 400)
	}
	return ecsapi.DiskPage{Disks: part, NextToken: next, RequestID: c.requestID()}, nil
}

// selected applies a ListInput's region, ID and tag-key filters.
func selected(in ecsapi.ListInput, region, id string, tags map[string]string) bool {
	_, tagged := tags[in.TagKey]
	return region == in.Region && (len(in.IDs) == 0 || slices.Contains(in.IDs, id)) && (in.TagKey == "" || tagged)
}

// DescribeSnapshots pages the region's snapshots in ID order, 100 at a
// time, filtered by tag key or IDs.
func (c *Cloud) DescribeSnapshots(ctx context.Context, in ecsapi.ListInput) (ecsapi.SnapshotPage, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDescribeSnapshots, Region: in.Region, IDs: in.IDs, Token: in.NextToken}, in); err != nil {
		return ecsapi.SnapshotPage{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.regions, in.Region) {
		return ecsapi.SnapshotPage{}, Err(ecsapi.ActionDescribeSnapshots, in.Region, "InvalidRegionId.NotFound", 404)
	}
	var match []cloud.Snapshot
	for _, s := range c.res.Snapshots {
		if selected(in, s.Region, s.ID, s.Tags) {
			s.Tags = maps.Clone(s.Tags)
			match = append(match, s)
		}
	}
	slices.SortFunc(match, func(a, b cloud.Snapshot) int { return strings.Compare(a.ID, b.ID) })
	part, next, ok := pageAfter(match, func(s cloud.Snapshot) string { return s.ID }, in.NextToken, ecsapi.MaxSnapshotPage)
	if !ok {
		return ecsapi.SnapshotPage{}, Err(ecsapi.ActionDescribeSnapshots, in.Region, "InvalidParameter.NextToken", 400)
	}
	return ecsapi.SnapshotPage{Snapshots: part, NextToken: next, RequestID: c.requestID()}, nil
}

// DescribeEipAddresses pages the region's EIPs by number (PageSize 100)
// in allocation-ID order, filtered by tag key or allocation IDs;
// TotalCount counts every match.
func (c *Cloud) DescribeEipAddresses(ctx context.Context, in ecsapi.EIPInput) (ecsapi.EIPPage, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDescribeEipAddresses, Region: in.Region, IDs: in.AllocationIDs}, in); err != nil {
		return ecsapi.EIPPage{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.regions, in.Region) {
		return ecsapi.EIPPage{}, Err(ecsapi.ActionDescribeEipAddresses, in.Region, "InvalidRegionId.NotFound", 404)
	}
	var out []cloud.EIP
	for _, e := range c.res.EIPs {
		if e.Region != in.Region || (len(in.AllocationIDs) > 0 && !slices.Contains(in.AllocationIDs, e.AllocationID)) {
			continue
		}
		if _, ok := e.Tags[in.TagKey]; in.TagKey != "" && !ok {
			continue
		}
		e.Tags = maps.Clone(e.Tags)
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b cloud.EIP) int { return strings.Compare(a.AllocationID, b.AllocationID) })
	start := min((max(in.Page, 1)-1)*ecsapi.MaxEIPPage, len(out))
	end := min(start+ecsapi.MaxEIPPage, len(out))
	return ecsapi.EIPPage{EIPs: out[start:end], TotalCount: len(out), RequestID: c.requestID()}, nil
}

// ReleaseEipAddress releases an Available, pay-as-you-go EIP.
func (c *Cloud) ReleaseEipAddress(ctx context.Context, region, id string) (string, error) {
	const action = ecsapi.ActionReleaseEipAddress
	if err := c.begin(ctx, Call{Action: action, Region: region, IDs: []string{id}}, id); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.res.EIPs, func(e cloud.EIP) bool { return e.AllocationID == id })
	switch {
	case i < 0:
		return "", Err(action, region, "InvalidAllocationId.NotFound", 404)
	case c.res.EIPs[i].DeletionProtection:
		return "", Err(action, region, "InvalidOperation.DeletionProtection", 400)
	case c.res.EIPs[i].ChargeType == "PrePaid":
		return "", Err(action, region, "Forbidden.ChargeTypeIsPrepaid", 400)
	case c.res.EIPs[i].Status != "Available":
		return "", Err(action, region, "IncorrectEipStatus", 400)
	}
	c.res.EIPs = slices.Delete(c.res.EIPs, i, i+1)
	c.released = append(c.released, id)
	return c.requestID(), nil
}

// TagEIPs tags EIPs, all or nothing: one unknown EIP fails the call.
func (c *Cloud) TagEIPs(ctx context.Context, region string, ids []string, tags map[string]string) (string, error) {
	if err := c.begin(ctx, Call{Action: "TagEIPs", Region: region, IDs: ids}, tags); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if !slices.ContainsFunc(c.res.EIPs, func(e cloud.EIP) bool { return e.AllocationID == id && e.Region == region }) {
			return "", Err(ecsapi.ActionTagEIPs, region, "InvalidResourceId.NotFound", 404)
		}
	}
	for i, e := range c.res.EIPs {
		if slices.Contains(ids, e.AllocationID) {
			if e.Tags == nil {
				e.Tags = map[string]string{}
			}
			for k, v := range tags {
				e.Tags[k] = v
			}
			c.res.EIPs[i] = e
		}
	}
	return c.requestID(), nil
}

// UnTagEIPs removes tag keys from EIPs, all or nothing: one unknown EIP
// fails the call.
func (c *Cloud) UnTagEIPs(ctx context.Context, region string, ids, keys []string) (string, error) {
	if err := c.begin(ctx, Call{Action: "UnTagEIPs", Region: region, IDs: ids}, keys); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if !slices.ContainsFunc(c.res.EIPs, func(e cloud.EIP) bool { return e.AllocationID == id && e.Region == region }) {
			return "", Err(ecsapi.ActionUnTagEIPs, region, "InvalidResourceId.NotFound", 404)
		}
	}
	for i, e := range c.res.EIPs {
		if slices.Contains(ids, e.AllocationID) {
			e.Tags = maps.Clone(e.Tags)
			for _, k := range keys {
				delete(e.Tags, k)
			}
			c.res.EIPs[i] = e
		}
	}
	return c.requestID(), nil
}

// releasedResources follows an instance's release (callers hold mu).
func (c *Cloud) releasedResources(id string) {
	var disks []cloud.Disk
	for _, d := range c.res.Disks {
		if d.InstanceID == id {
			if d.DeleteWithInstance {
				c.dropAutoSnapshots(d)
				continue
			}
			// Kept, and converted to pay-as-you-go.
			d.InstanceID, d.Status, d.ChargeType = "", "Available", "PostPaid"
		}
		disks = append(disks, d)
	}
	c.res.Disks = disks
	for i, e := range c.res.EIPs {
		if e.InstanceID == id {
			e.InstanceID, e.Status = "", "Available"
			if c.res.EIPStatusAfterRelease != "" {
				e.Status = c.res.EIPStatusAfterRelease
			}
			c.res.EIPs[i] = e
		}
	}
}

// dropAutoSnapshots deletes a deleted disk's automatic snapshots when it
// says so (manual ones stay); callers hold mu.
func (c *Cloud) dropAutoSnapshots(d cloud.Disk) {
	if !d.DeleteAutoSnapshot {
		return
	}
	c.res.Snapshots = slices.DeleteFunc(c.res.Snapshots, func(s cloud.Snapshot) bool { return s.SourceDiskID == d.ID && s.Automatic() })
}

// DeleteDisk deletes an Available pay-as-you-go disk.
func (c *Cloud) DeleteDisk(ctx context.Context, region, id string) (string, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDeleteDisk, Region: region, IDs: []string{id}}, id); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.res.Disks, func(d cloud.Disk) bool { return d.ID == id })
	switch {
	case i < 0:
		return c.requestID(), nil // documented: a missing disk is ignored
	case c.res.Disks[i].Status != "Available":
		return "", Err(ecsapi.ActionDeleteDisk, region, "DiskStillAttached", 403)
	case c.res.Disks[i].ChargeType == "PrePaid":
		return "", Err(ecsapi.ActionDeleteDisk, region, "InvalidDiskChargeType.NotSupported", 403)
	}
	c.dropAutoSnapshots(c.res.Disks[i])
	c.res.Disks = slices.Delete(c.res.Disks, i, i+1)
	c.released = append(c.released, id)
	return c.requestID(), nil
}

// DeleteSnapshot deletes an unused snapshot (never with Force).
func (c *Cloud) DeleteSnapshot(ctx context.Context, region, id string) (string, error) {
	if err := c.begin(ctx, Call{Action: ecsapi.ActionDeleteSnapshot, Region: region, IDs: []string{id}}, id); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	i := slices.IndexFunc(c.res.Snapshots, func(s cloud.Snapshot) bool { return s.ID == id })
	switch {
	case i < 0:
		return c.requestID(), nil
	case c.res.Snapshots[i].Usage == "image" || c.res.Snapshots[i].Usage == "image_disk":
		return "", Err(ecsapi.ActionDeleteSnapshot, region, "SnapshotCreatedImage", 403)
	case c.res.Snapshots[i].Usage == "disk":
		return "", Err(ecsapi.ActionDeleteSnapshot, region, "SnapshotCreatedDisk", 403)
	}
	c.res.Snapshots = slices.Delete(c.res.Snapshots, i, i+1)
	c.released = append(c.released, id)
	return c.requestID(), nil
}
