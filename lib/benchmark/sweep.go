package benchmark

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/handler"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// SweepConfig is one measured sweep.
type SweepConfig struct {
	Endpoint string   // the double's URL
	Regions  []string // swept as REAPER_REGIONS would list them
	// Timeout is the invocation's deadline, as FC gives it; default 600 s
	// (the function's timeout in s.yaml).
	Timeout time.Duration
	// CPUProfile and MemProfile, when set, are files for a CPU profile of
	// the sweep and an in-use heap profile taken after it (report alive).
	CPUProfile, MemProfile string
	// Resources, when set, is REAPER_RESOURCES (default: instances only).
	Resources []string
}

// SweepResult is what one sweep cost. Memory figures are the whole
// process's; run the sweep in a process of its own to read them as the
// sweep's.
type SweepResult struct {
	Calls    map[string]int `json:"calls"`    // from the run report, retries included
	Outcomes map[string]int `json:"outcomes"` // from the run report
	// KindOutcomes are the disks', snapshots' and EIPs' outcomes by kind.
	KindOutcomes map[string]map[string]int `json:"kindOutcomes,omitempty"`
	OptedIn      int                       `json:"optedIn"`
	Complete     bool                      `json:"complete"`
	Error        string                    `json:"error,omitempty"`
	WallNS       int64                     `json:"wallNs"`
	// PeakHeap is the largest /memory/classes/heap/objects:bytes seen,
	// sampled every 2 ms during the sweep, or the final HeapAlloc if larger.
	PeakHeap uint64 `json:"peakHeapBytes"`
	// VmHWM is the process's peak resident set (Linux /proc/self/status);
	// 0 where unavailable.
	VmHWM      uint64 `json:"vmHWMBytes"`
	Mallocs    uint64 `json:"mallocs"`    // heap allocations during the sweep
	AllocBytes uint64 `json:"allocBytes"` // bytes allocated during the sweep
	// LiveHeap is the heap in use after the sweep and a GC, with the
	// report still referenced: what the run's result itself holds.
	LiveHeap uint64 `json:"liveHeapBytes"`
	GCs      uint32 `json:"gcs"` // garbage collections during the sweep
	// CPUNS is the CPU time (user + system) the sweep used. It depends less
	// on what else the machine runs than the wall time does, but in a
	// virtual machine it still grows when the host is busy.
	CPUNS int64 `json:"cpuNs"`
	// PageFaults is the minor page faults the sweep's process took during
	// the sweep: mostly the first touch of fresh heap, stack and code pages.
	PageFaults uint64 `json:"minorFaults"`
}

// Wall is the sweep's wall time.
func (r SweepResult) Wall() time.Duration { return time.Duration(r.WallNS) }

// SweepSettings are the production defaults (settings.Default) for
// regions on endpoint, with the blast-radius caps raised so that they do
// not stop a benchmark and dry run off.
func SweepSettings(endpoint string, regions []string) settings.Settings {
	cfg := settings.Default()
	cfg.Regions = append([]string(nil), regions...)
	cfg.Endpoint = endpoint
	cfg.DryRun = false
	cfg.MaxRelease = 1 << 30
	cfg.MaxReleasePercent = 100
	return cfg
}

// RunSweep runs the production sweep (handler.Sweep over the SDK client,
// logs discarded) and measures it.
func RunSweep(ctx context.Context, cfg SweepConfig) (SweepResult, error) {
	api, err := ecsapi.NewClient(ecsapi.Config{
		Credentials: ecsapi.Credentials{AccessKeyID: AccessKeyID, AccessKeySecret: AccessKeySecret},
		Endpoint:    cfg.Endpoint,
	})
	if err != nil {
		return SweepResult{}, err
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 600 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	settings := SweepSettings(cfg.Endpoint, cfg.Regions)
	if len(cfg.Resources) > 0 {
		settings.Resources = append([]string(nil), cfg.Resources...)
	}

	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return SweepResult{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return SweepResult{}, err
		}
	}
	runtime.GC()
	var before, after, live runtime.MemStats
	runtime.ReadMemStats(&before)
	sampler := startHeapSampler(2 * time.Millisecond)
	cpuBefore, faultsBefore := processCPU(), processFaults()
	start := time.Now()
	rep, err := handler.Sweep(ctx, api, settings, "", "bench@"+start.UTC().Format(time.RFC3339), nil, logger)
	wall := time.Since(start)
	cpu, faults := processCPU()-cpuBefore, processFaults()-faultsBefore
	peak := sampler.stop()
	runtime.ReadMemStats(&after)
	if cfg.CPUProfile != "" {
		pprof.StopCPUProfile()
	}
	runtime.GC()
	runtime.ReadMemStats(&live)
	if cfg.MemProfile != "" {
		if perr := writeHeapProfile(cfg.MemProfile); perr != nil {
			return SweepResult{}, perr
		}
	}
	runtime.KeepAlive(rep)

	res := SweepResult{
		WallNS:     int64(wall),
		PeakHeap:   max(peak, after.HeapAlloc),
		VmHWM:      ReadVmHWM(),
		Mallocs:    after.Mallocs - before.Mallocs,
		AllocBytes: after.TotalAlloc - before.TotalAlloc,
		LiveHeap:   live.HeapAlloc,
		GCs:        after.NumGC - before.NumGC,
		CPUNS:      int64(cpu),
		PageFaults: faults,
	}
	if err != nil {
		res.Error = err.Error()
	}
	if rep == nil {
		return res, fmt.Errorf("sweep returned no report: %w", err)
	}
	res.Calls = rep.Totals.Calls
	res.Outcomes = rep.Totals.Outcomes
	res.KindOutcomes = map[string]map[string]int{}
	for _, k := range kinds.All {
		res.KindOutcomes[k.Name] = rep.Totals.Kinds[k.Name]
	}
	res.OptedIn = rep.Totals.OptedIn
	res.Complete = rep.Complete
	return res, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// heapSampler records the peak of the live-and-unswept heap.
type heapSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func startHeapSampler(every time.Duration) *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		sample := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				h.peak = max(h.peak, sample[0].Value.Uint64())
			}
			select {
			case <-h.done:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) stop() uint64 {
	close(h.done)
	h.wg.Wait()
	return h.peak
}

// ReadVmHWM returns the process's peak resident set size in bytes from
// /proc/self/status, or 0 where that is unavailable.
func ReadVmHWM() uint64 { return readVmHWM("/proc/self/status") }

// readVmHWM reads VmHWM from a /proc/<pid>/status file.
func readVmHWM(path string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 1 {
			return 0
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}
