// Package handler turns one FC timer invocation into one sweep: it reads
// the timer event and its payload overrides, the settings, the function's
// credentials and region from the invocation context, runs the sweep,
// logs the report and returns its summary. Every input is checked before anything is released.
package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// ErrBadEvent marks an invocation whose event is not a timer event.
var ErrBadEvent = errors.New("invalid event")

// ErrSettings marks an invocation refused because of its settings.
var ErrSettings = errors.New("invalid settings")

// TimerEvent is the FC timer trigger's event. Its fields are pointers
// because FC may omit any of them.
type TimerEvent struct {
	TriggerTime *string `json:"triggerTime"`
	TriggerName *string `json:"triggerName"`
	Payload     *string `json:"payload"`
	// Unknown lists the fields this version does not read, sorted: they
	// are logged and ignored, so a change in FC's event stops no sweep.
	Unknown []string `json:"-"`
}

// ParseTimerEvent decodes an FC timer event: a JSON object with a
// triggerTime (RFC 3339) and a triggerName, an optional payload string,
// each strictly typed. Other fields are listed in Unknown and ignored.
func ParseTimerEvent(body []byte) (TimerEvent, error) {
	var ev TimerEvent
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return ev, fmt.Errorf("%w: empty body, want a timer event {\"triggerTime\",\"triggerName\",\"payload\"}", ErrBadEvent)
	}
	if trimmed[0] != '{' {
		return ev, fmt.Errorf("%w: not a JSON object, want a timer event {\"triggerTime\",\"triggerName\",\"payload\"}", ErrBadEvent)
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var fields map[string]json.RawMessage
	if err := dec.Decode(&fields); err != nil {
		return ev, fmt.Errorf("%w: not a timer event: %w", ErrBadEvent, err)
	}
	if dec.More() {
		return ev, fmt.Errorf("%w: trailing data after the timer event", ErrBadEvent)
	}
	for name, raw := range fields {
		var dst **string
		switch name {
		case "triggerTime":
			dst = &ev.TriggerTime
		case "triggerName":
			dst = &ev.TriggerName
		case "payload":
			dst = &ev.Payload
		default:
			ev.Unknown = append(ev.Unknown, name)
			continue
		}
		if err := json.Unmarshal(raw, dst); err != nil || *dst == nil {
			return ev, fmt.Errorf("%w: not a timer event: field %q must be a string", ErrBadEvent, name)
		}
	}
	slices.Sort(ev.Unknown)
	if ev.TriggerName == nil || strings.TrimSpace(*ev.TriggerName) == "" {
		return ev, fmt.Errorf("%w: timer event without triggerName", ErrBadEvent)
	}
	if ev.TriggerTime == nil {
		return ev, fmt.Errorf("%w: timer event without triggerTime", ErrBadEvent)
	}
	if _, err := time.Parse(time.RFC3339, *ev.TriggerTime); err != nil {
		return ev, fmt.Errorf("%w: triggerTime %q is not an RFC 3339 time", ErrBadEvent, *ev.TriggerTime)
	}
	return ev, nil
}

// APIFactory builds the ECS and VPC client for an invocation.
type APIFactory func(creds ecsapi.Credentials, cfg settings.Settings) (API, error)

// SDKFactory builds the production client over the Alibaba Cloud SDK, with
// the settings' endpoint overrides.
func SDKFactory(creds ecsapi.Credentials, cfg settings.Settings) (API, error) {
	return ecsapi.NewClient(ecsapi.Config{Credentials: creds, Endpoint: cfg.Endpoint, VPCEndpoint: cfg.VPCEndpoint})
}

