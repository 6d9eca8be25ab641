package report

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes rep for people: per region a table of instances
// (ID, outcome, reason, detail) and the write batches, then a
// summary of totals, API calls, the cap check, duration and completeness.
// The JSON report stays the machine-readable form; this one is for terminals.
func WriteText(w io.Writer, rep *Report) error {
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

	for _, r := range rep.Regions {
		writeRegion(bw, r)
	}
	writeSummary(bw, rep)
	return bw.Flush()
}

func writeRegion(w *bufio.Writer, r *Region) {
	state := "complete"
	if !r.Complete {
		state = "INCOMPLETE"
	}
	fmt.Fprintf(w, "\nRegion %s: %d seen, %d opted in, %s", r.Region, r.Seen, r.OptedIn, state)
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
		fmt.Fprintln(tw, "  INSTANCE\tOUTCOME\tREASON\tDETAIL")
		for _, g := range r.Groups {
			for _, it := range g.Instances {
				reason := g.Reason
				if reason == "" {
					reason = "-"
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", it.ID, g.Outcome, reason, oneLine(itemDetail(it)))
			}
		}
		_ = tw.Flush()
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
	for _, sec := range []struct {
		title string
		s     *Section
	}{{"EIPs", r.EIPs}, {"Disks", r.Disks}, {"Snapshots", r.Snapshots}} {
		if sec.s == nil {
			continue
		}
		fmt.Fprintf(w, "  %s:\n", sec.title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, g := range sec.s.Groups {
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
	fmt.Fprintf(w, "\nSummary\n")
	fmt.Fprintf(w, "  instances:  %d seen, %d opted in\n", t.Seen, t.OptedIn)
	fmt.Fprintf(w, "  outcomes:   %s\n", counts(t.Outcomes))
	if len(t.Reasons) > 0 {
		fmt.Fprintf(w, "  reasons:    %s\n", counts(t.Reasons))
	}
	fmt.Fprintf(w, "  API calls:  %s; %d write batches\n", counts(t.Calls), t.Batches)
	if rep.Leftovers != nil {
		fmt.Fprintf(w, "  left behind: %s\n", leftoverLine(rep.Leftovers))
	}
	if len(t.EIPs) > 0 {
		fmt.Fprintf(w, "  EIPs:       %s\n", counts(t.EIPs))
	}
	if len(t.Disks) > 0 {
		fmt.Fprintf(w, "  disks:      %s\n", counts(t.Disks))
	}
	if len(t.Snapshots) > 0 {
		fmt.Fprintf(w, "  snapshots:  %s\n", counts(t.Snapshots))
	}
	if c := rep.Cap; c != nil {
		verdict := "within the caps"
		if c.Exceeded {
			verdict = "EXCEEDED, nothing released"
		}
		fmt.Fprintf(w, "  cap check:  %d eligible of %d opted in (%.1f%%); caps %d instances and %s%%: %s\n",
			c.Eligible, c.OptedIn, c.Percent, c.MaxRelease, strconv.FormatFloat(c.MaxReleasePercent, 'f', -1, 64), verdict)
	}
	fmt.Fprintf(w, "  duration:   %s\n", (time.Duration(rep.DurationMS) * time.Millisecond).String())
	if rep.Complete {
		fmt.Fprintln(w, "  complete:   yes")
	} else {
		fmt.Fprintln(w, "  complete:   NO (the next run picks up what was left)")
	}
	if rep.Error != "" {
		fmt.Fprintf(w, "  error:      %s\n", oneLine(rep.Error))
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

func failureText(f *Failure) string {
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
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " " + strconv.Itoa(m[k])
	}
	return strings.Join(parts, ", ")
}

// oneLine keeps a table row on one line whatever an API message contains.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
