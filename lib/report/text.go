package report

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// WriteText writes rep for people: per region a table of instances
// (ID, outcome, reason, detail) and the write batches, then a
// summary of totals, API calls, the cap check, duration and completeness.
// The JSON report stays the machine-readable form; this one is for terminals.
func WriteText(w io.Writer, rep *Report) error {
	return WriteTextWith(w, rep, TextOptions{})
}

// TextOptions shape the table for a person.
type TextOptions struct {
	// Rows is the most instance rows per region; the rest are counted.
	// 0 means DefaultRows; negative means all.
	Rows int
	// Width is the columns the text may use: tables give up the detail
	// first, then columns; long cells end in "…". 0 is no limit.
	Width int
	// Wide keeps every cell whole whatever the width (--wide).
	Wide bool
	// ByOwner adds one line per owner with the counts of their outcomes.
	ByOwner bool
	// Only names the --only filter the report was cut to ("" for none), so
	// that a region with nothing left says it was filtered.
	Only string
}

// DefaultRows keeps a large run's table readable; --json has every row.
const DefaultRows = 50

// detailWidth cuts the detail column whatever the width, unless wide; the
// JSON report has it whole.
const detailWidth = 100

// WriteTextWith writes what needs a person first, then the summary, then
// each region's instances (at most opts.Rows of them, the rest counted),
// batches and leftovers.
func WriteTextWith(w io.Writer, rep *Report, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	if rep == nil {
		fmt.Fprintln(bw, "no report")
		return bw.Flush()
	}
	mode := "release"
	if rep.DryRun {
		mode = "dry run"
	}
	fmt.Fprintf(bw, "Run %s (%s), started %s\n", rep.RunID, mode, rep.StartedAt.UTC().Format(time.RFC3339))
	if rep.Credentials != "" {
		fmt.Fprintf(bw, "Credentials from %s\n", rep.Credentials)
	}
	several := len(rep.Accounts) > 1
	writeAttention(bw, rep, opts)
	if several {
		writeAccounts(bw, rep.Accounts, rep.AccountsSkipped)
	}
	writeSummary(bw, rep, opts)
	if opts.ByOwner {
		writeByOwner(bw, rep, opts)
	}
	rows := opts.Rows
	if rows == 0 {
		rows = DefaultRows
	}
	for _, r := range rep.Regions {
		writeRegion(bw, rep, r, rows, opts, several)
	}
	return bw.Flush()
}

// detailOf is a row's detail, with a run-wide error (the cap's, repeated
// on every held row) said once above instead of on each row.
func detailOf(rep *Report, it Item) string {
	d := oneLine(itemDetail(it))
	if rep.Error != "" && len(d) > 30 && strings.Contains(oneLine(rep.Error), d) {
		return "see the error above"
	}
	return d
}

// writeAccounts leads a run over several accounts: one line each, its
// status, counts, cap check and leftovers, and why it failed.
func writeAccounts(w *bufio.Writer, accounts []*Account, skipped []SkippedAccount) {
	fmt.Fprintln(w, "Accounts")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ACCOUNT\tSTATUS\tREGIONS\tSEEN\tOPTED IN\tOUTCOMES\tCAP\tLEFT BEHIND\tDETAIL")
	for _, a := range accounts {
		capText := "-"
		if c := a.Cap; c != nil {
			capText = fmt.Sprintf("%d of %d / %s%%", c.Eligible, c.MaxRelease, strconv.FormatFloat(c.MaxReleasePercent, 'f', -1, 64))
			if c.Exceeded {
				capText += " EXCEEDED"
			}
		}
		left := "-"
		if a.Leftovers != nil {
			left = leftoverLine(a.Leftovers)
		}
		detail := "-"
		if a.Error != nil {
			detail = failureText(a.Error)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", dash(a.Account), a.Status, len(a.Regions), a.Seen, a.OptedIn,
			counts(a.Outcomes), capText, cut(left, 60), cut(oneLine(detail), detailWidth))
	}
	_ = tw.Flush()
	if len(skipped) > 0 {
		names := make([]string, len(skipped))
		for i, s := range skipped {
			names[i] = s.Account + " (" + s.Reason + ")"
		}
		fmt.Fprintf(w, "  not swept: %s\n", cut(strings.Join(names, ", "), 400))
	}
}

