package e2e_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

// The marks through the real SDK and the ECS double: signed, verified,
// and timed by the API's clock (the double's Date), not the runner's.

func lifecycleOptions() engine.Options {
	opts := options()
	opts.Lifecycle = decide.Lifecycle{On: true, Notice: 24 * time.Hour, Grace: 24 * time.Hour, MarkKey: "reaper-notified",
		StopMarkKey: "reaper-notified-stopped", OwnerKey: "owner", Marks: testMarks}
	return opts
}

// A hand-written reaper-notified=<yesterday> is no mark: the instance is
// told (here: marked without a channel), not released, and the report
// says unverified-mark; the mark written in its place verifies.
func TestForgedNoticeMarkThroughTheSDK(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "f", 2)}
	f.Instances[0].Tags["reaper-notified"] = mark.FormatTime(testNow.Add(-24 * time.Hour))
	f.Instances[1].Tags["reaper-notified"] = testMarks.Time(f.Instances[1].ID, "reaper-notified", testNow.Add(-48*time.Hour))
	e := newEnv(t, f)
	rep, err := run(t, e, lifecycleOptions(), "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	forged, genuine := f.Instances[0].ID, f.Instances[1].ID
	if got := e.srv.Released(); len(got) != 1 || got[0] != genuine {
		t.Fatalf("released %v, want only %s (its mark verifies)", got, genuine)
	}
	if rep.Regions[0].Counts["notified/unverified-mark"] != 1 {
		t.Errorf("counts %v", rep.Regions[0].Counts)
	}
	in, _ := e.srv.Instance(forged)
	if at, st := testMarks.ReadTime(forged, "reaper-notified", in.Tags); st != mark.Valid || !at.Equal(testNow) {
		t.Errorf("mark after the notice %q", in.Tags["reaper-notified"])
	}
	if !strings.Contains(in.Tags["reaper-notified"], ";sig=") || len(in.Tags["reaper-notified"]) > mark.MaxValueLen {
		t.Errorf("mark %q", in.Tags["reaper-notified"])
	}
}

// A runner whose clock is a day slow or a day fast: the mark carries the
// double's time, and the grace is measured by it.
func TestSkewedRunnerClockThroughTheSDK(t *testing.T) {
	for _, skew := range []time.Duration{-24 * time.Hour, 24 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			var mu sync.Mutex
			apiNow := testNow
			clock := func() time.Time {
				mu.Lock()
				defer mu.Unlock()
				return apiNow
			}
			set := func(at time.Time) {
				mu.Lock()
				defer mu.Unlock()
				apiNow = at
			}
			f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "s", 1)}
			e := newEnv(t, f, ecsdouble.WithClock(clock))
			id := f.Instances[0].ID
			opts := lifecycleOptions()
			opts.Now = func() time.Time { return clock().Add(skew) }
			if _, err := run(t, e, opts, "cn-hangzhou"); err != nil {
				t.Fatal(err)
			}
			in, _ := e.srv.Instance(id)
			at, st := testMarks.ReadTime(id, "reaper-notified", in.Tags)
			if st != mark.Valid || at.Before(testNow) || at.Sub(testNow) > 5*time.Second {
				t.Fatalf("mark %q: want the API's time %s", in.Tags["reaper-notified"], testNow)
			}
			set(testNow.Add(23 * time.Hour))
			opts.RunID = "later"
			if _, err := run(t, e, opts, "cn-hangzhou"); err != nil || len(e.srv.Released()) != 0 {
				t.Fatalf("23 h after the notice by the API's clock: %v, released %v", err, e.srv.Released())
			}
			set(testNow.Add(24*time.Hour + 10*time.Second))
			opts.RunID = "after"
			if rep, err := run(t, e, opts, "cn-hangzhou"); err != nil || len(e.srv.Released()) != 1 {
				t.Fatalf("after the grace: %v, released %v: %+v %+v", err, e.srv.Released(), *rep.Regions[0].Groups[0], rep.Regions[0].Groups[0].Instances)
			}
		})
	}
}

// Answers without a usable Date: nothing is marked or released in the
// region, and the run fails saying why.
func TestNoDateThroughTheSDK(t *testing.T) {
	for name, date := range map[string]string{"missing": "", "garbage": "yesterday", "absurd": time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC).Format(http.TimeFormat)} {
		t.Run(name, func(t *testing.T) {
			f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "n", 2)}
			f.Instances[1].Tags["reaper-notified"] = testMarks.Time(f.Instances[1].ID, "reaper-notified", testNow.Add(-48*time.Hour))
			e := newEnv(t, f)
			e.srv.SetDate(func() string { return date })
			rep, err := run(t, e, lifecycleOptions(), "cn-hangzhou")
			if err == nil || !strings.Contains(err.Error(), engine.CodeNoAPIClock) {
				t.Fatalf("err %v", err)
			}
			if len(e.srv.Released()) != 0 || e.srv.CallCount("TagResources") != 0 {
				t.Fatalf("released %v, %d marks without the API's clock", e.srv.Released(), e.srv.CallCount("TagResources"))
			}
			if rep.Regions[0].Error == nil || rep.Regions[0].Error.Code != engine.CodeNoAPIClock {
				t.Errorf("region error %+v", rep.Regions[0].Error)
			}
		})
	}
}

// A forged hand-over on an Available EIP (an instance that does not
// exist, an empty value) releases nothing through the VPC API; the
// reaper's own releases it, within the count cap.
func TestForgedHandOverThroughTheSDK(t *testing.T) {
	key := "reaper-notified-released-with"
	f := ecsdouble.Fleet{EIPs: []ecsdouble.EIP{
		{AllocationID: "eip-forged", Address: "47.0.0.1", Region: "cn-hangzhou", Tags: map[string]string{key: "i-doesnotexist"}},
		{AllocationID: "eip-empty", Address: "47.0.0.2", Region: "cn-hangzhou", Tags: map[string]string{key: ""}},
		{AllocationID: "eip-real", Address: "47.0.0.3", Region: "cn-hangzhou", Tags: map[string]string{key: testMarks.HandOver("eip-real", key, "i-gone", testNow.Add(-time.Hour))}},
	}}
	e := newEnv(t, f)
	opts := options()
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, key, time.Millisecond
	opts.MaxRelease = 0
	if _, err := run(t, e, opts, "cn-hangzhou"); err == nil || e.srv.CallCount("ReleaseEipAddress") != 0 {
		t.Fatalf("maxRelease 0: err %v, %d releases", err, e.srv.CallCount("ReleaseEipAddress"))
	}
	opts.MaxRelease, opts.RunID = 10, "capped-run"
	rep, err := run(t, e, opts, "cn-hangzhou")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"eip-forged", "eip-empty"} {
		if _, _, ok := e.srv.EIP(id); !ok {
			t.Errorf("%s was released on a forged hand-over", id)
		}
	}
	if _, _, ok := e.srv.EIP("eip-real"); ok {
		t.Error("the reaper's own hand-over was not released")
	}
	if sec := rep.Regions[0].Section("eips"); sec == nil || sec.Counts["skipped/unverified-mark"] != 2 || sec.Counts["released"] != 1 {
		t.Errorf("EIP section %+v", sec)
	}
}

// movingClock is the double's clock, moved by a test between runs.
type movingClock struct {
	mu sync.Mutex
	t  time.Time
}

func newMovingClock(t time.Time) *movingClock { return &movingClock{t: t} }

func (c *movingClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movingClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
