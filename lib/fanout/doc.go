// Package fanout holds the parts of the organisation's sweep that run on
// CloudFlow, one worker invocation per account (docs/fanout.md): the flow
// definition (flow.yaml), the worker's payload and the run ID it carries,
// the execution name and ClientTokens derived from the run, the result
// store in OSS, the start of an execution, and Decide, the organisation's
// caps as a pure function of every account's plan.
//
// The flow runs Plan (every account, read-only) → Decide (one invocation)
// → Notify (one invocation: each owner told once across accounts, before
// any mark) → Execute (the accounts the decision allows) → Report. The workers
// return small summaries to CloudFlow; the data lives in OSS, one key per
// run, account and phase, so a retried worker overwrites its own result.
package fanout
