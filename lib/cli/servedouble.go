package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

func runServeDouble(ctx context.Context, env *Env, args []string) int {
	fs := flagSet(env, "serve-double", "[--fleet FILE] [--addr 127.0.0.1:0]", `
Serves the in-repo ECS double (the ECS and VPC APIs, signatures checked) on
this machine's loopback address until interrupted (Ctrl-C), with the demo
fleet or --fleet FILE, and prints the environment that points the tool at
it: REAPER_ECS_ENDPOINT, REAPER_REGIONS and a fake AccessKey that only this
double accepts. With that environment, in another shell, plan, run,
schedule and invoke (the function binary under the FC runtime double) work
on the double as on an account; the double keeps its state until stopped.
It listens on a loopback IP only; nothing reaches it from elsewhere.`, `
  ./reaper serve-double
  ./reaper serve-double --fleet testdata/fleets/small.json --addr 127.0.0.1:8089`, false)
	fleetFile := fs.String("fleet", "", "serve this fleet (JSON, the format of testdata/fleets/small.json) instead of the demo fleet")
	addr := fs.String("addr", "127.0.0.1:0", "the loopback address to listen on (port 0: a free one)")
	if code := parse(env, fs, args); code >= 0 {
		return code
	}
	fleet, err := DemoFleet()
	if err != nil {
		return fail(env, "serve-double", fmt.Errorf("demo fleet: %w", err))
	}
	if *fleetFile != "" {
		if fleet, err = ecsdouble.LoadFleet(*fleetFile); err != nil {
			return fail(env, "serve-double", fmt.Errorf("%w: --fleet: %w", errUsage, err))
		}
	}
	// A plain AccessKey, as the aliyun CLI and `s config add` take one.
	keyID, secret := "double-"+randomHex(8), randomHex(16)
	double, err := ecsdouble.Start(fleet, ecsdouble.WithCredential(keyID, secret, ""), ecsdouble.WithAddr(*addr))
	if err != nil {
		return fail(env, "serve-double", fmt.Errorf("%w: --addr: %w", errUsage, err))
	}
	defer double.Close()
	regions := fleet.Regions()
	fmt.Fprintf(env.Stdout, `The ECS double serves %d instances in %s at %s until Ctrl-C.
Point the tool at it with this environment (a fake AccessKey only this double accepts):

export %s=%s
export %s=%s
export %s=%s
export %s=%s

Then, in another shell: ./reaper plan, ./reaper run, ./reaper schedule, or
./reaper invoke (the function binary as FC runs it). See docs/cli.md.
`, len(fleet.Instances), strings.Join(regions, ", "), double.URL(),
		settings.EnvEndpoint, double.URL(),
		settings.EnvRegions, strings.Join(regions, ","),
		EnvAccessKeyID, keyID,
		EnvAccessKeySecret, secret)
	<-ctx.Done()
	released := double.Released()
	fmt.Fprintf(env.Stderr, "serve-double: stopped; the double released %d instances%s\n", len(released), listSuffix(released))
	return ExitOK
}
