package htmlreport

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// namedIDs bounds the IDs an attention item names; the count is whole.
const namedIDs = 5

// FromReport is the page of a run's report: its summary, what needs a
// person and the leftovers per region (no timeline: add a forecast with
// AddForecast).
func FromReport(title string, rep *report.Report) *Page {
	p := &Page{Title: title, Generated: time.Now(), Summary: summary(rep), Attention: attention(rep), Leftovers: []RegionLeftovers{}}
	for _, r := range rep.Regions {
		s := r.LeftoverSummary
		if s == nil || s.Instances == 0 && s.Error == "" {
			continue
		}
		p.Leftovers = append(p.Leftovers, RegionLeftovers{Region: scope(r), Instances: s.Instances, EIPs: s.EIPs,
			Disks: s.Disks, DiskGiB: s.DiskGiB, Snapshots: s.Snapshots, SnapshotGiB: s.SnapshotGiB, Error: s.Error})
	}
	return p
}

func summary(rep *report.Report) []Fact {
	mode := "release"
	if rep.DryRun {
		mode = "dry run: nothing written"
	}
	facts := []Fact{
		{"Run", fmt.Sprintf("%s (%s)", rep.RunID, mode)},
		{"Started", fmt.Sprintf("%s, took %s", report.Time(rep.StartedAt), (time.Duration(rep.DurationMS) * time.Millisecond).String())},
	}
	if rep.Credentials != "" {
		facts = append(facts, Fact{"Credentials", rep.Credentials})
	}
	complete := "yes"
	if !rep.Complete {
		complete = "NO"
	}
	facts = append(facts,
		Fact{"Complete", complete},
		Fact{"Regions", fmt.Sprint(len(rep.Regions))},
		Fact{"Instances", fmt.Sprintf("%d seen, %d opted in", rep.Totals.Seen, rep.Totals.OptedIn)},
		Fact{"Outcomes", outcomes(rep.Totals.Outcomes)})
	// The kinds swept beside instances (and the EIPs released after them).
	for _, kind := range slices.Sorted(maps.Keys(rep.Totals.Kinds)) {
		if counts := rep.Totals.Kinds[kind]; len(counts) > 0 {
			facts = append(facts, Fact{"Kind " + kind, outcomes(counts)})
		}
	}
	if c := rep.Cap; c != nil {
		state := "within the caps"
		if c.Exceeded {
			state = "OVER A CAP: nothing released"
		}
		facts = append(facts, Fact{"Caps", fmt.Sprintf("%d writes eligible, %d instances of %d opted in (%.1f%%); caps %d and %.4g%%: %s",
			c.Eligible, c.Instances, c.OptedIn, c.Percent, c.MaxRelease, c.MaxReleasePercent, state)})
	}
	if n := rep.Notices; n != nil {
		facts = append(facts, Fact{"Notices", fmt.Sprintf("%d owed to %d %s, %d told, %d not sent", n.Owed, n.Owners, plural(n.Owners, "owner"), n.Delivered, n.UnsentItems)})
	}
	if l := rep.Leftovers; l != nil {
		facts = append(facts, Fact{"Leftovers", fmt.Sprintf("%d released %s leave %d %s, %d %s (%d GiB) and %d %s (%d GiB) billed",
			l.Instances, plural(l.Instances, "instance"), l.EIPs, plural(l.EIPs, "EIP"), l.Disks, plural(l.Disks, "disk"), l.DiskGiB,
			l.Snapshots, plural(l.Snapshots, "snapshot"), l.SnapshotGiB)})
	}
	return facts
}

// outcomes lists the counts in the report's order of outcomes.
func outcomes(counts map[string]int) string {
	var parts []string
	for _, o := range verdict.Outcomes {
		if n := counts[string(o)]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, n))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// ownerReasons are the skips a person has to act on, rolled up per owner.
