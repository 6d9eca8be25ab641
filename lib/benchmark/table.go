package benchmark

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Targets of the issue.
const (
	TargetCallRatio = 1.05     // API calls ≤ 1.05 × floor, every case
	TargetWallRatio = 1.5      // wall ≤ 1.5 × floor time, 10k and 100k instances over 20 regions
	TargetHeapBytes = 64 << 20 // peak heap < 64 MiB, 100k instances over 20 regions
	TargetColdStart = 50 * time.Millisecond
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs      int
	CPUModel  string
	MemTotal  string
	GoVersion string
	OSArch    string
	// PageTouch is the cost of the first write to a fresh page.
	PageTouch time.Duration
}

// LoadAverage is the 1, 5 and 15 minute load averages from /proc/loadavg,
// or "" where unavailable.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// ReadMachine reads the machine's description (Linux /proc where present).
func ReadMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OSArch: runtime.GOOS + "/" + runtime.GOARCH,
		CPUModel: "unknown", MemTotal: "unknown", PageTouch: PageTouchCost()}
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		m.CPUModel = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		var kb uint64
		if _, err := fmt.Sscanf(v, "%d kB", &kb); err == nil {
			m.MemTotal = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
		}
	}
	return m
}

func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "**FAIL**"
}

func ms(d time.Duration) string {
	switch {
	case d >= 100*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d >= 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
}

// byAction renders calls by action as "Action n, ...", sorted, without zeros.
func byAction(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

// paths renders listing paths by region count as "path×n ...", sorted.
func paths(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// WallTargeted reports whether the wall-time target applies to the case.
func WallTargeted(c Case) bool { return c.Regions == 20 && c.Instances >= 10_000 }

// HeapTargeted reports whether the heap target applies to the case.
func HeapTargeted(c Case) bool { return c.Regions == 20 && c.Instances >= 100_000 }

// WriteTables writes the results tables and the target verdicts.
func (r *Result) WriteTables(w io.Writer) {
	cfg := r.Config
	fmt.Fprintf(w, "Latency %s per call; fleet seed %d; %.0f%% of opted-in instances not eligible; %g untagged per opted-in; %.0f%% of eligible are expired subscriptions (two flag groups per region). Sweep: median of %d runs (memory: max of the runs).\n\n",
		cfg.Latency, cfg.Seed, cfg.NonEligible*100, cfg.Untagged, cfg.PrePaid*100, max(1, cfg.Runs))
	fmt.Fprintln(w, "| Case (opted-in × regions) | Eligible | Calls | Floor calls | Calls / floor | Wall | Floor time | Wall / floor | Peak heap | Peak RSS | Allocs / instance | Naive calls | Naive wall | Speed-up |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
	for _, row := range r.Rows {
		naiveCalls, naiveWall, speed := "–", "–", "–"
		if n := row.Naive; n != nil {
			naiveCalls = fmt.Sprint(n.EstimatedCalls())
			naiveWall = ms(n.Estimated())
			if n.Extrapolated {
				naiveCalls += "†"
				naiveWall += "†"
			}
			speed = fmt.Sprintf("%.0f×", row.SpeedUp())
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.3f | %s | %s | %.2f | %.1f MiB | %.1f MiB | %.1f | %s | %s | %s |\n",
			row.Case, row.Eligible, row.Calls(), row.Floor.Total, row.CallRatio(), ms(row.Sweep.Wall()), ms(row.Floor.Time),
			row.WallRatio(), mib(row.Sweep.PeakHeap), mib(row.Sweep.VmHWM), row.AllocsPerInstance(), naiveCalls, naiveWall, speed)
	}
	fmt.Fprintln(w, "\n† extrapolated: the baseline listed every region but sent only its first", cfg.NaiveSample,
		"DeleteInstance calls; its wall time is the listing time plus their mean time × the eligible instances, and its calls are the listing calls plus one DeleteInstance per eligible instance.")

	fmt.Fprintln(w, "\nCalls by action, measured (from the run report) and floor, with the floor's listing path per region:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Case | Floor path (regions) | Measured calls | Floor calls | Sweep wall, all runs | Sweep CPU | Double CPU | Page faults | GCs | Heap live after |")
	fmt.Fprintln(w, "|---|---|---|---|---|--:|--:|--:|--:|--:|")
	for _, row := range r.Rows {
		walls := make([]string, len(row.Sweeps))
		for i, s := range row.Sweeps {
			walls[i] = ms(s.Wall())
		}
		var doubleCPU []time.Duration
		for _, d := range row.Doubles {
			doubleCPU = append(doubleCPU, time.Duration(d.CPUNS))
		}
		slices.Sort(doubleCPU)
		dcpu := "–"
		if len(doubleCPU) > 0 {
			dcpu = ms(doubleCPU[len(doubleCPU)/2])
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d | %d | %.1f MiB |\n", row.Case, paths(row.Paths), byAction(row.Sweep.Calls), byAction(row.Floor.Calls),
			strings.Join(walls, ", "), ms(time.Duration(row.Sweep.CPUNS)), dcpu, row.Sweep.PageFaults, row.Sweep.GCs, mib(row.Sweep.LiveHeap))
	}

	r.writeDeploy(w)

	fmt.Fprintln(w, "\n### Targets")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| Target | Case | Measured | Verdict |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, row := range r.Rows {
		fmt.Fprintf(w, "| API calls ≤ %.2f × floor | %s | %.3f × | %s |\n", TargetCallRatio, row.Case, row.CallRatio(), passFail(row.CallRatio() <= TargetCallRatio))
	}
	for _, row := range r.Rows {
		if WallTargeted(row.Case) {
			fmt.Fprintf(w, "| wall ≤ %.1f × floor time | %s | %.2f × (%s / %s) | %s |\n", TargetWallRatio, row.Case, row.WallRatio(),
				ms(row.Sweep.Wall()), ms(row.Floor.Time), passFail(row.WallRatio() <= TargetWallRatio))
		}
	}
	for _, row := range r.Rows {
		if HeapTargeted(row.Case) {
			fmt.Fprintf(w, "| peak heap < 64 MiB | %s | %.1f MiB (RSS %.1f MiB) | %s |\n", row.Case, mib(row.Sweep.PeakHeap), mib(row.Sweep.VmHWM),
				passFail(row.Sweep.PeakHeap < TargetHeapBytes))
		}
	}
	switch {
	case r.ColdStart != nil:
		fmt.Fprintf(w, "| cold start < 50 ms | %s, %d starts | median %s, p90 %s | %s |\n", r.ColdStart.Package, len(r.ColdStart.Samples),
			fmtDur(r.ColdStart.Median), fmtDur(r.ColdStart.P90), passFail(r.ColdStart.Median < TargetColdStart))
	case r.ColdErr != "":
		fmt.Fprintf(w, "| cold start < 50 ms | %s | not measured: %s | – |\n", cfg.ColdStartPkg, strings.ReplaceAll(firstLine(r.ColdErr), "|", "/"))
	}
	if r.ColdStart != nil {
		fmt.Fprintf(w, "\nCold start: %s built with `CGO_ENABLED=0 go build %s`: binary %.1f MiB; time from exec to the first `GET /2020-11-11/runtime/invocation/next`: median %s, p90 %s over %d starts.\n",
			r.ColdStart.Package, strings.Join(quoteFlags(BuildFlags), " "), mib(uint64(r.ColdStart.BinarySize)), fmtDur(r.ColdStart.Median), fmtDur(r.ColdStart.P90), len(r.ColdStart.Samples))
	}
}

func quoteFlags(fs []string) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		if strings.ContainsRune(f, ' ') {
			k, v, _ := strings.Cut(f, "=")
			f = k + `="` + v + `"`
		}
		out[i] = f
	}
	return out
}

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// WriteMachine writes the machine and the reproduction command.
func (r *Result) WriteMachine(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "- Machine: %d CPUs (%s), %s memory, %s", m.CPUs, m.CPUModel, m.MemTotal, m.OSArch)
	if m.PageTouch > 0 {
		fmt.Fprintf(w, "; the first write to a fresh page of memory costs %.1f µs", float64(m.PageTouch.Nanoseconds())/1000)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "- Go: %s\n", m.GoVersion)
	fmt.Fprintf(w, "- Run: %s, took %s; load average %s at the start, %s at the end\n", r.Started.UTC().Format("2006-01-02 15:04 MST"),
		r.Took.Round(time.Second), r.LoadBefore, r.LoadAfter)
	if r.Config.Command != "" {
		fmt.Fprintf(w, "- Command: `%s`\n", r.Config.Command)
	}
}

// writeDeploy writes what the deployed build costs, against the physical
// floor, for the rows that measured it.
func (r *Result) writeDeploy(w io.Writer) {
	var rows []Row
	for _, row := range r.Rows {
		if row.FC != nil {
			rows = append(rows, row)
		}
	}
	if len(rows) > 0 {
		fmt.Fprintf(w, "\nWhat deploys: the FC build (`go build %s`, %s) invoked once per case under the FC runtime double with FC_FUNCTION_MEMORY_SIZE=128, against a double in a process of its own. Peak RSS is the function process's VmHWM (/proc/<pid>/status after its answer); the response is what the function answered. The physical floor is the floor's calls with only their dependencies at the latency (a first page before the others, the listing before the writes) or the double's rate limit, whichever binds; calls are those the double answered, throttled ones apart.\n\n",
			strings.Join(quoteFlags(BuildFlags), " "), r.Config.FunctionPkg)
		fmt.Fprintln(w, "| Case | Eligible | FC peak RSS | Response | FC wall | Physical floor | FC wall / physical | Sweep wall / physical | Calls answered | Floor calls | Calls / floor | Throttled | Rate limit | Log |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, row := range rows {
			fc := row.FC
			rate := "none"
			if row.Case.RateLimit > 0 {
				rate = fmt.Sprintf("%d/s per action and region", row.Case.RateLimit)
			}
			sweepRatio := "–"
			if row.Sweep.WallNS > 0 {
				sweepRatio = fmt.Sprintf("%.2f", row.PhysicalWallRatio())
			}
			fmt.Fprintf(w, "| %s | %d | %.1f MiB | %s | %s | %s | %.2f | %s | %d | %d | %.3f | %d | %s | %s |\n",
				row.Case, row.Eligible, mib(fc.PeakRSS), byteSize(fc.ResponseBytes), ms(fc.Wall()), ms(row.Physical.Time),
				float64(fc.WallNS)/float64(max(1, int64(row.Physical.Time))), sweepRatio,
				fc.Answered(), row.Physical.Calls, float64(fc.Answered())/float64(max(1, row.Physical.Calls)), fc.Double.Throttled, rate, byteSize(fc.LogBytes))
		}
	}
	for _, row := range r.Rows {
		for _, p := range row.Problems {
			fmt.Fprintf(w, "\n- %s: %s", row.Case, strings.ReplaceAll(p, "|", "/"))
		}
	}
	for _, row := range r.Rows {
		if len(row.Problems) > 0 {
			fmt.Fprintln(w)
			break
		}
	}
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
