package engine_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// A notice mark written by hand (today's plain time, an empty value, one
// signed for another instance, one signed by another secret) is no mark:
// the owner is told, nothing is released or stopped on it, and the report
// says unverified-mark.
func TestForgedNoticeMarkIsNoMark(t *testing.T) {
	yesterday := day0.Add(-24 * time.Hour)
	forged := map[string]string{
		"i-plain":  mark.FormatTime(yesterday),
		"i-empty":  "",
		"i-copied": testMarks.Time("i-other", "reaper-notified", yesterday.Add(-24*time.Hour)),
		"i-alien":  mark.NewKeys(strings.Repeat("z", 40), "").Time("i-alien", "reaper-notified", yesterday),
		"i-run":    mark.FormatTime(yesterday),
	}
	var fleet []cloud.Instance
	for id, v := range forged {
		status := "Stopped"
		if id == "i-run" {
			status = "Running"
		}
		in := instance(id, status, "2026-11-01", "mallory")
		in.Tags["reaper-notified"] = v
		fleet = append(fleet, in)
	}
	c := fake.New(fleet)
	n := &notifier{}
	opts := options()
	opts.Lifecycle = lifecycle
	opts.Lifecycle.Stop = true
	d := &days{t: t, c: c, n: n, opts: opts}
	rep, err := d.at(day0)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Released()) != 0 || c.Count(ecsapi.ActionStopInstances) != 0 {
		t.Fatalf("released %v, %d stops on a forged mark", c.Released(), c.Count(ecsapi.ActionStopInstances))
	}
	told := n.told()
	slices.Sort(told)
	if want := []string{"i-alien", "i-copied", "i-empty", "i-plain", "i-run"}; !slices.Equal(told, want) {
		t.Fatalf("told %v, want %v", told, want)
	}
	out := outcomes(rep)
	for id := range forged {
		if out[id] != "notified/unverified-mark" {
			t.Errorf("%s: %s, want notified/unverified-mark", id, out[id])
		}
		// The forged mark is replaced by the reaper's own.
		inst, _ := c.Instance(id)
		if at, st := testMarks.ReadTime(id, "reaper-notified", inst.Tags); st != mark.Valid || !at.Equal(day0) {
			t.Errorf("%s: mark %q after the notice", id, inst.Tags["reaper-notified"])
		}
	}
	if rep.Totals.Reasons["notified/unverified-mark"] != len(forged) {
		t.Errorf("reasons %v", rep.Totals.Reasons)
	}
	var text strings.Builder
	if err := report.WriteText(&text, rep); err != nil || !strings.Contains(text.String(), "unverified-mark") || !strings.Contains(text.String(), "did not verify") {
		t.Errorf("the text report does not show the tampering:\n%s", text.String())
	}
	// The grace counts from the reaper's own mark: nothing goes before it.
	if _, err := d.at(day0.Add(23 * time.Hour)); err != nil || len(c.Released()) != 0 || c.Count(ecsapi.ActionStopInstances) != 0 {
		t.Fatalf("inside the grace: %v, released %v", err, c.Released())
	}
}

// Every signed mark is written with its own call: the values differ per
// resource.
func TestEachMarkIsItsOwnWrite(t *testing.T) {
	c := fake.New([]cloud.Instance{
		instance("i-1", "Stopped", "2026-11-01", "amy"), instance("i-2", "Stopped", "2026-11-01", "amy"), instance("i-3", "Stopped", "2026-11-01", "bo"),
	})
	opts := options()
	opts.Lifecycle = lifecycle
	d := &days{t: t, c: c, n: &notifier{}, opts: opts}
	if _, err := d.at(day0); err != nil {
		t.Fatal(err)
	}
	if got := c.Count(ecsapi.ActionTagResources); got != 3 {
		t.Fatalf("%d TagResources calls for 3 marks", got)
	}
	for _, id := range []string{"i-1", "i-2", "i-3"} {
		inst, _ := c.Instance(id)
		if _, st := testMarks.ReadTime(id, "reaper-notified", inst.Tags); st != mark.Valid {
			t.Errorf("%s: mark %q does not verify", id, inst.Tags["reaper-notified"])
		}
	}
}

func handOverFleet(t *testing.T) *fake.Cloud {
	t.Helper()
	c := fake.New(nil, "r-1")
	key := "reaper-notified-released-with"
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{
		{AllocationID: "eip-forged", Address: "47.0.0.1", Region: "r-1", Status: "Available", ChargeType: "PostPaid", Tags: map[string]string{key: "i-doesnotexist"}},
		{AllocationID: "eip-empty", Address: "47.0.0.2", Region: "r-1", Status: "Available", ChargeType: "PostPaid", Tags: map[string]string{key: ""}},
		{AllocationID: "eip-copied", Address: "47.0.0.3", Region: "r-1", Status: "Available", ChargeType: "PostPaid",
			Tags: map[string]string{key: testMarks.HandOver("eip-real", key, "i-gone", day0.Add(-time.Hour))}},
		{AllocationID: "eip-real", Address: "47.0.0.4", Region: "r-1", Status: "Available", ChargeType: "PostPaid",
			Tags: map[string]string{key: testMarks.HandOver("eip-real", key, "i-gone", day0.Add(-time.Hour))}},
	}})
	return c
}