func writeRegion(w *bufio.Writer, rep *Report, r *Region, rows int, opts TextOptions, withAccount bool) {
	state := "complete"
	switch {
	case r.Error != nil && r.Error.Code == string(verdict.Interrupted):
		state = "INTERRUPTED"
	case r.Error != nil:
		state = "FAILED"
	case !r.Complete:
		state = "INCOMPLETE"
	}
	name := r.Region
	if withAccount && r.Account != "" {
		name = r.Account + "/" + r.Region
	}
	fmt.Fprintf(w, "\nRegion %s: %d seen, %d opted in, %s", name, r.Seen, r.OptedIn, state)
	if r.Discovery != "" {
		fmt.Fprintf(w, ", listed by %s", r.Discovery)
	}
	fmt.Fprintln(w)
	if r.Error != nil {
		fmt.Fprintf(w, "  error: %s\n", fit(failureText(r.Error), opts.Width-10, opts.Wide))
	}
	switch {
	case len(r.Groups) > 0:
		tb := &table{indent: "  ", head: []string{"INSTANCE", "NAME", "OWNER", "EXPIRES", "STATUS", "OUTCOME", "REASON", "DETAIL"},
			flex: 7, drop: []int{1, 4, 3, 2}}
		shown, total := 0, 0
		prev := ""
		for _, g := range r.Groups {
			for _, it := range g.Instances {
				total++
				if rows >= 0 && shown >= rows {
					continue
				}
				shown++
				reason := g.Reason
				if reason == "" {
					reason = "-"
				}
				f := it.Facts.get()
				detail := detailOf(rep, it)
				if detail == prev && detail != "-" && !opts.Wide {
					detail = "〃 (as above)"
				} else {
					prev = detail
				}
				name, owner := dash(f.Name), dash(it.Owner)
				if !opts.Wide {
					name, owner, detail = cut(name, 32), cut(owner, 24), cut(detail, detailWidth)
				}
				tb.add(it.ID, name, owner, dash(it.Facts.Expires()), dash(f.Status), string(g.Outcome), string(reason), detail)
			}
		}
		tb.write(w, opts.Width, opts.Wide || opts.Width == 0)
		if shown < total {
			fmt.Fprintf(w, "  … and %d more (counts above; --all for every row, --only to filter, --json for the whole report)\n", total-shown)
		}
	case r.Error != nil && r.Error.Code == string(verdict.Interrupted):
		fmt.Fprintln(w, "  not listed to the end: the run was interrupted, so nothing was written here")
	case r.Error != nil:
		fmt.Fprintln(w, "  the region failed (the error above): nothing was decided or written here")
	case opts.Only != "" && r.OptedIn > 0:
		fmt.Fprintf(w, "  none of its %d opted-in instances matches --only %s\n", r.OptedIn, opts.Only)
	default:
		fmt.Fprintln(w, "  no opted-in instances")
	}
	switch n := unlisted(r); {
	case n == 0:
	case n == r.unlistedOf(verdict.Skipped):
		fmt.Fprintf(w, "  %d more skipped are counted, not listed (%s): each one's decision is in the log's \"page decisions\" records\n", n, countList(r.Unlisted))
	default:
		fmt.Fprintf(w, "  %d more are counted, not listed (%s): an organisation's report lists by ID only part; the account's own report lists the rest\n", n, countList(r.Unlisted))
	}
	if len(r.Batches) > 0 {
		fmt.Fprintln(w, "  Write batches (DeleteInstances unless named):")
		tb := &table{indent: "    ", head: []string{"IDS", "FLAGS", "RESULT", "ATTEMPTS", "CLIENT TOKEN", "REQUEST IDS"}, flex: 1, drop: []int{4, 5, 3}, flexLast: true}
		for _, b := range r.Batches {
			result := b.Result
			if b.Code != "" {
				result += " (" + b.Code + ")"
			}
			reqs := strings.Join(b.RequestIDs, ",")
			if reqs == "" {
				reqs = "-"
			}
			tb.add(strconv.Itoa(len(b.InstanceIDs)), batchFlags(b), result, strconv.Itoa(b.Attempts), b.ClientToken, reqs)
		}
		tb.write(w, opts.Width, opts.Wide || opts.Width == 0)
	}
	if r.UnlistedBatches > 0 {
		fmt.Fprintf(w, "  %d more write batches are counted, not listed: the account's own report lists them\n", r.UnlistedBatches)
	}
	if s := r.LeftoverSummary; s != nil {
		fmt.Fprintf(w, "  Left behind, still billed: %s\n", fit(leftoverLine(s), opts.Width-30, opts.Wide))
		tb := &table{indent: "    ", head: []string{"INSTANCE", "LEFT BEHIND"}, flex: 1}
		for _, l := range r.Leftovers {
			var parts []string
			for _, e := range l.EIPs {
				parts = append(parts, "EIP "+e.AllocationID+" ("+e.Address+")")
			}
			for _, d := range l.Disks {
				parts = append(parts, fmt.Sprintf("disk %s (%d GiB %s)", d.ID, d.SizeGiB, d.Category))
			}
			for _, sn := range l.Snapshots {
				parts = append(parts, fmt.Sprintf("%s snapshot %s (%d GiB)", sn.Type, sn.ID, sn.SizeGiB))
			}
			tb.add(l.InstanceID, strings.Join(parts, ", "))
		}
		if len(tb.rows) > 0 {
			tb.write(w, opts.Width, opts.Wide || opts.Width == 0)
		}
		if s.Unlisted > 0 {
			fmt.Fprintf(w, "    the leftovers of %d more instances are counted, not listed: the account's own report lists them\n", s.Unlisted)
		}
	}
	for _, name := range r.Sections.Names() {
		fmt.Fprintf(w, "  %s:\n", name)
		tb := &table{indent: "    ", head: []string{"ID", "OUTCOME", "REASON", "DETAIL"}, flex: 3}
		prev := ""
		for _, g := range r.Sections[name].Groups {
			for _, it := range g.Instances {
				reason := g.Reason
				if reason == "" {
					reason = "-"
				}
				detail := detailOf(rep, it)
				if detail == prev && detail != "-" && !opts.Wide {
					detail = "〃 (as above)"
				} else {
					prev = detail
				}
				tb.add(it.ID, string(g.Outcome), string(reason), detail)
			}
		}
		if len(tb.rows) > 0 {
			tb.write(w, opts.Width, opts.Wide || opts.Width == 0)
		}
	}
}

