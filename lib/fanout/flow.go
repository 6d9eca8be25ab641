package fanout

import _ "embed"

// FlowPath is the flow definition's path in the repository; template.yaml
// carries the same text (checked by lib/deployfiles).
const FlowPath = "lib/fanout/flow.yaml"

//go:embed flow.yaml
var flowDefinition []byte

// FlowDefinition returns the CloudFlow definition (FDL) of the fan-out.
func FlowDefinition() []byte { return append([]byte(nil), flowDefinition...) }

// WorkerFunction is the worker function's name: the same code as the timer
// function, deployed without a trigger, invoked only by the flow.
const WorkerFunction = "ecs-reaper-worker"

// WorkerARN is how the flow names the worker; ROS fills in the region and
// account (Fn::Sub).
const WorkerARN = "acs:fc:${ALIYUN::Region}:${ALIYUN::AccountId}:functions/" + WorkerFunction

// Map concurrency: the flow's Map states run at most this many workers at
// once. CloudFlow's inline Map allows 40; FC allows a region's functions
// 90 % of its instance quota (100 on newer accounts), shared with every
// other function there. 10 keeps the fan-out a small share of it, and
// ECS's per-account rate limits are per account, so more parallel
// accounts would not make one account faster.
const (
	MapConcurrency       = 10
	InlineMapConcurrency = 40
)
