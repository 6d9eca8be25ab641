package htmlreport

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// chart is one SVG drawing: the template writes its elements as they are.
type chart struct {
	Class         string
	Label         string // the chart's accessible name
	Width, Height float64
	Rects         []rect
	Texts         []text
	Lines         []line
}

type rect struct {
	Class      string
	X, Y, W, H float64
	Fill       string
	Title      string // the tooltip: what the rectangle counts
	Owner      string // data-owner, for a timeline segment
	Day        string // data-day
}

type text struct {
	Class  string
	X, Y   float64
	Anchor string
	Text   string
}

type line struct{ X1, Y1, X2, Y2 float64 }

type legendEntry struct {
	Name  string
	Fill  string
	Total int
}

// palette colours the named owners; otherFill the rest, taken together.
var palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f"}

const otherFill = "#bab0ac"

// otherOwners names the owners beyond the palette, drawn as one.
const otherOwners = "other owners"

// Timeline chart geometry (SVG user units).
const (
	chartWidth     = 1080.0
	plotLeft       = 56.0
	plotRight      = 12.0
	plotTop        = 22.0
	plotHeight     = 120.0
	dateBand       = 30.0
	barShare       = 0.6 // of a day's column
	dateLabelWidth = 70  // room for "Wed 30 Dec"
	leftoverRow    = 16.0
	leftoverGap    = 12.0
	leftoverName   = 170.0
	leftoverText   = 230.0 // room right of the longest bar for its label
)

// timelineKinds are the timeline's charts, in the lifecycle's order, and
// the writes a cap holds back.
var timelineKinds = []struct {
	name, noun, label, empty string
	count                    func(OwnerDay) int
}{
	{"notices", "notice", "Notices per day, by owner", "no notices in these days",
		func(o OwnerDay) int { return o.Notices }},
	{"stops", "stop", "Stops per day, by owner", "no stops in these days",
		func(o OwnerDay) int { return o.Stops }},
	{"releases", "release", "Releases per day, by owner", "no releases in these days",
		func(o OwnerDay) int { return o.Releases }},
	{"refused", "refused write", "Refused by a cap: the releases and stops held back, per day, by owner", "nothing refused in these days",
		func(o OwnerDay) int { return o.Refused }},
}

// timelineCharts draws one chart per kind (notices, stops, releases,
// refused): a bar per day, stacked by owner. The owners with the most
// events get the palette's colours; the rest are drawn together as
// "other owners". A day a cap refuses is marked on the releases and
// refused charts, with why.
func timelineCharts(tl *Timeline) ([]chart, []legendEntry) {
	totals := map[string]int{}
	for _, d := range tl.Days {
		for _, o := range d.Owners {
			totals[o.Owner] += o.Notices + o.Stops + o.Releases + o.Refused
		}
	}
	owners := make([]string, 0, len(totals))
	for o, n := range totals {
		if n > 0 {
			owners = append(owners, o)
		}
	}
	slices.SortFunc(owners, func(a, b string) int {
		return cmp.Or(cmp.Compare(totals[b], totals[a]), cmp.Compare(a, b))
	})
	fill := map[string]string{}
	var legend []legendEntry
	others := legendEntry{Fill: otherFill}
	for i, o := range owners {
		if i < len(palette) {
			fill[o] = palette[i]
			legend = append(legend, legendEntry{Name: ownerName(o), Fill: palette[i], Total: totals[o]})
			continue
		}
		others.Total += totals[o]
		others.Name = fmt.Sprintf("%d %s", len(owners)-len(palette), otherOwners)
	}
	if others.Total > 0 {
		legend = append(legend, others)
	}

	var charts []chart
	n := float64(max(len(tl.Days), 1))
	column := (chartWidth - plotLeft - plotRight) / n
	barWidth := column * barShare
	// A long horizon labels every few days, so that the labels do not
	// run into each other.
	labelEvery := int(math.Ceil(dateLabelWidth / column))
	for _, kind := range timelineKinds {
		c := chart{Class: "timeline timeline-" + kind.name, Label: kind.label,
			Width: chartWidth, Height: plotTop + plotHeight + dateBand}
		top := 0
		for _, d := range tl.Days {
			sum := 0
			for _, o := range d.Owners {
				sum += kind.count(o)
			}
			top = max(top, sum)
		}
		scale := niceCeil(top)
		base := plotTop + plotHeight
		for _, v := range []int{0, scale / 2, scale} {
			if scale > 0 && (v != scale/2 || scale%2 == 0) {
				y := base - float64(v)/float64(max(scale, 1))*plotHeight
				c.Lines = append(c.Lines, line{plotLeft, y, chartWidth - plotRight, y})
				c.Texts = append(c.Texts, text{Class: "axis", X: plotLeft - 6, Y: y + 4, Anchor: "end", Text: fmt.Sprint(v)})
			}
		}
		if scale == 0 {
			c.Lines = append(c.Lines, line{plotLeft, base, chartWidth - plotRight, base})
			c.Texts = append(c.Texts, text{Class: "empty", X: chartWidth / 2, Y: plotTop + plotHeight/2, Anchor: "middle",
				Text: kind.empty})
		}
		for i, d := range tl.Days {
			x := plotLeft + float64(i)*column
			if d.Refused != "" && (kind.name == "releases" || kind.name == "refused") {
				c.Rects = append(c.Rects, rect{Class: "refused", X: round(x + 2), Y: plotTop, W: round(column - 4), H: plotHeight,
					Title: d.Date + ": " + d.Refused, Day: d.Date})
				c.Texts = append(c.Texts, text{Class: "refused-label", X: round(x + column/2), Y: plotTop - 6, Anchor: "middle", Text: "refused"})
			}
			if i%labelEvery == 0 {
				c.Texts = append(c.Texts, text{Class: "date", X: round(x + column/2), Y: base + 18, Anchor: "middle", Text: dayLabel(d.Date)})
			}
			// Stacked in legend order, the largest owner at the bottom.
			parts := slices.Clone(d.Owners)
			slices.SortFunc(parts, func(a, b OwnerDay) int {
				return cmp.Or(cmp.Compare(totals[b.Owner], totals[a.Owner]), cmp.Compare(a.Owner, b.Owner))
			})
			y, sum := base, 0
			for _, o := range parts {
				v := kind.count(o)
				if v == 0 {
					continue
				}
				sum += v
				h := float64(v) / float64(scale) * plotHeight
				y -= h
				f, ok := fill[o.Owner]
				if !ok {
					f = otherFill
				}
				c.Rects = append(c.Rects, rect{Class: "seg", X: round(x + (column-barWidth)/2), Y: round(y), W: round(barWidth), H: round(h),
					Fill: f, Title: fmt.Sprintf("%s: %d %s on %s", ownerName(o.Owner), v, plural(v, kind.noun), d.Date),
					Owner: ownerName(o.Owner), Day: d.Date})
			}
			if sum > 0 {
				c.Texts = append(c.Texts, text{Class: "total", X: round(x + column/2), Y: round(y - 4), Anchor: "middle", Text: fmt.Sprint(sum)})
			}
		}
		charts = append(charts, c)
	}
	return charts, legend
}

