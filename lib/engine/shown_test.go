package engine_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/fake"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// signedValue is a mark with its whole MAC: what must never be shown.
var signedValue = regexp.MustCompile(regexp.QuoteMeta(mark.Sep) + `[A-Za-z0-9_-]{22}`)

// unsignedOutput runs r-1 of c and returns its report, text report and
// logs together, failing if any carries a mark's whole value.
func unsignedOutput(t *testing.T, c *fake.Cloud, opts engine.Options) string {
	t.Helper()
	var logs bytes.Buffer
	rep, err := engine.New(opts, slog.New(slog.NewJSONHandler(&logs, nil))).RunRegions(t.Context(), c, "", []string{"r-1"})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(rep)
	var text strings.Builder
	if err := report.WriteText(&text, rep); err != nil {
		t.Fatal(err)
	}
	all := string(js) + "\n" + text.String() + "\n" + logs.String()
	if leaked := signedValue.FindAllString(all, -1); len(leaked) > 0 {
		t.Fatalf("the output carries %d signed marks %v:\n%s", len(leaked), leaked, all)
	}
	return all
}

// No report, text report or log line of a run, dry or not, carries a
// mark's whole value: anyone who reads one could tag the resource with it
// and skip the notice (or hand an EIP over). What the run writes is shown
// as its content and ";sig=…".
func TestNoOutputCarriesASignedMark(t *testing.T) {
	const handOverKey = "reaper-notified-released-with"
	for _, dry := range []bool{true, false} {
		name := "live"
		if dry {
			name = "dry"
		}
		t.Run(name, func(t *testing.T) {
			c := fake.New([]cloud.Instance{instance("i-a", "Stopped", "2026-11-01", "amy"), instance("i-r", "Running", "2026-11-01", "bo")}, "r-1")
			busy := cloud.EIP{AllocationID: "eip-busy", Address: "47.0.0.9", Region: "r-1", Status: "Unassociating", ChargeType: "PostPaid",
				Tags: map[string]string{handOverKey: testMarks.HandOver("eip-busy", handOverKey, "i-gone", day0.Add(-time.Hour))}}
			c.SetResources(fake.Resources{EIPs: []cloud.EIP{busy}})
			opts := options()
			opts.Lifecycle = lifecycle
			opts.Lifecycle.Stop = true
			opts.Notifier = &notifier{}
			opts.DryRun = dry
			opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, handOverKey, time.Millisecond
			opts.Now = func() time.Time { return day0 }
			all := unsignedOutput(t, c, opts)
			// What is written is still shown, by its content.
			// eip-busy keeps the mark it was handed over with, shown by its content.
			shown := []string{"handed over by i-gone at " + mark.FormatTime(day0.Add(-time.Hour)) + ": its mark stays"}
			if dry {
				shown = append(shown, "write reaper-notified="+mark.FormatTime(day0)+mark.Elided)
			} else {
				shown = append(shown, `"tags":{"reaper-notified":"`+mark.FormatTime(day0)+mark.Elided+`"}`) // the write batch
			}
			for _, want := range shown {
				if !strings.Contains(all, want) {
					t.Errorf("the output does not show %q:\n%s", want, all)
				}
			}
			// A live run wrote whole, valid marks all the same.
			if !dry {
				inst, _ := c.Instance("i-a")
				if _, st := testMarks.ReadTime("i-a", "reaper-notified", inst.Tags); st != mark.Valid {
					t.Errorf("the mark written %q does not verify", inst.Tags["reaper-notified"])
				}
			}
		})
	}
}

// A hand-over mark written this run is shown by its content, never whole.
func TestWrittenHandOverIsShownByItsContent(t *testing.T) {
	const handOverKey = "reaper-notified-released-with"
	c := fake.New([]cloud.Instance{instance("i-1", "Stopped", "2020-01-01", "amy")})
	c.SetResources(fake.Resources{EIPStatusAfterRelease: "Unassociating", EIPs: []cloud.EIP{{AllocationID: "eip-late", Address: "47.0.0.9", Region: "r-1",
		Status: "InUse", ChargeType: "PostPaid", InstanceID: "i-1", InstanceType: "EcsInstance"}}})
	opts := options()
	opts.Lifecycle.Marks = testMarks
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, handOverKey, time.Millisecond
	opts.Now = func() time.Time { return day0 }
	all := unsignedOutput(t, c, opts)
	if want := handOverKey + "=i-1@" + mark.FormatTime(day0) + mark.Elided; !strings.Contains(all, want) {
		t.Errorf("the output does not show %q:\n%s", want, all)
	}
	eips := c.EIPs()
	if len(eips) != 1 {
		t.Fatalf("EIPs %+v", eips)
	}
	if instance, _, st := testMarks.ReadHandOver("eip-late", handOverKey, eips[0].Tags); st != mark.Valid || instance != "i-1" {
		t.Errorf("the hand-over written %q does not verify for i-1", eips[0].Tags[handOverKey])
	}
}

// An EIP whose hand-over could not be written is left to the operator:
// the advice is to release it by hand, never to tag it (a hand-written
// hand-over does not verify and is never released on).
func TestLostHandOverAdvisesReleasingByHand(t *testing.T) {
	// The instance is released this run; its EIP stays Unassociating, so
	// it is handed over, and the mark's write fails.
	c := fake.New([]cloud.Instance{instance("i-1", "Stopped", "2020-01-01", "amy")})
	c.SetResources(fake.Resources{EIPStatusAfterRelease: "Unassociating", EIPs: []cloud.EIP{{AllocationID: "eip-busy", Address: "47.0.0.9", Region: "r-1",
		Status: "InUse", ChargeType: "PostPaid", InstanceID: "i-1", InstanceType: "EcsInstance"}}})
	c.Fault = func(action string, _ any) error {
		if action == "TagEIPs" {
			return fake.Err(action, "r-1", "QuotaExceed.Tags", 403)
		}
		return nil
	}
	opts := options()
	opts.Lifecycle.Marks = testMarks
	opts.ReleaseEIPs, opts.EIPMarkKey, opts.EIPPollWait = true, "reaper-notified-released-with", time.Millisecond
	rep, err := runOne(t, c, opts, "r-1")
	if err == nil {
		t.Fatal("a hand-over that was not written did not fail the run")
	}
	js, _ := json.Marshal(rep)
	if !strings.Contains(string(js), "release it by hand") || strings.Contains(string(js), "tag it") {
		t.Errorf("the advice for the EIP left without its hand-over:\n%s", js)
	}
}