func leftoverLine(s *LeftoverSummary) string {
	if s.Instances == 0 && s.Complete {
		return "nothing"
	}
	line := fmt.Sprintf("%d instances leave %d EIPs, %d disks (%d GiB) and %d snapshots (%d GiB)", s.Instances, s.EIPs, s.Disks, s.DiskGiB, s.Snapshots, s.SnapshotGiB)
	if !s.Complete {
		line += "; INCOMPLETE: " + s.Error
	}
	return line
}

// writeAttention says first what needs a person: an interruption, the
// caps, failed writes, regions that could not be swept, notices not
// sent, expired instances left Running, owners with expiry tags the rules
// cannot read, locked instances. Nothing when nothing does.
func writeAttention(w *bufio.Writer, rep *Report, opts TextOptions) {
	var lines []string
	add := func(format string, a ...any) { lines = append(lines, fmt.Sprintf(format, a...)) }
	reasons := allReasons(rep)
	if Interrupted(rep) {
		add("INTERRUPTED: %d writes or notices not done (%d not started, %d in flight whose effect is unknown); everything else happened as reported, and the next run re-reads everything",
			reasons.outcome(verdict.Interrupted), reasons.n(verdict.Interrupted, verdict.NotStarted), reasons.n(verdict.Interrupted, verdict.EffectUnknown))
	}
	if c := rep.Cap; c != nil && c.Exceeded {
		add("CAP EXCEEDED: nothing was written anywhere: %s. Every later run refuses the same way until a cap is raised (the error below says to what)", c.Explain())
	}
	var held []string
	for _, a := range rep.Accounts {
		if a.Status != "" && a.Status != AccountSwept {
			why := a.Status
			if a.Error != nil {
				why += ", " + a.Error.Code
			}
			held = append(held, a.Account+" ("+why+")")
		}
	}
	if len(held) > 0 {
		add("ACCOUNTS NOT SWEPT: %d accounts, nothing was written there: %s", len(held), strings.Join(held, ", "))
	}
	var failedRegions []string
	for _, r := range rep.Regions {
		if r.Error != nil && r.Error.Code != string(verdict.Interrupted) {
			where := r.Region
			if len(rep.Accounts) > 1 && r.Account != "" {
				where = r.Account + "/" + r.Region
			}
			failedRegions = append(failedRegions, where+" ("+r.Error.Code+")")
		}
	}
	if len(failedRegions) > 0 {
		add("NOT SWEPT: %d regions could not be listed or were stopped, nothing was written there: %s", len(failedRegions), strings.Join(failedRegions, ", "))
	}
	if n := reasons.outcome(verdict.Failed); n > 0 {
		add("FAILED: %d writes failed (--only failed lists them): %s", n, reasons.of(verdict.Failed))
	}
	if n := rep.Notices; n != nil && n.UnsentItems > 0 {
		add("NOTICES NOT SENT: %s", n.Explain())
	}
	if n := reasons.n(verdict.Skipped, verdict.Running); n > 0 {
		add("RUNNING: %d expired instances are skipped because they run; under REAPER_RUNNING=skip they never go while they run (stop them, or set REAPER_RUNNING=stop) — --only skipped/running", n)
	}
	if owners := ownersWith(rep, verdict.Skipped, verdict.InvalidExpiry); len(owners) > 0 {
		add("INVALID EXPIRY TAGS: %d instances of %d owners carry an expiry the rules cannot read, so they are never released: %s — --only skipped/invalid-expiry",
			reasons.n(verdict.Skipped, verdict.InvalidExpiry), len(owners), ownerCounts(owners, 8))
	}
	if n := reasons.n(verdict.Skipped, verdict.SecurityLocked) + reasons.n(verdict.Skipped, verdict.Locked); n > 0 {
		add("LOCKED: %d instances are locked (a security lock, or another lock reason) and are never released while locked — --only skipped/security-locked,skipped/locked", n)
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintln(w, "Needs attention")
	for _, l := range lines {
		if !opts.Wide && opts.Width > 0 {
			l = wrap(l, opts.Width-5, "    ")
		}
		fmt.Fprintf(w, "  %s\n", l)
	}
}

// reasonCounts are the report's "outcome" and "outcome/reason" counts over
// every kind.
type reasonCounts map[string]int

func allReasons(rep *Report) reasonCounts {
	c := reasonCounts{}
	for _, m := range append([]map[string]int{rep.Totals.Outcomes, rep.Totals.Reasons}, slices.Collect(maps.Values(rep.Totals.Kinds))...) {
		for k, n := range m {
			c[k] += n
		}
	}
	return c
}

func (c reasonCounts) outcome(o verdict.Outcome) int { return c[string(o)] }
func (c reasonCounts) n(o verdict.Outcome, r verdict.Reason) int {
	return c[string(o)+"/"+string(r)]
}

// of lists an outcome's reasons with their counts.
func (c reasonCounts) of(o verdict.Outcome) string {
	m := map[string]int{}
	for k, n := range c {
		if reason, ok := strings.CutPrefix(k, string(o)+"/"); ok {
			m[reason] = n
		}
	}
	return oneLine(counts(m))
}

// ownersWith counts, by owner, the instances with outcome and reason.
func ownersWith(rep *Report, o verdict.Outcome, reason verdict.Reason) map[string]int {
	out := map[string]int{}
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			if g.Outcome == o && g.Reason == reason {
				for _, it := range g.Instances {
					out[it.Owner]++
				}
			}
		}
	}
	return out
}

