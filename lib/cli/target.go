package cli

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/credential"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/handler"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// demoFleet is the sample fleet of `demo` and `--demo`: three regions and
// every decision case, with few enough eligible instances that the default
// caps (100 instances, 50% of opted-in) let the demo release.
//
//go:embed demo-fleet.json
var demoFleet []byte

// DemoFleet returns the built-in sample fleet.
func DemoFleet() (ecsdouble.Fleet, error) {
	return ecsdouble.ParseFleet(demoFleet)
}

// Environment variables holding the caller's AccessKey, as the Alibaba
// Cloud CLI and SDKs read them.
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvSecurityToken   = "ALIBABA_CLOUD_SECURITY_TOKEN"
	EnvRegionID        = "ALIBABA_CLOUD_REGION_ID"
	EnvFCRegion        = "FC_REGION"
)

// errUsage marks a problem with the command line, settings or environment
// (exit code 2) rather than a failed run.
var errUsage = errors.New("usage")

// target is what a sweep runs against: a real account or the demo double.
type target struct {
	creds         ecsapi.Credentials      // the demo's; an account's come from source
	source        ecsapi.CredentialSource // nil for the demo
	sourceName    string                  // where the credentials come from, for the report
	cfg           settings.Settings
	defaultRegion string
	double        *ecsdouble.Server // nil for a real account
	// confirmed is what the operator was shown and confirmed (nil: not
	// asked): the run writes only to those resources.
	confirmed *engine.Confirmation
}

func (t *target) close() {
	if t.double != nil {
		t.double.Close()
	}
}

func (t *target) api() (handler.API, error) {
	api, err := ecsapi.NewClient(ecsapi.Config{Credentials: t.creds, Source: t.source, Endpoint: t.cfg.Endpoint, VPCEndpoint: t.cfg.VPCEndpoint})
	if err != nil {
		return nil, fmt.Errorf("%w: ECS client: %w", errUsage, err)
	}
	return api, nil
}

// loadSettings reads the REAPER_* settings and applies --region.
func loadSettings(env *Env, regionFlag string) (settings.Settings, error) {
	cfg, err := settings.FromEnv(env.Lookup)
	if err = errors.Join(err, settings.CheckNames(env.Environ)); err != nil {
		return cfg, fmt.Errorf("%w: settings: %w", errUsage, err)
	}
	if regionFlag != "" {
		var regions []string
		for _, r := range strings.Split(regionFlag, ",") {
			regions = append(regions, strings.TrimSpace(r))
		}
		cfg = cfg.Apply(settings.Overrides{Regions: regions})
		if err := cfg.Validate(); err != nil {
			return cfg, fmt.Errorf("%w: --region %q: %w", errUsage, regionFlag, err)
		}
	}
	return cfg, nil
}

// loadSweepSettings reads the settings with the sweep's --region and
// --accounts.
func loadSweepSettings(env *Env, f sweepFlags) (settings.Settings, error) {
	if f.accounts == "" {
		return loadSettings(env, f.region)
	}
	// --accounts stands in for REAPER_ACCOUNTS before the settings are
	// checked together: the environment's REAPER_ACCOUNTS_EXCLUDE and
	// REAPER_ACCOUNT_TAG are checked against the flag, not against an
	// unset REAPER_ACCOUNTS.
	withFlag := *env
	withFlag.Lookup = func(name string) (string, bool) {
		if name == settings.EnvAccounts {
			return f.accounts, true
		}
		return env.Lookup(name)
	}
	cfg, err := loadSettings(&withFlag, f.region)
	if err != nil {
		return cfg, fmt.Errorf("%w (with --accounts %q)", err, f.accounts)
	}
	return cfg, nil
}

