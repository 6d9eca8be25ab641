package handler

import (
	"runtime/debug"
	"strconv"
)

// memoryLimitShare is the part of the function's memory the Go heap may use
// before the collector works harder: the rest is the runtime, stacks, the
// binary and the SDK's buffers. Without a limit, garbage from page
// decoding lets the heap grow to about three times what is live.
const memoryLimitShare = 0.5

// gcPercentUnderLimit is GOGC while the memory limit is set.
const gcPercentUnderLimit = 400

// SetMemoryLimit sets the Go soft memory limit from FC_FUNCTION_MEMORY_SIZE
// (MB), unless GOMEMLIMIT is set. It returns the limit set, or 0.
func SetMemoryLimit(lookup func(string) (string, bool)) int64 {
	if _, set := lookup("GOMEMLIMIT"); set {
		return 0
	}
	raw, _ := lookup("FC_FUNCTION_MEMORY_SIZE")
	mb, err := strconv.Atoi(raw)
	if err != nil || mb <= 0 {
		return 0
	}
	limit := int64(float64(mb) * memoryLimitShare * (1 << 20))
	debug.SetMemoryLimit(limit)
	// With the limit as the backstop, collect less often than the default
	// while the heap is small: a sweep's garbage is short-lived page data.
	debug.SetGCPercent(gcPercentUnderLimit)
	return limit
}
