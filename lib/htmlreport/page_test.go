package htmlreport_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/htmlreport"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// hostile is an owner tag written to break out of the page: every tag is
// user input.
const hostile = `<script>alert("owned")</script>' onmouseover="alert(1)" x="`

var from = time.Date(2026, 12, 6, 7, 30, 0, 0, time.UTC)

// fixtureReport is a dry run that needs a person for every reason the
// page knows: a cap, a failed write, an unreachable region, unsent
// notices, expired Running instances, invalid expiry tags and locks, over
// two regions and three owners (one of them hostile).
func fixtureReport() *report.Report {
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: "plan@2026-12-06T07:30:00Z", DryRun: true,
		StartedAt: from, FinishedAt: from.Add(3 * time.Second), DurationMS: 3000,
		Cap: &report.CapCheck{Eligible: 150, Instances: 150, OptedIn: 400, MaxRelease: 100, MaxReleasePercent: 50,
			Percent: 37.5, CountExceeded: true, Exceeded: true},
		Error:   "150 eligible, over the count cap of 100. Every run will refuse until an operator raises REAPER_MAX_RELEASE to 150",
		Notices: &report.Notices{Owed: 4, Owners: 2}}
	rep.Notices.AddUnsent("carol", "deadline")
	hz := report.NewRegion("cn-hangzhou")
	hz.Seen, hz.OptedIn = 300, 290
	hz.Add(verdict.WouldRelease, "", report.Item{ID: "i-hz-would-1", Owner: "alice"})
	hz.Add(verdict.Failed, "Throttling", report.Item{ID: "i-hz-failed-1", Owner: "alice", Message: "rate limited"})
	for _, id := range []string{"i-hz-run-1", "i-hz-run-2", "i-hz-run-3"} {
		hz.Add(verdict.Skipped, verdict.Running, report.Item{ID: id, Owner: "alice"})
	}
	hz.Add(verdict.Skipped, verdict.Running, report.Item{ID: "i-hz-run-4", Owner: hostile})
	hz.Add(verdict.Skipped, verdict.InvalidExpiry, report.Item{ID: "i-hz-bad-1", Owner: hostile,
		Detail: `tag reaper-expires="<img src=x onerror=alert(2)>": not a time`})
	hz.Add(verdict.Skipped, verdict.InvalidExpiry, report.Item{ID: "i-hz-bad-2", Owner: "bob", Detail: `expiry "soon"`})
	hz.Add(verdict.Skipped, verdict.InvalidExpiry, report.Item{ID: "i-hz-bad-3", Owner: "bob", Detail: `expiry "later"`})
	hz.Add(verdict.Skipped, verdict.SecurityLocked, report.Item{ID: "i-hz-lock-1", Owner: "bob", Detail: "security lock"})
	hz.Add(verdict.Skipped, verdict.NotExpired, report.Item{ID: "i-hz-fine-1", Owner: "bob"})
	hz.Sections = report.Sections{"disks": &report.Section{}}
	hz.Section("disks").Add(verdict.Released, "", report.Item{ID: "d-hz-gone-1"})
	hz.Section("disks").Add(verdict.Failed, "IncorrectDiskStatus", report.Item{ID: "d-hz-failed-1", Message: "the disk is attached"})
	hz.Finish()
	hz.LeftoverSummary = &report.LeftoverSummary{Complete: true, Instances: 1, EIPs: 2, Disks: 1, DiskGiB: 40, Snapshots: 3, SnapshotGiB: 120}
	sh := report.NewRegion("cn-shanghai")
	sh.Add(verdict.Skipped, verdict.Running, report.Item{ID: "i-sh-run-1", Owner: "alice"})
	sh.Finish()
	sh.LeftoverSummary = &report.LeftoverSummary{Complete: false, Error: "Throttling: DescribeDisks", Instances: 1, Disks: 1, DiskGiB: 20}
	sg := report.NewRegion("ap-southeast-1")
	sg.Error = &verdict.Failure{Code: "Forbidden.RAM", Message: "no DescribeInstances", RequestID: "req-1"}
	sg.Finish()
	rep.Regions = []*report.Region{hz, sh, sg}
	rep.Total()
	return rep
}

