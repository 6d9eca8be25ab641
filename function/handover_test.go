package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// An EIP's hand-over mark through the function binary: it ends when the
// EIP is bound again (the mark is removed with the VPC API's
// UnTagResources), and a mark older than a week releases nothing.

const handOverKey = "reaper-notified-released-with"

func handOverFleet(bound string, age time.Duration) string {
	g := fnMarks.HandOver("eip-bp1rev", handOverKey, "i-bp1gone0000001", time.Now().Add(-age))
	extra := ""
	if bound != "" {
		extra = fmt.Sprintf(`,"instance":%q`, bound)
	}
	return fmt.Sprintf(`{"instances":[{"id":"i-bp1live0000001","region":"cn-hangzhou","status":"Running","creationTime":"2026-01-01T00:00Z","tags":{"reaper-expires":"2099-11-01"}}],
 "eips":[{"allocationId":"eip-bp1rev","address":"47.1.2.9","region":"cn-hangzhou"%s,"tags":{%q:%q}}]}`, extra, handOverKey, g)
}

func eipOutcome(rep *report.Report, id string) string {
	for _, r := range rep.Regions {
		if r.Section("eips") == nil {
			continue
		}
		for _, g := range r.Section("eips").Groups {
			for _, it := range g.Instances {
				if it.ID == id {
					return string(g.Outcome) + "/" + string(g.Reason)
				}
			}
		}
	}
	return ""
}

func startHandOver(t *testing.T, fleet string) *stack {
	t.Helper()
	return startFleetStack(t, binary(t), fleet, "REAPER_REGIONS=cn-hangzhou", "REAPER_RELEASE_EIPS=true",
		"REAPER_MAX_RELEASE_PERCENT=100", "REAPER_MARK_SECRET="+fnMarkSecret)
}

func TestBinaryHandOverEndsWhenBoundAgain(t *testing.T) {
	for _, age := range []time.Duration{time.Hour, 90 * 24 * time.Hour} {
		s := startHandOver(t, handOverFleet("i-bp1live0000001", age))
		rep := decodeReport(t, s.invoke(t, "rebound", timerEvent("")))
		e, _, ok := s.ecs.EIP("eip-bp1rev")
		if !ok {
			t.Fatalf("age %v: the rebound EIP was released", age)
		}
		if v, marked := e.Tags[handOverKey]; marked {
			t.Errorf("age %v: the hand-over mark survives the new binding: %q", age, v)
		}
		if got := eipOutcome(rep, "eip-bp1rev"); got != "skipped/decision-changed" {
			t.Errorf("age %v: %q", age, got)
		}
		if n := s.ecs.CallCount("UnTagResources"); n != 1 {
			t.Errorf("age %v: %d UnTagResources calls", age, n)
		}
	}
}

func TestBinaryStaleHandOverReleasesNothing(t *testing.T) {
	s := startHandOver(t, handOverFleet("", 90*24*time.Hour))
	rep := decodeReport(t, s.invoke(t, "stale", timerEvent("")))
	if _, _, ok := s.ecs.EIP("eip-bp1rev"); !ok {
		t.Fatal("released on a 90-day-old hand-over mark")
	}
	if got := eipOutcome(rep, "eip-bp1rev"); got != "skipped/stale-mark" {
		t.Errorf("%q, want skipped/stale-mark", got)
	}
}