// ownerCounts names the owners with the most first, then counts the rest.
func ownerCounts(m map[string]int, most int) string {
	owners := slices.Collect(maps.Keys(m))
	slices.SortFunc(owners, func(a, b string) int {
		if d := m[b] - m[a]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for i, o := range owners {
		if i == most {
			parts = append(parts, fmt.Sprintf("and %d more owners", len(owners)-most))
			break
		}
		name := o
		if name == "" {
			name = "(no owner tag)"
		}
		parts = append(parts, fmt.Sprintf("%s %d", name, m[o]))
	}
	return strings.Join(parts, ", ")
}

// writeByOwner writes one line per owner with the counts of their
// instances' outcomes (--by owner).
func writeByOwner(w *bufio.Writer, rep *Report, opts TextOptions) {
	byOwner := map[string]map[string]int{}
	add := func(owner, key string) {
		if byOwner[owner] == nil {
			byOwner[owner] = map[string]int{}
		}
		byOwner[owner][key]++
	}
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			key := string(g.Outcome)
			if g.Reason != "" {
				key += "/" + string(g.Reason)
			}
			for _, it := range g.Instances {
				add(it.Owner, key)
			}
		}
	}
	fmt.Fprintf(w, "By owner (%d owners)\n", len(byOwner))
	owners := slices.Sorted(maps.Keys(byOwner))
	tb := &table{indent: "  ", head: []string{"OWNER", "INSTANCES", "OUTCOMES"}, flex: 2}
	for _, o := range owners {
		name := o
		if name == "" {
			name = "(no owner tag)"
		}
		total := 0
		for _, n := range byOwner[o] {
			total += n
		}
		tb.add(name, strconv.Itoa(total), oneLine(counts(byOwner[o])))
	}
	tb.write(w, opts.Width, opts.Wide || opts.Width == 0)
}