// fixtureForecast: three owners over a week; nothing due on some days.
func fixtureForecast() *engine.Forecast {
	return &engine.Forecast{From: from, Horizon: (7 * 24 * time.Hour).String(), Errors: []string{"eu-central-1: Forbidden.RAM: no"},
		Days: []engine.ForecastDay{
			{Date: "2026-12-06", Owners: map[string]*engine.ForecastOwner{
				"alice": {Counts: engine.ForecastCounts{Notices: 2, Releases: 1}},
				hostile: {Counts: engine.ForecastCounts{Notices: 1, Stops: 1}},
			}},
			{Date: "2026-12-08", Owners: map[string]*engine.ForecastOwner{
				"alice": {Counts: engine.ForecastCounts{Releases: 2}},
				"":      {Counts: engine.ForecastCounts{Releases: 1}},
			}},
		}}
}

func fixturePage() *htmlreport.Page {
	p := htmlreport.FromReport("ecs-reaper plan", fixtureReport())
	htmlreport.AddForecast(p, fixtureForecast())
	return p
}

func render(t *testing.T, p *htmlreport.Page) string {
	t.Helper()
	var buf bytes.Buffer
	if err := htmlreport.Write(&buf, p); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

var (
	tagPattern  = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>`)
	attrPattern = regexp.MustCompile(`\s+([a-zA-Z][a-zA-Z0-9-]*)="([^"<>]*)"`)
	// elements and attributes the page is made of: anything else came
	// from a string that was not escaped.
	elements = []string{"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "p", "section", "table", "thead",
		"tbody", "tr", "th", "td", "span", "ul", "li", "svg", "rect", "line", "text", "footer"}
	attributes = []string{"lang", "charset", "http-equiv", "content", "name", "class", "id", "role", "aria-label", "viewBox",
		"preserveAspectRatio", "x", "y", "x1", "y1", "x2", "y2", "width", "height", "fill", "data-owner", "data-day", "text-anchor"}
)

// checkMarkup fails on any element or attribute the page does not make,
// and on an attribute list that does not parse as name="value" pairs
// (a quote that broke out of its value).
func checkMarkup(t *testing.T, html string) {
	t.Helper()
	if !strings.HasPrefix(html, "<!DOCTYPE html>") {
		t.Errorf("no doctype: %.40q", html)
	}
	body := html[strings.Index(html, "</style>"):] // the CSS holds > and {
	for _, m := range tagPattern.FindAllStringSubmatch(body, -1) {
		if !slices.Contains(elements, m[2]) {
			t.Errorf("unexpected element <%s%s>", m[2], m[3])
		}
		attrs := strings.TrimSuffix(m[3], "/")
		if rest := strings.TrimSpace(attrPattern.ReplaceAllString(attrs, "")); rest != "" {
			t.Errorf("<%s%s>: attributes do not parse, %q left", m[2], m[3], rest)
		}
		for _, a := range attrPattern.FindAllStringSubmatch(attrs, -1) {
			if !slices.Contains(attributes, a[1]) {
				t.Errorf("<%s>: unexpected attribute %s=%q", m[2], a[1], a[2])
			}
		}
	}
}

// TestPageIsSelfContained: the page references nothing outside itself and
// runs no script; its Content-Security-Policy forbids loading anything
// but its inline style.
func TestPageIsSelfContained(t *testing.T) {
	html := render(t, fixturePage())
	checkMarkup(t, html)
	lower := strings.ToLower(html)
	// src= and href= attributes are refused by checkMarkup.
	for _, bad := range []string{"http://", "https://", "//", "<script", "@import", "url(", "@font-face", "<link", "<img", "<iframe", "<object"} {
		if bad == "//" {
			// A protocol-relative reference, anywhere but the CSP's own text.
			if regexp.MustCompile(`["'(=]\s*//`).MatchString(lower) {
				t.Errorf("the page holds a protocol-relative reference")
			}
			continue
		}
		if strings.Contains(lower, bad) {
			t.Errorf("the page holds %q", bad)
		}
	}
	if !strings.Contains(html, `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`) {
		t.Errorf("the page has no Content-Security-Policy that forbids loading")
	}
}

