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
}

// DefaultRows keeps a large run's table readable; --json has every row.
const DefaultRows = 50

// detailWidth cuts the detail column; the JSON report has it whole.
const detailWidth = 100

// WriteTextWith writes the summary first, then each region's instances
// (at most opts.Rows of them, the rest counted), batches and leftovers.
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
	if several {
		writeAccounts(bw, rep.Accounts, rep.AccountsSkipped)
	}
	writeSummary(bw, rep)
	rows := opts.Rows
	if rows == 0 {
		rows = DefaultRows
	}
	for _, r := range rep.Regions {
		writeRegion(bw, r, rows, several)
	}
	return bw.Flush()
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

func writeRegion(w *bufio.Writer, r *Region, rows int, withAccount bool) {
	state := "complete"
	if !r.Complete {
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
		fmt.Fprintf(w, "  error: %s\n", failureText(r.Error))
	}
	if len(r.Groups) == 0 {
		fmt.Fprintln(w, "  no opted-in instances")
	} else {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  INSTANCE\tNAME\tOWNER\tEXPIRES\tSTATUS\tOUTCOME\tREASON\tDETAIL")
		shown, total := 0, 0
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
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", it.ID, cut(dash(f.Name), 32), cut(dash(it.Owner), 24),
					dash(it.Facts.Expires()), dash(f.Status), g.Outcome, reason, cut(oneLine(itemDetail(it)), detailWidth))
			}
		}
		_ = tw.Flush()
		if shown < total {
			fmt.Fprintf(w, "  … and %d more (counts above; --all for every row, --only to filter, --json for the whole report)\n", total-shown)
		}
	}
	if len(r.Batches) > 0 {
		fmt.Fprintln(w, "  Write batches (DeleteInstances unless named):")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    IDS\tFLAGS\tRESULT\tATTEMPTS\tCLIENT TOKEN\tREQUEST IDS")
		for _, b := range r.Batches {
			result := b.Result
			if b.Code != "" {
				result += " (" + b.Code + ")"
			}
			reqs := strings.Join(b.RequestIDs, ",")
			if reqs == "" {
				reqs = "-"
			}
			fmt.Fprintf(tw, "    %d\t%s\t%s\t%d\t%s\t%s\n", len(b.InstanceIDs), batchFlags(b), result, b.Attempts, b.ClientToken, reqs)
		}
		_ = tw.Flush()
	}
	if s := r.LeftoverSummary; s != nil {
		fmt.Fprintf(w, "  Left behind, still billed: %s\n", leftoverLine(s))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
			fmt.Fprintf(tw, "    %s\t%s\n", l.InstanceID, strings.Join(parts, ", "))
		}
		_ = tw.Flush()
	}
	for _, name := range r.Sections.Names() {
		fmt.Fprintf(w, "  %s:\n", name)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, g := range r.Sections[name].Groups {
			for _, it := range g.Instances {
				reason := g.Reason
				if reason == "" {
					reason = "-"
				}
				fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", it.ID, g.Outcome, reason, oneLine(itemDetail(it)))
			}
		}
		_ = tw.Flush()
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

func writeSummary(w *bufio.Writer, rep *Report) {
	t := rep.Totals
	fmt.Fprintf(w, "Summary\n")
	fmt.Fprintf(w, "  instances:  %d seen, %d opted in\n", t.Seen, t.OptedIn)
	fmt.Fprintf(w, "  outcomes:   %s\n", counts(t.Outcomes))
	if len(t.Reasons) > 0 {
		fmt.Fprintf(w, "  reasons:    %s\n", counts(t.Reasons))
	}
	fmt.Fprintf(w, "  API calls:  %s; %d write batches\n", counts(t.Calls), t.Batches)
	if rep.Leftovers != nil {
		fmt.Fprintf(w, "  left behind: %s\n", leftoverLine(rep.Leftovers))
	}
	for _, name := range slices.Sorted(maps.Keys(t.Kinds)) {
		if len(t.Kinds[name]) > 0 {
			fmt.Fprintf(w, "  %-11s %s\n", name+":", counts(t.Kinds[name]))
		}
	}
	if n := rep.Notices; n != nil {
		line := fmt.Sprintf("%d owed to %d owners; %d owners told and marked", n.Owed, n.Owners, n.Delivered)
		if n.UnsentItems > 0 {
			line += "; NOT SENT: " + n.Explain()
		}
		fmt.Fprintf(w, "  notices:    %s\n", cut(line, 400))
	}
	if n := t.Accounts; len(n) > 0 {
		fmt.Fprintf(w, "  accounts:   %s\n", counts(n))
	}
	if c := rep.Cap; c != nil {
		verdict := "within the caps"
		if c.Exceeded {
			verdict = "EXCEEDED, nothing released"
		}
		label := "cap check: "
		if len(rep.Accounts) > 1 {
			label = "organisation cap check:"
		}
		fmt.Fprintf(w, "  %s %d eligible of %d opted in (%.1f%%); caps %d instances and %s%%: %s\n",
			label, c.Eligible, c.OptedIn, c.Percent, c.MaxRelease, strconv.FormatFloat(c.MaxReleasePercent, 'f', -1, 64), verdict)
	}
	fmt.Fprintf(w, "  duration:   %s\n", (time.Duration(rep.DurationMS) * time.Millisecond).String())
	if rep.Complete {
		fmt.Fprintln(w, "  complete:   yes")
	} else {
		fmt.Fprintln(w, "  complete:   NO (the next run picks up what was left)")
	}
	if rep.Error != "" {
		fmt.Fprintf(w, "  error:      %s\n", cut(oneLine(rep.Error), 400))
	}
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
