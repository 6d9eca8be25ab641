package engine_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// pacedNotifier paces its messages as DingTalk does (the first goes at
// once, each later one waits out the interval) and logs, with the
// cloud's marks, the order things happened in.
type pacedNotifier struct {
	pace time.Duration
	hang string // this owner's notice hangs until its context ends
	mu   sync.Mutex
	last time.Time
	seq  []string
}

func (p *pacedNotifier) Kind() string                                 { return "dingtalk" }
func (p *pacedNotifier) Interval() time.Duration                      { return p.pace }
func (p *pacedNotifier) Report(context.Context, notify.Summary) error { return nil }

func (p *pacedNotifier) Notify(ctx context.Context, n notify.Notice) error {
	if p.hang == n.Owner {
		<-ctx.Done() // a channel that never answers
		return ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if wait := p.pace - time.Since(p.last); !p.last.IsZero() && wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.last = time.Now()
	p.seq = append(p.seq, "notify "+n.Owner)
	return nil
}

func (p *pacedNotifier) log(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seq = append(p.seq, s)
}

func (p *pacedNotifier) told() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range p.seq {
		if owner, ok := strings.CutPrefix(s, "notify "); ok {
			out = append(out, owner)
		}
	}
	return out
}

// ownersFleet: six owners, one instance each, all expired and never told;
// their names run against their due dates, so that due order is not name
// order.
func ownersFleet() ([]cloud.Instance, []string) {
	owners := []string{"zoe", "yan", "xia", "wu", "vic", "uma"} // earliest due first
	var fleet []cloud.Instance
	for i, o := range owners {
		fleet = append(fleet, instance("i-"+o, "Stopped", time.Date(2026, 11, 1+i, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), o))
	}
	return fleet, owners
}

// runFor runs the engine once with an invocation of timeout.
func runFor(t *testing.T, c *fake.Cloud, opts engine.Options, timeout time.Duration) (*report.Report, time.Time, error) {
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	rep, err := engine.New(opts, nil).RunRegions(ctx, c, "", []string{"r-1"})
	return rep, deadline, err
}

// A notice goes out only when its mark can still be written: per owner,
// tell then mark; the notice phase stops at the margin; the owners are
// served earliest due first, and the next run goes on with the rest.
func TestNoticesObeyTheMarginAndMarkPerOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fleet, owners := ownersFleet()
		c := fake.New(fleet)
		n := &pacedNotifier{pace: 3 * time.Second}
		c.Fault = func(action string, in any) error {
			if tag, ok := in.(ecsapi.TagInput); ok && action == ecsapi.ActionTagResources {
				n.log("mark " + strings.Join(tag.InstanceIDs, ","))
			}
			return nil
		}
		opts := options()
		opts.Lifecycle, opts.Notifier, opts.DeadlineMargin = lifecycle, n, 3*time.Second
		opts.Now = func() time.Time { return day0 }

		// 11 s with a 3 s margin and a 3 s pace: three owners fit.
		rep, deadline, err := runFor(t, c, opts, 11*time.Second)
		if !errors.Is(err, engine.ErrIncomplete) || rep.Error != "" {
			t.Fatalf("err %v (report error %q): want incomplete, not failed: the run told and marked some", err, rep.Error)
		}
		want := []string{"notify zoe", "mark i-zoe", "notify yan", "mark i-yan", "notify xia", "mark i-xia"}
		if !slices.Equal(n.seq, want) {
			t.Fatalf("sequence %v, want %v: each owner told, then marked, earliest due first", n.seq, want)
		}
		for _, call := range c.Calls() {
			if left := deadline.Sub(call.Time); left < opts.DeadlineMargin {
				t.Errorf("%s started with %v left, inside the margin", call.Action, left)
			}
		}
		out := outcomes(rep)
		for i, o := range owners {
			inst, _ := c.Instance("i-" + o)
			switch {
			case i < 3 && (out["i-"+o] != "notified/" || inst.Tags["reaper-notified"] == ""):
				t.Errorf("%s: %s, mark %q: told, so marked", o, out["i-"+o], inst.Tags["reaper-notified"])
			case i >= 3 && (out["i-"+o] != "not-attempted/deadline" || inst.Tags["reaper-notified"] != ""):
				t.Errorf("%s: %s: owed, not sent", o, out["i-"+o])
			}
		}
		got := rep.Notices
		if got == nil || got.Owed != 6 || got.Owners != 6 || got.Delivered != 3 || got.UnsentItems != 3 || got.UnsentOwners != 3 ||
			!slices.Equal(got.Unsent, []string{"wu", "vic", "uma"}) || got.Reasons["deadline"] != 3 {
			t.Fatalf("notices %+v", got)
		}
		if !strings.Contains(err.Error(), "3 of 6 notices owed were not sent") {
			t.Errorf("err %q does not say what was left", err)
		}

		// The next run owes only the rest, and serves them.
		n.seq, n.last = nil, time.Time{} // each invocation has its own channel
		opts.RunID = "next"
		opts.Now = func() time.Time { return day0.Add(time.Hour) }
		rep, _, err = runFor(t, c, opts, 11*time.Second)
		if err != nil {
			t.Fatalf("second run: %v", err)
		}
		if got := n.told(); !slices.Equal(got, []string{"wu", "vic", "uma"}) {
			t.Fatalf("second run told %v, want the owners the first left", got)
		}
		if rep.Notices == nil || rep.Notices.Delivered != 3 || rep.Notices.UnsentItems != 0 {
			t.Errorf("notices %+v", rep.Notices)
		}
	})
}

