package benchmark

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// Config is a benchmark run of the command.
type Config struct {
	Exe         string // this program, re-executed for the double and the measured runs
	Cases       []Case
	Latency     time.Duration
	Seed        int64
	NonEligible float64
	Untagged    float64
	PrePaid     float64
	Runs        int // sweeps per case; the median wall time is reported
	// NaiveMax: the naive baseline runs on the whole fleet when it has at
	// most this many eligible instances; otherwise it deletes NaiveSample
	// of them and is extrapolated. 0 skips the baseline.
	NaiveMax    int
	NaiveSample int
	// ColdStartPkg is the function's main package; "" skips the cold start.
	ColdStartPkg string
	// FunctionPkg is the function's main package, built as s.yaml builds it
	// and invoked once per case under the FC runtime double; "" skips that.
	FunctionPkg   string
	ColdStartRuns int
	Progress      io.Writer // progress lines; nil for none
	Command       string    // the command line, for the document
}

// Row is one case's measurements.
type Row struct {
	Case     Case
	Spec     FleetSpec
	Eligible int
	Paths    map[string]int // floor listing path → regions
	Floor    Floor
	Physical PhysicalFloor
	Sweeps   []SweepResult
	Sweep    SweepResult   // the median-wall run; memory figures are the max over runs
	Doubles  []DoubleStats // what the double served, per sweep
	Naive    *NaiveResult
	FC       *FCResult // the deployed build's invocation; nil when not measured
	// Problems are what did not hold: an incomplete sweep, an invocation
	// that failed or released less than the eligible instances.
	Problems []string
}

// PhysicalWallRatio is the sweep's wall time / the physical floor.
func (r Row) PhysicalWallRatio() float64 {
	return float64(r.Sweep.WallNS) / float64(max(1, int64(r.Physical.Time)))
}

// Calls is the measured sweep's call count.
func (r Row) Calls() int { return sum(r.Sweep.Calls) }

// CallRatio is measured calls / floor calls.
func (r Row) CallRatio() float64 { return float64(r.Calls()) / float64(max(1, r.Floor.Total)) }

// WallRatio is measured wall time / floor time.
func (r Row) WallRatio() float64 {
	return float64(r.Sweep.WallNS) / float64(max(1, int64(r.Floor.Time)))
}

// AllocsPerInstance is heap allocations per opted-in instance.
func (r Row) AllocsPerInstance() float64 {
	return float64(r.Sweep.Mallocs) / float64(max(1, r.Case.Instances))
}