// Handler serves timer invocations.
type Handler struct {
	// Lookup reads the environment (os.LookupEnv in production).
	Lookup func(string) (string, bool)
	// Environ lists the environment (os.Environ in production): unknown
	// REAPER_* names are refused. Nil means none are set.
	Environ func() []string
	// NewAPI builds the ECS client; nil means SDKFactory.
	NewAPI APIFactory
	// NewOrg reaches the accounts of a run over several; nil means SDKOrg.
	NewOrg func(own string, creds ecsapi.Credentials, cfg settings.Settings) (Org, error)
	// Logger is the base logger; the FC request ID and the run ID are
	// added per invocation.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// LocalBuild marks a binary built for `s local invoke`: it runs with
	// the developer's own credentials against the real account, so it
	// only dry-runs unless REAPER_LOCAL_RELEASE=true.
	LocalBuild bool
	// ClockFromTrigger makes a run's clock the timer event's triggerTime
	// (plus the time the run has taken). Only test builds set it (-ldflags
	// -X main.testClock=trigger): it lets the tests run the binary over
	// simulated days.
	ClockFromTrigger bool
}

// Invoke is the FC handler: func(context.Context, []byte) (*report.Summary, error).
// The raw event is taken as bytes so that a malformed event gets this
// package's clear error instead of a decoding error from the runtime.
// A run that could not do its job returns an error, so that FC marks the
// invocation failed and alarms fire. The whole report goes to the log, in
// records a log service keeps whole; the answer is its summary, a few KB
// whatever the fleet (FC's runtime discards it when there is an error, so
// it is logged too, after the report).
func (h *Handler) Invoke(ctx context.Context, event []byte) (*report.Summary, error) {
	fctx, _ := fccontext.FromContext(ctx)
	if fctx == nil {
		fctx = &fccontext.FcContext{}
	}
	now := h.Now
	if now == nil {
		now = time.Now
	}
	logger := h.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	base := logger.With("request_id", fctx.RequestID)
	ev, evErr := ParseTimerEvent(event)
	runID := "invalid-event@" + now().UTC().Format(time.RFC3339)
	if evErr == nil {
		runID = *ev.TriggerName + "@" + *ev.TriggerTime
		if h.ClockFromTrigger {
			trigger, _ := time.Parse(time.RFC3339, *ev.TriggerTime) // ParseTimerEvent checked it
			start := time.Now()
			now = func() time.Time { return trigger.Add(time.Since(start)) }
		}
	}
	logger = base.With("run_id", runID)
	var rep *report.Report
	err := evErr
	if err == nil {
		if len(ev.Unknown) > 0 {
			logger.Warn("the timer event has fields this version does not read; they are ignored", "fields", ev.Unknown)
		}
		rep, err = h.invoke(ctx, fctx, ev, runID, now, logger)
	}
	if rep == nil {
		// Nothing was listed or released; the report still says why.
		rep = failedReport(runID, now, err)
	}
	if err != nil {
		logger.Error("invocation failed", "error", err.Error(), "retry_count", fctx.RetryCount)
	}
	records := report.Log(ctx, base, rep) // each record carries the run ID
	sum := report.Summarise(rep, fctx.RequestID, records)
	level := slog.LevelInfo
	if sum.Outcome != report.RunOK {
		level = slog.LevelWarn
	}
	logger.LogAttrs(ctx, level, "summary", slog.Any("summary", sum))
	return sum, err
}

func failedReport(runID string, now func() time.Time, err error) *report.Report {
	at := now().UTC()
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: runID, StartedAt: at, FinishedAt: at, Regions: []*report.Region{}}
	if err != nil {
		rep.Error = err.Error()
	}
	rep.Total()
	return rep
}