// A run that owed notices, sent none and did nothing else fails: every
// later run would do the same.
func TestNoticesThatNeverFitFailTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fleet, _ := ownersFleet()
		c := fake.New(fleet)
		n := &pacedNotifier{pace: 3 * time.Second}
		opts := options()
		opts.Lifecycle, opts.Notifier, opts.DeadlineMargin = lifecycle, n, 3*time.Second
		opts.Now = func() time.Time { return day0 }
		rep, _, err := runFor(t, c, opts, 4*time.Second) // the margin and one send with its mark do not fit
		if !errors.Is(err, engine.ErrNoticesUnsent) || rep.Error == "" || !strings.Contains(rep.Error, "6 of 6 notices owed were not sent") ||
			!strings.Contains(rep.Error, "zoe, yan, xia") {
			t.Fatalf("err %v, report error %q: want the run failed, naming what was owed", err, rep.Error)
		}
		if len(n.told()) != 0 || c.Count(ecsapi.ActionTagResources) != 0 {
			t.Fatalf("told %v: nothing fits, so nothing is sent", n.told())
		}
	})
}

// A resource's notice mark that could not be written fails the run, like
// an instance's.
func TestResourceNoticeMarkThatFailsFailsTheRun(t *testing.T) {
	c := fake.New(nil)
	c.SetResources(fake.Resources{EIPs: []cloud.EIP{{AllocationID: "eip-owed", Address: "47.0.0.1", Region: "r-1", Status: "Available",
		ChargeType: "PostPaid", AllocationTime: "2026-01-01T00:00:00Z", Tags: map[string]string{optIn: "2026-11-01", "owner": "ivy"}}}})
	c.Fault = func(action string, in any) error {
		if action == "TagEIPs" {
			return fake.Err(action, "r-1", "InvalidTagKey.Malformed", 400)
		}
		return nil
	}
	n := &notifier{}
	opts := options()
	opts.Lifecycle, opts.Resources, opts.SkipInstances = lifecycle, []string{kinds.EIPs.Name}, true
	d := &days{t: t, c: c, n: n, opts: opts}
	rep, err := d.at(day0)
	if !errors.Is(err, engine.ErrReleaseFailed) || !strings.Contains(err.Error(), "EIP eip-owed") || !strings.Contains(err.Error(), "InvalidTagKey.Malformed") {
		t.Fatalf("err %v: want the run failed naming the EIP and the code", err)
	}
	if len(n.told()) != 1 || rep.Error == "" || rep.Totals.Kinds["eips"]["failed"] != 1 {
		t.Fatalf("told %v, report error %q, EIP totals %v", n.told(), rep.Error, rep.Totals.Kinds["eips"])
	}
}

