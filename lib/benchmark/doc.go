// Package benchmark measures the sweep against the API floor: the fewest
// ECS calls, and the least time at a given per-call latency, that releasing
// a fleet's expired instances can take. It generates fleets, computes their
// floor, runs the real sweep through the real SDK against the ECS double
// (package ecsdouble) with injected latency, runs a naive baseline (regions
// one after another, one DeleteInstance per instance) on the same fleet,
// measures the function binary's cold start, and renders the results as the
// table in docs/BENCHMARKS.md.
//
// The command is lib/benchmark/cmd/reaper-bench; `go test -bench Sweep
// ./lib/benchmark` runs the same sweep with an in-process double.
package benchmark
