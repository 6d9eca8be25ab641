package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// writesRegion is an account's region with every kind of record: writes
// the caps bound, failed and held-back ones, skips and notices, and a
// resource section.
func writesRegion() *report.Region {
	r := report.NewRegion("cn-hangzhou")
	r.Account = "1000000000000001"
	r.Seen, r.OptedIn, r.Complete = 20, 20, true
	add := func(o verdict.Outcome, reason verdict.Reason, n int, prefix string) {
		for i := range n {
			r.Add(o, reason, report.Item{ID: fmt.Sprintf("i-%s-%02d", prefix, i)})
		}
	}
	add(verdict.Released, "", 3, "rel")
	add(verdict.Stopped, "", 1, "stop")
	add(verdict.Failed, "Forbidden.RAM", 5, "fail")
	add(verdict.Skipped, "not-expired", 4, "skip")
	add(verdict.Notified, "", 2, "note")
	r.Batches = append(r.Batches, &report.Batch{Action: "DeleteInstances", InstanceIDs: []string{"i-rel-00", "i-rel-01", "i-rel-02"}, ClientToken: "t", Attempts: 1, Result: "released"})
	disks := report.Sections{"disks": &report.Section{}}
	r.Sections = disks
	disks["disks"].Add(verdict.Released, "", report.Item{ID: "d-rel"})
	disks["disks"].Add(verdict.Skipped, "not-expired", report.Item{ID: "d-skip-0"})
	disks["disks"].Add(verdict.Skipped, "not-expired", report.Item{ID: "d-skip-1"})
	r.Finish()
	return r
}

// An organisation's view of a region lists what the caps bound, failed
// and held-back writes while the budget lasts, and counts the rest; the
// counts, batches and the region itself stay whole.
func TestWritesViewListsWhatTheCapsBound(t *testing.T) {
	r := writesRegion()
	before, _ := json.Marshal(r)
	budget := report.ListBudget{Writes: 100, Others: 3, Batches: 10, FailedBatches: 10, Leftovers: 10}
	v := r.WritesView(&budget)
	if after, _ := json.Marshal(r); !bytes.Equal(before, after) {
		t.Fatal("WritesView changed the account's region")
	}
	listed := map[string]int{}
	for _, g := range v.Groups {
		listed[string(g.Outcome)+"/"+string(g.Reason)] = len(g.Instances)
	}
	if want := map[string]int{"released/": 3, "stopped/": 1, "failed/Forbidden.RAM": 3}; !maps.Equal(listed, want) {
		t.Errorf("listed %v, want %v", listed, want)
	}
	if want := map[string]int{"failed/Forbidden.RAM": 2, "skipped/not-expired": 4, "notified/": 2}; !maps.Equal(v.Unlisted, want) {
		t.Errorf("unlisted %v, want %v", v.Unlisted, want)
	}
	if budget.Others != 0 || !maps.Equal(v.Counts, r.Counts) || len(v.Batches) != 1 {
		t.Errorf("budget %d, counts %v, batches %d", budget.Others, v.Counts, len(v.Batches))
	}
	disks := v.Section("disks")
	if disks == nil || len(disks.Groups) != 1 || disks.Groups[0].Instances[0].ID != "d-rel" || disks.Unlisted["skipped/not-expired"] != 2 {
		t.Errorf("disks %+v", disks)
	}
	// Once the budget is spent, no failed record is listed: only counted.
	v2 := writesRegion().WritesView(&budget)
	if v2.Unlisted["failed/Forbidden.RAM"] != 5 || slices.ContainsFunc(v2.Groups, func(g *report.Group) bool { return g.Outcome == verdict.Failed }) {
		t.Errorf("with the budget spent: unlisted %v", v2.Unlisted)
	}
}

// A report of such views is logged and read back whole, the unlisted
// resources included (ReadLog checks listed plus unlisted against the
// counts), and an account without regions added to the totals.
func TestWritesViewLogsAndReadsBack(t *testing.T) {
	budget := report.ListBudget{Writes: 100, Others: 10, Batches: 10, FailedBatches: 10, Leftovers: 10}
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: "20261206T090000Z", Regions: []*report.Region{writesRegion().WritesView(&budget)}}
	rep.Total()
	rep.AddAccount(&report.Account{Account: "1000000000000002", Status: report.AccountHeldByCap, Regions: []string{"cn-beijing"},
		Seen: 7, OptedIn: 6, Outcomes: map[string]int{"not-attempted": 4, "skipped": 3}})
	if rep.Complete || rep.Totals.Seen != 27 || rep.Totals.OptedIn != 26 || rep.Totals.Outcomes["not-attempted"] != 4 || rep.Totals.Outcomes["released"] != 3 ||
		!maps.Equal(rep.Totals.Accounts, map[string]int{report.AccountHeldByCap: 1, report.AccountFailed: 1}) {
		t.Errorf("totals %+v, complete %v", rep.Totals, rep.Complete)
	}
	var buf bytes.Buffer
	report.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), rep)
	back, err := report.ReadLog(&buf, rep.RunID, "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(rep)
	got, _ := json.Marshal(back)
	if !bytes.Equal(got, want) {
		t.Errorf("read back:\n%s\nwant\n%s", got, want)
	}
}