var ownerReasons = []struct {
	reason verdict.Reason
	kind   Kind
	text   string
}{
	{verdict.Running, KindRunning, "expired but Running: never released while REAPER_RUNNING=skip; stop them, or set REAPER_RUNNING=stop"},
	{verdict.InvalidExpiry, KindInvalidExpiry, "the expiry tag cannot be read: never released until it is fixed"},
	{verdict.SecurityLocked, KindLocked, "security-locked: never released"},
	{verdict.Locked, KindLocked, "locked: never released"},
}

// attention is what in the report needs a person, most urgent first.
func attention(rep *report.Report) []Attention {
	var out []Attention
	interrupted := report.Interrupted(rep)
	if rep.Error != "" {
		kind, count := KindFailed, 0
		switch {
		case interrupted:
			kind, count = KindInterrupted, rep.Totals.Outcomes[string(verdict.Interrupted)]
			for _, counts := range rep.Totals.Kinds {
				count += counts[string(verdict.Interrupted)]
			}
		case rep.Cap != nil && rep.Cap.Exceeded:
			kind = KindCap
		}
		out = append(out, Attention{Kind: kind, Count: count, Text: rep.Error})
	}
	if rep.Warning != "" {
		out = append(out, Attention{Kind: KindIncomplete, Text: rep.Warning})
	}
	if n := rep.Notices; n != nil && n.UnsentItems > 0 {
		out = append(out, Attention{Kind: KindNotices, Count: n.UnsentItems, Text: n.Explain()})
	}
	type ownerKey struct {
		reason verdict.Reason
		owner  string
	}
	type rollUp struct {
		regions          []string
		ids              []string
		detailID, detail string // one instance's detail, as an example
	}
	rolledUp := map[verdict.Reason]bool{}
	for _, or := range ownerReasons {
		rolledUp[or.reason] = true
	}
	owners := map[ownerKey]*rollUp{}
	for _, r := range rep.Regions {
		where := scope(r)
		// A region the operator interrupted was reachable: the run's
		// error says what is known.
		if r.Error != nil && r.Error.Code != string(verdict.Interrupted) {
			out = append(out, Attention{Kind: KindUnreachable, Scope: where, Text: failure(r.Error)})
		}
		out = append(out, failedWrites(where, "instances", r.Groups)...)
		for _, kind := range r.Sections.Names() {
			out = append(out, failedWrites(where, kind, r.Sections[kind].Groups)...)
		}
		for _, g := range r.Groups {
			if g.Outcome != verdict.Skipped || !rolledUp[g.Reason] {
				continue
			}
			for _, it := range g.Instances {
				key := ownerKey{g.Reason, it.Owner}
				u := owners[key]
				if u == nil {
					u = &rollUp{detailID: it.ID, detail: it.Detail}
					owners[key] = u
				}
				if !slices.Contains(u.regions, where) {
					u.regions = append(u.regions, where)
				}
				u.ids = append(u.ids, it.ID)
			}
		}
	}
	for _, or := range ownerReasons {
		var keys []ownerKey
		for k := range maps.Keys(owners) {
			if k.reason == or.reason {
				keys = append(keys, k)
			}
		}
		// The owner with the most first.
		slices.SortFunc(keys, func(a, b ownerKey) int {
			return cmp.Or(cmp.Compare(len(owners[b].ids), len(owners[a].ids)), cmp.Compare(a.owner, b.owner))
		})
		for _, k := range keys {
			u := owners[k]
			text := or.text + ": " + idList(u.ids)
			switch {
			case or.reason == verdict.Running || u.detail == "":
			case len(u.ids) == 1:
				text += " (" + u.detail + ")"
			default:
				text += " (" + u.detailID + ": " + u.detail + ")"
			}
			out = append(out, Attention{Kind: or.kind, Scope: strings.Join(u.regions, ", "), Owner: ownerName(k.owner), Count: len(u.ids), Text: text})
		}
	}
	slices.SortStableFunc(out, func(a, b Attention) int { return cmp.Compare(a.Kind, b.Kind) })
	return out
}

