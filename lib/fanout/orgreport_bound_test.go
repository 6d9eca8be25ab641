package fanout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// busyReport is an Execute worker's report of an account that released
// n instances (in batches of 100, each leaving a disk billed), failed to
// release f more (one failed batch) and skipped 50.
func busyReport(account string, n, f int) *report.Report {
	r := report.NewRegion("cn-hangzhou")
	r.Account = account
	r.Seen, r.OptedIn, r.Complete = n+f+50, n+f+50, true
	var batch []string
	for i := range n {
		id := fmt.Sprintf("i-%s-%05d", account[12:], i)
		r.Add(verdict.Released, "", report.Item{ID: id})
		if batch = append(batch, id); len(batch) == 100 || i == n-1 {
			r.Batches = append(r.Batches, &report.Batch{InstanceIDs: batch, ClientToken: "t-" + id, Attempts: 1, Result: "released"})
			batch = nil
		}
	}
	for i := range f {
		id := fmt.Sprintf("i-%s-f%04d", account[12:], i)
		r.Add(verdict.Failed, "Forbidden.RAM", report.Item{ID: id, Code: "Forbidden.RAM"})
		batch = append(batch, id)
	}
	if f > 0 {
		r.Batches = append(r.Batches, &report.Batch{InstanceIDs: batch, ClientToken: "t-failed-" + account, Attempts: 2, Result: "failed", Code: "Forbidden.RAM"})
	}
	for i := range 50 {
		r.Add(verdict.Skipped, "not-expired", report.Item{ID: fmt.Sprintf("i-%s-s%02d", account[12:], i)})
	}
	r.Finish()
	r.LeftoverSummary = &report.LeftoverSummary{Complete: true, Instances: n, Disks: n, DiskGiB: 40 * n}
	for _, id := range r.IDs(verdict.Released) {
		r.Leftovers = append(r.Leftovers, &report.Leftover{InstanceID: id, Disks: []report.LeftDisk{{ID: "d-" + id, SizeGiB: 40, Category: "cloud_essd", Type: "data"}}})
	}
	rep := &report.Report{SchemaVersion: report.SchemaVersion, RunID: run.WorkerRunID(account), Regions: []*report.Region{r}}
	rep.Total()
	return rep
}

