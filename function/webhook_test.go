package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

// planted is what a hostile answer for the webhook carries; it must reach
// none of the invocation's error, report, logs or chat messages.
const planted = "PLANTED-meta-data-7f3a ram/security-credentials/reaper-role"

// whereverPlanted fails when the planted text reached anything the run
// produced: the invocation's answer, the function's output, or a message
// the chat accepted (the run's summary).
func whereverPlanted(t *testing.T, l *lifeStack, bodies ...[]byte) {
	t.Helper()
	for _, b := range bodies {
		if strings.Contains(string(b), "PLANTED") {
			t.Errorf("the invocation's answer carries the planted text:\n%s", b)
		}
	}
	if strings.Contains(l.proc.Output(), "PLANTED") {
		t.Errorf("the function's logs carry the planted text")
	}
	for _, m := range l.hook.Messages() {
		if strings.Contains(string(m.Raw), "PLANTED") {
			t.Errorf("a chat message carries the planted text: %s", m.Raw)
		}
	}
}

// A 303 or 307 from whatever answers for the webhook is a failed notice:
// the function sends nothing where it points (the metadata service, in the
// attack), marks nothing, and its error names the status.
func TestBinaryWebhookRedirectIsNotFollowed(t *testing.T) {
	for _, fault := range []webhookdouble.Fault{webhookdouble.Redirect303, webhookdouble.Redirect307} {
		var elsewhere atomic.Int32
		other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			elsewhere.Add(1)
			_, _ = w.Write([]byte(planted))
		}))
		l := startLifecycle(t)
		l.hook.RedirectTo(other.URL + "/latest/meta-data/ram/security-credentials/")
		l.hook.Inject(fault, fault, fault, fault, fault, fault)
		res := l.tick(t, lifeDay0)
		wantError(t, res, "notices not delivered", "redirect")
		if n := elsewhere.Load(); n != 0 {
			t.Errorf("%d requests followed the redirect", n)
		}
		if inst, _ := l.ecs.Instance("i-bp1life000000001"); inst.Tags["reaper-notified"] != "" {
			t.Error("marked after a redirected notice")
		}
		whereverPlanted(t, l, res.Body, []byte(res.Err.ErrorMessage))
		other.Close()
	}
}

// An answer's body is never quoted: not in the error, the report, the logs,
// nor the summary the function posts back to the chat after the failure.
func TestBinaryWebhookAnswerBodyIsNeverQuoted(t *testing.T) {
	l := startLifecycle(t)
	l.hook.Plant(planted)
	l.hook.Inject(webhookdouble.GarbageError, webhookdouble.GarbageError, webhookdouble.GarbageError)
	res := l.tick(t, lifeDay0)
	wantError(t, res, "notices not delivered", "HTTP 502")
	msgs := l.hook.Messages()
	if len(msgs) == 0 || !strings.Contains(msgs[len(msgs)-1].Text(), "failed") {
		t.Fatalf("no run summary reached the chat after the failed notice: %d messages", len(msgs))
	}
	whereverPlanted(t, l, res.Body, []byte(res.Err.ErrorMessage))
}

// Tag values reach Slack as text: an owner or name that would broadcast,
// mention or link is escaped in the digest the function sends.
func TestBinaryTagValuesCannotBroadcast(t *testing.T) {
	slack, err := webhookdouble.Start(hookToken, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(slack.Close)
	l := startLifecycle(t, "REAPER_NOTIFY_URL="+slack.URL(notify.Slack), "REAPER_NOTIFY_KIND=slack", "REAPER_NOTIFY_SECRET=")
	l.ecs.Mutate("i-bp1life000000001", func(in *ecsdouble.Instance) {
		in.Tags["owner"] = "<!channel> <!here> <https://evil.example|Click to keep>"
	})
	decodeReport(t, l.tick(t, lifeDay0))
	var text string
	for _, m := range slack.Messages() {
		text += m.Text() + "\n"
	}
	if !strings.Contains(text, "&lt;!channel&gt;") {
		t.Fatalf("the digest does not show the owner escaped:\n%s", text)
	}
	for _, live := range []string{"<!channel>", "<!here>", "<https://"} {
		if strings.Contains(text, live) {
			t.Errorf("the digest carries %q live:\n%s", live, text)
		}
	}
}

// Through the binary, a notice promises only what will happen: a Running
// instance under the default REAPER_RUNNING=skip is not told it will be
// released, and an instance told before (its mark no longer counts) is a
// repeated notice.
func TestBinaryNoticePromisesOnlyWhatHappens(t *testing.T) {
	l := startLifecycle(t)
	l.ecs.Mutate("i-bp1life000000001", func(in *ecsdouble.Instance) { in.Tags["reaper-notified"] = "2026-10-01T00:00:00Z" })
	l.ecs.Mutate("i-bp1life000000003", func(in *ecsdouble.Instance) { in.Status, in.Tags["reaper-expires"] = "Running", "2026-12-02" })
	decodeReport(t, l.tick(t, lifeDay0))
	msgs := l.hook.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the one digest of 13800138000", len(msgs))
	}
	text := msgs[0].Text()
	if !strings.Contains(text, "i-bp1life000000001") || !strings.Contains(text, "i-bp1life000000003") {
		t.Fatalf("the digest lacks an instance:\n%s", text)
	}
	if !strings.Contains(text, "repeated notice") {
		t.Errorf("the digest does not say it repeats one:\n%s", text)
	}
	for _, line := range strings.Split(text, "\n\n") {
		switch {
		case strings.Contains(line, "i-bp1life000000001") && !strings.Contains(line, "told before"):
			t.Errorf("the instance told before is not marked: %q", line)
		case strings.Contains(line, "i-bp1life000000003") && (strings.Contains(line, "will be released") || !strings.Contains(line, "nothing happens while it runs")):
			t.Errorf("the running instance is promised a release: %q", line)
		}
	}
}
