//go:build !unix

package benchmark

import "time"

// processCPU is unavailable here.
func processCPU() time.Duration { return 0 }

// processFaults is unavailable here.
func processFaults() uint64 { return 0 }

// PageTouchCost is unavailable here.
func PageTouchCost() time.Duration { return 0 }
