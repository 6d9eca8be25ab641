// Command reaper-bench measures the sweep against the API floor and a
// naive baseline, and the function's cold start; see docs/BENCHMARKS.md.
//
//	go run ./lib/benchmark/cmd/reaper-bench --out docs/BENCHMARKS.md
//
// It re-executes itself for the parts that must not share its memory:
//
//	reaper-bench serve-double --instances N --regions R --seed S --latency D ...
//	    serve a generated fleet on the ECS double; print its URL, serve until
//	    stdin closes, then print what it served as JSON
//	reaper-bench sweep --endpoint URL --regions a,b,...
//	    run the production sweep once and print its measurements as JSON
//	reaper-bench naive --endpoint URL --regions a,b,... [--max N]
//	    run the naive baseline and print its measurements as JSON
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/benchmark"
	"github.com/ecs-reaper/ecs-reaper/lib/handler"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "reaper-bench:", err)
		}
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "serve-double":
			return benchmark.ServeDouble(args[1:], os.Stdin, os.Stdout)
		case "sweep":
			return sweepCmd(ctx, args[1:])
		case "naive":
			return naiveCmd(ctx, args[1:])
		}
	}
	return benchCmd(ctx, args)
}

func sweepCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "the double's URL")
	regions := fs.String("regions", "", "comma-separated regions")
	cpu := fs.String("cpuprofile", "", "write a CPU profile of the sweep here")
	mem := fs.String("memprofile", "", "write an in-use heap profile, taken after the sweep, here")
	memoryMB := fs.Int("memory-mb", 128, "the function's memory (s.yaml memorySize): sets the same soft memory limit the function sets on FC; 0 for none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *memoryMB > 0 {
		handler.SetMemoryLimit(func(k string) (string, bool) {
			if k == "FC_FUNCTION_MEMORY_SIZE" {
				return strconv.Itoa(*memoryMB), true
			}
			return os.LookupEnv(k)
		})
	}
	res, err := benchmark.RunSweep(ctx, benchmark.SweepConfig{Endpoint: *endpoint, Regions: strings.Split(*regions, ","),
		CPUProfile: *cpu, MemProfile: *mem})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func naiveCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("naive", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "", "the double's URL")
	regions := fs.String("regions", "", "comma-separated regions")
	maxDeletes := fs.Int("max", 0, "most DeleteInstance calls; 0 = all, more eligible instances are extrapolated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	res, err := benchmark.RunNaive(ctx, benchmark.NaiveConfig{Endpoint: *endpoint, Regions: strings.Split(*regions, ","), MaxDeletes: *maxDeletes})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func benchCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("reaper-bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: reaper-bench [flags]   (go run ./lib/benchmark/cmd/reaper-bench --out docs/BENCHMARKS.md)")
		fs.PrintDefaults()
	}
	var cfg benchmark.Config
	cases := fs.String("cases", benchmark.DefaultCases, "comma-separated OPTEDINxREGIONS[:eligible=SHARE][:rate=N] cases; \"deploy\" adds the long cases of what deploys (run them at --latency 100ms)")
	fs.DurationVar(&cfg.Latency, "latency", 20*time.Millisecond, "injected latency per API call")
	fs.Int64Var(&cfg.Seed, "seed", 42, "fleet seed")
	fs.Float64Var(&cfg.NonEligible, "non-eligible", 0.2, "share of opted-in instances that are not eligible")
	fs.Float64Var(&cfg.Untagged, "untagged", 0, "untagged instances per opted-in instance (IDs then interleave)")
	fs.Float64Var(&cfg.PrePaid, "prepaid", 0.5, "share of eligible instances that are expired subscriptions")
	fs.IntVar(&cfg.Runs, "runs", 3, "sweeps per case (median wall time reported); 0 with --fc measures only the FC build")
	fs.IntVar(&cfg.NaiveMax, "naive-max", 10_000, "run the naive baseline on the whole fleet up to this many eligible instances; 0 skips it")
	fs.IntVar(&cfg.NaiveSample, "naive-sample", 2_000, "DeleteInstance calls the naive baseline makes on larger fleets before extrapolating")
	fs.StringVar(&cfg.ColdStartPkg, "function", "./function", "the function's main package for the cold start; empty skips it")
	fs.IntVar(&cfg.ColdStartRuns, "cold-starts", 20, "cold starts to measure")
	fs.StringVar(&cfg.FunctionPkg, "fc", "./function", "the function's main package, built with s.yaml's flags and invoked once per case under the FC runtime double (peak RSS, response size); empty skips it")
	out := fs.String("out", "-", "write the results here: - for stdout, else a Markdown file (between its result markers if it has them)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Cases, err = benchmark.ParseCases(*cases); err != nil {
		return err
	}
	if cfg.Exe, err = os.Executable(); err != nil {
		return err
	}
	cfg.Progress = os.Stderr
	cfg.Command = "go run ./lib/benchmark/cmd/reaper-bench " + strings.Join(args, " ")
	res, err := benchmark.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if *out == "-" {
		_, err := io.Copy(os.Stdout, strings.NewReader(string(res.Results())))
		return err
	}
	return res.WriteDocument(*out)
}
