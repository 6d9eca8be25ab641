// Command function is ecs-reaper's Function Compute function (runtime go1,
// handler main). Under FC, where FC_RUNTIME_API is set, it serves timer
// invocations; anywhere else it is the command-line tool of lib/cli
// (`go run ./function demo`). The logic lives in lib/.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/handler"
)

func main() {
	if _, onFC := os.LookupEnv("FC_RUNTIME_API"); onFC {
		handler.SetMemoryLimit(os.LookupEnv) // 128 MB functions: keep GC garbage in bounds
		h := &handler.Handler{Lookup: os.LookupEnv, Logger: slog.New(slog.NewJSONHandler(os.Stdout, nil))}
		fc.Start(h.Invoke) // serves invocations until the instance is stopped
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
