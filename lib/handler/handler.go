// Package handler turns one FC timer invocation into one sweep: it reads
// the timer event and its payload overrides, the settings, the function's
// credentials and region from the invocation context, runs the sweep and
// returns the report. Every input is checked before anything is released.
package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
	"github.com/ecs-reaper/ecs-reaper/lib/sweep"
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
}

// ParseTimerEvent decodes an FC timer event strictly: a JSON object with a
// triggerTime (RFC 3339) and a triggerName, an optional payload string, and
// nothing else.
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
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		return ev, fmt.Errorf("%w: not a timer event: %w", ErrBadEvent, err)
	}
	if dec.More() {
		return ev, fmt.Errorf("%w: trailing data after the timer event", ErrBadEvent)
	}
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

// APIFactory builds the ECS client for an invocation.
type APIFactory func(creds ecsapi.Credentials, endpoint string) (ecsapi.API, error)

// SDKFactory builds the production client over the Alibaba Cloud SDK.
func SDKFactory(creds ecsapi.Credentials, endpoint string) (ecsapi.API, error) {
	return ecsapi.NewClient(ecsapi.Config{Credentials: creds, Endpoint: endpoint})
}

// Handler serves timer invocations.
type Handler struct {
	// Lookup reads the environment (os.LookupEnv in production).
	Lookup func(string) (string, bool)
	// NewAPI builds the ECS client; nil means SDKFactory.
	NewAPI APIFactory
	// Logger is the base logger; the FC request ID is added per invocation.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Invoke is the FC handler: func(context.Context, []byte) (*report.Report, error).
// The raw event is taken as bytes so that a malformed event gets this
// package's clear error instead of a decoding error from the runtime.
func (h *Handler) Invoke(ctx context.Context, event []byte) (*report.Report, error) {
	fctx, _ := fccontext.FromContext(ctx)
	if fctx == nil {
		fctx = &fccontext.FcContext{}
	}
	logger := h.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("request_id", fctx.RequestID)
	rep, err := h.invoke(ctx, fctx, event, logger)
	if err != nil {
		logger.Error("invocation failed", "error", err.Error(), "retry_count", fctx.RetryCount)
	}
	// The report is also logged, in records a log service keeps whole, so
	// that a timer-triggered or failed invocation keeps it.
	report.Log(ctx, logger, rep)
	return rep, err
}

func (h *Handler) invoke(ctx context.Context, fctx *fccontext.FcContext, event []byte, logger *slog.Logger) (*report.Report, error) {
	ev, err := ParseTimerEvent(event)
	if err != nil {
		return nil, err
	}
	lookup := h.Lookup
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	cfg, err := settings.FromEnv(lookup)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	if ev.Payload != nil {
		overrides, err := settings.ParsePayload(*ev.Payload)
		if err != nil {
			return nil, fmt.Errorf("%w: timer payload: %w", ErrBadEvent, err)
		}
		cfg = cfg.Apply(overrides)
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("%w: after payload overrides: %w", ErrSettings, err)
		}
	}
	creds := ecsapi.Credentials{
		AccessKeyID:     fctx.Credentials.AccessKeyId,
		AccessKeySecret: fctx.Credentials.AccessKeySecret,
		SecurityToken:   fctx.Credentials.SecurityToken,
	}
	if creds.AccessKeyID == "" {
		creds = credentialsFromEnv(lookup)
	}
	if creds.AccessKeyID == "" || creds.AccessKeySecret == "" {
		return nil, fmt.Errorf("%w: no credentials: give the function a role (FC passes its STS credentials with each invocation)", ErrSettings)
	}
	region := fctx.Region
	if region == "" {
		region, _ = lookup("FC_REGION")
	}
	runID := *ev.TriggerName + "@" + *ev.TriggerTime
	newAPI := h.NewAPI
	if newAPI == nil {
		newAPI = SDKFactory
	}
	api, err := newAPI(creds, cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	return Sweep(ctx, api, cfg, region, runID, h.Now, logger)
}

// Sweep runs one sweep with the settings: the regions are the settings',
// every region when they say all, or defaultRegion.
func Sweep(ctx context.Context, api ecsapi.API, cfg settings.Settings, defaultRegion, runID string, now func() time.Time, logger *slog.Logger) (*report.Report, error) {
	logger.LogAttrs(ctx, slog.LevelInfo, "effective settings", slog.String("run_id", runID), slog.GroupAttrs("settings", cfg.Describe()...))
	s := sweep.New(api, Options(cfg, runID, now), logger)
	regions := cfg.Regions
	switch {
	case cfg.AllRegions:
		var err error
		if regions, err = s.ResolveRegions(ctx); err != nil {
			// Nothing was listed or released; the report still says why.
			return &report.Report{RunID: runID, DryRun: cfg.DryRun, StartedAt: time.Now().UTC(), FinishedAt: time.Now().UTC(),
				Settings: settingsMap(cfg), Error: err.Error(), Regions: []*report.Region{}}, err
		}
	case len(regions) == 0 && defaultRegion != "":
		regions = []string{defaultRegion}
	case len(regions) == 0:
		return nil, fmt.Errorf("%w: no region: set REAPER_REGIONS or run where FC_REGION is set", ErrSettings)
	}
	rep, err := s.Run(ctx, regions)
	if rep != nil {
		rep.Settings = settingsMap(cfg)
	}
	if errors.Is(err, sweep.ErrIncomplete) {
		// An incomplete sweep still returns its report: the next tick
		// finishes the work, and the report says what was left.
		logger.Warn("sweep incomplete", "error", err.Error())
		return rep, nil
	}
	if errors.Is(err, sweep.ErrCapExceeded) {
		// Name the knobs, so whoever reads the failed invocation knows
		// which settings set the numbers in the message.
		err = fmt.Errorf("%w (limits from %s and %s, or the payload's maxRelease)", err, settings.EnvMaxRelease, settings.EnvMaxReleasePercent)
	}
	return rep, err
}

// Options maps settings onto sweep options.
func Options(cfg settings.Settings, runID string, now func() time.Time) sweep.Options {
	return sweep.Options{
		Rules:             decide.Rules{OptInKey: cfg.TagKey, KeepKey: cfg.KeepTag, Force: cfg.Force, Location: cfg.Location},
		DryRun:            cfg.DryRun,
		ForceStop:         cfg.ForceStop,
		MaxRelease:        cfg.MaxRelease,
		MaxReleasePercent: cfg.MaxReleasePercent,
		Freshness:         cfg.Freshness,
		DeadlineMargin:    cfg.DeadlineMargin,
		RegionConcurrency: cfg.RegionConcurrency,
		BatchConcurrency:  cfg.BatchConcurrency,
		RunID:             runID,
		Now:               now,
	}
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