// TestOwnerTagsAreEscaped: an owner tag, an error detail and a region name
// carrying markup and quotes appear as text, in the attention table, the
// timeline's legend, tooltips and data attributes alike.
func TestOwnerTagsAreEscaped(t *testing.T) {
	p := fixturePage()
	p.Title = `plan "<b>x</b>"`
	p.Leftovers = append(p.Leftovers, htmlreport.RegionLeftovers{Region: `"><script>alert(3)</script>`, EIPs: 1})
	html := render(t, p)
	checkMarkup(t, html)
	for _, raw := range []string{"<script>", "<img", "<b>", `onmouseover="`} {
		if strings.Contains(html, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	escaped := `&lt;script&gt;alert(&#34;owned&#34;)&lt;/script&gt;&#39; onmouseover=&#34;alert(1)&#34; x=&#34;`
	if n := strings.Count(html, escaped); n < 4 {
		t.Errorf("the hostile owner appears escaped %d times, want at least 4 (attention, legend, tooltip, data-owner)", n)
	}
	if !strings.Contains(html, `data-owner="`+escaped+`"`) {
		t.Errorf("the hostile owner is not escaped in its data-owner attribute")
	}
	if !strings.Contains(html, `reaper-expires=&#34;&lt;img src=x onerror=alert(2)&gt;&#34;`) {
		t.Errorf("the invalid expiry detail is not shown escaped")
	}
}

// chartOf returns the SVG element with the class.
func chartOf(t *testing.T, html, class string) string {
	t.Helper()
	start := strings.Index(html, `<svg class="`+class+`"`)
	if start < 0 {
		t.Fatalf("no <svg class=%q>", class)
	}
	end := strings.Index(html[start:], "</svg>")
	return html[start : start+end]
}

var segPattern = regexp.MustCompile(`<rect class="seg" [^>]*data-owner="([^"]*)" data-day="([^"]*)"><title>([^<]*)</title>`)

// TestTimelineCharts: one chart per kind, a segment per owner and day with
// something due, stacked by owner, every day of the horizon labelled.
func TestTimelineCharts(t *testing.T) {
	html := render(t, fixturePage())
	want := map[string][]string{
		"notices":  {"alice|2026-12-06|alice: 2 notices on 2026-12-06", "&lt;script&gt;|2026-12-06|1 notice"},
		"stops":    {"&lt;script&gt;|2026-12-06|1 stop"},
		"releases": {"alice|2026-12-06|alice: 1 release on 2026-12-06", "alice|2026-12-08|2 releases", "(no owner tag)|2026-12-08|(no owner tag): 1 release"},
	}
	for kind, segs := range want {
		svg := chartOf(t, html, "timeline timeline-"+kind)
		got := segPattern.FindAllStringSubmatch(svg, -1)
		if len(got) != len(segs) || strings.Count(svg, "<rect") != len(segs) {
			t.Errorf("%s: %d segments (%d rects), want %d:\n%s", kind, len(got), strings.Count(svg, "<rect"), len(segs), svg)
			continue
		}
		for i, s := range segs {
			owner, day, title := got[i][1], got[i][2], got[i][3]
			f := strings.SplitN(s, "|", 3)
			if !strings.HasPrefix(owner, f[0]) || day != f[1] || !strings.Contains(title, f[2]) {
				t.Errorf("%s segment %d: owner %q day %q title %q, want %q", kind, i, owner, day, title, s)
			}
		}
		// Eight days: from Sunday 07:30 for 7 days ends on the next Sunday.
		if n := strings.Count(svg, `class="date"`); n != 8 {
			t.Errorf("%s: %d day labels, want 8", kind, n)
		}
	}
	// The owner with the most events overall (alice) is at the bottom of
	// every stack.
	rel := segPattern.FindAllStringSubmatch(chartOf(t, html, "timeline timeline-releases"), -1)
	if rel[1][1] != "alice" || rel[2][1] != "(no owner tag)" {
		t.Errorf("stack order on 2026-12-08: %s then %s, want alice at the bottom", rel[1][1], rel[2][1])
	}
	// The legend names each owner once with its total.
	for _, s := range []string{"alice (5)", "(no owner tag) (1)"} {
		if !strings.Contains(html, s) {
			t.Errorf("the legend lacks %q", s)
		}
	}
}

// TestTimelineStackHeights: a day's segments stack to its total, on the
// chart's own scale.
func TestTimelineStackHeights(t *testing.T) {
	p := &htmlreport.Page{Title: "t", Timeline: &htmlreport.Timeline{From: from, Horizon: "2 days", Days: []htmlreport.Day{
		{Date: "2026-12-06", Owners: []htmlreport.OwnerDay{{Owner: "a", Releases: 30}, {Owner: "b", Releases: 20}}},
		{Date: "2026-12-07", Owners: []htmlreport.OwnerDay{{Owner: "a", Releases: 100}}},
	}}}
	svg := chartOf(t, render(t, p), "timeline timeline-releases")
	heights := regexp.MustCompile(`<rect class="seg" x="[^"]*" y="([^"]*)" width="[^"]*" height="([^"]*)"`).FindAllStringSubmatch(svg, -1)
	if len(heights) != 3 {
		t.Fatalf("%d segments, want 3", len(heights))
	}
	// Scale 100 over 120 units: 30 → 36, 20 → 24 stacked on it, 100 → 120.
	want := [][2]string{{"106", "36"}, {"82", "24"}, {"22", "120"}}
	for i, h := range heights {
		if h[1] != want[i][0] || h[2] != want[i][1] {
			t.Errorf("segment %d: y %s height %s, want y %s height %s", i, h[1], h[2], want[i][0], want[i][1])
		}
	}
	if !strings.Contains(svg, ">100</text>") || !strings.Contains(svg, ">50</text>") {
		t.Errorf("the axis lacks 100 and 50:\n%s", svg)
	}
}

// TestManyOwnersShareOneColour: beyond the palette, the owners with the
// fewest events are drawn in one colour and named together.
func TestManyOwnersShareOneColour(t *testing.T) {
	var owners []htmlreport.OwnerDay
	for i := range 12 {
		owners = append(owners, htmlreport.OwnerDay{Owner: string(rune('a' + i)), Notices: 20 - i})
	}
	p := &htmlreport.Page{Title: "t", Timeline: &htmlreport.Timeline{From: from, Horizon: "1 day", Days: []htmlreport.Day{{Date: "2026-12-06", Owners: owners}}}}
	html := render(t, p)
	fills := regexp.MustCompile(`<rect class="seg" [^>]*fill="([^"]*)"`).FindAllStringSubmatch(chartOf(t, html, "timeline timeline-notices"), -1)
	distinct := map[string]int{}
	for _, f := range fills {
		distinct[f[1]]++
	}
	if len(fills) != 12 || len(distinct) != 10 || distinct["#bab0ac"] != 3 {
		t.Errorf("%d segments in %d colours (%v), want 12 in 10, 3 of them grey", len(fills), len(distinct), distinct)
	}
	if !strings.Contains(html, "3 other owners (") {
		t.Errorf("the legend does not name the other owners together")
	}
}

// TestRefusedDay: a day whose runs a cap refuses is marked on the
// releases and refused charts, with why, and what it holds back is drawn
// per owner on the refused chart, not as releases.
func TestRefusedDay(t *testing.T) {
	p := &htmlreport.Page{Title: "t", Timeline: &htmlreport.Timeline{From: from, Horizon: "2 days", Days: []htmlreport.Day{
		{Date: "2026-12-06", Owners: []htmlreport.OwnerDay{{Owner: "a", Notices: 3}}},
		{Date: "2026-12-07", Refused: "657 eligible over the count cap of 100: raise REAPER_MAX_RELEASE to 657",
			Owners: []htmlreport.OwnerDay{{Owner: "a", Refused: 600}, {Owner: "b", Refused: 57}}},
	}}}
	html := render(t, p)
	for _, kind := range []string{"releases", "refused"} {
		svg := chartOf(t, html, "timeline timeline-"+kind)
		if n := strings.Count(svg, `<rect class="refused"`); n != 1 || !strings.Contains(svg, "raise REAPER_MAX_RELEASE to 657") {
			t.Errorf("%s: %d refused marks, want 1 with the value to raise:\n%s", kind, n, svg)
		}
	}
	if !strings.Contains(chartOf(t, html, "timeline timeline-releases"), "no releases in these days") {
		t.Errorf("an empty chart does not say so")
	}
	refused := segPattern.FindAllStringSubmatch(chartOf(t, html, "timeline timeline-refused"), -1)
	if len(refused) != 2 || refused[0][3] != "a: 600 refused writes on 2026-12-07" || refused[1][3] != "b: 57 refused writes on 2026-12-07" {
		t.Errorf("refused segments: %q", refused)
	}
	notices := chartOf(t, html, "timeline timeline-notices")
	if strings.Contains(notices, "refused") {
		t.Errorf("the notices chart marks the refused day")
	}
}

// TestAttentionList: what needs a person, most urgent first, the skips
// rolled up per owner across regions.
func TestAttentionList(t *testing.T) {
	p := fixturePage()
	type row struct {
		kind  htmlreport.Kind
		scope string
		owner string
		count int
		text  string
	}
	want := []row{
		{htmlreport.KindFailed, "cn-hangzhou", "", 1, "1 instances failed (Throttling): i-hz-failed-1; rate limited"},
		{htmlreport.KindFailed, "cn-hangzhou", "", 1, "1 disks failed (IncorrectDiskStatus): d-hz-failed-1; the disk is attached"},
		{htmlreport.KindCap, "", "", 0, "raises REAPER_MAX_RELEASE to 150"},
		{htmlreport.KindUnreachable, "ap-southeast-1", "", 0, "Forbidden.RAM: no DescribeInstances (request req-1)"},
		{htmlreport.KindUnreachable, "", "", 0, "not in the forecast: eu-central-1"},
		{htmlreport.KindNotices, "", "", 1, "carol"},
		{htmlreport.KindRunning, "cn-hangzhou, cn-shanghai", "alice", 4, "i-hz-run-1, i-hz-run-2, i-hz-run-3, i-sh-run-1"},
		{htmlreport.KindRunning, "cn-hangzhou", hostile, 1, "i-hz-run-4"},
		// The owner with more first; one instance's detail as an example.
		{htmlreport.KindInvalidExpiry, "cn-hangzhou", "bob", 2, `i-hz-bad-2, i-hz-bad-3 (i-hz-bad-2: expiry "soon")`},
		{htmlreport.KindInvalidExpiry, "cn-hangzhou", hostile, 1, "i-hz-bad-1 (tag reaper-expires="},
		{htmlreport.KindLocked, "cn-hangzhou", "bob", 1, "security-locked: never released: i-hz-lock-1"},
	}
	// The cap's failure is the run's error: it sorts after the write
	// failures only by kind.
	slices.SortStableFunc(want, func(a, b row) int { return int(a.kind) - int(b.kind) })
	if len(p.Attention) != len(want) {
		for _, a := range p.Attention {
			t.Logf("%v %q %q %d %s", a.Kind, a.Scope, a.Owner, a.Count, a.Text)
		}
		t.Fatalf("%d attention items, want %d", len(p.Attention), len(want))
	}
	for i, w := range want {
		a := p.Attention[i]
		if a.Kind != w.kind || a.Scope != w.scope || a.Owner != w.owner || a.Count != w.count || !strings.Contains(a.Text, w.text) {
			t.Errorf("item %d: %v %q %q %d %q\nwant     %v %q %q %d containing %q", i, a.Kind, a.Scope, a.Owner, a.Count, a.Text,
				w.kind, w.scope, w.owner, w.count, w.text)
		}
	}
	html := render(t, p)
	if n := strings.Count(html, `<tr class="kind-`); n != len(want) {
		t.Errorf("%d attention rows on the page, want %d", n, len(want))
	}
	// A region's name does not break at its hyphens; a list breaks after
	// its commas.
	if !strings.Contains(html, `<td><span class="nw">cn-hangzhou</span>, <span class="nw">cn-shanghai</span></td>`) {
		t.Errorf("the regions of an attention row are not kept whole")
	}
	quiet := render(t, &htmlreport.Page{Title: "t"})
	if !strings.Contains(quiet, "Nothing needs a person.") || strings.Contains(quiet, `<tr class="kind-`) {
		t.Errorf("a page with nothing to attend to does not say so")
	}
}

// TestAttentionNamesFewIDs: an owner with many instances is one row with
// the count and the first IDs.
func TestAttentionNamesFewIDs(t *testing.T) {
	r := report.NewRegion("cn-hangzhou")
	for i := range 480 {
		r.Add(verdict.Skipped, verdict.Running, report.Item{ID: "i-" + string(rune('a'+i/26%26)) + string(rune('a'+i%26)) + strings.Repeat("x", i/676), Owner: "ops"})
	}
	r.Finish()
	rep := &report.Report{Regions: []*report.Region{r}}
	rep.Total()
	p := htmlreport.FromReport("t", rep)
	if len(p.Attention) != 1 || p.Attention[0].Count != 480 || !strings.HasSuffix(p.Attention[0].Text, "i-ae and 475 more") {
		t.Errorf("attention: %+v", p.Attention)
	}
}

// TestLeftoverChart: a bar per kind left billed in each region, none for a
// kind with nothing; a short count says why.
func TestLeftoverChart(t *testing.T) {
	html := render(t, fixturePage())
	svg := chartOf(t, html, "leftovers")
	for class, n := range map[string]int{"bar bar-eips": 1, "bar bar-disks": 2, "bar bar-snapshots": 1} {
		if got := strings.Count(svg, `<rect class="`+class+`"`); got != n {
			t.Errorf("%d %q bars, want %d", got, class, n)
		}
	}
	for _, s := range []string{">cn-hangzhou</text>", ">cn-shanghai</text>", ">2 EIPs</text>", ">1 disk, 40 GiB</text>", ">3 snapshots, 120 GiB</text>", ">0 EIPs</text>"} {
		if !strings.Contains(svg, s) {
			t.Errorf("the leftover chart lacks %q", s)
		}
	}
	if strings.Contains(svg, "ap-southeast-1") {
		t.Errorf("a region that released nothing has a row")
	}
	// The widest bar (3 snapshots) spans the chart; 1 disk is a third.
	widths := regexp.MustCompile(`<rect class="bar bar-(\w+)" x="170" y="[^"]*" width="([^"]*)"`).FindAllStringSubmatch(svg, -1)
	got := map[string]string{}
	for _, w := range widths {
		if _, ok := got[w[1]]; !ok {
			got[w[1]] = w[2]
		}
	}
	if got["snapshots"] != "680" || got["disks"] != "226.7" {
		t.Errorf("bar widths %v, want snapshots 680 and disks 226.7", got)
	}
	if !strings.Contains(html, "cn-shanghai: may be short: Throttling: DescribeDisks") {
		t.Errorf("a leftover count that may be short does not say so")
	}
}

// TestSummary: the run's facts, in words.
func TestSummary(t *testing.T) {
	html := render(t, fixturePage())
	for _, s := range []string{"plan@2026-12-06T07:30:00Z (dry run: nothing written)", "300 seen, 290 opted in", "would-release 1, failed 1, skipped 10", "Kind disks</th><td>released 1, failed 1",
		"caps 100 and 50%: OVER A CAP: nothing released", "4 owed to 2 owners", "2 released instances leave 2 EIPs, 2 disks (60 GiB) and 3 snapshots (120 GiB) billed",
		"Forecast from 2026-12-06 07:30 UTC for 7 days"} {
		if !strings.Contains(html, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	// A finished run's page has no timeline.
	if html := render(t, htmlreport.FromReport("run", fixtureReport())); strings.Contains(html, `class="timeline`) {
		t.Errorf("a report's page has a timeline")
	}
}

// TestAddForecastFillsTheHorizon: days with nothing due are on the
// timeline too, so the bars sit on their dates.
func TestAddForecastFillsTheHorizon(t *testing.T) {
	p := &htmlreport.Page{}
	htmlreport.AddForecast(p, fixtureForecast())
	var dates []string
	for _, d := range p.Timeline.Days {
		dates = append(dates, d.Date)
	}
	want := []string{"2026-12-06", "2026-12-07", "2026-12-08", "2026-12-09", "2026-12-10", "2026-12-11", "2026-12-12", "2026-12-13"}
	if !slices.Equal(dates, want) {
		t.Errorf("days %v, want %v", dates, want)
	}
	if d := p.Timeline.Days[2]; len(d.Owners) != 2 || d.Owners[0].Owner != "" || d.Owners[0].Releases != 1 || d.Owners[1].Releases != 2 {
		t.Errorf("2026-12-08: %+v", d.Owners)
	}
	// A horizon ending at midnight does not add the next day.
	p = &htmlreport.Page{}
	htmlreport.AddForecast(p, &engine.Forecast{From: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Horizon: "48h0m0s"})
	if len(p.Timeline.Days) != 2 || p.Timeline.Horizon != "2 days" {
		t.Errorf("48h from midnight: %+v", p.Timeline)
	}
}

// TestLongHorizonLabels: a month of days labels every few days, so the
// labels do not overlap, and still draws a bar on every day.
func TestLongHorizonLabels(t *testing.T) {
	p := &htmlreport.Page{}
	htmlreport.AddForecast(p, &engine.Forecast{From: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Horizon: (31 * 24 * time.Hour).String()})
	for i := range p.Timeline.Days {
		p.Timeline.Days[i].Owners = []htmlreport.OwnerDay{{Owner: "a", Releases: 1}}
	}
	svg := chartOf(t, render(t, p), "timeline timeline-releases")
	labels := regexp.MustCompile(`<text class="date" x="([^"]*)"`).FindAllStringSubmatch(svg, -1)
	if n := strings.Count(svg, `<rect class="seg"`); n != 31 {
		t.Errorf("%d bars, want 31", n)
	}
	if len(labels) < 10 || len(labels) > 16 {
		t.Errorf("%d day labels for 31 days, want one every 2 or 3 days", len(labels))
	}
	var last float64 = -100
	for _, l := range labels {
		var x float64
		if _, err := fmt.Sscan(l[1], &x); err != nil {
			t.Fatal(err)
		}
		if x-last < 60 {
			t.Errorf("day labels %v and %v overlap", last, x)
		}
		last = x
	}
}

// TestForecastRefusal: the runs the caps refuse are drawn as refused, not
// as releases, their day marked with the value that passes, and the
// first refusal leads the attention list's cap rows.
func TestForecastRefusal(t *testing.T) {
	at := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	refusal := &engine.ForecastRefusal{At: at, Eligible: 657, Explain: "657 instances eligible, over the count cap of 100", NeedMaxRelease: 657}
	fc := &engine.Forecast{From: from, Horizon: "48h0m0s", Refused: refusal, Totals: engine.ForecastCounts{Refused: 657},
		Days: []engine.ForecastDay{
			{Date: "2026-12-06", Owners: map[string]*engine.ForecastOwner{"a": {Counts: engine.ForecastCounts{Notices: 657}}}},
			{Date: "2026-12-07", Refused: refusal, Owners: map[string]*engine.ForecastOwner{
				"a": {Counts: engine.ForecastCounts{Refused: 600}}, "b": {Counts: engine.ForecastCounts{Refused: 57}}}},
		}}
	p := &htmlreport.Page{}
	htmlreport.AddForecast(p, fc)
	if len(p.Attention) != 1 || p.Attention[0].Kind != htmlreport.KindCap || p.Attention[0].Count != 657 ||
		!strings.Contains(p.Attention[0].Text, "from 2026-12-07 03:00 UTC every run refuses") ||
		!strings.Contains(p.Attention[0].Text, "REAPER_MAX_RELEASE is at least 657") {
		t.Errorf("attention: %+v", p.Attention)
	}
	html := render(t, p)
	releases := chartOf(t, html, "timeline timeline-releases")
	if strings.Contains(releases, `<rect class="seg"`) || !strings.Contains(releases, "REAPER_MAX_RELEASE is at least 657") {
		t.Errorf("the releases chart draws refused writes as releases, or does not say what passes:\n%s", releases)
	}
	if n := strings.Count(chartOf(t, html, "timeline timeline-refused"), `<rect class="seg"`); n != 2 {
		t.Errorf("%d refused segments, want 2", n)
	}
}

// TestInterruptedRun: a run the operator interrupted leads the attention
// list as interrupted, with what was not done; its regions are not called
// unreachable.
func TestInterruptedRun(t *testing.T) {
	r := report.NewRegion("cn-hangzhou")
	r.Error = &verdict.Failure{Code: string(verdict.Interrupted), Message: "interrupted by the operator"}
	r.Add(verdict.Released, "", report.Item{ID: "i-1"})
	r.Add(verdict.Interrupted, verdict.NotStarted, report.Item{ID: "i-2"})
	r.Add(verdict.Interrupted, verdict.EffectUnknown, report.Item{ID: "i-3"})
	r.Finish()
	rep := &report.Report{Regions: []*report.Region{r}, Error: "interrupted: 2 writes not done; the next run re-reads everything"}
	rep.Total()
	p := htmlreport.FromReport("run", rep)
	if len(p.Attention) != 1 || p.Attention[0].Kind != htmlreport.KindInterrupted || p.Attention[0].Count != 2 ||
		!strings.Contains(p.Attention[0].Text, "the next run re-reads everything") {
		t.Errorf("attention: %+v", p.Attention)
	}
	if !strings.Contains(render(t, p), `<tr class="kind-interrupted">`) {
		t.Errorf("the page has no interrupted row")
	}
}