func (h *Handler) invoke(ctx context.Context, fctx *fccontext.FcContext, ev TimerEvent, runID string, now func() time.Time, logger *slog.Logger) (*report.Report, error) {
	lookup := h.Lookup
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	var environ []string
	if h.Environ != nil {
		environ = h.Environ()
	}
	cfg, err := settings.FromEnv(lookup)
	err = errors.Join(err, settings.CheckNames(environ))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	region := fctx.Region
	if region == "" {
		region, _ = lookup("FC_REGION")
	}
	var overrides settings.Overrides
	if ev.Payload != nil {
		overrides, err = settings.ParsePayload(*ev.Payload)
		if err != nil {
			return nil, fmt.Errorf("%w: timer payload: %w", ErrBadEvent, err)
		}
		if cfg, err = cfg.Narrow(overrides, region); err != nil {
			return nil, fmt.Errorf("%w: timer payload: %w", ErrBadEvent, err)
		}
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("%w: after payload overrides: %w", ErrSettings, err)
		}
	}
	if h.LocalBuild && !cfg.DryRun && !cfg.LocalRelease {
		logger.Warn("a local build (s local invoke) runs with your own credentials against the real account: this run is a dry run; set REAPER_LOCAL_RELEASE=true to release")
		cfg.DryRun = true
	}
	creds, source := h.credentials(fctx, lookup)
	if creds.AccessKeyID == "" || creds.AccessKeySecret == "" {
		return nil, fmt.Errorf("%w: no credentials: give the function a role (FC passes its STS credentials with each invocation)", ErrSettings)
	}
	if sel, _ := cfg.Accounts(); sel.Multi() {
		newOrg := h.NewOrg
		if newOrg == nil {
			newOrg = SDKOrg
		}
		o, err := newOrg(fctx.AccountId, creds, cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSettings, err)
		}
		if cfg.Fanout != settings.FanoutOff {
			// Flow, or auto: the accounts decide whether this run fans out.
			plan, err := Accounts(ctx, o, cfg, nil)
			if err != nil {
				return nil, err
			}
			if cfg.UsesFlow(len(plan.Targets)) {
				if overrides.DryRun != nil || overrides.Regions != nil || overrides.MaxRelease != nil {
					// The workers read their own settings, not the tick's payload.
					return nil, fmt.Errorf("%w: timer payload: when the run fans out (%s=%s) a payload may only narrow the accounts; set %s, %s or %s on both functions instead", ErrBadEvent,
						settings.EnvFanout, cfg.Fanout, settings.EnvDryRun, settings.EnvRegions, settings.EnvMaxRelease)
				}
				return h.coordinate(ctx, ev, runID, cfg, region, creds, plan, now, logger)
			}
		}
		rep, err := SweepOrg(ctx, o, cfg, region, runID, now, logger)
		if rep != nil {
			rep.Credentials = source + "; member accounts by STS AssumeRole"
		}
		return rep, err
	}
	newAPI := h.NewAPI
	if newAPI == nil {
		newAPI = SDKFactory
	}
	api, err := newAPI(creds, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	rep, err := SweepAccount(ctx, api, fctx.AccountId, cfg, region, runID, now, logger)
	if rep != nil {
		rep.Credentials = source
	}
	return rep, err
}

// Sweep runs one sweep with the settings: the regions are the settings',
// every region when they say all, or defaultRegion. The error is nil when
// the run did its job, or was held back only by the deadline after every
// region was listed (the report says so, and the next tick continues).
//
// tweak adjusts the engine's options beyond the settings (the CLI's
// confirmation).
func Sweep(ctx context.Context, api API, cfg settings.Settings, defaultRegion, runID string, now func() time.Time, logger *slog.Logger, tweak ...func(*engine.Options)) (*report.Report, error) {
	return SweepAccount(ctx, api, "", cfg, defaultRegion, runID, now, logger, tweak...)
}

// API is what a sweep needs from an account's ECS client.
type API interface {
	engine.API
	engine.RegionAPI
}