// A channel that hangs is cut short in time to keep the margin: the owner
// is owed (not failed, not marked), and the run goes on with its writes.
func TestNoticeThatHangsIsCutBeforeTheMarks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fleet, _ := ownersFleet()
		c := fake.New(fleet)
		n := &pacedNotifier{pace: 3 * time.Second, hang: "yan"}
		opts := options()
		opts.Lifecycle, opts.Notifier, opts.DeadlineMargin = lifecycle, n, 3*time.Second
		opts.Now = func() time.Time { return day0 }
		rep, deadline, err := runFor(t, c, opts, 11*time.Second)
		if !errors.Is(err, engine.ErrIncomplete) || rep.Error != "" {
			t.Fatalf("err %v: want incomplete (zoe was told and marked), not failed", err)
		}
		out := outcomes(rep)
		if out["i-zoe"] != "notified/" || out["i-yan"] != "not-attempted/deadline" || out["i-xia"] != "not-attempted/deadline" {
			t.Fatalf("outcomes %v", out)
		}
		if inst, _ := c.Instance("i-yan"); inst.Tags["reaper-notified"] != "" {
			t.Error("marked an owner whose notice was cut short")
		}
		for _, call := range c.Calls() {
			if left := deadline.Sub(call.Time); left < opts.DeadlineMargin {
				t.Errorf("%s started with %v left, inside the margin", call.Action, left)
			}
		}
		if rep.Notices.Delivered != 1 || rep.Notices.UnsentItems != 5 {
			t.Errorf("notices %+v", rep.Notices)
		}
	})
}

// An EIP's hand-over mark is a write like any other: an executor item
// with its batch in the report.
func TestHandOverMarkIsABatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.New(stopped("r-1", "h", 1))
		c.SetResources(fake.Resources{EIPStatusAfterRelease: "Unassociating", EIPs: []cloud.EIP{{AllocationID: "eip-late", Address: "47.0.0.2",
			Region: "r-1", Status: "InUse", InstanceID: "i-h00000", ChargeType: "PostPaid", AllocationTime: "2026-01-01T00:00:00Z"}}})
		opts := options()
		opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, "reaper-notified-released-with", time.Second
		opts.Lifecycle.Marks = testMarks
		rep, _, err := runFor(t, c, opts, time.Hour)
		if err != nil || rep.Totals.Kinds["eips"]["not-attempted/eip-not-available"] != 1 {
			t.Fatalf("err %v, EIP totals %v", err, rep.Totals.Kinds["eips"])
		}
		var batches []string
		for _, b := range rep.Regions[0].Batches {
			if b.Tags["reaper-notified-released-with"] != "" {
				batches = append(batches, fmt.Sprintf("%s %v %s", b.Action, b.InstanceIDs, b.Result))
			}
		}
		if want := []string{"TagResources [eip-late] not-attempted"}; !slices.Equal(batches, want) {
			t.Errorf("hand-over batches %q, want %q", batches, want)
		}
		if eips := c.EIPs(); len(eips) != 1 || !strings.HasPrefix(eips[0].Tags["reaper-notified-released-with"], "i-h00000@") {
			t.Errorf("EIPs %+v: want the hand-over mark written", eips)
		}
	})
}

// An EIP hand-over mark the deadline left no time to write is a failed
// write: no later run could find that EIP.
func TestHandOverWithoutTimeFailsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := fake.New(stopped("r-1", "h", 1))
		c.SetResources(fake.Resources{EIPStatusAfterRelease: "Unassociating", EIPs: []cloud.EIP{{AllocationID: "eip-late", Address: "47.0.0.2",
			Region: "r-1", Status: "InUse", InstanceID: "i-h00000", ChargeType: "PostPaid", AllocationTime: "2026-01-01T00:00:00Z"}}})
		opts := options()
		opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait, opts.DeadlineMargin = true, "reaper-notified-released-with", 2*time.Second, 3*time.Second
		rep, _, err := runFor(t, c, opts, 10*time.Second) // the looks at the EIP use the time up
		if !errors.Is(err, engine.ErrReleaseFailed) || !strings.Contains(err.Error(), "EIP eip-late (hand-over mark (TagResources) failed: deadline)") {
			t.Fatalf("err %v: want the run failed, naming the EIP left without its hand-over", err)
		}
		if rep.Totals.Kinds["eips"]["failed/deadline"] != 1 || !slices.Equal(c.Released(), []string{"i-h00000"}) {
			t.Fatalf("EIP totals %v, released %v", rep.Totals.Kinds["eips"], c.Released())
		}
	})
}
