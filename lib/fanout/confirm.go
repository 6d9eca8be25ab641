package fanout

import "github.com/ecs-reaper/ecs-reaper/lib/decide"

// Confirm is Execute's rule for one region: release only what is both in
// the plan and still eligible on a fresh read, with the flags it was
// planned with. fresh maps each instance the fresh read finds eligible to
// its flags. An instance no longer eligible, or eligible only with other
// flags (say it now needs Force), is dropped: the organisation's cap was
// decided on the plan, so nothing beyond it is released. The groups keep
// the plan's order; an emptied group is left out.
func Confirm(r RegionPlan, fresh map[string]decide.Flags) (keep []Group, dropped []string) {
	for _, g := range r.Release {
		var ids []string
		for _, id := range g.IDs {
			if f, ok := fresh[id]; ok && f == g.Flags {
				ids = append(ids, id)
			} else {
				dropped = append(dropped, id)
			}
		}
		if len(ids) > 0 {
			keep = append(keep, Group{Flags: g.Flags, IDs: ids})
		}
	}
	return keep, dropped
}
