package decide

import (
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

var testKeys = mark.NewKeys("decide-test-secret-0123456789abcdefghij", "")

// parseMark reads v as the content of a signed notice mark on i-1.
func parseMark(v string, now time.Time) (time.Time, bool) {
	lc := Lifecycle{Marks: testKeys, MarkKey: "mark"}
	got, ok, _ := lc.readMark("i-1", "mark", map[string]string{"mark": testKeys.Sign("i-1", "mark", v)}, now)
	return got, ok
}

func TestParseMark(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"2026-12-01T08:00:00Z", true},
		{"2026-12-01T12:00:00Z", true},       // now itself
		{"2026-12-01T12:00:01Z", false},      // in the future
		{"2026-12-01T08:00:00+08:00", false}, // not UTC
		{"2026-12-01T08:00Z", false},         // ECS's minute form: another format
		{"2026-12-01T08:00:00.5Z", false},    // fractions
		{"2026-12-01 08:00:00Z", false},      //
		{"2026-12-01", false},                // a date
		{"yesterday", false},                 //
		{"", false},                          //
		{"0001-01-01T00:00:00Z", false},      // the zero time
		{"2026-13-01T08:00:00Z", false},      // no such month
		{" 2026-12-01T08:00:00Z", false},     // white space
		{"2026-12-01t08:00:00z", false},      // lower case
		{"9999-12-31T23:59:59Z", false},      // far future
		{"2026-12-01T08:00:00Z\n", false},    //
		{"2026-02-29T08:00:00Z", false},      // no such day
		{"2024-02-29T08:00:00Z", true},       // leap day
		{"+2026-12-01T08:00:00Z", false},     //
		{"2026-12-01T24:00:00Z", false},      //
		{"2026-12-01T08:00:60Z", false},      // leap second: not a Go time
		{"１９70-01-01T00:00:00Z", false},      // full-width digits
		{"2026-12-01T08:00:00Z2", false},     // trailing
		{strings.Repeat("2", 20), false},     //
		{"2026-12-01T08:00:00ZZ"[:20], true}, // exactly the layout
		{"1970-01-01T00:00:00Z", true},       // the epoch is a time
	} {
		_, ok := parseMark(tc.v, now)
		if ok != tc.ok {
			t.Errorf("parseMark(%q) ok = %v, want %v", tc.v, ok, tc.ok)
		}
	}
}

func FuzzParseMark(f *testing.F) {
	for _, s := range []string{"2026-12-01T08:00:00Z", "2026-12-01T08:00:00+08:00", "garbage", "", "2099-01-01T00:00:00Z", "2026-12-01T08:00Z"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		got, ok := parseMark(v, now)
		if !ok {
			if !got.IsZero() {
				t.Fatalf("parseMark(%q) returned %v with ok false", v, got)
			}
			return
		}
		// A mark that counts is a past or present UTC time that reads back
		// exactly as written.
		if got.After(now) || got.IsZero() || got.Location() != time.UTC || mark.FormatTime(got) != v {
			t.Fatalf("parseMark(%q) = %v: a mark must be a past UTC time in the one layout", v, got)
		}
	})
}

