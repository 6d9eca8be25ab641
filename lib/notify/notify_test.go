package notify_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

const (
	token  = "tok-3c2b1a0f9e8d"
	secret = "SECsignsecret-do-not-print"
)

// The platforms' own test vectors (see next-apis-facts.md, F).
func TestSignaturesMatchThePlatforms(t *testing.T) {
	if got := notify.DingTalkSign("1700000000000", "SECexample"); got != "uroalHrWHORz59talE1o26b8HuX2kOp8WlAN91F9Pj0=" {
		t.Errorf("DingTalk sign %q", got)
	}
	if got := notify.LarkSign("1700000000", "example"); got != "IDYtqgwsyU5irwQ/8nvd4ncBjc/KPCpVGkxbLfWDsyg=" {
		t.Errorf("Lark sign %q", got)
	}
}

type clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Sleep(_ context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func setup(t *testing.T, kind, serverSecret, clientSecret string) (*webhookdouble.Server, *notify.Notifier, *clock) {
	t.Helper()
	srv, err := webhookdouble.Start(token, serverSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c := &clock{now: time.Now()}
	srv.SetClock(c.Now)
	n, err := notify.New(notify.Config{Kind: kind, URL: srv.URL(kind), Secret: clientSecret, KeepTag: "reaper-keep", OptInTag: "reaper-expires", Now: c.Now, Sleep: c.Sleep})
	if err != nil {
		t.Fatal(err)
	}
	return srv, n, c
}

func notice(owner string, n int) notify.Notice {
	var items []notify.Item
	exp := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for i := range n {
		items = append(items, notify.Item{InstanceID: fmt.Sprintf("i-bp1notice%05d", i), Name: "test-vm", Region: "cn-hangzhou",
			ExpiresAt: exp, Action: "release", When: exp.Add(24 * time.Hour)})
	}
	return notify.Notice{Owner: owner, Items: items}
}

func noLeak(t *testing.T, err error) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret)) {
		t.Errorf("error %q carries a credential", err)
	}
}

func TestEveryKindDeliversASignedDigest(t *testing.T) {
	for _, tc := range []struct{ kind, owner, mention string }{
		{notify.DingTalk, "13800138000", "@13800138000"},
		{notify.Lark, "ou_7d8a6e6df7621556ce0d21922b676706", `<at user_id="ou_7d8a6e6df7621556ce0d21922b676706">`},
		{notify.Slack, "U024BE7LH", "<@U024BE7LH>"},
		{notify.JSON, "alice@example.com", "alice@example.com"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			sec := secret
			if tc.kind == notify.Slack {
				sec = "" // Slack webhooks are not signed
			}
			srv, n, _ := setup(t, tc.kind, sec, sec)
			if err := n.Notify(t.Context(), notice(tc.owner, 2)); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			text := msgs[0].Text()
			for _, want := range []string{tc.mention, "i-bp1notice00000", "i-bp1notice00001", "cn-hangzhou", "released", "reaper-keep", "reaper-expires"} {
				if !strings.Contains(text, want) {
					t.Errorf("message lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestWrongOrStaleSignaturesAreNotDelivered(t *testing.T) {
	for _, kind := range []string{notify.DingTalk, notify.Lark, notify.JSON} {
		t.Run(kind+" wrong secret", func(t *testing.T) {
			srv, n, _ := setup(t, kind, secret, "SECsomething-else")
			err := n.Notify(t.Context(), notice("", 1))
			if !errors.Is(err, notify.ErrNotDelivered) || len(srv.Messages()) != 0 || srv.Rejected() == 0 {
				t.Fatalf("err %v, %d messages", err, len(srv.Messages()))
			}
			noLeak(t, err)
		})
	}
	for _, kind := range []string{notify.DingTalk, notify.Lark} {
		t.Run(kind+" stale timestamp", func(t *testing.T) {
			srv, n, c := setup(t, kind, secret, secret)
			srv.SetClock(func() time.Time { return c.Now().Add(2 * time.Hour) }) // the platform's clock is two hours on
			err := n.Notify(t.Context(), notice("", 1))
			if !errors.Is(err, notify.ErrNotDelivered) || len(srv.Messages()) != 0 {
				t.Fatalf("err %v", err)
			}
		})
	}
}

func TestChannelAnswersThatAreNotSuccess(t *testing.T) {
	for _, kind := range []string{notify.DingTalk, notify.Lark, notify.Slack} {
		t.Run(kind+" error inside a 200", func(t *testing.T) {
			srv, n, _ := setup(t, kind, "", "")
			srv.Inject(webhookdouble.ErrorIn200)
			err := n.Notify(t.Context(), notice("", 1))
			if !errors.Is(err, notify.ErrNotDelivered) || len(srv.Messages()) != 0 {
				t.Fatalf("err %v: an error in a 200 must not count as delivered", err)
			}
		})
		t.Run(kind+" throttled then accepted", func(t *testing.T) {
			srv, n, c := setup(t, kind, "", "")
			srv.Inject(webhookdouble.Throttle)
			if err := n.Notify(t.Context(), notice("", 1)); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			if len(srv.Messages()) != 1 || len(c.sleeps) == 0 {
				t.Fatalf("%d messages after %v of backoff", len(srv.Messages()), c.sleeps)
			}
		})
		t.Run(kind+" failing", func(t *testing.T) {
			srv, n, _ := setup(t, kind, "", "")
			srv.Inject(webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail)
			err := n.Notify(t.Context(), notice("", 1))
			if !errors.Is(err, notify.ErrNotDelivered) || !strings.Contains(err.Error(), "HTTP 500") {
				t.Fatalf("err %v", err)
			}
			noLeak(t, err)
		})
	}
}

// A digest too large for one message is split under the channel's limit,
// and DingTalk's 20 messages a minute are kept.
func TestLargeDigestsAreSplitAndPaced(t *testing.T) {
	srv, n, c := setup(t, notify.DingTalk, secret, secret)
	if err := n.Notify(t.Context(), notice("13800138000", 400)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) < 2 {
		t.Fatalf("%d messages for 400 instances", len(msgs))
	}
	seen := 0
	for i, m := range msgs {
		if len(m.Raw) > 20000 {
			t.Errorf("message %d is %d bytes, over DingTalk's 20,000", i, len(m.Raw))
		}
		seen += strings.Count(m.Text(), "i-bp1notice")
		if i > 0 && m.At.Sub(msgs[i-1].At) < 3*time.Second {
			t.Errorf("messages %d and %d %v apart: over 20 a minute", i-1, i, m.At.Sub(msgs[i-1].At))
		}
	}
	if seen != 400 {
		t.Errorf("%d instances across the parts, want 400", seen)
	}
	_ = c
}

func TestTimeoutIsNotDelivered(t *testing.T) {
	srv, err := webhookdouble.Start(token, "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.Inject(webhookdouble.Slow, webhookdouble.Slow, webhookdouble.Slow)
	c := &clock{now: time.Now()}
	n, _ := notify.New(notify.Config{Kind: notify.Slack, URL: srv.URL(notify.Slack), Sleep: c.Sleep, Now: c.Now,
		Client: httpClient(50 * time.Millisecond)})
	err = n.Notify(t.Context(), notice("", 1))
	if !errors.Is(err, notify.ErrNotDelivered) || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err %v", err)
	}
	noLeak(t, err)
}
