//go:build !unix

package benchmark

import (
	"os"
	"time"
)

// processCPU is unavailable here.
func processCPU() time.Duration { return 0 }

// processFaults is unavailable here.
func processFaults() uint64 { return 0 }

// PageTouchCost is unavailable here.
func PageTouchCost() time.Duration { return 0 }

// exitedMaxRSS is unavailable here.
func exitedMaxRSS(*os.ProcessState) uint64 { return 0 }