func TestPlanLifecycle(t *testing.T) {
	now := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	rules := Rules{OptInKey: "exp", KeepKey: "keep"}
	lc := Lifecycle{On: true, Notice: 24 * time.Hour, Grace: 24 * time.Hour, MarkKey: "mark", StopMarkKey: "mark-stopped", OwnerKey: "owner", Marks: testKeys}
	// inst signs the marks' values as the reaper writes them; "raw:" writes
	// a value as a user could.
	inst := func(status, expiry string, tags ...string) Instance {
		in := Instance{ID: "i-1", Region: "r", Status: status, ChargeType: ChargePostPaid, Tags: map[string]string{"exp": expiry, "owner": "alice"}}
		for i := 0; i+1 < len(tags); i += 2 {
			k, v := tags[i], tags[i+1]
			if raw, ok := strings.CutPrefix(v, "raw:"); ok {
				v = raw
			} else if k == "mark" || k == "mark-stopped" {
				v = testKeys.Sign("i-1", k, v)
			}
			in.Tags[k] = v
		}
		return in
	}
	for _, tc := range []struct {
		name       string
		in         Instance
		lc         func(*Lifecycle)
		rules      func(*Rules)
		step       Step
		reason     string
		action     string
		again      bool
		unverified bool
	}{
		{name: "grace off releases at once", in: inst("Stopped", "2026-12-01"), lc: func(l *Lifecycle) { l.On = false }, step: StepRelease},
		{name: "grace off, stop mode stops at once", in: inst("Running", "2026-12-01"), lc: func(l *Lifecycle) { l.On, l.Stop = false, true }, step: StepStop},
		{name: "expired and never told: notify", in: inst("Stopped", "2026-12-01"), step: StepNotify, action: "release"},
		{name: "inside the notice window: notify ahead", in: inst("Stopped", "2026-12-11"), step: StepNotify, action: "release"},
		{name: "before the notice window: nothing yet", in: inst("Stopped", "2026-12-12"), step: StepSkip, reason: "not-expired"},
		{name: "told, not expired: wait quietly", in: inst("Stopped", "2026-12-11", "mark", "2026-12-10T06:00:00Z"), step: StepSkip, reason: "not-expired"},
		{name: "told, inside the grace", in: inst("Stopped", "2026-12-10", "mark", "2026-12-10T06:00:00Z"), step: StepWait, reason: "in-grace"},
		{name: "told, grace passed", in: inst("Stopped", "2026-12-09", "mark", "2026-12-09T06:00:00Z"), step: StepRelease},
		{name: "a mark for an earlier expiry does not count", in: inst("Stopped", "2026-12-10", "mark", "2026-11-01T00:00:00Z"), step: StepNotify, again: true},
		{name: "a garbage mark does not count", in: inst("Stopped", "2026-12-01", "mark", "yes"), step: StepNotify, again: true, unverified: true},
		{name: "an empty mark does not count", in: inst("Stopped", "2026-12-01", "mark", ""), step: StepNotify, again: true, unverified: true},
		{name: "a future mark does not count", in: inst("Stopped", "2026-12-01", "mark", "2027-01-01T00:00:00Z"), step: StepNotify, again: true},
		{name: "a mark in another format does not count", in: inst("Stopped", "2026-12-01", "mark", "2026-12-09T06:00Z"), step: StepNotify, again: true, unverified: true},
		{name: "running, skip mode, inside the notice window: told nothing happens while it runs", in: inst("Running", "2026-12-11"), step: StepNotify, action: ActionReleaseOnceStopped},
		{name: "running, force mode, inside the notice window: told it is released", in: inst("Running", "2026-12-11"), lc: func(l *Lifecycle) { l.Force = true }, rules: func(r *Rules) { r.Force = true }, step: StepNotify, action: ActionRelease},
		{name: "running, stop mode, inside the notice window: told it is stopped", in: inst("Running", "2026-12-11"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepNotify, action: ActionStop},
		{name: "running, skip mode: untouched", in: inst("Running", "2026-12-01"), step: StepSkip, reason: "running"},
		{name: "running, stop mode: notify first", in: inst("Running", "2026-12-01"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepNotify, action: "stop"},
		{name: "running, stop mode, grace passed: stop", in: inst("Running", "2026-12-01", "mark", "2026-12-08T00:00:00Z"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepStop},
		{name: "stopped by the reaper, not yet for the grace", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z", "mark-stopped", "2026-12-10T00:00:00Z"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepWait, reason: "in-grace"},
		{name: "stopped by the reaper for the grace: release", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z", "mark-stopped", "2026-12-09T00:00:00Z"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepRelease},
		{name: "running, force mode, grace passed: release", in: inst("Running", "2026-12-01", "mark", "2026-12-08T00:00:00Z"), rules: func(r *Rules) { r.Force = true }, step: StepRelease},
		{name: "a forged plain-time mark is no mark", in: inst("Stopped", "2026-12-01", "mark", "raw:2026-12-09T06:00:00Z"), step: StepNotify, again: true, unverified: true},
		{name: "an empty mark is no mark", in: inst("Stopped", "2026-12-01", "mark", "raw:"), step: StepNotify, again: true, unverified: true},
		{name: "a mark copied from another instance is no mark", in: inst("Stopped", "2026-12-01", "mark", "raw:"+testKeys.Time("i-2", "mark", now.Add(-48*time.Hour))), step: StepNotify, again: true, unverified: true},
		{name: "a forged mark on a Running instance: notify, not stop", in: inst("Running", "2026-12-01", "mark", "raw:2026-12-08T00:00:00Z"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepNotify, action: "stop", again: true, unverified: true},
		{name: "a mark of an unknown secret is no mark", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z"), lc: func(l *Lifecycle) { l.Marks = mark.NewKeys(strings.Repeat("n", 32), "") }, step: StepNotify, again: true, unverified: true},
		{name: "a mark of the previous secret counts during a rotation", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z"), lc: func(l *Lifecycle) {
			l.Marks = mark.NewKeys(strings.Repeat("n", 32), "decide-test-secret-0123456789abcdefghij")
		}, step: StepRelease},
		// A stop mark present that does not count never shortens the stop
		// grace: treated as stopped now, it is marked again and waits.
		{name: "a forged stop mark restarts the stop grace", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z", "mark-stopped", "raw:2026-12-10T00:00:00Z"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepMarkStopped, reason: "unverified-mark", unverified: true},
		{name: "an altered stop mark restarts the stop grace", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z", "mark-stopped", "raw:x"+testKeys.Time("i-1", "mark-stopped", now.Add(-10*time.Minute))), lc: func(l *Lifecycle) { l.Stop = true }, step: StepMarkStopped, reason: "unverified-mark", unverified: true},
		{name: "an emptied stop mark restarts the stop grace", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z", "mark-stopped", "raw:"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepMarkStopped, reason: "unverified-mark", unverified: true},
		{name: "a stop mark copied from another instance restarts the stop grace", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z", "mark-stopped", "raw:"+testKeys.Time("i-2", "mark-stopped", now.Add(-48*time.Hour))), lc: func(l *Lifecycle) { l.Stop = true }, step: StepMarkStopped, reason: "unverified-mark", unverified: true},
		{name: "a future stop mark restarts the stop grace", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z", "mark-stopped", "2027-01-01T00:00:00Z"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepMarkStopped, reason: "unverified-mark"},
		// A deleted stop mark cannot be told from an owner's own stop.
		{name: "no stop mark: the owner's stop, released", in: inst("Stopped", "2026-12-01", "mark", "2026-12-08T00:00:00Z"), lc: func(l *Lifecycle) { l.Stop = true }, step: StepRelease},
		{name: "the API's clock a day behind the runner's: still in grace", in: inst("Stopped", "2026-12-01", "mark", "2026-12-09T06:00:00Z"), lc: func(l *Lifecycle) {
			l.Clock = func() time.Time { return now.Add(-24 * time.Hour).Add(7 * time.Hour) }
		}, step: StepWait, reason: "in-grace"},
		{name: "the API's clock a day ahead of the runner's: the grace passed", in: inst("Stopped", "2026-12-01", "mark", "2026-12-10T06:00:00Z"), lc: func(l *Lifecycle) {
			l.Clock = func() time.Time { return now.Add(24 * time.Hour) }
		}, step: StepRelease},
		{name: "kept: nothing, however expired", in: inst("Stopped", "2026-12-01", "keep", ""), step: StepSkip, reason: "excluded"},
		{name: "owner pushed the expiry: a fresh notice later", in: inst("Stopped", "2026-12-20", "mark", "2026-12-09T06:00:00Z"), step: StepSkip, reason: "not-expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, r := lc, rules
			if tc.lc != nil {
				tc.lc(&l)
			}
			if tc.rules != nil {
				tc.rules(&r)
			}
			p := PlanLifecycle(Decide(tc.in, r, now), tc.in, l, now)
			if p.Step != tc.step || (tc.reason != "" && string(p.Reason) != tc.reason) || (tc.action != "" && p.Action != tc.action) || p.Unverified != tc.unverified {
				t.Fatalf("plan %+v: want step %d reason %q action %q", p, tc.step, tc.reason, tc.action)
			}
			if p.Step == StepNotify && (p.When.Before(now) || p.Owner != "alice") {
				t.Errorf("notice %+v: want a time to come and the owner", p)
			}
			if p.Step == StepMarkStopped && !p.When.Equal(now.Add(l.Grace)) {
				t.Errorf("restarted stop grace %+v: released no earlier than %s, want a whole grace from now", p, p.When)
			}
			if p.Step == StepNotify && p.Again != tc.again {
				t.Errorf("notice %+v: Again %v, want %v (told before: a mark that does not count)", p, p.Again, tc.again)
			}
		})
	}
}