// SpeedUp is the naive baseline's wall time / the sweep's.
func (r Row) SpeedUp() float64 {
	if r.Naive == nil || r.Sweep.WallNS == 0 {
		return 0
	}
	return float64(r.Naive.EstimatedNS) / float64(r.Sweep.WallNS)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Result is a whole benchmark run.
type Result struct {
	Config    Config
	Machine   Machine
	Started   time.Time
	Took      time.Duration
	Rows      []Row
	ColdStart *ColdStart
	ColdErr   string
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end:
	// wall times are only as good as the machine was quiet.
	LoadBefore, LoadAfter string
}

func (c Config) logf(format string, args ...any) {
	if c.Progress != nil {
		fmt.Fprintf(c.Progress, format+"\n", args...)
	}
}

// Run measures every case and the cold start.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	res := &Result{Config: cfg, Machine: ReadMachine(), Started: time.Now(), LoadBefore: LoadAverage()}
	freshness := settings.Default().Freshness
	fnBin := ""
	if cfg.FunctionPkg != "" {
		dir, err := os.MkdirTemp("", "reaper-bench-fc-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		if fnBin, err = BuildFunction(ctx, cfg.FunctionPkg, dir); err != nil {
			return res, err
		}
	}
	for _, c := range cfg.Cases {
		spec := FleetSpec{Case: c, Seed: cfg.Seed, NonEligible: cfg.NonEligible, Untagged: cfg.Untagged, PrePaid: cfg.PrePaid}
		if c.Eligible > 0 {
			spec.NonEligible = 1 - c.Eligible
		}
		fleet := spec.Generate()
		shapes := Shapes(fleet, c.RegionIDs(), Rules(), time.Now())
		fleet.Instances = nil
		row := Row{Case: c, Spec: spec, Floor: ComputeFloor(shapes, cfg.Latency, freshness), Paths: map[string]int{},
			Physical: ComputePhysicalFloor(shapes, cfg.Latency, c.RateLimit, freshness)}
		for _, s := range shapes {
			row.Eligible += s.EligibleTotal()
		}
		for _, r := range row.Floor.Regions {
			row.Paths[r.Path]++
		}
		// --runs 0 with the FC build measures only what deploys.
		sweeps := max(1, cfg.Runs)
		if cfg.Runs == 0 && fnBin != "" {
			sweeps = 0
		}
		for i := range sweeps {
			sr, st, err := measureSweep(ctx, cfg, spec)
			if err != nil {
				return res, fmt.Errorf("case %s: %w", c, err)
			}
			if got := sr.Outcomes["released"]; got != row.Eligible || st.Released != row.Eligible || !sr.Complete {
				p := fmt.Sprintf("sweep %d released %d (double saw %d) of %d eligible, complete=%t, error %q",
					i+1, got, st.Released, row.Eligible, sr.Complete, firstLine(sr.Error))
				cfg.logf("%-10s %s", c, p)
				row.Problems = append(row.Problems, p)
			}
			cfg.logf("%-10s sweep %d: %d calls (floor %d), %s (floor %s), cpu %s (double %s), %d page faults (double %d), heap %.1f MiB, hwm %.1f MiB, load %s",
				c, i+1, sum(sr.Calls), row.Floor.Total, sr.Wall().Round(time.Millisecond), row.Floor.Time,
				time.Duration(sr.CPUNS).Round(time.Millisecond), time.Duration(st.CPUNS).Round(time.Millisecond),
				sr.PageFaults, st.PageFaults, mib(sr.PeakHeap), mib(sr.VmHWM), LoadAverage())
			row.Sweeps = append(row.Sweeps, sr)
			row.Doubles = append(row.Doubles, st)
		}
		if len(row.Sweeps) > 0 {
			row.Sweep = medianSweep(row.Sweeps)
		}
		if fnBin != "" {
			fr, err := MeasureFC(ctx, cfg.Exe, fnBin, spec, cfg.Latency)
			if err != nil {
				return res, fmt.Errorf("case %s FC build: %w", c, err)
			}
			if fr.Failed || fr.Double.Released != row.Eligible {
				p := fmt.Sprintf("FC invocation released %d of %d eligible, failed=%t %s", fr.Double.Released, row.Eligible, fr.Failed, fr.Error)
				cfg.logf("%-10s %s", c, p)
				row.Problems = append(row.Problems, p)
			}
			cfg.logf("%-10s FC build: %s (physical floor %s), peak RSS %.1f MiB (maxrss %.1f), response %d bytes, log %d bytes, %d calls answered (floor %d), %d throttled, load %s",
				c, fr.Wall().Round(time.Millisecond), row.Physical.Time, mib(fr.PeakRSS), mib(fr.MaxRSS), fr.ResponseBytes, fr.LogBytes,
				fr.Answered(), row.Physical.Calls, fr.Double.Throttled, LoadAverage())
			row.FC = &fr
		}
		if cfg.NaiveMax > 0 {
			budget := 0
			if row.Eligible > cfg.NaiveMax {
				budget = max(1, cfg.NaiveSample)
			}
			nr, err := measureNaive(ctx, cfg, spec, budget)
			if err != nil {
				return res, fmt.Errorf("case %s naive: %w", c, err)
			}
			cfg.logf("%-10s naive: %d eligible, %d deleted, %s measured, %s estimated", c, nr.Eligible, nr.Deleted,
				time.Duration(nr.WallNS).Round(time.Millisecond), nr.Estimated().Round(time.Millisecond))
			row.Naive = &nr
		}
		res.Rows = append(res.Rows, row)
	}
	if cfg.ColdStartPkg != "" {
		cs, err := MeasureColdStart(ctx, cfg.ColdStartPkg, max(1, cfg.ColdStartRuns))
		if err != nil {
			res.ColdErr = err.Error()
			cfg.logf("cold start: %v", err)
		} else {
			res.ColdStart = &cs
			cfg.logf("cold start: median %s, p90 %s, binary %.1f MiB", cs.Median, cs.P90, mib(uint64(cs.BinarySize)))
		}
	}
	res.Took = time.Since(res.Started)
	res.LoadAfter = LoadAverage()
	return res, nil
}

func measureSweep(ctx context.Context, cfg Config, spec FleetSpec) (SweepResult, DoubleStats, error) {
	d, err := StartDoubleProcess(ctx, cfg.Exe, spec, cfg.Latency)
	if err != nil {
		return SweepResult{}, DoubleStats{}, err
	}
	var sr SweepResult
	runErr := RunChild(ctx, cfg.Exe, &sr, "sweep", "--endpoint", d.URL, "--regions", strings.Join(spec.RegionIDs(), ","))
	st, closeErr := d.Close()
	if runErr != nil {
		return sr, st, runErr
	}
	return sr, st, closeErr
}

func measureNaive(ctx context.Context, cfg Config, spec FleetSpec, budget int) (NaiveResult, error) {
	d, err := StartDoubleProcess(ctx, cfg.Exe, spec, cfg.Latency)
	if err != nil {
		return NaiveResult{}, err
	}
	var nr NaiveResult
	runErr := RunChild(ctx, cfg.Exe, &nr, "naive", "--endpoint", d.URL, "--regions", strings.Join(spec.RegionIDs(), ","),
		"--max", fmt.Sprint(budget))
	_, closeErr := d.Close()
	if runErr != nil {
		return nr, runErr
	}
	return nr, closeErr
}

// medianSweep returns the run with the median wall time, carrying the
// largest peak heap, peak RSS and allocation count of all runs.
func medianSweep(runs []SweepResult) SweepResult {
	sorted := slices.Clone(runs)
	slices.SortFunc(sorted, func(a, b SweepResult) int { return int(a.WallNS - b.WallNS) })
	m := sorted[len(sorted)/2]
	for _, r := range runs {
		m.PeakHeap = max(m.PeakHeap, r.PeakHeap)
		m.VmHWM = max(m.VmHWM, r.VmHWM)
		m.Mallocs = max(m.Mallocs, r.Mallocs)
	}
	return m
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
