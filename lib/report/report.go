// Package report defines the run report: the product's main output. It is
// JSON-serialisable and compact at 100,000 instances: instances are grouped by
// outcome and reason, each listed once by ID with an optional detail.
package report

import (
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
)

// Outcome is what happened to one instance.
type Outcome string

// Outcomes of an instance in a run.
const (
	OutcomeReleased        Outcome = "released"
	OutcomeWouldRelease    Outcome = "would-release" // dry run: DRYRUN.SUCCESS
	OutcomeSkipped         Outcome = "skipped"
	OutcomeFailed          Outcome = "failed"
	OutcomeGone            Outcome = "released-elsewhere" // vanished before or during release
	OutcomeNotAttempted    Outcome = "not-attempted"      // eligible, but a rail (cap, deadline, fail-closed) held it back
)
