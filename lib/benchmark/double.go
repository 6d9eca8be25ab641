package benchmark

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// DoubleStats is what a double served, printed by ServeDouble when its
// stdin closes.
type DoubleStats struct {
	Calls    map[string]int `json:"calls"`    // requests by action
	Released int            `json:"released"` // instances released
	// Throttled is the calls the double's rate limit refused (counted in
	// Calls too).
	Throttled int `json:"throttled,omitempty"`
	// CPUNS is the CPU time the double's process used (serve-double only).
	CPUNS int64 `json:"cpuNs,omitempty"`
	// PageFaults is the minor page faults it took while serving.
	PageFaults uint64 `json:"minorFaults,omitempty"`
}

// StartInProcessDouble serves spec's fleet in this process with latency
// per call, accepting the benchmark's credentials.
func StartInProcessDouble(spec FleetSpec, latency time.Duration) (*ecsdouble.Server, error) {
	return ecsdouble.Start(spec.Generate(), ecsdouble.WithCredential(AccessKeyID, AccessKeySecret, ""),
		ecsdouble.WithCredential(STSKeyID, STSSecret, STSToken),
		ecsdouble.WithLatency(latency), ecsdouble.WithSeed(spec.Seed), ecsdouble.WithRateLimit(spec.RateLimit))
}

// Stats reads a double's call counts and releases.
func Stats(s *ecsdouble.Server) DoubleStats {
	return DoubleStats{Calls: s.CallCounts(), Released: len(s.Released()), Throttled: s.Throttled()}
}

// ServeDouble is the serve-double command: it generates the fleet its
// flags describe, serves it with the injected latency, prints the URL on
// stdout, and serves until stdin closes; it then prints DoubleStats as one
// JSON line and returns.
func ServeDouble(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve-double", flag.ContinueOnError)
	spec := FleetSpec{}
	fs.IntVar(&spec.Instances, "instances", 1000, "opted-in instances")
	fs.IntVar(&spec.Regions, "regions", 1, "regions, 1..20")
	fs.Int64Var(&spec.Seed, "seed", 42, "fleet seed")
	fs.Float64Var(&spec.NonEligible, "non-eligible", 0.2, "share of opted-in instances that are not eligible")
	fs.Float64Var(&spec.Untagged, "untagged", 0, "untagged instances per opted-in instance")
	fs.Float64Var(&spec.PrePaid, "prepaid", 0.5, "share of eligible instances that are expired subscriptions")
	fs.IntVar(&spec.RateLimit, "rate-limit", 0, "calls per second per action and region; 0 for no limit")
	latency := fs.Duration("latency", 20*time.Millisecond, "injected latency per call")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the double here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The double stands in for a remote API but shares the cores with the
	// measured sweep: hold it to one core, so the sweep always has the
	// other (and the double's idle threads do not spin on it), and keep its
	// collector out of the way (its heap is the fleet, allocated once).
	runtime.GOMAXPROCS(1)
	debug.SetGCPercent(400)
	s, err := StartInProcessDouble(spec, *latency)
	if err != nil {
		return err
	}
	defer s.Close()
	// A remote API's server is warm; a fresh double would fault in fresh
	// pages for its garbage while the sweep runs, on the cores the sweep
	// shares with it (about 2,600 faults, a third of its CPU, at
	// 10,000 × 20).
	warmHeap(64 << 20)
	if _, err := fmt.Fprintln(stdout, s.URL()); err != nil {
		return err
	}
	cpuBefore, faultsBefore := processCPU(), processFaults()
	_, _ = io.Copy(io.Discard, stdin)
	st := Stats(s)
	st.CPUNS = int64(processCPU() - cpuBefore)
	st.PageFaults = processFaults() - faultsBefore
	return json.NewEncoder(stdout).Encode(st)
}

// DoubleProcess is a serve-double child process.
type DoubleProcess struct {
	URL    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
}

// StartDoubleProcess runs `exe serve-double` for spec and waits for its URL.
func StartDoubleProcess(ctx context.Context, exe string, spec FleetSpec, latency time.Duration) (*DoubleProcess, error) {
	args := append([]string{"serve-double", "--latency", latency.String()}, spec.Args()...)
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start double: %w", err)
	}
	p := &DoubleProcess{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(out)}
	line, err := p.stdout.ReadString('\n')
	if err != nil {
		_ = stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("double did not print its URL: %w", err)
	}
	p.URL = strings.TrimSpace(line)
	return p, nil
}

// Close stops the double and returns what it served.
func (p *DoubleProcess) Close() (DoubleStats, error) {
	_ = p.stdin.Close()
	var st DoubleStats
	dec := json.NewDecoder(p.stdout)
	decErr := dec.Decode(&st)
	waitErr := p.cmd.Wait()
	if decErr != nil {
		return st, errors.Join(fmt.Errorf("double stats: %w", decErr), waitErr)
	}
	return st, waitErr
}

// RunChild runs `exe args...` and decodes its JSON stdout into v.
func RunChild(ctx context.Context, exe string, v any, args ...string) error {
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s %s: %w", exe, strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("%s %s: bad output %q: %w", exe, args[0], out, err)
	}
	return nil
}

// warmHeap has the heap grow into n bytes of memory and collects them
// again: the pages stay mapped (the collector's goal keeps them), so
// serving reuses them instead of faulting in fresh ones.
func warmHeap(n int) {
	touch(n)
	runtime.GC()
}

// touch allocates n bytes in 1 MiB pieces and writes to every page.
func touch(n int) {
	chunks := make([][]byte, 0, n>>20)
	for range n >> 20 {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		chunks = append(chunks, b)
	}
	runtime.KeepAlive(chunks)
}
