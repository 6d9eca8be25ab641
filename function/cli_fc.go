//go:build fc

package main

import (
	"context"
	"fmt"
	"os"
)

// runCLI: the FC build has no command line (it links neither the CLI nor
// the test doubles); it only serves FC's runtime API.
func runCLI(context.Context) int {
	fmt.Fprintln(os.Stderr, "ecs-reaper: this is the Function Compute build (-tags fc): it serves FC_RUNTIME_API only; build without -tags fc for the command line")
	return 2
}