// failedWrites is one attention item per failed group (one error code)
// of a region's resources of one kind.
func failedWrites(where, kind string, groups []*report.Group) []Attention {
	var out []Attention
	for _, g := range groups {
		if g.Outcome != verdict.Failed || len(g.Instances) == 0 {
			continue
		}
		ids := make([]string, len(g.Instances))
		for i, it := range g.Instances {
			ids[i] = it.ID
		}
		text := fmt.Sprintf("%d %s failed (%s): %s", len(ids), kind, cmp.Or(string(g.Reason), "no code"), idList(ids))
		if m := g.Instances[0].Message; m != "" {
			text += "; " + m
		}
		out = append(out, Attention{Kind: KindFailed, Scope: where, Count: len(ids), Text: text})
	}
	return out
}

// AddForecast puts the forecast's days on the page, every day of its
// horizon, and its unlisted scopes in the attention list.
func AddForecast(p *Page, fc *engine.Forecast) {
	tl := &Timeline{From: fc.From, Horizon: fc.Horizon}
	byDate := map[string]engine.ForecastDay{}
	for _, d := range fc.Days {
		byDate[d.Date] = d
	}
	horizon, err := time.ParseDuration(fc.Horizon)
	if err == nil && horizon%(24*time.Hour) == 0 {
		tl.Horizon = fmt.Sprintf("%d %s", horizon/(24*time.Hour), plural(int(horizon/(24*time.Hour)), "day"))
	}
	var dates []string
	if err == nil && horizon > 0 {
		end := fc.From.Add(horizon - time.Nanosecond).UTC().Format(time.DateOnly)
		for t := fc.From.UTC(); ; t = t.Add(24 * time.Hour) {
			dates = append(dates, t.Format(time.DateOnly))
			if t.Format(time.DateOnly) >= end {
				break
			}
		}
	}
	// A day the forecast has that the horizon does not is kept too.
	for _, d := range fc.Days {
		if !slices.Contains(dates, d.Date) {
			dates = append(dates, d.Date)
		}
	}
	slices.Sort(dates)
	for _, date := range dates {
		day := Day{Date: date}
		fd := byDate[date]
		for _, owner := range slices.Sorted(maps.Keys(fd.Owners)) {
			c := fd.Owners[owner].Counts
			day.Owners = append(day.Owners, OwnerDay{Owner: owner, Notices: c.Notices, Stops: c.Stops, Releases: c.Releases, Refused: c.Refused})
		}
		if r := fd.Refused; r != nil {
			day.Refused = fmt.Sprintf("from %s the runs release nothing: %s; they pass when %s", r.At.UTC().Format("15:04 UTC"), r.Explain, r.Advice())
		}
		tl.Days = append(tl.Days, day)
	}
	p.Timeline = tl
	if r := fc.Refused; r != nil {
		p.Attention = append(p.Attention, Attention{Kind: KindCap, Count: fc.Totals.Refused,
			Text: fmt.Sprintf("from %s every run refuses and releases nothing (%d writes due at once), until %s: %s",
				r.At.UTC().Format("2006-01-02 15:04 UTC"), r.Eligible, r.Advice(), r.Explain)})
	}
	for _, e := range fc.Errors {
		p.Attention = append(p.Attention, Attention{Kind: KindUnreachable, Text: "not in the forecast: " + e})
	}
	slices.SortStableFunc(p.Attention, func(a, b Attention) int { return cmp.Compare(a.Kind, b.Kind) })
}

func scope(r *report.Region) string {
	if r.Account != "" {
		return r.Account + "/" + r.Region
	}
	return r.Region
}

func failure(f *verdict.Failure) string {
	s := f.Code + ": " + f.Message
	if f.RequestID != "" {
		s += " (request " + f.RequestID + ")"
	}
	return s
}

// idList names the first IDs and counts the rest.
func idList(ids []string) string {
	ids = slices.Sorted(slices.Values(ids))
	if len(ids) <= namedIDs {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:namedIDs], ", "), len(ids)-namedIDs)
}
