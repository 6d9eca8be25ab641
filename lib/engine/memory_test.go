package engine_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// notExpired is a fleet the rules leave alone: opted in, not yet expired.
func notExpired(region string, n int) []cloud.Instance {
	out := stopped(region, "k", n)
	for i := range out {
		out[i].Tags = map[string]string{optIn: "2027-06-01"}
	}
	return out
}

// The many instances a run leaves alone are counted in the report and
// logged by page, one record of IDs by reason per page: the report lists
// only the first ListedSkips of a reason, and says how many more it
// counted; together they still account for every instance.
func TestSkippedDecisionsAreLoggedByPageAndCounted(t *testing.T) {
	const n = 1_000
	c := fake.New(slices.Concat(notExpired("cn-hangzhou", n), stopped("cn-hangzhou", "e", 3)))
	var logs bytes.Buffer
	ctx := t.Context()
	rep, err := engine.New(options(), slog.New(slog.NewJSONHandler(&logs, nil))).RunRegions(ctx, c, "", []string{"cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Regions[0]
	key := string(verdict.Skipped) + "/" + string(verdict.NotExpired)
	if r.Counts[key] != n || r.Counts[string(verdict.Released)] != 3 {
		t.Fatalf("counts %v, want %d %s and 3 released", r.Counts, n, key)
	}
	listed := 0
	for _, g := range r.Groups {
		if g.Outcome == verdict.Skipped {
			listed += len(g.Instances)
		}
	}
	if listed != report.ListedSkips || r.Unlisted[key] != n-report.ListedSkips {
		t.Errorf("%d skipped listed, unlisted %v: want %d listed and the other %d counted as unlisted", listed, r.Unlisted, report.ListedSkips, n-report.ListedSkips)
	}
	// Every decision is in the log, by page; a record of its own is a
	// write's outcome.
	logged, eligible, own := map[string]bool{}, 0, 0
	for line := range bytes.Lines(logs.Bytes()) {
		var rec struct {
			Msg      string              `json:"msg"`
			Outcome  string              `json:"outcome"`
			Skipped  map[string][]string `json:"skipped"`
			Eligible map[string][]string `json:"eligible"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			continue
		}
		switch rec.Msg {
		case "decision":
			if rec.Outcome != string(verdict.Released) {
				own++
			}
		case "page decisions":
			for _, id := range rec.Skipped[string(verdict.NotExpired)] {
				logged[id] = true
			}
			eligible += len(rec.Eligible["release"])
		}
	}
	if eligible != 3 || own != 0 {
		t.Errorf("%d eligible by page, %d decision records other than the releases: want 3 and none", eligible, own)
	}
	for _, inst := range notExpired("cn-hangzhou", n) {
		if !logged[inst.ID] {
			t.Fatalf("%s: its decision is in no page decisions record", inst.ID)
		}
	}
	var text bytes.Buffer
	if err := report.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d more skipped are counted, not listed", n-report.ListedSkips); !bytes.Contains(text.Bytes(), []byte(want)) {
		t.Errorf("the text report does not say %q:\n%s", want, text.String())
	}
}

// What a run keeps of an instance it leaves alone is nothing but its
// count: the heap the finished report retains grows by a few bytes per
// such instance, not by a record (ID, detail, facts) each. Measured with
// runtime.MemStats, not timed.
func TestSkippedInstancesAreNotRetained(t *testing.T) {
	retained := func(n int) float64 {
		c := fake.New(notExpired("cn-hangzhou", n))
		rep, err := engine.New(options(), nil).RunRegions(t.Context(), c, "", []string{"cn-hangzhou"})
		if err != nil || rep.Regions[0].Counts["skipped"] != n {
			t.Fatalf("%v, counts %v", err, rep.Regions[0].Counts)
		}
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		with := ms.HeapAlloc
		runtime.KeepAlive(rep)
		rep = nil
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return float64(int64(with) - int64(ms.HeapAlloc))
	}
	small, large := retained(500), retained(5_500)
	perInstance := (large - small) / 5_000
	t.Logf("report retains %.1f bytes per skipped instance", perInstance)
	if perInstance > 16 {
		t.Errorf("the report retains %.0f bytes per skipped instance, want at most 16: it keeps a record of each", perInstance)
	}
}

// The write batches start at the pages at once the listing ended with
// (near the rate the API allowed it), not at REAPER_BATCH_CONCURRENCY,
// and never above it: a listing throttled down to a few pages at once
// starts the releases at as few.
func TestWritesStartAtTheListingsBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.New(stopped("cn-hangzhou", "w", 3_000))
		c.Latency = 50 * time.Millisecond
		var mu sync.Mutex
		// most is how many releases were in flight before the first ended.
		throttle, inflight, most, ended := 12, 0, 0, 0
		c.Fault = func(action string, in any) error {
			mu.Lock()
			defer mu.Unlock()
			switch action {
			case ecsapi.ActionDescribeInstances:
				if d, ok := in.(ecsapi.DescribeInput); ok && d.PageNumber > 1 && throttle > 0 {
					throttle--
					return fake.Err(action, "cn-hangzhou", "Throttling", 400)
				}
			case ecsapi.ActionDeleteInstances:
				inflight++
				if ended == 0 {
					most = max(most, inflight)
				}
				mu.Unlock()
				time.Sleep(100 * time.Millisecond)
				mu.Lock()
				inflight--
				ended++
			}
			return nil
		}
		opts := options()
		opts.BatchConcurrency = 16
		var logs bytes.Buffer
		rep, err := engine.New(opts, slog.New(slog.NewJSONHandler(&logs, nil))).RunRegions(t.Context(), c, "", []string{"cn-hangzhou"})
		if err != nil || rep.Regions[0].Counts["released"] != 3_000 {
			t.Fatalf("%v, counts %v", err, rep.Regions[0].Counts)
		}
		var listed struct {
			Listing int `json:"listing_concurrency"`
			Write   int `json:"write_concurrency"`
		}
		for line := range bytes.Lines(logs.Bytes()) {
			if bytes.Contains(line, []byte(`"msg":"region listed"`)) {
				_ = json.Unmarshal(line, &listed)
			}
		}
		if listed.Listing == 0 || listed.Listing >= 8 || listed.Write != listed.Listing {
			t.Fatalf("listing ended at %d pages at once, writes started at %d: want a throttled listing (under 8) and the writes at its bound", listed.Listing, listed.Write)
		}
		if most != listed.Listing {
			t.Errorf("%d DeleteInstances at once at first, want the listing's %d", most, listed.Listing)
		}
	})
}
