package engine

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/ops"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Forecast is what the coming days will bring, on the run's own rules:
// per day (UTC) and owner, the notices, stops and releases (instances and
// the kinds swept by their own tag), if every tick runs and every notice
// is delivered; and the runs the caps will refuse. A refused run writes
// nothing (no notice either), so from the first refusal on every later
// run refuses too until the cap is raised: Refused says by how much.
type Forecast struct {
	From    time.Time `json:"from"`
	Horizon string    `json:"horizon"`
	// Kinds are the resource kinds swept beside instances (REAPER_RESOURCES).
	Kinds []string `json:"kinds,omitempty"`
	// Caps are the blast-radius caps every simulated run kept.
	Caps ForecastCaps  `json:"caps"`
	Days []ForecastDay `json:"days"`
	// Totals are over the whole horizon; Refused counts each resource once.
	Totals ForecastCounts `json:"totals"`
	// Refused is the first run the caps refuse, nil when none does.
	Refused *ForecastRefusal `json:"refused,omitempty"`
	Errors  []string         `json:"errors,omitempty"` // scopes that could not be listed
	Listed  map[string]int   `json:"listed"`           // instances listed, by scope
}

// ForecastCaps are the caps as the forecast applied them.
type ForecastCaps struct {
	MaxRelease        int     `json:"maxRelease"`
	MaxReleasePercent float64 `json:"maxReleasePercent"`
	PercentCapFrom    int     `json:"percentCapMinEligible"`
}

// ForecastRefusal is a run the caps refuse: what it would have written
// and the smallest cap values that let it through.
type ForecastRefusal struct {
	At       time.Time `json:"at"`
	Eligible int       `json:"eligible"` // writes the count cap counts
	Explain  string    `json:"explain"`
	// NeedMaxRelease and NeedMaxReleasePercent are the smallest settings
	// under which this run passes (0 when that cap is not the problem).
	NeedMaxRelease        int     `json:"needMaxRelease,omitempty"`
	NeedMaxReleasePercent float64 `json:"needMaxReleasePercent,omitempty"`
}

// ForecastDay is one day of a forecast.
type ForecastDay struct {
	Date   string                    `json:"date"`
	Owners map[string]*ForecastOwner `json:"owners"` // "" is no owner tag
	Totals ForecastCounts            `json:"totals"`
	// Refused is the day's first refused run (nil when none is).
	Refused *ForecastRefusal `json:"refused,omitempty"`
}

// ForecastCounts count a day's (or an owner's) writes. Refused counts the
// releases and stops the caps hold back (each resource once a day).
type ForecastCounts struct {
	Notices  int `json:"notices"`
	Stops    int `json:"stops"`
	Releases int `json:"releases"`
	Refused  int `json:"refused"`
}

func (c *ForecastCounts) add(o ForecastCounts) {
	c.Notices += o.Notices
	c.Stops += o.Stops
	c.Releases += o.Releases
	c.Refused += o.Refused
}

// ForecastOwner is one owner's part of a day: the counts, the IDs, and
// the releases by kind ("instances", "disks", ...).
type ForecastOwner struct {
	Counts   ForecastCounts `json:"counts"`
	Notified []string       `json:"notified,omitempty"`
	Stopped  []string       `json:"stopped,omitempty"`
	Released []string       `json:"released,omitempty"`
	Refused  []string       `json:"refused,omitempty"`
	ByKind   map[string]int `json:"releasedByKind,omitempty"`
}

// KindInstances names instances in a forecast's ByKind.
const KindInstances = "instances"

// ForecastTick is the simulated timer period.
const ForecastTick = time.Hour

// forecastScope is one scope's simulated state.
type forecastScope struct {
	scope     cloud.Scope
	instances []*cloud.Instance
	resources map[string][]*kinds.Resource // by kind
	// eips counts, by instance, the EIPs released after it
	// (REAPER_RELEASE_EIPS): the count cap counts them too.
	eips map[string]int
}

