// Command function is ecs-reaper's Function Compute function (runtime go1,
// handler main). Under FC, where FC_RUNTIME_API is set, it serves timer
// invocations; anywhere else it is the command-line tool of lib/cli
// (`./reaper demo`). The logic lives in lib/.
//
// The deployed binary is built with -tags fc (s.yaml, template.yaml): it
// carries only what FC runs, without the command line and its test
// doubles (cli_fc.go). The default build is both.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/ecs-reaper/ecs-reaper/lib/handler"
)

// reexecMarker tells the re-executed binary that DEBUG's secret-printing
// flags were removed.
const reexecMarker = "ECS_REAPER_SDK_DEBUG_DROPPED"

// localBuild is set to "true" by s.yaml's pre-local build (-ldflags -X):
// a binary built for `s local invoke` runs with the developer's own
// credentials against the real account, so it only dry-runs unless
// REAPER_LOCAL_RELEASE=true.
var localBuild string

// testClock is set to "trigger" by test builds only: the run's clock is
// then the timer event's triggerTime, so the tests can run the binary over
// simulated days. Production builds never set it.
var testClock string

func main() {
	dropSDKDebug()
	if os.Getenv(reexecMarker) != "" {
		os.Unsetenv(reexecMarker)
		fmt.Fprintln(os.Stderr, `ecs-reaper: removed "sdk", "credential" and "tea" from DEBUG: the Alibaba libraries' debug output prints credentials`)
	}
	if _, onFC := os.LookupEnv("FC_RUNTIME_API"); onFC {
		handler.SetMemoryLimit(os.LookupEnv) // 128 MB functions: keep GC garbage in bounds
		h := &handler.Handler{Lookup: os.LookupEnv, Environ: os.Environ, Logger: handler.NewLogger(os.Stdout),
			LocalBuild: localBuild == "true", ClockFromTrigger: testClock == "trigger"}
		fc.Start(h.Serve) // serves invocations until the instance is stopped
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C quits at once
	}()
	code := runCLI(ctx)
	stop()
	os.Exit(code)
}
