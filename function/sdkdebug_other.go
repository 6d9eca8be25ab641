//go:build !unix

package main

import (
	"fmt"
	"os"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// dropSDKDebug refuses to run with DEBUG=sdk where the binary cannot
// re-execute itself: the SDK would print credentials.
func dropSDKDebug() {
	if _, changed := ecsapi.WithoutSDKDebug(os.Environ()); changed {
		fmt.Fprintln(os.Stderr, "ecs-reaper: DEBUG=sdk (or credential, tea) would print credentials; unset it")
		os.Exit(2)
	}
}
