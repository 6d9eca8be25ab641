package settings

import (
	"slices"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// Engine maps the settings onto the engine's options: the one place where
// a setting meets the code that uses it.
func (s Settings) Engine(runID string, now func() time.Time) engine.Options {
	return engine.Options{
		Rules:             decide.Rules{OptInKey: s.TagKey, KeepKey: s.KeepTag, Force: s.Force, Location: s.Location},
		DryRun:            s.DryRun,
		ForceStop:         s.ForceStop,
		MaxRelease:        s.MaxRelease,
		MaxReleasePercent: s.MaxReleasePercent,
		PercentCapFrom:    s.PercentCapFrom,
		Freshness:         s.Freshness,
		DeadlineMargin:    s.DeadlineMargin,
		RegionConcurrency: s.RegionConcurrency,
		BatchConcurrency:  s.BatchConcurrency,
		RunID:             runID,
		Now:               now,
		Lifecycle:         s.Lifecycle(),
		ReleaseEIPs:       s.ReleaseEIPs,
		EIPMarkKey:        s.EIPMarkTag(),
		SkipInstances:     !slices.Contains(s.Resources, "instances"),
		Resources:         slices.DeleteFunc(slices.Clone(s.Resources), func(k string) bool { return k == "instances" }),
		OrgCaps:           s.orgCaps(),
	}
}

// orgCaps are the organisation's caps when several accounts are swept
// (the account caps then apply per account); nil for one account.
func (s Settings) orgCaps() *engine.Caps {
	if sel, err := s.Accounts(); err != nil || !sel.Multi() {
		return nil
	}
	return &engine.Caps{MaxRelease: s.OrgMaxRelease, MaxReleasePercent: s.OrgMaxReleasePercent}
}

// Lifecycle is the notice, grace and stop settings as the rules read them.
func (s Settings) Lifecycle() decide.Lifecycle {
	return decide.Lifecycle{
		On:          s.GraceOn(),
		Notice:      s.Notice,
		Grace:       s.Grace,
		MarkKey:     s.MarkTag,
		StopMarkKey: s.StopMarkTag(),
		OwnerKey:    s.OwnerTag,
		Stop:        s.Running == RunningStop,
		Force:       s.Running == RunningForce,
		Marks:       mark.NewKeys(s.MarkSecret, s.MarkSecretPrev),
	}
}

// Notifier builds the notices' channel; nil when no channel is set.
func (s Settings) Notifier() (*notify.Notifier, error) {
	if s.NotifyURL == "" {
		return nil, nil
	}
	return notify.New(notify.Config{Kind: s.NotifyKind, URL: s.NotifyURL, Secret: s.NotifySecret, KeepTag: s.KeepTag, OptInTag: s.TagKey})
}
