// Package ecsapi is the ECS client boundary: the only package that imports
// the Alibaba Cloud SDK. It lists the API actions the product may call,
// translates SDK errors into one classification by error code, and bounds
// every call by the caller's context even though SDK v1.63.107 takes none.
// It speaks the leaf types of lib/cloud; each consumer declares the part of
// the client it calls (engine.API, discover.Lister, ops.InstanceAPI).
package ecsapi

import "github.com/ecs-reaper/ecs-reaper/lib/cloud"

// ECS API action names. RAM policies grant ecs:<Action> for exactly these.
const (
	ActionDescribeRegions   = "DescribeRegions"
	ActionDescribeInstances = "DescribeInstances"
	ActionListTagResources  = "ListTagResources"
	ActionDeleteInstances   = "DeleteInstances"
	ActionTagResources      = "TagResources"
	ActionStopInstances     = "StopInstances"
)

// InstanceActions are the ECS actions the instances' path calls (listing
// the regions too). The deployment files' RAM policies grant these and
// each kind's actions (package kinds), and a test checks every kind's
// actions are the client's.
var InstanceActions = []string{
	ActionDescribeRegions,
	ActionDescribeInstances,
	ActionListTagResources,
	ActionDeleteInstances,
	ActionTagResources,
	ActionStopInstances,
}

// Actions is every ECS action the client boundary calls.
var Actions = []string{
	ActionDescribeRegions,
	ActionDescribeInstances,
	ActionListTagResources,
	ActionDeleteInstances,
	ActionTagResources,
	ActionStopInstances,
	ActionDescribeDisks,
	ActionDescribeSnapshots,
	ActionDeleteDisk,
	ActionDeleteSnapshot,
	ActionDescribeImages,
	ActionDeleteImage,
}

// MaxTagIDs is the most resource IDs one TagResources call takes.
const MaxTagIDs = 50

// MaxStopIDs is the most IDs one StopInstances call takes.
const MaxStopIDs = 100

// TagInput writes tags on instances of one region (an existing key is
// overwritten).
type TagInput struct {
	Region      string
	InstanceIDs []string // 1..MaxTagIDs: the resources' IDs
	Tags        map[string]string
	// ResourceType is instance (when empty), disk or snapshot.
	ResourceType string
}

// TagOutput is a successful TagResources answer.
type TagOutput struct{ RequestID string }

// StopInput is one StopInstances call: a graceful stop (ForceStop=false
// unless set) in StoppedMode, all instances together.
type StopInput struct {
	Region      string
	InstanceIDs []string // 1..MaxStopIDs
	ForceStop   bool
	StoppedMode string // KeepCharging or StopCharging
	DryRun      bool
}

// StopOutput is a successful StopInstances answer; a dry run that would
// pass is reported as success with DryRunPassed set.
type StopOutput struct {
	RequestID    string
	DryRunPassed bool
}

// MaxPageSize is the largest MaxResults DescribeInstances accepts.
const MaxPageSize = 100

// MaxDescribeIDs is the most IDs one DescribeInstances InstanceIds filter takes.
const MaxDescribeIDs = 100

// MaxDeleteIDs is the most IDs one DeleteInstances call takes.
const MaxDeleteIDs = 100

// TagFilterCap is the documented most resources a tag-filtered
// DescribeInstances returns; a listing that reaches it may be incomplete.
const TagFilterCap = 1000

// Regions is the DescribeRegions answer.
type Regions struct {
	RegionIDs []string
	RequestID string
}

// DescribeInput selects instances in one region: by opt-in tag key, or by
// IDs (at most MaxDescribeIDs), one page at a time.
type DescribeInput struct {
	Region      string
	TagKey      string   // Tag.1.Key; empty means no tag filter
	InstanceIDs []string // sent as a JSON array; empty means no ID filter
	NextToken   string
	MaxResults  int
	// PageNumber (1-based) pages by number with PageSize entries instead
	// of NextToken/MaxResults: only then is TotalCount valid (ECS ignores
	// the page number and size when MaxResults or NextToken is set).
	PageNumber int
	PageSize   int
	// DryRun checks the permission only. ECS answers a role without
	// ecs:DescribeInstances with an empty list, not an error; a dry run
	// tells the two apart. A passing dry run returns an empty page.
	DryRun bool
	// TagKeys keeps only these tags on the returned instances (nil keeps
	// all): the rules read two keys, and instances may carry dozens.
	TagKeys []string
}

// DescribePage is one page of DescribeInstances.
type DescribePage struct {
	Instances []cloud.Instance
	NextToken string
	// TotalCount is what matches the query, valid only for a PageNumber
	// page (a PageNumber answer without one is malformed).
	TotalCount int
	RequestID  string
}

// ListTagInput lists the instance IDs that carry a tag key in one region.
type ListTagInput struct {
	Region    string
	TagKey    string
	NextToken string
}

// TagPage is one page of ListTagResources, reduced to instance IDs.
type TagPage struct {
	InstanceIDs []string
	NextToken   string
	RequestID   string
}

// DeleteInput is one DeleteInstances call.
type DeleteInput struct {
	Region      string
	InstanceIDs []string // 1..MaxDeleteIDs, one region
	// TerminateSubscription releases expired subscription instances.
	TerminateSubscription bool
	// Force releases Running instances.
	Force       bool
	ForceStop   bool // sent only with Force; absent from the SDK struct
	DryRun      bool
	ClientToken string
}

// DeleteOutput is a successful DeleteInstances answer. A dry run that would
// pass is reported as success with DryRunPassed set (the API answers it with
// HTTP 400 DRYRUN.SUCCESS).
type DeleteOutput struct {
	RequestID    string
	DryRunPassed bool
}