// sweep runs one sweep of the target: its own account, or, when the
// settings name several, each through the role the caller's credentials
// assume there.
func (t *target) sweep(ctx context.Context, api handler.API, cfg settings.Settings, runID string, logger *slog.Logger, tweak ...func(*engine.Options)) (*report.Report, error) {
	if sel, _ := cfg.Accounts(); !sel.Multi() {
		return handler.Sweep(ctx, api, cfg, t.defaultRegion, runID, nil, logger, tweak...)
	}
	caller, err := ecsapi.NewClient(ecsapi.Config{Credentials: t.creds, Source: t.source, Endpoint: cfg.Endpoint, VPCEndpoint: cfg.VPCEndpoint,
		STSEndpoint: cfg.STSEndpoint, ResourceManagerEndpoint: cfg.ResourceManagerEndpoint})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUsage, err)
	}
	id, err := caller.GetCallerIdentity(ctx)
	if err != nil {
		return nil, fmt.Errorf("your credentials' account (STS GetCallerIdentity): %w", err)
	}
	o := handler.Org{Own: id.AccountID, OwnAPI: caller, Caller: caller, Member: func(src ecsapi.CredentialSource) (handler.API, error) {
		return ecsapi.NewClient(ecsapi.Config{Source: src, Endpoint: cfg.Endpoint, VPCEndpoint: cfg.VPCEndpoint})
	}}
	return handler.SweepOrg(ctx, o, cfg, t.defaultRegion, runID, nil, logger, tweak...)
}

// where names a region in a plan: with its account when there are several.
func where(rep *report.Report, r *report.Region) string {
	if len(rep.Accounts) > 1 && r.Account != "" {
		return r.Account + "/" + r.Region
	}
	return r.Region
}

// accountTarget is the caller's account, with credentials found as
// Alibaba's tools find them (lib/credential); profile is --profile. The
// secret and token are never printed.
func accountTarget(env *Env, cfg settings.Settings, profile string) (*target, error) {
	chain, err := credential.Find(env.Lookup, profile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w; or try `./reaper demo`", errUsage, err)
	}
	t := &target{source: chain, sourceName: chain.Source(), cfg: cfg, defaultRegion: env.get(EnvFCRegion)}
	if t.defaultRegion == "" {
		t.defaultRegion = env.get(EnvRegionID)
	}
	if !cfg.AllRegions && len(cfg.Regions) == 0 && t.defaultRegion == "" {
		return nil, fmt.Errorf("%w: no region: pass --region, or set %s, %s or %s",
			errUsage, settings.EnvRegions, EnvRegionID, EnvFCRegion)
	}
	return t, nil
}

// demoTarget starts the ECS double on loopback with the demo fleet, or
// the fleet in fleetFile (the ecsdouble JSON format) when it is not empty,
// and a fresh random STS credential, and points the settings at it.
// Regions default to the fleet's regions.
func demoTarget(cfg settings.Settings, fleetFile string) (*target, error) {
	fleet, err := DemoFleet()
	if fleetFile != "" {
		if fleet, err = ecsdouble.LoadFleet(fleetFile); err != nil {
			return nil, fmt.Errorf("%w: --fleet: %w", errUsage, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("demo fleet: %w", err)
	}
	creds := ecsapi.Credentials{
		AccessKeyID:     "STS.demo" + randomHex(8),
		AccessKeySecret: randomHex(16),
		SecurityToken:   "demo-token-" + randomHex(16),
	}
	double, err := ecsdouble.Start(fleet, ecsdouble.WithCredential(creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken))
	if err != nil {
		return nil, fmt.Errorf("start the ECS double: %w", err)
	}
	cfg.Endpoint = double.URL()
	if !cfg.AllRegions && len(cfg.Regions) == 0 {
		cfg.Regions = fleet.Regions()
	}
	return &target{creds: creds, sourceName: "the demo's own STS credentials", cfg: cfg, double: double}, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// doubleFlags are --demo and --fleet, which every command that sweeps
// takes: run it against the built-in ECS double instead of an account.
type doubleFlags struct {
	demo  bool
	fleet string
}

func addDoubleFlags(fs *flag.FlagSet, d *doubleFlags) {
	fs.BoolVar(&d.demo, "demo", false, "run against a local ECS double serving the demo fleet instead of your account (no credentials needed)")
	fs.StringVar(&d.fleet, "fleet", "", "run against a local ECS double serving this fleet (JSON, the format of testdata/fleets/small.json); implies --demo")
}

// on reports whether the command runs against the double.
func (d doubleFlags) on() bool { return d.demo || d.fleet != "" }

// target is the double when asked for, else the caller's account.
func (d doubleFlags) target(env *Env, cfg settings.Settings, profile string) (*target, error) {
	if d.on() {
		return demoTarget(cfg, d.fleet)
	}
	return accountTarget(env, cfg, profile)
}
