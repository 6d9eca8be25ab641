package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/discover"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// A page in flight when the run's deadline arrives is cut by it: the
// region fails for the deadline, saying how far it got, not for a
// transport timeout.
func TestListingCutMidCallByTheDeadline(t *testing.T) {
	e := newEnv(t, ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "p", 300)})
	e.srv.SetLatency(2 * time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	c := call.NewCaller(options().Retry, 0, time.Time{}, 4, &callCount{})
	s := &pageSink{given: map[string]int{}}
	res := discover.Run(ctx, e.api, c, discover.Request{Scope: cloud.Scope{Region: "cn-hangzhou"}, OptInKey: optIn}, s)
	if res.Failure == nil || res.Failure.Code != string(report.ReasonDeadline) || !strings.Contains(res.Failure.Message, "no page was read") {
		t.Fatalf("failure %+v: want the deadline, saying no page was read", res.Failure)
	}
}