// However many writes the caps allow, the organisation's report lists by
// ID only its budget of records, batches and leftovers: failures are
// listed however many releases came first, the rest is counted (the
// regions' unlisted and unlistedBatches, the leftover summaries'
// unlisted, totals.batches whole), "partial" says so and where each
// account's report is, and the report stays schema-valid.
func TestRunReportListsWithinItsBudget(t *testing.T) {
	srv := startOSS(t)
	st := newStore(t, srv, testSecret)
	ctx := context.Background()
	const accounts, released, failed = 15, 1_000, 300
	big := fanout.Caps{Account: plan.Caps{MaxRelease: 1 << 30, MaxReleasePercent: 100, PercentCapFrom: 10}, Org: plan.Caps{MaxRelease: 1 << 30, MaxReleasePercent: 100}}
	var names []string
	for a := range accounts {
		names = append(names, fmt.Sprintf("%016d", 1000000000000100+a))
	}
	if _, err := st.PutOnce(ctx, run, fanout.OrgAccount, fanout.DocManifest, manifest(names...)); err != nil {
		t.Fatal(err)
	}
	for _, account := range names {
		if err := st.Put(ctx, run, account, fanout.DocPlan, planOf(account, released+failed, released+failed+50)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := fanout.RunDecide(ctx, st, run, big); err != nil {
		t.Fatal(err)
	}
	for _, account := range names {
		whole := busyReport(account, released, failed)
		if err := st.Put(ctx, run, account, fanout.DocReport, whole); err != nil {
			t.Fatal(err)
		}
		res := fanout.ExecuteResult{Run: run, Account: account, Status: fanout.Executed, Released: released, Part: whole.Accounts[0]}
		if err := st.Put(ctx, run, account, fanout.DocExecute, res); err != nil {
			t.Fatal(err)
		}
	}
	rep, _, err := fanout.RunReport(ctx, st, run, fanout.ReportContext{Now: reportNow})
	if err != nil {
		t.Fatal(err)
	}
	stored, ok := srv.Object(bucket, st.Key(run, fanout.OrgAccount, fanout.DocReport))
	if !ok {
		t.Fatal("the report was not stored")
	}
	checkReportSchema(t, stored)

	listed := map[verdict.Outcome]int{}
	for _, rec := range rep.Instances.All() {
		listed[rec.Outcome]++
	}
	unlisted, batches, unlistedBatches, failedBatches, leftovers, unlistedLeftovers := map[string]int{}, 0, 0, 0, 0, 0
	for _, r := range rep.Regions {
		for k, n := range r.Unlisted {
			unlisted[k] += n
		}
		batches += len(r.Batches)
		unlistedBatches += r.UnlistedBatches
		for _, b := range r.Batches {
			if b.Result == "failed" {
				failedBatches++
			}
		}
		leftovers += len(r.Leftovers)
		unlistedLeftovers += r.LeftoverSummary.Unlisted
	}
	totalReleased, totalFailed, totalBatches := accounts*released, accounts*failed, accounts*(released/100+1)
	if listed[verdict.Released] != fanout.MaxListedWrites || listed[verdict.Released]+unlisted["released/"] != totalReleased {
		t.Errorf("released: %d listed, %d unlisted; want %d listed of %d", listed[verdict.Released], unlisted["released/"], fanout.MaxListedWrites, totalReleased)
	}
	if listed[verdict.Failed] != fanout.MaxListedOthers || listed[verdict.Failed]+unlisted["failed/Forbidden.RAM"] != totalFailed {
		t.Errorf("failed: %d listed, %d unlisted; want %d listed of %d", listed[verdict.Failed], unlisted["failed/Forbidden.RAM"], fanout.MaxListedOthers, totalFailed)
	}
	if batches != fanout.MaxListedBatches+failedBatches || failedBatches != accounts || batches+unlistedBatches != totalBatches || rep.Totals.Batches != totalBatches {
		t.Errorf("batches: %d listed (%d failed), %d unlisted, totals %d; want %d successful and every failed one listed of %d",
			batches, failedBatches, unlistedBatches, rep.Totals.Batches, fanout.MaxListedBatches, totalBatches)
	}
	if leftovers != fanout.MaxListedLeftovers || leftovers+unlistedLeftovers != totalReleased || rep.Leftovers.Instances != totalReleased || rep.Leftovers.Unlisted != unlistedLeftovers {
		t.Errorf("leftovers: %d listed, %d unlisted, summary %+v; want %d listed of %d", leftovers, unlistedLeftovers, rep.Leftovers, fanout.MaxListedLeftovers, totalReleased)
	}
	if rep.Totals.Outcomes["released"] != totalReleased || rep.Totals.Outcomes["failed"] != totalFailed {
		t.Errorf("totals %v", rep.Totals.Outcomes)
	}
	p := rep.Partial
	want := report.Partial{Writes: totalReleased - fanout.MaxListedWrites, Others: totalFailed - fanout.MaxListedOthers,
		Batches: unlistedBatches, Leftovers: totalReleased - fanout.MaxListedLeftovers}
	if p == nil || p.Writes != want.Writes || p.Others != want.Others || p.Batches != want.Batches || p.Leftovers != want.Leftovers {
		t.Fatalf("partial %+v, want the counts of %+v", p, want)
	}
	if key := st.Key(run, "<account>", fanout.DocReport); !strings.Contains(p.Note, "lists by ID only part") || !strings.Contains(p.Note, key) {
		t.Errorf("the note %q does not say it lists only part and that %s lists the rest", p.Note, key)
	}
	var back struct {
		Partial *report.Partial `json:"partial"`
	}
	if err := json.Unmarshal(stored, &back); err != nil || back.Partial == nil || *back.Partial != *p {
		t.Errorf("the stored report's partial %+v (%v), want %+v", back.Partial, err, p)
	}
	// Bounded in size: about 300 bytes a listed record, far from the
	// 15,000 released records' report.
	if len(stored) > 8<<20 {
		t.Errorf("the organisation's report is %d bytes", len(stored))
	}
}
