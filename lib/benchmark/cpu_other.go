//go:build !unix

package benchmark

import "time"

// processCPU is unavailable here.
func processCPU() time.Duration { return 0 }