// engineOptions are the run's engine options from the settings, logged
// first as the effective configuration, with the caller's tweaks.
func engineOptions(ctx context.Context, cfg settings.Settings, runID string, now func() time.Time, logger *slog.Logger, tweak []func(*engine.Options)) (engine.Options, error) {
	if now == nil {
		now = time.Now
	}
	logger.LogAttrs(ctx, slog.LevelInfo, "effective settings", slog.GroupAttrs("settings", cfg.Describe()...))
	opts := cfg.Engine(runID, now)
	notifier, err := cfg.Notifier()
	if err != nil {
		return opts, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	if notifier != nil {
		opts.Notifier = notifier
	}
	for _, f := range tweak {
		f(&opts)
	}
	return opts, nil
}

// SweepAccount is Sweep in a known account (the FC context's).
func SweepAccount(ctx context.Context, api API, account string, cfg settings.Settings, defaultRegion, runID string, now func() time.Time, logger *slog.Logger, tweak ...func(*engine.Options)) (*report.Report, error) {
	opts, err := engineOptions(ctx, cfg, runID, now, logger, tweak)
	if err != nil {
		return nil, err
	}
	eng := engine.New(opts, logger)
	regions := cfg.Regions
	switch {
	case cfg.AllRegions:
		var err error
		if regions, err = eng.Regions(ctx, api); err != nil {
			// Nothing was listed or released; the report still says why.
			rep := eng.Abort(err)
			rep.Settings = settingsMap(cfg)
			return rep, err
		}
	case len(regions) == 0 && defaultRegion != "":
		regions = []string{defaultRegion}
	case len(regions) == 0:
		return nil, fmt.Errorf("%w: no region: set REAPER_REGIONS or run where FC_REGION is set", ErrSettings)
	}
	rep, err := eng.RunRegions(ctx, api, account, regions)
	if rep != nil {
		rep.Settings = settingsMap(cfg)
	}
	return finish(rep, err, logger)
}

// Forecast lists the settings' regions (reads only) and plays the
// lifecycle forward over horizon: what will be notified, stopped and
// released in the coming days, per day and owner, on the same rules.
func Forecast(ctx context.Context, api API, cfg settings.Settings, defaultRegion string, horizon time.Duration, now func() time.Time, logger *slog.Logger) (*engine.Forecast, error) {
	if now == nil {
		now = time.Now
	}
	eng := engine.New(cfg.Engine("forecast", now), logger)
	regions := cfg.Regions
	switch {
	case cfg.AllRegions:
		var err error
		if regions, err = eng.Regions(ctx, api); err != nil {
			return nil, err
		}
	case len(regions) == 0 && defaultRegion != "":
		regions = []string{defaultRegion}
	case len(regions) == 0:
		return nil, fmt.Errorf("%w: no region: set REAPER_REGIONS or run where FC_REGION is set", ErrSettings)
	}
	targets := make([]engine.Target, 0, len(regions))
	for _, r := range regions {
		targets = append(targets, engine.Target{Scope: cloud.Scope{Region: r}, API: api})
	}
	return eng.Forecast(ctx, targets, horizon)
}

// capAdvice names the settings to raise and the values that would let
// this run through.
func capAdvice(c *report.CapCheck) string {
	var raise []string
	if c.CountExceeded {
		raise = append(raise, fmt.Sprintf("%s to %d (or the payload's maxRelease, which may only lower it)", settings.EnvMaxRelease, c.Eligible))
	}
	if c.PercentExceeded {
		raise = append(raise, fmt.Sprintf("%s to %.4g, or %s to %d", settings.EnvMaxReleasePercent, c.NeededPercent(), settings.EnvPercentCapFrom, c.Eligible+1))
	}
	return strings.Join(raise, ", and ") + "; or keep some of these instances with the keep tag"
}

// credentials are the invocation's (the function's role), or else the
// environment's, and where they came from.
func (h *Handler) credentials(fctx *fccontext.FcContext, lookup func(string) (string, bool)) (ecsapi.Credentials, string) {
	creds := ecsapi.Credentials{
		AccessKeyID:     fctx.Credentials.AccessKeyId,
		AccessKeySecret: fctx.Credentials.AccessKeySecret,
		SecurityToken:   fctx.Credentials.SecurityToken,
	}
	if creds.AccessKeyID != "" {
		return creds, "the FC invocation (the function's role, STS)"
	}
	return credentialsFromEnv(lookup), "the function's environment (ALIBABA_CLOUD_ACCESS_KEY_ID)"
}

func credentialsFromEnv(lookup func(string) (string, bool)) ecsapi.Credentials {
	id, _ := lookup("ALIBABA_CLOUD_ACCESS_KEY_ID")
	secret, _ := lookup("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
	token, _ := lookup("ALIBABA_CLOUD_SECURITY_TOKEN")
	return ecsapi.Credentials{AccessKeyID: id, AccessKeySecret: secret, SecurityToken: token}
}

// settingsMap is the effective configuration for the report.
func settingsMap(cfg settings.Settings) map[string]any {
	out := map[string]any{}
	for _, a := range cfg.Describe() {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindDuration {
			out[a.Key] = v.Duration().String()
			continue
		}
		out[a.Key] = v.Any()
	}
	return out
}
