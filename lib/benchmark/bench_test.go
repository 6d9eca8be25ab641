package benchmark

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

var (
	benchLatency = flag.Duration("reaper.latency", 20*time.Millisecond, "BenchmarkSweep: injected latency per API call")
	benchLarge   = flag.Bool("reaper.large", false, "BenchmarkSweep: include the 100,000-instance cases (use -benchtime=1x)")
)

// BenchmarkSweep runs the production sweep through the SDK against an
// in-process double (so memory and allocation figures include the double;
// reaper-bench measures the sweep alone). One op is one whole sweep of a
// fresh fleet. Custom metrics: calls/floor and wall/floor are the ratios
// the targets are about.
//
//	go test -run '^$' -bench Sweep ./lib/benchmark
//	go test -run '^$' -bench 'Sweep/100000x20' -benchtime=1x ./lib/benchmark -args -reaper.large
func BenchmarkSweep(b *testing.B) {
	list := "1000x1,1000x5,1000x20,10000x1,10000x5,10000x20"
	if *benchLarge {
		list += ",100000x1,100000x5,100000x20"
	}
	cases, err := ParseCases(list)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range cases {
		b.Run(c.String(), func(b *testing.B) {
			spec := DefaultSpec(c)
			floor := ComputeFloor(Shapes(spec.Generate(), c.RegionIDs(), Rules(), time.Now()), *benchLatency, settings.Default().Freshness)
			var calls, mallocs int
			var wall time.Duration
			for range b.N {
				b.StopTimer()
				s, err := StartInProcessDouble(spec, *benchLatency)
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := RunSweep(context.Background(), SweepConfig{Endpoint: s.URL(), Regions: c.RegionIDs()})
				b.StopTimer()
				s.Close()
				if err != nil || !res.Complete {
					b.Fatalf("sweep: %v (complete %t, %s)", err, res.Complete, res.Error)
				}
				calls += sum(res.Calls)
				mallocs += int(res.Mallocs)
				wall += res.Wall()
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(float64(calls)/n/float64(floor.Total), "calls/floor")
			b.ReportMetric(float64(wall)/n/float64(floor.Time), "wall/floor")
			b.ReportMetric(float64(mallocs)/n/float64(c.Instances), "allocs(+double)/instance")
		})
	}
}
