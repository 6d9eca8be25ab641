package notify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

func weComContent(t *testing.T, m webhookdouble.Message) string {
	t.Helper()
	md, _ := m.Body["markdown"].(map[string]any)
	content, ok := md["content"].(string)
	if m.Body["msgtype"] != "markdown" || !ok {
		t.Fatalf("not a WeCom markdown message: %s", m.Raw)
	}
	return content
}

// A digest reaches the robot as markdown, under its key, with the owner
// mentioned only when the owner is exactly a WeCom userid.
func TestWeComDeliversAMarkdownDigest(t *testing.T) {
	for owner, mention := range map[string]string{
		"zhangsan": "<@zhangsan>", "li.si@corp": "<@li.si@corp>", "13800138000": "<@13800138000>",
		"all": "", "@all": "", "张三": "", "two words": "", "": "",
	} {
		t.Run(owner, func(t *testing.T) {
			srv, n, _ := setup(t, notify.WeCom, "", "")
			if !strings.Contains(srv.URL(notify.WeCom), "/cgi-bin/webhook/send?key="+token) {
				t.Fatalf("double URL %s", srv.URL(notify.WeCom))
			}
			if err := n.Notify(t.Context(), notice(owner, 2)); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			content := weComContent(t, msgs[0])
			for _, want := range []string{"i-bp1notice00000", "i-bp1notice00001", "cn-hangzhou", "released", "reaper-keep", "reaper-expires"} {
				if !strings.Contains(content, want) {
					t.Errorf("content lacks %q:\n%s", want, content)
				}
			}
			if mention != "" && !strings.Contains(content, mention) {
				t.Errorf("content lacks the mention %q:\n%s", mention, content)
			}
			if mention == "" && strings.Contains(content, "<@") {
				t.Errorf("owner %q is mentioned:\n%s", owner, content)
			}
		})
	}
}

// A digest too large for one message is split under 4096 bytes of content
// (the double refuses more with 40058) and paced at 20 a minute.
func TestWeComSplitsUnderItsSizeLimitAndPaces(t *testing.T) {
	srv, n, _ := setup(t, notify.WeCom, "", "")
	if err := n.Notify(t.Context(), notice("zhangsan", 120)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) < 3 {
		t.Fatalf("%d messages for 120 instances", len(msgs))
	}
	seen := 0
	for i, m := range msgs {
		content := weComContent(t, m)
		if len(content) > 4096 || (i < len(msgs)-1 && len(content) < 2048) {
			t.Errorf("message %d holds %d bytes of content: over 4096, or split too early", i, len(content))
		}
		if !strings.Contains(content, "<@zhangsan>") {
			t.Errorf("message %d lacks the mention", i)
		}
		seen += strings.Count(content, "i-bp1notice")
		if i > 0 && m.At.Sub(msgs[i-1].At) < 3*time.Second {
			t.Errorf("messages %d and %d %v apart: over 20 a minute", i-1, i, m.At.Sub(msgs[i-1].At))
		}
	}
	if seen != 120 || srv.Throttled() != 0 {
		t.Errorf("%d instances across the parts (want 120), %d throttled", seen, srv.Throttled())
	}
}

// 45009 (rate limited) is retried after a backoff: injected, and when a
// second sender on the same robot fills its minute.
func TestWeComThrottlingIsRetried(t *testing.T) {
	t.Run("injected", func(t *testing.T) {
		srv, n, c := setup(t, notify.WeCom, "", "")
		srv.Inject(webhookdouble.Throttle)
		if err := n.Notify(t.Context(), notice("", 1)); err != nil {
			t.Fatal(err)
		}
		if len(srv.Messages()) != 1 || len(c.sleeps) == 0 {
			t.Fatalf("%d messages after %v of backoff", len(srv.Messages()), c.sleeps)
		}
	})
	t.Run("the robot's minute is full", func(t *testing.T) {
		srv, n, c := setup(t, notify.WeCom, "", "")
		for range 20 {
			if err := n.Report(t.Context(), notify.Summary{RunID: "r1", Released: 1}); err != nil {
				t.Fatal(err)
			}
		}
		other, err := notify.New(notify.Config{Kind: notify.WeCom, URL: srv.URL(notify.WeCom), Now: c.Now, Sleep: c.Sleep})
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Report(t.Context(), notify.Summary{RunID: "r2", Released: 1}); err != nil {
			t.Fatalf("the second sender: %v", err)
		}
		if srv.Throttled() == 0 || len(srv.Messages()) != 21 {
			t.Fatalf("%d throttled, %d messages: want 45009 first, then the retry delivered", srv.Throttled(), len(srv.Messages()))
		}
	})
	t.Run("still throttled", func(t *testing.T) {
		srv, n, _ := setup(t, notify.WeCom, "", "")
		srv.Inject(webhookdouble.Throttle, webhookdouble.Throttle, webhookdouble.Throttle)
		err := n.Notify(t.Context(), notice("", 1))
		if !errors.Is(err, notify.ErrNotDelivered) || !strings.Contains(err.Error(), "errcode 45009") || len(srv.Messages()) != 0 {
			t.Fatalf("err %v", err)
		}
	})
}