func writeSummary(w *bufio.Writer, rep *Report, opts TextOptions) {
	t := rep.Totals
	line := func(label, text string) {
		if !opts.Wide && opts.Width > 0 {
			text = wrap(text, opts.Width-15, "              ")
		}
		fmt.Fprintf(w, "  %-11s %s\n", label, text)
	}
	fmt.Fprintf(w, "Summary\n")
	line("instances:", fmt.Sprintf("%d seen, %d opted in", t.Seen, t.OptedIn))
	countLine := func(label string, m map[string]int) {
		if !opts.Wide && opts.Width > 0 {
			line(label, oneLine(counts(m)))
			return
		}
		fmt.Fprintf(w, "  %-11s %s\n", label, counts(m))
	}
	countLine("outcomes:", t.Outcomes)
	if len(t.Reasons) > 0 {
		countLine("reasons:", t.Reasons)
	}
	line("API calls:", fmt.Sprintf("%s; %d write batches", oneLine(counts(t.Calls)), t.Batches))
	if rep.Leftovers != nil {
		line("left behind:", leftoverLine(rep.Leftovers))
	}
	for _, name := range slices.Sorted(maps.Keys(t.Kinds)) {
		if len(t.Kinds[name]) > 0 {
			countLine(name+":", t.Kinds[name])
		}
	}
	if n := rep.Notices; n != nil {
		text := fmt.Sprintf("%d owed to %d owners; %d owners told and marked", n.Owed, n.Owners, n.Delivered)
		if n.UnsentItems > 0 {
			text += "; NOT SENT: " + n.Explain()
		}
		line("notices:", cut(text, 400))
	}
	if p := rep.Partial; p != nil {
		line("partial:", cut(p.Note, 600))
	}
	if n := t.Accounts; len(n) > 0 {
		fmt.Fprintf(w, "  accounts:   %s\n", counts(n))
	}
	if c := rep.Cap; c != nil {
		verdict := "within the caps"
		if c.Exceeded {
			verdict = "EXCEEDED, nothing released"
		}
		label := "cap check:"
		if len(rep.Accounts) > 1 {
			label = "organisation cap check:"
		}
		line(label, fmt.Sprintf("%d eligible of %d opted in (%.1f%%); caps %d instances and %s%%: %s",
			c.Eligible, c.OptedIn, c.Percent, c.MaxRelease, strconv.FormatFloat(c.MaxReleasePercent, 'f', -1, 64), verdict))
	}
	line("duration:", (time.Duration(rep.DurationMS) * time.Millisecond).String())
	// One account of why the run is not complete, agreeing with the error.
	switch {
	case rep.Complete:
		line("complete:", "yes")
	case Interrupted(rep):
		line("complete:", "NO: interrupted (the next run re-reads everything)")
	case rep.Cap != nil && rep.Cap.Exceeded:
		line("complete:", "NO: the caps held back every write, and every run will until one is raised")
	case rep.Error != "":
		line("complete:", "NO: the run failed (the error below)")
	default:
		line("complete:", "NO (the next run picks up what was left)")
	}
	if rep.Error != "" {
		line("error:", cut(oneLine(rep.Error), 800))
	}
}