// A forged EIP hand-over (an instance that does not exist, an empty value,
// a mark copied from another EIP) releases nothing; the reaper's own does.
func TestForgedHandOverReleasesNothing(t *testing.T) {
	c := handOverFleet(t)
	opts := options()
	opts.Lifecycle.Marks = testMarks
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, "reaper-notified-released-with", time.Millisecond
	rep, err := runOne(t, c, opts, "r-1")
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, e := range c.EIPs() {
		left = append(left, e.AllocationID)
	}
	slices.Sort(left)
	if want := []string{"eip-copied", "eip-empty", "eip-forged"}; !slices.Equal(left, want) {
		t.Fatalf("EIPs left %v, want %v (only the verified hand-over released)", left, want)
	}
	sec := rep.Regions[0].Section("eips")
	if sec == nil || sec.Counts["skipped/unverified-mark"] != 3 || sec.Counts["released"] != 1 {
		t.Fatalf("EIP section %+v", sec)
	}
	if rep.Cap == nil || rep.Cap.Eligible != 1 {
		t.Errorf("the hand-over's release is not counted by the cap: %+v", rep.Cap)
	}
}

// The releases that follow a hand-over count toward the count cap: a
// payload lowering it to 0 stops them.
func TestHandOverReleasesObeyTheCountCap(t *testing.T) {
	c := handOverFleet(t)
	opts := options()
	opts.Lifecycle.Marks = testMarks
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, "reaper-notified-released-with", time.Millisecond
	opts.MaxRelease = 0
	rep, err := runOne(t, c, opts, "r-1")
	if err == nil || !strings.Contains(err.Error(), "cap") {
		t.Fatalf("err %v, want the cap", err)
	}
	if len(c.EIPs()) != 4 || c.Count(ecsapi.ActionReleaseEipAddress) != 0 {
		t.Fatalf("released an EIP with maxRelease 0: %d left", len(c.EIPs()))
	}
	if sec := rep.Regions[0].Section("eips"); sec == nil || sec.Counts["not-attempted/cap-exceeded"] != 1 {
		t.Errorf("EIP section %+v", sec)
	}
}

// skewed is an API whose own clock (the Date of its answers) differs from
// the runner's.
type skewed struct {
	*fake.Cloud
	api   func() time.Time
	known bool
}

func (s skewed) ServerTime() (time.Time, bool) { return s.api(), s.known }

// Marks carry the API's time and graces are measured by it: a runner
// whose clock is a day slow or a day fast shortens no grace.
func TestMarksFollowTheAPIClock(t *testing.T) {
	for _, skew := range []time.Duration{-24 * time.Hour, 24 * time.Hour, -72 * time.Hour} {
		t.Run(skew.String(), func(t *testing.T) {
			c := fake.New([]cloud.Instance{instance("i-a", "Stopped", "2026-11-01", "amy")})
			n := &notifier{}
			var apiNow time.Time
			api := skewed{Cloud: c, api: func() time.Time { return apiNow }, known: true}
			run := func(at time.Time) *report.Report {
				t.Helper()
				apiNow = at
				opts := options()
				opts.Lifecycle = lifecycle
				opts.Notifier = n
				opts.Now = func() time.Time { return at.Add(skew) } // the runner's clock
				rep, err := engine.New(opts, nil).RunRegions(t.Context(), api, "", []string{"r-1"})
				if err != nil {
					t.Fatal(err)
				}
				return rep
			}
			run(day0)
			inst, _ := c.Instance("i-a")
			if at, st := testMarks.ReadTime("i-a", "reaper-notified", inst.Tags); st != mark.Valid || !at.Equal(day0) {
				t.Fatalf("mark %q: want the API's time %s", inst.Tags["reaper-notified"], day0)
			}
			// 23 hours later by the API's clock: inside the grace, whatever
			// the runner's clock says.
			if out := outcomes(run(day0.Add(23 * time.Hour)))["i-a"]; out != "skipped/in-grace" || len(c.Released()) != 0 {
				t.Fatalf("23 h after the notice: %s, released %v", out, c.Released())
			}
			if len(n.told()) != 1 {
				t.Fatalf("told %v: the mark must count", n.told())
			}
			run(day0.Add(24 * time.Hour))
			if len(c.Released()) != 1 {
				t.Fatal("not released once the grace passed by the API's clock")
			}
		})
	}
}

// An API whose answers carry no usable Date: its marks' times cannot be
// trusted, so nothing is marked, stopped or released in the scope, and
// the run fails saying why.
func TestNoAPIClockClosesTheScope(t *testing.T) {
	told := instance("i-told", "Stopped", "2026-11-01", "amy")
	told.Tags["reaper-notified"] = testMarks.Time("i-told", "reaper-notified", day0.Add(-48*time.Hour))
	c := fake.New([]cloud.Instance{told, instance("i-new", "Stopped", "2026-11-01", "amy")})
	n := &notifier{}
	opts := options()
	opts.Lifecycle = lifecycle
	opts.Notifier = n
	opts.Now = func() time.Time { return day0 }
	api := skewed{Cloud: c, api: func() time.Time { return time.Time{} }, known: false}
	rep, err := engine.New(opts, nil).RunRegions(t.Context(), api, "", []string{"r-1"})
	if err == nil || !strings.Contains(err.Error(), "r-1 ("+engine.CodeNoAPIClock+")") {
		t.Fatalf("err %v", err)
	}
	if len(c.Released()) != 0 || c.Count(ecsapi.ActionTagResources) != 0 || len(n.told()) != 0 {
		t.Fatalf("released %v, %d marks, told %v without the API's clock", c.Released(), c.Count(ecsapi.ActionTagResources), n.told())
	}
	if rep.Regions[0].Error == nil || rep.Regions[0].Error.Code != engine.CodeNoAPIClock || !strings.Contains(rep.Regions[0].Error.Message, "Date") {
		t.Errorf("region error %+v", rep.Regions[0].Error)
	}
}
