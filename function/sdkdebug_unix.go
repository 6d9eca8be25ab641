//go:build unix

package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// dropSDKDebug re-executes the binary without DEBUG=sdk: the SDK has
// already read it (at package initialisation) and would print every
// signed request, credentials included, to stdout.
func dropSDKDebug() {
	environ, changed := ecsapi.WithoutSDKDebug(os.Environ())
	if !changed {
		return
	}
	self, err := os.Executable()
	if err == nil {
		environ = append(environ, reexecMarker+"=1")
		err = syscall.Exec(self, os.Args, environ)
	}
	// Exec returns only on failure: refuse rather than leak.
	fmt.Fprintf(os.Stderr, "ecs-reaper: DEBUG=sdk (or credential, tea) would print credentials and could not be removed (%v); unset it\n", err)
	os.Exit(2)
}