// The text says what an organisation's report does not list, and where
// it is.
func TestWritesViewText(t *testing.T) {
	budget := report.ListBudget{Writes: 100}
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: "20261206T090000Z", Regions: []*report.Region{writesRegion().WritesView(&budget)}}
	rep.Total()
	var buf bytes.Buffer
	if err := report.WriteText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	if want := "11 more are counted, not listed (failed/Forbidden.RAM 5, notified/ 2, skipped/not-expired 4): an organisation's report lists by ID only part; the account's own report lists the rest"; !strings.Contains(buf.String(), want) {
		t.Errorf("the text lacks %q:\n%s", want, buf.String())
	}
}

// An organisation's report of 400 accounts over 20 regions each: no
// record is much over the bound (the accounts and the regions' heads go
// in parts), and the log reads back as the whole report.
func TestLogBoundsAnOrganisationsHead(t *testing.T) {
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: "20261206T090000Z"}
	for a := range 400 {
		account := fmt.Sprintf("1%015d", a)
		for r := range 20 {
			region := report.NewRegion(fmt.Sprintf("region-%02d", r))
			region.Account, region.Seen, region.OptedIn, region.Complete = account, 500, 500, true
			region.Add(verdict.Released, "", report.Item{ID: fmt.Sprintf("i-%s-%02d", account, r)})
			region.Counts["skipped"], region.Counts["skipped/not-expired"] = 499, 499
			region.Unlisted = map[string]int{"skipped/not-expired": 499}
			region.Finish()
			rep.Regions = append(rep.Regions, region)
		}
		rep.Accounts = append(rep.Accounts, &report.Account{Account: account, Cap: &report.CapCheck{Eligible: 20, Instances: 20, OptedIn: 10000, MaxRelease: 100, MaxReleasePercent: 50}})
	}
	rep.Total()
	var buf bytes.Buffer
	records := report.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), rep)
	sizes := map[string]int{}
	for line := range bytes.SplitSeq(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var l struct {
			Msg string `json:"msg"`
		}
		_ = json.Unmarshal(line, &l)
		sizes[l.Msg] = max(sizes[l.Msg], len(line))
		if len(line) > report.MaxLogRecordBytes+4096 {
			t.Fatalf("a %q record is %d bytes, over the bound of %d", l.Msg, len(line), report.MaxLogRecordBytes)
		}
	}
	if sizes["report accounts"] == 0 || sizes["report regions"] == 0 {
		t.Errorf("the largest records by message: %v; want the accounts and regions in parts", sizes)
	}
	back, err := report.ReadLog(&buf, rep.RunID, "")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(rep)
	got, _ := json.Marshal(back)
	if !bytes.Equal(got, want) {
		t.Errorf("read back %d bytes, want the report's %d (%d records)", len(got), len(want), records)
	}
}

// manyWrites is a region that released n instances in batches of 10,
// each leaving a disk, and failed one batch of 10.
func manyWrites(account string, n int) *report.Region {
	r := report.NewRegion("cn-hangzhou")
	r.Account = account
	r.Seen, r.OptedIn, r.Complete = n+10, n+10, true
	var batch []string
	for i := range n {
		id := fmt.Sprintf("i-%s-%04d", account, i)
		r.Add(verdict.Released, "", report.Item{ID: id})
		if batch = append(batch, id); len(batch) == 10 {
			r.Batches = append(r.Batches, &report.Batch{InstanceIDs: batch, ClientToken: "t-" + id, Attempts: 1, Result: "released"})
			batch = nil
		}
	}
	for i := range 10 {
		id := fmt.Sprintf("i-%s-f%d", account, i)
		r.Add(verdict.Failed, "Forbidden.RAM", report.Item{ID: id})
		batch = append(batch, id)
	}
	r.Batches = append(r.Batches, &report.Batch{InstanceIDs: batch, ClientToken: "t-failed", Attempts: 2, Result: "failed", Code: "Forbidden.RAM"})
	r.Finish()
	r.LeftoverSummary = &report.LeftoverSummary{Complete: true, Instances: n, Disks: n, DiskGiB: 20 * n}
	for _, id := range r.IDs(verdict.Released) {
		r.Leftovers = append(r.Leftovers, &report.Leftover{InstanceID: id, Disks: []report.LeftDisk{{ID: "d-" + id, SizeGiB: 20, Category: "cloud_essd", Type: "data"}}})
	}
	return r
}

