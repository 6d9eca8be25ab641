//go:build !fc

package main

import (
	"context"
	"os"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
)

// runCLI is the command line: demo, plan, run, invoke, schedule, validate.
func runCLI(ctx context.Context) int {
	return cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ())
}
