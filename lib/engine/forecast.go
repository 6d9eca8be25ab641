package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
)

// Forecast is what the coming days will bring, on the same rules: per day
// (UTC) and owner, the instances that will be notified, stopped and
// released, if every tick runs and every notice is delivered.
type Forecast struct {
	From    time.Time      `json:"from"`
	Horizon string         `json:"horizon"`
	Days    []ForecastDay  `json:"days"`
	Errors  []string       `json:"errors,omitempty"` // scopes that could not be listed
	Listed  map[string]int `json:"listed"`           // instances listed, by scope
}

// ForecastDay is one day of a forecast.
type ForecastDay struct {
	Date   string                    `json:"date"`
	Owners map[string]*ForecastOwner `json:"owners"`
}

// ForecastOwner is one owner's part of a day ("" for no owner tag).
type ForecastOwner struct {
	Notified []string `json:"notified,omitempty"`
	Stopped  []string `json:"stopped,omitempty"`
	Released []string `json:"released,omitempty"`
}

// ForecastTick is the simulated timer period.
const ForecastTick = time.Hour

// Forecast lists the targets (reads only) and plays the lifecycle forward
// over horizon in hourly ticks: a notice writes its mark, a stop its stop
// mark, a release removes the instance.
func (e *Engine) Forecast(ctx context.Context, targets []Target, horizon time.Duration) (*Forecast, error) {
	from := e.opts.Now()
	deadline, _ := ctx.Deadline()
	ctx, cancel := call.Work(ctx, e.opts.DeadlineMargin)
	defer cancel()
	fc := &Forecast{From: from.UTC(), Horizon: horizon.String(), Listed: map[string]int{}}
	var mu sync.Mutex
	var instances []scopedInstance
	runs := e.scopes(targets, deadline)
	e.forEach(runs, func(sr *scopeRun) {
		col := &collector{}
		res := discover.Run(ctx, sr.API, sr.c, discover.Request{Scope: sr.Scope, OptInKey: e.opts.Rules.OptInKey,
			TagKeys: ops.TagKeys(e.opts.Rules, e.opts.Lifecycle)}, col)
		mu.Lock()
		defer mu.Unlock()
		fc.Listed[sr.Scope.String()] = len(col.list)
		if res.Failure != nil {
			fc.Errors = append(fc.Errors, fmt.Sprintf("%s: %s: %s", sr.Scope, res.Failure.Code, res.Failure.Message))
			return
		}
		for _, in := range col.list {
			instances = append(instances, scopedInstance{sr.Scope, in})
		}
	})
	slices.Sort(fc.Errors)
	days := map[string]*ForecastDay{}
	day := func(t time.Time) *ForecastDay {
		key := t.UTC().Format("2006-01-02")
		d := days[key]
		if d == nil {
			d = &ForecastDay{Date: key, Owners: map[string]*ForecastOwner{}}
			days[key] = d
		}
		return d
	}
	lc := e.opts.Lifecycle
	for t := from; t.Before(from.Add(horizon)); t = t.Add(ForecastTick) {
		live := instances[:0]
		for _, si := range instances {
			d, _ := decide.DecideIn(si.in, si.scope.Region, e.opts.Rules, t, "listed")
			p := decide.PlanLifecycle(d, si.in, lc, t)
			owner := func() *ForecastOwner {
				dd := day(t)
				o := dd.Owners[p.Owner]
				if o == nil {
					o = &ForecastOwner{}
					dd.Owners[p.Owner] = o
				}
				return o
			}
			switch p.Step {
			case decide.StepNotify:
				owner().Notified = append(owner().Notified, si.in.ID)
				si.in.Tags[lc.MarkKey] = lc.Marks.Time(si.in.ID, lc.MarkKey, t)
			case decide.StepStop:
				owner().Stopped = append(owner().Stopped, si.in.ID)
				si.in.Status, si.in.Tags[lc.StopMarkKey] = decide.StatusStopped, lc.Marks.Time(si.in.ID, lc.StopMarkKey, t)
			case decide.StepMarkStopped:
				si.in.Tags[lc.StopMarkKey] = lc.Marks.Time(si.in.ID, lc.StopMarkKey, t)
			case decide.StepRelease:
				owner().Released = append(owner().Released, si.in.ID)
				continue // gone
			}
			live = append(live, si)
		}
		instances = live
	}
	for _, k := range slices.Sorted(maps.Keys(days)) {
		fc.Days = append(fc.Days, *days[k])
	}
	return fc, nil
}

type scopedInstance struct {
	scope cloud.Scope
	in    cloud.Instance
}

// collector keeps every listed instance (with its own tag map, which the
// forecast writes to).
type collector struct {
	seen map[string]bool
	list []cloud.Instance
}

func (c *collector) Take(instances []cloud.Instance) int {
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	fresh := 0
	for _, in := range instances {
		if c.seen[in.ID] {
			continue
		}
		c.seen[in.ID] = true
		in.Tags = maps.Clone(in.Tags)
		if in.Tags == nil {
			in.Tags = map[string]string{}
		}
		c.list = append(c.list, in)
		fresh++
	}
	return fresh
}

func (c *collector) Seen(id string) bool { return c.seen[id] }
