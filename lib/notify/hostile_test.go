package notify_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

// planted is what a hostile answer carries: none of it may reach an error.
const planted = "PLANTED-instance-identity-doc {\"AccessKeySecret\":\"x\"}\n<!channel> root:x:0:0"

// allKinds are every channel: a new one goes through every test that walks them.
var allKinds = notify.Kinds()

// A redirect from whatever answers for the webhook is a failed delivery:
// nothing is sent to where it points, not by 303 (a GET) nor by 307 (the
// digest re-posted).
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, kind := range allKinds {
		for _, fault := range []webhookdouble.Fault{webhookdouble.Redirect303, webhookdouble.Redirect307} {
			status := map[webhookdouble.Fault]string{webhookdouble.Redirect303: "303", webhookdouble.Redirect307: "307"}[fault]
			t.Run(kind+" "+status, func(t *testing.T) {
				var elsewhere atomic.Int32
				other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					elsewhere.Add(1)
					_, _ = w.Write([]byte(planted))
				}))
				defer other.Close()
				srv, n, _ := setup(t, kind, "", "")
				srv.RedirectTo(other.URL + "/latest/meta-data/ram/security-credentials/")
				srv.Inject(fault, fault, fault)
				err := n.Notify(t.Context(), notice("", 1))
				if !errors.Is(err, notify.ErrNotDelivered) || !strings.Contains(err.Error(), "HTTP "+status) || !strings.Contains(err.Error(), "redirect") {
					t.Fatalf("err %v: want a failed delivery naming the %s", err, status)
				}
				if got := elsewhere.Load(); got != 0 {
					t.Fatalf("%d requests followed the redirect", got)
				}
				if strings.Contains(err.Error(), other.URL) || strings.Contains(err.Error(), "PLANTED") {
					t.Errorf("error %q quotes the redirect", err)
				}
				noLeak(t, err)
			})
		}
	}
}

// An answer's body is never quoted: only the platform's own code and
// message fields are, and Slack's answer only in its short error form.
func TestAnswerBodiesAreNeverQuoted(t *testing.T) {
	for _, kind := range allKinds {
		for fault, name := range map[webhookdouble.Fault]string{webhookdouble.Garbage: "garbage in a 200", webhookdouble.GarbageError: "garbage in a 502", webhookdouble.GarbageJSON: "garbage beside the error code"} {
			t.Run(kind+" "+name, func(t *testing.T) {
				srv, n, _ := setup(t, kind, "", "")
				srv.Plant(planted)
				srv.Inject(fault, fault, fault)
				err := n.Notify(t.Context(), notice("", 1))
				if !errors.Is(err, notify.ErrNotDelivered) {
					t.Fatalf("err %v: garbage counted as delivered", err)
				}
				if strings.Contains(err.Error(), "PLANTED") || strings.Contains(err.Error(), "channel") || strings.Contains(err.Error(), "root:") {
					t.Fatalf("error %q quotes the answer's body", err)
				}
				if fault == webhookdouble.GarbageJSON && (kind == notify.DingTalk || kind == notify.Lark) && !strings.Contains(err.Error(), "sign") {
					t.Errorf("error %q lacks the platform's own message", err)
				}
			})
		}
	}
	t.Run("slack's own error codes are quoted", func(t *testing.T) {
		srv, n, _ := setup(t, notify.Slack, "", "")
		srv.Inject(webhookdouble.ErrorIn200)
		if err := n.Notify(t.Context(), notice("", 1)); err == nil || !strings.Contains(err.Error(), "no_text") {
			t.Fatalf("err %v: want Slack's code no_text", err)
		}
	})
}

// The platform's message fields are cleaned: no line breaks or control
// characters, at most 200 characters, and never the webhook's token or
// secret even when the answer repeats them.
func TestPlatformMessagesAreBoundedAndClean(t *testing.T) {
	for _, kind := range []string{notify.DingTalk, notify.Lark} {
		t.Run(kind, func(t *testing.T) {
			msg := "bad\r\nfake log line\x1b[31m " + token + " " + secret + " " + strings.Repeat("x", 500)
			h := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if kind == notify.DingTalk {
					_, _ = w.Write([]byte(`{"errcode":310000,"errmsg":` + quoteJSON(msg) + `}`))
					return
				}
				_, _ = w.Write([]byte(`{"code":19021,"msg":` + quoteJSON(msg) + `}`))
			}))
			defer h.Close()
			url := h.URL + "/robot/send?access_token=" + token
			if kind == notify.Lark {
				url = h.URL + "/open-apis/bot/v2/hook/" + token
			}
			c := &clock{}
			n, err := notify.New(notify.Config{Kind: kind, URL: url, Secret: secret, Now: c.Now, Sleep: c.Sleep})
			if err != nil {
				t.Fatal(err)
			}
			err = n.Notify(t.Context(), notice("", 1))
			if err == nil {
				t.Fatal("delivered")
			}
			text := err.Error()
			noLeak(t, err)
			if strings.ContainsAny(text, "\r\n\x1b") || len([]rune(text)) > 300 || !strings.Contains(text, "fake log line") {
				t.Errorf("error %q: want the message on one line, bounded", text)
			}
		})
	}
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
