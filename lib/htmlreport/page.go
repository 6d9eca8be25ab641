// Package htmlreport renders a plan or a finished run as one self-contained HTML
// page: the summary, what needs a person, a timeline of the coming days
// and the leftovers per region, the charts drawn in inline SVG. The page
// loads nothing (no scripts, fonts, styles or images from elsewhere; its
// Content-Security-Policy forbids them) and every string in it, tags
// above all, is escaped by html/template.
package htmlreport

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

// Page is what the page shows. Build it with FromReport and AddForecast,
// or fill it directly.
type Page struct {
	// Title names what the page is of ("ecs-reaper plan").
	Title     string
	Generated time.Time
	Summary   []Fact
	// Attention is what needs a person, most urgent kind first.
	Attention []Attention
	// Timeline is the forecast; nil when the page has none (a finished
	// run's report).
	Timeline *Timeline
	// Leftovers is what the released instances leave billed, by region;
	// nil when the page has no report.
	Leftovers []RegionLeftovers
}

// Fact is one line of the summary.
type Fact struct{ Label, Value string }

// Attention is one thing that needs a person.
type Attention struct {
	Kind  Kind
	Scope string // region (and account), "" for the whole run
	Owner string // "" when not about one owner
	Count int    // resources concerned, 0 when not countable
	Text  string
}

// Kind is what sort of attention an item needs; the order of the
// constants is the page's order.
type Kind int

// Kinds of attention, most urgent first.
const (
	KindInterrupted   Kind = iota // the operator stopped the run (Ctrl-C)
	KindFailed                    // the run or writes failed
	KindCap                       // a cap refused (or will refuse) the releases
	KindUnreachable               // a scope could not be listed
	KindIncomplete                // the run stopped before the end
	KindNotices                   // notices owed and not sent
	KindRunning                   // expired, but Running under REAPER_RUNNING=skip
	KindInvalidExpiry             // an expiry tag the rules cannot read
	KindLocked                    // locked (security or otherwise): never released
)

// String is the kind's label on the page.
func (k Kind) String() string {
	switch k {
	case KindInterrupted:
		return "interrupted"
	case KindFailed:
		return "failed"
	case KindCap:
		return "cap"
	case KindUnreachable:
		return "unreachable"
	case KindIncomplete:
		return "incomplete"
	case KindNotices:
		return "notices"
	case KindRunning:
		return "expired, running"
	case KindInvalidExpiry:
		return "invalid expiry tag"
	case KindLocked:
		return "locked"
	}
	return fmt.Sprintf("kind %d", int(k))
}

// Class is the kind as a CSS class name.
func (k Kind) Class() string {
	return strings.ReplaceAll(strings.ReplaceAll(k.String(), ",", ""), " ", "-")
}

// Timeline is what the coming days bring, per day (UTC) and owner.
type Timeline struct {
	From    time.Time
	Horizon string
	// Days are every day of the horizon, those with nothing due included.
	Days []Day
}

// Day is one day of the timeline.
type Day struct {
	Date   string // 2006-01-02
	Owners []OwnerDay
	// Refused says why the runs of this day release nothing (a cap), with
	// the value to raise; "" when they do not refuse.
	Refused string
}

// OwnerDay is one owner's part of a day ("" for no owner tag). Refused
// counts the releases and stops a cap holds back.
type OwnerDay struct {
	Owner                             string
	Notices, Stops, Releases, Refused int
}

// RegionLeftovers is what one region's released instances leave billed.
type RegionLeftovers struct {
	Region      string
	Instances   int
	EIPs        int
	Disks       int
	DiskGiB     int
	Snapshots   int
	SnapshotGiB int
	// Error says why the count may be short (a listing failed).
	Error string
}

//go:embed page.html.tmpl
var pageTemplate string

var tmpl = template.Must(template.New("page").Funcs(template.FuncMap{
	"scopes": func(s string) []string { return strings.Split(s, ", ") },
}).Parse(pageTemplate))

// view is what the template reads: the page and its charts' geometry.
type view struct {
	*Page
	Generated string
	Timeline  []chart
	Legend    []legendEntry
	Leftovers *chart
}

// Write renders p as HTML to w.
func Write(w io.Writer, p *Page) error {
	v := view{Page: p}
	if !p.Generated.IsZero() {
		v.Generated = p.Generated.UTC().Format(time.RFC3339)
	}
	if p.Timeline != nil {
		v.Timeline, v.Legend = timelineCharts(p.Timeline)
	}
	if p.Leftovers != nil {
		v.Leftovers = leftoverChart(p.Leftovers)
	}
	// Rendered whole before writing: a template error leaves no half page.
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return fmt.Errorf("page: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ownerName is how the page names an owner.
func ownerName(owner string) string {
	if owner == "" {
		return "(no owner tag)"
	}
	return owner
}
