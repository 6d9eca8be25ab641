package settings

import (
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
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
	}
}