// Forecast lists the targets (reads only) and plays the lifecycle forward
// over horizon in hourly ticks, each a run: the plan, the cap check over
// every scope, then a notice writes its mark, a stop its stop mark, a
// release removes the resource; a run over a cap writes nothing.
func (e *Engine) Forecast(ctx context.Context, targets []Target, horizon time.Duration) (*Forecast, error) {
	from := e.opts.Now()
	deadline, _ := ctx.Deadline()
	ctx, cancel := call.Work(ctx, e.opts.DeadlineMargin)
	defer cancel()
	caps := plan.Caps{MaxRelease: e.opts.MaxRelease, MaxReleasePercent: e.opts.MaxReleasePercent, PercentCapFrom: e.opts.PercentCapFrom}
	fc := &Forecast{From: from.UTC(), Horizon: horizon.String(), Kinds: slices.Clone(e.opts.Resources), Listed: map[string]int{},
		Caps: ForecastCaps{MaxRelease: caps.MaxRelease, MaxReleasePercent: caps.MaxReleasePercent, PercentCapFrom: caps.PercentCapFrom}}
	var mu sync.Mutex
	var scopes []*forecastScope
	runs := e.scopes(targets, deadline)
	e.forEach(runs, func(sr *scopeRun) {
		col := &collector{}
		res := discover.Run(ctx, sr.API, sr.c, discover.Request{Scope: sr.Scope, OptInKey: e.opts.Rules.OptInKey,
			TagKeys: ops.TagKeys(e.opts.Rules, e.opts.Lifecycle)}, col)
		fs := &forecastScope{scope: sr.Scope, resources: map[string][]*kinds.Resource{}}
		failure := res.Failure
		if name := e.unknownKind(); failure == nil && name != "" {
			failure = &verdict.Failure{Code: kinds.CodeUnsupported, Message: "no kind of resource is called " + name}
		}
		for _, kind := range e.sweptKinds() {
			if failure != nil {
				break
			}
			if !kind.Supports(sr.API) {
				failure = kinds.Unsupported(kind)
				break
			}
			items, f := kind.List(ctx, sr.API, sr.c, sr.Scope.Region, e.opts.Rules.OptInKey, e.opts.Rules)
			if f != nil {
				f.Message = kind.Name + ": " + f.Message
				failure = f
			}
			for _, it := range items {
				it.Tags = maps.Clone(it.Tags)
				if it.Tags == nil {
					it.Tags = map[string]string{}
				}
				fs.resources[kind.Name] = append(fs.resources[kind.Name], &it)
			}
		}
		if failure == nil && e.opts.ReleaseEIPs && len(col.list) > 0 {
			fs.eips, failure = e.forecastInstanceEIPs(ctx, sr, col.list)
		}
		mu.Lock()
		defer mu.Unlock()
		fc.Listed[sr.Scope.String()] = len(col.list)
		if failure != nil {
			fc.Errors = append(fc.Errors, fmt.Sprintf("%s: %s: %s", sr.Scope, failure.Code, failure.Message))
			return
		}
		for i := range col.list {
			fs.instances = append(fs.instances, &col.list[i])
		}
		scopes = append(scopes, fs)
	})
	slices.Sort(fc.Errors)
	slices.SortFunc(scopes, func(a, b *forecastScope) int { return strings.Compare(a.scope.String(), b.scope.String()) })
	f := forecaster{fc: fc, days: map[string]*ForecastDay{}, refusedToday: map[string]bool{}, refusedEver: map[string]bool{}}
	lc := e.opts.Lifecycle
	for t := from; t.Before(from.Add(horizon)); t = t.Add(ForecastTick) {
		plans := make([]*plan.Scope, len(scopes))
		for i, fs := range scopes {
			p := plan.NewScope(fs.scope, e.opts.Rules, lc)
			for _, in := range fs.instances {
				p.Add(*in, t)
			}
			for _, kind := range e.sweptKinds() {
				for _, it := range fs.resources[kind.Name] {
					d := decide.DecideResource(it.Decision(), e.opts.Rules, lc.DecideNow(t))
					p.AddResource(kind.Name, it.ID, it.Name, it.Tags, d, t)
				}
			}
			for _, c := range p.Eligible {
				p.InstanceEIPs += fs.eips[c.ID]
			}
			plans[i] = p
		}
		if plan.Check(plans, caps).Exceeded {
			f.refuse(t, plans)
			continue
		}
		for i, fs := range scopes {
			f.apply(t, fs, plans[i], lc)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(f.days)) {
		d := f.days[k]
		for _, o := range d.Owners {
			d.Totals.add(o.Counts)
		}
		fc.Totals.add(d.Totals)
		fc.Days = append(fc.Days, *d)
	}
	fc.Totals.Refused = len(f.refusedEver)
	return fc, nil
}

// forecastInstanceEIPs counts, by instance, the EIPs a release would
// release after it, as the run counts them for the count cap. A scope
// whose EIPs cannot be listed is left out, as the run closes it.
func (e *Engine) forecastInstanceEIPs(ctx context.Context, sr *scopeRun, instances []cloud.Instance) (map[string]int, *verdict.Failure) {
	ids := make([]string, len(instances))
	for i, in := range instances {
		ids[i] = in.ID
	}
	found, f := sr.startLeftovers(ctx).Join(ctx, sr.leftoverAPI, sr.c, sr.Scope.Region, ids)
	if !found.EIPsListed {
		if f == nil {
			f = &verdict.Failure{Code: kinds.CodeUnsupported, Message: "the EIPs of the instances could not be listed"}
		}
		return nil, f
	}
	out := map[string]int{}
	for id, eips := range found.EIPs {
		for _, eip := range eips {
			if reason, _ := kinds.EIPHeld(unbound(eip), e.opts.Rules); reason == "" {
				out[id]++
			}
		}
	}
	return out, nil
}

// forecaster accumulates the simulated runs into days.
type forecaster struct {
	fc           *Forecast
	days         map[string]*ForecastDay
	refusedToday map[string]bool // "date id": a refusal counts once a day
	refusedEver  map[string]bool // the horizon's total counts each once
}

func (f *forecaster) day(t time.Time) *ForecastDay {
	key := t.UTC().Format("2006-01-02")
	d := f.days[key]
	if d == nil {
		d = &ForecastDay{Date: key, Owners: map[string]*ForecastOwner{}}
		f.days[key] = d
	}
	return d
}

func (f *forecaster) owner(t time.Time, owner string) *ForecastOwner {
	d := f.day(t)
	o := d.Owners[owner]
	if o == nil {
		o = &ForecastOwner{}
		d.Owners[owner] = o
	}
	return o
}

// refuse records a run the caps hold back: every release and stop it
// would have made, once a day.
func (f *forecaster) refuse(t time.Time, plans []*plan.Scope) {
	r := refusalOf(t, plans, f.fc.Caps)
	if f.fc.Refused == nil {
		f.fc.Refused = r
	}
	key := t.UTC().Format("2006-01-02")
	if d := f.day(t); d.Refused == nil {
		d.Refused = r
	}
	held := func(c plan.Candidate) {
		if f.refusedToday[key+" "+c.ID] {
			return
		}
		f.refusedToday[key+" "+c.ID] = true
		o := f.owner(t, c.Owner)
		o.Refused = append(o.Refused, c.ID)
		o.Counts.Refused++
		f.refusedEver[c.ID] = true
	}
	for _, p := range plans {
		for _, c := range p.Eligible {
			held(c)
		}
		for _, c := range p.Stops {
			held(c)
		}
		for _, kind := range slices.Sorted(maps.Keys(p.Resources)) {
			for _, c := range p.Resources[kind].Eligible {
				held(c)
			}
		}
	}
}

// refusalOf explains a refused run, with the smallest caps that pass it.
func refusalOf(t time.Time, plans []*plan.Scope, caps ForecastCaps) *ForecastRefusal {
	check := plan.Check(plans, plan.Caps{MaxRelease: caps.MaxRelease, MaxReleasePercent: caps.MaxReleasePercent, PercentCapFrom: caps.PercentCapFrom})
	r := &ForecastRefusal{At: t.UTC(), Eligible: check.Eligible, Explain: check.Explain()}
	if check.CountExceeded {
		r.NeedMaxRelease = check.Eligible
	}
	if check.PercentExceeded {
		need := check.NeededPercent()
		for _, k := range check.Kinds {
			if k.Exceeded {
				need = max(need, min(100, math.Ceil(k.Percent)))
			}
		}
		r.NeedMaxReleasePercent = need
	}
	return r
}

// apply plays one scope's part of a run that passed the caps.
func (f *forecaster) apply(t time.Time, fs *forecastScope, p *plan.Scope, lc decide.Lifecycle) {
	instances := map[string]*cloud.Instance{}
	for _, in := range fs.instances {
		instances[in.ID] = in
	}
	resources := map[string]*kinds.Resource{}
	for _, kind := range slices.Sorted(maps.Keys(fs.resources)) {
		for _, it := range fs.resources[kind] {
			resources[it.ID] = it
		}
	}
	for _, n := range p.Notices {
		o := f.owner(t, n.Owner)
		o.Notified = append(o.Notified, n.ID)
		o.Counts.Notices++
		if n.Kind == "" {
			instances[n.ID].Tags[lc.MarkKey] = lc.Marks.Time(n.ID, lc.MarkKey, t)
		} else {
			resources[n.ID].Tags[lc.MarkKey] = lc.Marks.Time(n.ID, lc.MarkKey, t)
		}
	}
	for _, c := range p.Stops {
		o := f.owner(t, c.Owner)
		o.Stopped = append(o.Stopped, c.ID)
		o.Counts.Stops++
		in := instances[c.ID]
		in.Status, in.Tags[lc.StopMarkKey] = decide.StatusStopped, lc.Marks.Time(c.ID, lc.StopMarkKey, t)
	}
	for _, c := range p.StopMarks {
		instances[c.ID].Tags[lc.StopMarkKey] = lc.Marks.Time(c.ID, lc.StopMarkKey, t)
	}
	gone := map[string]bool{}
	released := func(c plan.Candidate, kind string) {
		o := f.owner(t, c.Owner)
		o.Released = append(o.Released, c.ID)
		o.Counts.Releases++
		if o.ByKind == nil {
			o.ByKind = map[string]int{}
		}
		o.ByKind[kind]++
		gone[c.ID] = true
	}
	for _, c := range p.Eligible {
		released(c, KindInstances)
		if n := fs.eips[c.ID]; n > 0 {
			o := f.owner(t, c.Owner)
			o.Counts.Releases += n
			o.ByKind[kinds.EIPs.Name] += n
		}
	}
	for _, kind := range slices.Sorted(maps.Keys(p.Resources)) {
		for _, c := range p.Resources[kind].Eligible {
			released(c, kind)
		}
	}
	if len(gone) == 0 {
		return
	}
	fs.instances = slices.DeleteFunc(fs.instances, func(in *cloud.Instance) bool { return gone[in.ID] })
	for kind, list := range fs.resources {
		fs.resources[kind] = slices.DeleteFunc(list, func(it *kinds.Resource) bool { return gone[it.ID] })
	}
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

// Advice names the smallest cap settings under which the refused run
// passes.
func (r *ForecastRefusal) Advice() string {
	var parts []string
	if r.NeedMaxRelease > 0 {
		parts = append(parts, fmt.Sprintf("REAPER_MAX_RELEASE is at least %d", r.NeedMaxRelease))
	}
	if r.NeedMaxReleasePercent > 0 {
		parts = append(parts, fmt.Sprintf("REAPER_MAX_RELEASE_PERCENT is at least %s", strconv.FormatFloat(r.NeedMaxReleasePercent, 'f', -1, 64)))
	}
	if len(parts) == 0 {
		return "the caps are raised"
	}
	return strings.Join(parts, " and ")
}