// A budget for the whole report bounds what the views of many regions
// list by ID, released records, batches and leftovers included; the rest
// is counted (unlisted, unlistedBatches, the leftover summary's
// unlisted, and the budget's Cut), totals.batches counts every batch,
// the views share no list with the regions, and the report still logs
// and reads back whole.
func TestWritesViewSpendsOneBudget(t *testing.T) {
	budget := report.ListBudget{Writes: 250, Others: 15, Batches: 20, FailedBatches: 2, Leftovers: 30}
	var regions, views []*report.Region
	for a := range 4 {
		r := manyWrites(fmt.Sprintf("100000000000000%d", a), 100)
		regions = append(regions, r)
		views = append(views, r.WritesView(&budget))
	}
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: "20261206T090000Z", Regions: views}
	rep.Total()
	released, failed, batches, failedBatches, unlistedBatches, leftovers, unlistedLeft := 0, 0, 0, 0, 0, 0, 0
	for _, v := range views {
		for _, g := range v.Groups {
			switch g.Outcome {
			case verdict.Released:
				released += len(g.Instances)
			case verdict.Failed:
				failed += len(g.Instances)
			}
		}
		for _, b := range v.Batches {
			batches++
			if b.Result == "failed" {
				failedBatches++
			}
		}
		unlistedBatches += v.UnlistedBatches
		leftovers += len(v.Leftovers)
		unlistedLeft += v.LeftoverSummary.Unlisted
	}
	if released != 250 || failed != 15 || batches != 22 || failedBatches != 2 || leftovers != 30 {
		t.Errorf("listed %d released, %d failed, %d batches (%d failed), %d leftovers; want 250, 15, 22 (2), 30", released, failed, batches, failedBatches, leftovers)
	}
	want := report.Partial{Writes: 400 - 250, Others: 40 - 15, Batches: 4*11 - 22, Leftovers: 400 - 30}
	if budget.Cut != want || unlistedBatches != want.Batches || unlistedLeft != want.Leftovers {
		t.Errorf("cut %+v (%d batches, %d leftovers unlisted), want %+v", budget.Cut, unlistedBatches, unlistedLeft, want)
	}
	if got := views[3].Unlisted; got["released/"] != 100 || got["failed/Forbidden.RAM"] != 10 {
		t.Errorf("the last region's unlisted %v: want all 100 released and 10 failed counted", got)
	}
	if rep.Totals.Batches != 44 || rep.Totals.Outcomes["released"] != 400 || rep.Leftovers.Instances != 400 || rep.Leftovers.Unlisted != want.Leftovers {
		t.Errorf("totals %+v, leftovers %+v", rep.Totals, rep.Leftovers)
	}
	// The views hold copies: the account's report can be dropped.
	regions[0].Groups[0].Instances[0].ID = "changed"
	regions[0].Batches[0].InstanceIDs[0] = "changed"
	regions[0].Leftovers[0].Disks[0].ID = "changed"
	if v := views[0]; v.Groups[0].Instances[0].ID == "changed" || v.Batches[0].InstanceIDs[0] == "changed" || v.Leftovers[0].Disks[0].ID == "changed" {
		t.Error("a view shares its lists with the account's region")
	}
	cut := budget.Cut
	cut.Note = cut.Explain("ecs-reaper/<run>/<account>/report.json")
	rep.Partial = &cut
	var text bytes.Buffer
	if err := report.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"11 more write batches are counted, not listed", "the leftovers of 100 more instances are counted, not listed",
		"partial:", "150 released or stopped records, 25 failed or held-back records, 22 batches, 370 released instances' leftovers are counted and not listed"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the text lacks %q:\n%s", want, text.String())
		}
	}
	var buf bytes.Buffer
	report.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), rep)
	back, err := report.ReadLog(&buf, rep.RunID, "")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(back)
	if wantJSON, _ := json.Marshal(rep); !bytes.Equal(got, wantJSON) {
		t.Errorf("read back:\n%s\nwant\n%s", got, wantJSON)
	}
}

// Counts an account's own report never has (a forged one's negative
// unlisted) do not pass into the organisation's report, and a log whose
// leftover summary says so does not read back.
func TestWritesViewRefusesNegativeUnlisted(t *testing.T) {
	r := manyWrites("1000000000000009", 10)
	r.UnlistedBatches, r.LeftoverSummary.Unlisted = -5, -3
	budget := report.ListBudget{Writes: 100, Others: 100, Batches: 100, FailedBatches: 100, Leftovers: 100}
	v := r.WritesView(&budget)
	if v.UnlistedBatches != 0 || v.LeftoverSummary.Unlisted != 0 {
		t.Errorf("the view carried unlistedBatches %d, leftovers unlisted %d", v.UnlistedBatches, v.LeftoverSummary.Unlisted)
	}
	// 12 leftovers listed where the summary counts 10, with -2 "unlisted".
	v.Leftovers = append(v.Leftovers, v.Leftovers[0], v.Leftovers[1])
	v.LeftoverSummary.Unlisted = -2
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: "20261206T090000Z", Regions: []*report.Region{v}}
	rep.Total()
	var buf bytes.Buffer
	report.Log(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), rep)
	if _, err := report.ReadLog(&buf, rep.RunID, ""); err == nil || !strings.Contains(err.Error(), "leftovers") {
		t.Errorf("read back a log whose leftover summary's unlisted is negative: %v", err)
	}
}