// leftoverKinds are the leftover chart's bars per region.
var leftoverKinds = []struct {
	class, fill string
	count       func(RegionLeftovers) int
	label       func(RegionLeftovers) string
}{
	{"bar bar-eips", "#4e79a7", func(r RegionLeftovers) int { return r.EIPs },
		func(r RegionLeftovers) string { return fmt.Sprintf("%d %s", r.EIPs, plural(r.EIPs, "EIP")) }},
	{"bar bar-disks", "#f28e2b", func(r RegionLeftovers) int { return r.Disks },
		func(r RegionLeftovers) string {
			return fmt.Sprintf("%d %s, %d GiB", r.Disks, plural(r.Disks, "disk"), r.DiskGiB)
		}},
	{"bar bar-snapshots", "#59a14f", func(r RegionLeftovers) int { return r.Snapshots },
		func(r RegionLeftovers) string {
			return fmt.Sprintf("%d %s, %d GiB", r.Snapshots, plural(r.Snapshots, "snapshot"), r.SnapshotGiB)
		}},
}

// leftoverChart draws, per region, a bar each for the EIPs, disks and
// snapshots its released instances leave billed, on one scale.
func leftoverChart(regions []RegionLeftovers) *chart {
	top := 0
	for _, r := range regions {
		for _, k := range leftoverKinds {
			top = max(top, k.count(r))
		}
	}
	group := float64(len(leftoverKinds))*leftoverRow + leftoverGap
	c := &chart{Class: "leftovers", Label: "leftovers per region: EIPs, disks and snapshots",
		Width: chartWidth, Height: max(float64(len(regions))*group+leftoverGap, 40)}
	span := chartWidth - leftoverName - leftoverText
	if len(regions) == 0 {
		c.Texts = append(c.Texts, text{Class: "empty", X: chartWidth / 2, Y: 24, Anchor: "middle", Text: "this run's releases leave nothing billed"})
	}
	for i, r := range regions {
		y := leftoverGap + float64(i)*group
		c.Texts = append(c.Texts, text{Class: "region", X: leftoverName - 10, Y: round(y + 1.5*leftoverRow + 4), Anchor: "end", Text: r.Region})
		for j, k := range leftoverKinds {
			v := k.count(r)
			w := 0.0
			if top > 0 {
				w = float64(v) / float64(top) * span
			}
			row := y + float64(j)*leftoverRow
			label := k.label(r)
			if v > 0 {
				c.Rects = append(c.Rects, rect{Class: k.class, X: leftoverName, Y: round(row + 1), W: round(max(w, 1)), H: leftoverRow - 3,
					Fill: k.fill, Title: r.Region + ": " + label})
			}
			c.Texts = append(c.Texts, text{Class: "value", X: round(leftoverName + w + 6), Y: round(row + leftoverRow - 4), Text: label})
		}
	}
	return c
}

// niceCeil is the axis maximum: n rounded up to 1, 2 or 5 times a power
// of ten.
func niceCeil(n int) int {
	if n <= 0 {
		return 0
	}
	p := int(math.Pow(10, math.Floor(math.Log10(float64(n)))))
	for _, m := range []int{1, 2, 5} {
		if m*p >= n {
			return m * p
		}
	}
	return 10 * p
}

func dayLabel(date string) string {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return date
	}
	return t.Format("Mon 2 Jan")
}

func plural(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

func round(v float64) float64 { return math.Round(v*10) / 10 }
