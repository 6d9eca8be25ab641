package main

import (
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

// startWeCom runs the lifecycle stack with its notices on a WeCom group
// robot double whose key is hookToken (the stack checks that the
// function's output never shows it).
func startWeCom(t *testing.T) (*lifeStack, *webhookdouble.Server) {
	t.Helper()
	robot, err := webhookdouble.Start(hookToken, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(robot.Close)
	l := startLifecycle(t, "REAPER_NOTIFY_URL="+robot.URL(notify.WeCom), "REAPER_NOTIFY_KIND=wecom", "REAPER_NOTIFY_SECRET=", "REAPER_RUNNING=stop")
	return l, robot
}

// Through the function binary under the FC runtime double: each owner's
// digest reaches the WeCom robot as markdown with the owner mentioned, a
// throttled message (45009) is retried, and the marks are written.
func TestBinaryWeComNotices(t *testing.T) {
	l, robot := startWeCom(t)
	robot.Inject(webhookdouble.Throttle)
	rep := decodeReport(t, l.tick(t, lifeDay0))
	msgs := robot.Messages()
	if len(msgs) != 2 || robot.Rejected() != 0 {
		t.Fatalf("%d messages (%d rejected), want one digest per owner", len(msgs), robot.Rejected())
	}
	text := msgs[0].Text() + msgs[1].Text()
	for _, want := range []string{"<@13800138000>", "<@13900139000>", "i-bp1life000000001", "i-bp1life000000002"} {
		if !strings.Contains(text, want) {
			t.Errorf("the digests lack %q:\n%s", want, text)
		}
	}
	for _, m := range msgs {
		if m.Body["msgtype"] != "markdown" {
			t.Errorf("message %s: not markdown", m.Raw)
		}
	}
	for _, id := range []string{"i-bp1life000000001", "i-bp1life000000002"} {
		if got := outcomeOf(rep, id); got != "notified/" {
			t.Errorf("%s: %s", id, got)
		}
		if inst, _ := l.ecs.Instance(id); inst.Tags["reaper-notified"] == "" {
			t.Errorf("%s is not marked", id)
		}
	}
}

// WeCom's error inside a 200 fails the invocation, names the platform's
// code, writes no mark, and never shows the robot's key.
func TestBinaryWeComErrorIsAnInvocationError(t *testing.T) {
	l, robot := startWeCom(t)
	robot.Inject(webhookdouble.ErrorIn200, webhookdouble.ErrorIn200)
	res := l.tick(t, lifeDay0)
	wantError(t, res, "notices not delivered", "wecom", "errcode 40058")
	if strings.Contains(res.Err.ErrorMessage, hookToken) || strings.Contains(string(res.Body), hookToken) {
		t.Errorf("the invocation's answer shows the key")
	}
	for _, id := range []string{"i-bp1life000000001", "i-bp1life000000002"} {
		if inst, _ := l.ecs.Instance(id); inst.Tags["reaper-notified"] != "" {
			t.Errorf("%s marked after an undelivered notice", id)
		}
	}
}
