//go:build unix

package benchmark

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// exitedMaxRSS is an exited child's peak resident set in bytes, from
// wait4's resource usage; 0 where unavailable.
func exitedMaxRSS(st *os.ProcessState) uint64 {
	if st == nil {
		return 0
	}
	ru, ok := st.SysUsage().(*syscall.Rusage)
	if !ok || ru.Maxrss <= 0 {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return uint64(ru.Maxrss) // bytes there, kilobytes on Linux
	}
	return uint64(ru.Maxrss) * 1024
}

// processCPU is the CPU time (user + system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processFaults is the minor page faults this process has taken.
func processFaults() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return uint64(ru.Minflt)
}

// PageTouchCost is what the first write to a fresh page of memory costs
// here: 16 MiB of anonymous memory mapped and written once a page. In a
// virtual machine this can be tens of times what it is on bare metal, and
// every page a sweep's heap grows into pays it.
func PageTouchCost() time.Duration {
	const size = 16 << 20
	page := syscall.Getpagesize()
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return 0
	}
	defer func() { _ = syscall.Munmap(b) }()
	start := time.Now()
	for i := 0; i < size; i += page {
		b[i] = 1
	}
	return time.Since(start) / time.Duration(size/page)
}
