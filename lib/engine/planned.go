package engine

import (
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
)

// Planned is one scope's plan as the caps count it, before anything is
// written: what a fan-out's Plan worker keeps, so that its Decide counts
// exactly what this run's cap check counts.
type Planned struct {
	// Plan is the scope's plan; read it only during the Planned call (the
	// run takes it apart as it writes).
	Plan *plan.Scope
	// HandOvers are the EIPs earlier runs handed over that this run would
	// release (Plan.HandOvers counts them).
	HandOvers []string
	// InstanceEIPs are the EIPs this run would release after their
	// instances (Plan.InstanceEIPs counts them).
	InstanceEIPs []string
	// EndedHandOvers are the handed-over EIPs found bound again, whose
	// marks this run would remove: a write that releases nothing.
	EndedHandOvers int
}

// planned gives the run's plans to Options.Planned.
func (e *Engine) planned(runs []*scopeRun) {
	if e.opts.Planned == nil {
		return
	}
	out := make([]Planned, len(runs))
	for i, sr := range runs {
		p := Planned{Plan: sr.plan, InstanceEIPs: sr.instanceEIPs, EndedHandOvers: len(sr.rebound)}
		for _, h := range sr.handOvers {
			p.HandOvers = append(p.HandOvers, h.eip.AllocationID)
		}
		out[i] = p
	}
	e.opts.Planned(out)
}
