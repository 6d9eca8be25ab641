package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

// signedValue is a mark with its whole MAC: what no output may carry.
var signedValue = regexp.MustCompile(`;sig=[A-Za-z0-9_-]{22}`)

// A dry run's report and logs show the mark it would write by its content
// only: the value shown, tagged onto the instance by anyone who read the
// report, does not verify, so the owner is still told before any release.
func TestBinaryDryRunShowsNoValidMark(t *testing.T) {
	const id = "i-bp1leak00000001"
	l := startLifecycleFleet(t, `{"instances": [{"id": "i-bp1leak00000001", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01", "owner": "13800138000"}}]}`)
	l.mu.Lock()
	l.clock = lifeDay0
	l.mu.Unlock()
	ev, _ := json.Marshal(map[string]string{"triggerTime": lifeDay0.Format(time.RFC3339), "triggerName": "hourly", "payload": `{"dryRun": true}`})
	res := l.invoke(t, "dry", ev)
	rep := decodeReport(t, res)
	var detail string
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			for _, in := range g.Instances {
				if in.ID == id {
					detail = in.Detail
				}
			}
		}
	}
	i := strings.Index(detail, "reaper-notified=")
	if i < 0 {
		t.Fatalf("the dry run does not show the mark it would write: %q", detail)
	}
	shown := detail[i+len("reaper-notified="):]
	if want := mark.FormatTime(lifeDay0) + mark.Elided; !strings.HasPrefix(shown, want) {
		t.Errorf("shown %q, want its content and the MAC elided (%q)", shown, want)
	}
	if _, st := fnMarks.ReadTime(id, "reaper-notified", map[string]string{"reaper-notified": shown}); st == mark.Valid {
		t.Errorf("the dry run's report carries a valid mark: %q", shown)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := l.proc.WaitForOutput(ctx, `"request_id":"dry"`); err != nil {
		t.Fatal(err)
	}
	if leaked := signedValue.FindAllString(string(res.Body)+l.proc.Output(), -1); len(leaked) > 0 {
		t.Errorf("the answer or the logs carry signed marks: %v", leaked)
	}

	// Copied onto the instance, what was shown is no mark: the owner is
	// told, and nothing is released a grace later on it.
	l.ecs.Mutate(id, func(in *ecsdouble.Instance) { in.Tags["reaper-notified"] = shown })
	before := len(l.hook.Messages())
	rep = decodeReport(t, l.tick(t, lifeDay0.Add(25*time.Hour)))
	if _, ok := l.ecs.Instance(id); !ok {
		t.Fatal("released with no notice ever sent")
	}
	if got := outcomeOf(rep, id); got != "notified/unverified-mark" || len(l.hook.Messages()) != before+1 {
		t.Errorf("after copying the shown value: %s, %d messages (want one more)", got, len(l.hook.Messages())-before)
	}
}
