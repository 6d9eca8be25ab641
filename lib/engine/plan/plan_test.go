package plan_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func scope(region string, eligible, later int) *plan.Scope {
	p := plan.NewScope(cloud.Scope{Region: region}, decide.Rules{OptInKey: "exp", KeepKey: "keep"}, decide.Lifecycle{})
	for i := range eligible + later {
		expiry := "2026-01-01"
		if i >= eligible {
			expiry = "2099-01-01"
		}
		p.Add(cloud.Instance{ID: fmt.Sprintf("i-%s-%d", region, i), Region: region, Status: "Stopped", ChargeType: "PostPaid",
			Tags: map[string]string{"exp": expiry}}, now)
	}
	return p
}

func TestCapCheckIsPureAndSkipsClosedScopes(t *testing.T) {
	caps := plan.Caps{MaxRelease: 100, MaxReleasePercent: 50, PercentCapFrom: 10}
	for _, tc := range []struct {
		name              string
		scopes            []*plan.Scope
		count, percent    bool
		eligible, optedIn int
	}{
		{"one of one", []*plan.Scope{scope("a", 1, 0)}, false, false, 1, 1},
		{"five of eight", []*plan.Scope{scope("a", 5, 3)}, false, false, 5, 8},
		{"twelve of sixteen", []*plan.Scope{scope("a", 12, 4)}, false, true, 12, 16},
		{"a mass event", []*plan.Scope{scope("a", 150, 850)}, true, false, 150, 1000},
		{"a closed scope neither counts nor dilutes", []*plan.Scope{scope("a", 12, 4), func() *plan.Scope {
			s := scope("b", 0, 100)
			s.Closed = true
			return s
		}()}, false, true, 12, 16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := plan.Check(tc.scopes, caps)
			if c.CountExceeded != tc.count || c.PercentExceeded != tc.percent || c.Exceeded != (tc.count || tc.percent) ||
				c.Eligible != tc.eligible || c.OptedIn != tc.optedIn {
				t.Fatalf("check %+v", c)
			}
		})
	}
}

func TestAddIgnoresRepeatsAndUntrustedAnswers(t *testing.T) {
	p := plan.NewScope(cloud.Scope{Region: "r"}, decide.Rules{OptInKey: "exp", KeepKey: "keep"}, decide.Lifecycle{})
	in := cloud.Instance{ID: "i-1", Region: "r", Status: "Stopped", ChargeType: "PostPaid", Tags: map[string]string{"exp": "2026-01-01"}}
	if _, _, fresh := p.Add(in, now); !fresh {
		t.Fatal("first add not fresh")
	}
	if _, _, fresh := p.Add(in, now); fresh {
		t.Fatal("a repeat was taken twice")
	}
	other := in
	other.ID, other.Region = "i-2", "elsewhere"
	if d, _, _ := p.Add(other, now); d.Step != decide.StepSkip || d.Reason != decide.ReasonInvalidData {
		t.Fatalf("an answer from another region: %+v", d)
	}
	if p.Seen != 2 || p.OptedIn != 1 || len(p.Eligible) != 1 {
		t.Errorf("seen %d, opted in %d, eligible %d", p.Seen, p.OptedIn, len(p.Eligible))
	}
}