// wrap breaks s into lines of at most width columns at spaces, each after
// the first starting with indent.
func wrap(s string, width int, indent string) string {
	if width < 20 {
		return s
	}
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		l := len([]rune(word))
		if i > 0 {
			if n+1+l > width {
				b.WriteString("\n" + indent)
				n = 0
			} else {
				b.WriteString(" ")
				n++
			}
		}
		b.WriteString(word)
		n += l
	}
	return b.String()
}

// itemDetail is the detail column: the decision's explanation, or the API
// failure for a failed release.
func itemDetail(it Item) string {
	var parts []string
	if it.Detail != "" {
		parts = append(parts, it.Detail)
	}
	if it.Code != "" {
		f := it.Code
		if it.Message != "" {
			f += ": " + it.Message
		}
		if it.RequestID != "" {
			f += " (request " + it.RequestID + ")"
		}
		parts = append(parts, f)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}

func failureText(f *verdict.Failure) string {
	s := f.Code
	if f.Message != "" {
		s += ": " + f.Message
	}
	if f.RequestID != "" {
		s += " (request " + f.RequestID + ")"
	}
	return oneLine(s)
}

func batchFlags(b *Batch) string {
	var fs []string
	if b.Action != "" && b.Action != "DeleteInstances" {
		fs = append(fs, b.Action)
	}
	if b.Flags != nil {
		fs = append(fs, "TerminateSubscription="+strconv.FormatBool(b.Flags.TerminateSubscription),
			"Force="+strconv.FormatBool(b.Flags.Force))
	}
	if b.ForceStop != nil {
		fs = append(fs, "ForceStop="+strconv.FormatBool(*b.ForceStop))
	}
	// A tag write names its key (which mark), not its signed value.
	for _, k := range slices.Sorted(maps.Keys(b.Tags)) {
		fs = append(fs, "tag "+k)
	}
	fs = append(fs, "DryRun="+strconv.FormatBool(b.DryRun))
	return strings.Join(fs, " ")
}

// counts renders a map as "k n, k n" sorted by key, or "none".
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Wrapped, so that many reasons or actions do not make one endless line.
	var b strings.Builder
	line := 0
	for i, k := range keys {
		part := k + " " + strconv.Itoa(m[k])
		if i > 0 {
			if line+len(part)+2 > countsWidth {
				b.WriteString(",\n              ")
				line = 0
			} else {
				b.WriteString(", ")
				line += 2
			}
		}
		b.WriteString(part)
		line += len(part)
	}
	return b.String()
}

const countsWidth = 80

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// cut shortens s to n runes, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// oneLine keeps a table row on one line whatever an API message contains.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// unlisted is how many of the region's instances are counted, not listed.
func unlisted(r *Region) int {
	n := 0
	for _, v := range r.Unlisted {
		n += v
	}
	return n
}

// countList writes counts as "key n, key n", by key.
func countList(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