// Any other errcode fails at once; a wrong key is refused with 93000 and
// the error never carries the key.
func TestWeComErrorsInsideA200(t *testing.T) {
	srv, n, c := setup(t, notify.WeCom, "", "")
	srv.Inject(webhookdouble.ErrorIn200)
	err := n.Notify(t.Context(), notice("", 1))
	if !errors.Is(err, notify.ErrNotDelivered) || !strings.Contains(err.Error(), "errcode 40058") || len(c.sleeps) != 0 {
		t.Fatalf("err %v after %v: want 40058, not retried", err, c.sleeps)
	}

	wrong, err := notify.New(notify.Config{Kind: notify.WeCom, URL: strings.Replace(srv.URL(notify.WeCom), token, "wrong-key-0123456789", 1), Now: c.Now, Sleep: c.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	err = wrong.Notify(t.Context(), notice("", 1))
	if !errors.Is(err, notify.ErrNotDelivered) || !strings.Contains(err.Error(), "errcode 93000") || srv.Rejected() != 1 {
		t.Fatalf("err %v, %d rejected", err, srv.Rejected())
	}
	if strings.Contains(err.Error(), "wrong-key-0123456789") {
		t.Errorf("error %q carries the key", err)
	}
}

// The key is the robot's credential: an answer that repeats it, and a
// request that fails, never show it.
func TestWeComKeyIsRedacted(t *testing.T) {
	h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"errcode":93000,"errmsg":"invalid webhook url ` + r.URL.RawQuery + `, hint: [x], more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}`))
	}))
	hookURL := h.URL + "/cgi-bin/webhook/send?key=" + token
	c := &clock{}
	n, err := notify.New(notify.Config{Kind: notify.WeCom, URL: hookURL, Now: c.Now, Sleep: c.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(t.Context(), notice("", 1))
	if err == nil || !strings.Contains(err.Error(), "<redacted>") {
		t.Fatalf("err %v: want the answer quoted with the key redacted", err)
	}
	noLeak(t, err)
	h.Close()
	err = n.Report(t.Context(), notify.Summary{RunID: "r1"})
	if !errors.Is(err, notify.ErrNotDelivered) {
		t.Fatalf("err %v", err)
	}
	noLeak(t, err)
}

// Tag values stay text in WeCom markdown: no link, emphasis, heading,
// quote, code, colour, entity or mention of their own.
func TestWeComTagValuesStayText(t *testing.T) {
	exp := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	srv, n, _ := setup(t, notify.WeCom, "", "")
	name := "[Click to keep](https://evil.example) **bold** `code` <font color=\"warning\">x</font> <@lisi> &lt;@all&gt;\n# heading\n> quote @all"
	if err := n.Notify(t.Context(), notify.Notice{Owner: "<@all>", Items: []notify.Item{{InstanceID: "i-bp1hostile0001", Name: name,
		Region: "cn-hangzhou", Account: "acct_1*", ExpiresAt: exp, Action: notify.ActionRelease, When: exp.Add(24 * time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	content := weComContent(t, srv.Messages()[0])
	for _, live := range []string{"<@", "<font", "](", "[Click", "**", "`", "\n#", "\n>", "&lt;", "https://", "@all", "acct_1*"} {
		if strings.Contains(content, live) {
			t.Errorf("the content carries %q live:\n%s", live, content)
		}
	}
	for _, shown := range []string{"Click to keep", "evil.example", "heading", "lisi", "warning"} {
		if !strings.Contains(content, shown) {
			t.Errorf("the content lacks %q (the value must still be shown):\n%s", shown, content)
		}
	}

	if err := n.Report(t.Context(), notify.Summary{RunID: "r1", Failed: 1, Error: `notices not delivered to <@all> [x](//y) **z**`}); err != nil {
		t.Fatal(err)
	}
	summary := weComContent(t, srv.Messages()[1])
	if strings.Contains(summary, "<@") || strings.Contains(summary, "](") || strings.Contains(summary, "**") || !strings.Contains(summary, "notices not delivered") {
		t.Errorf("summary %q carries markup live", summary)
	}
}

// A summary with an error longer than 4096 bytes is cut to fit.
func TestWeComSummaryFits(t *testing.T) {
	srv, n, _ := setup(t, notify.WeCom, "", "")
	if err := n.Report(t.Context(), notify.Summary{RunID: "r1", Failed: 3, Error: strings.Repeat("失败的通知 ", 2000)}); err != nil {
		t.Fatal(err)
	}
	if content := weComContent(t, srv.Messages()[0]); len(content) > 4096 || !strings.Contains(content, "3 failed") {
		t.Errorf("summary of %d bytes: %.100s", len(content), content)
	}
}
