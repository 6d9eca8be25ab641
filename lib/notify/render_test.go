package notify_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// Tag values are free text; in the chat they stay text: no broadcast, no
// mention, no link, no image, no markup of their own. Each case goes
// through the webhook double and checks the payload the platform renders.
func TestTagValuesCannotInjectIntoTheChat(t *testing.T) {
	exp := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		kind, owner, name string
		live              []string // must not appear in the rendered text
		shown             []string // the escaped forms that must
	}{
		{kind: notify.Slack, owner: "<!channel>", name: "<!here> <@U024BE7LH> <https://evil.example|Click to keep> & co",
			live:  []string{"<!", "<@", "<http", " & co"},
			shown: []string{"&lt;!channel&gt;", "&lt;!here&gt;", "&lt;@U024BE7LH&gt;", "&amp; co"}},
		{kind: notify.Lark, owner: `<at user_id="all">everyone</at>`, name: `[Click to keep](https://evil.example) <at user_id="ou_abc">x</at> **bold**`,
			live:  []string{"<at", "](", "[Click", "**", "https://"},
			shown: []string{"everyone", "Click to keep", "evil.example"}},
		{kind: notify.DingTalk, owner: "@all", name: "[Click to keep](//evil.example) ![pic](//evil.example/p.png) **bold** _it_ `code` <font color=red>x</font>\n# heading\n> quote @13800138000",
			live:  []string{"](", "![", "**", "_it_", "`", "<font", "\n\n# ", "\n# ", "\n>", "@", "//evil"},
			shown: []string{"Click to keep", "evil.example", "heading", "13800138000"}},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			srv, n, _ := setup(t, tc.kind, "", "")
			notice := notify.Notice{Owner: tc.owner, Items: []notify.Item{{InstanceID: "i-bp1hostile0001", Name: tc.name, Region: "cn-hangzhou",
				ExpiresAt: exp, Action: notify.ActionRelease, When: exp.Add(24 * time.Hour)}}}
			if err := n.Notify(t.Context(), notice); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages", len(msgs))
			}
			text := msgs[0].Text()
			if title, ok := msgs[0].Body["markdown"].(map[string]any); ok {
				text += "\n" + title["title"].(string)
			}
			for _, bad := range tc.live {
				if strings.Contains(text, bad) {
					t.Errorf("the rendered message carries %q live:\n%s", bad, text)
				}
			}
			for _, want := range tc.shown {
				if !strings.Contains(text, want) {
					t.Errorf("the rendered message lacks %q (the value must still be shown):\n%s", want, text)
				}
			}
			if at, ok := msgs[0].Body["at"].(map[string]any); ok && len(at) != 0 {
				t.Errorf("DingTalk at-list %v for an owner that is not a phone number", at)
			}
		})
	}
	t.Run("json stays raw", func(t *testing.T) {
		srv, n, _ := setup(t, notify.JSON, "", "")
		name := `<!channel> [x](//y) "quoted"`
		if err := n.Notify(t.Context(), notify.Notice{Owner: "<!here>", Items: []notify.Item{{InstanceID: "i-1", Name: name, Region: "r", ExpiresAt: exp, Action: notify.ActionRelease, When: exp}}}); err != nil {
			t.Fatal(err)
		}
		body := srv.Messages()[0].Body
		items, _ := body["items"].([]any)
		if body["owner"] != "<!here>" || len(items) != 1 || items[0].(map[string]any)["name"] != name {
			t.Fatalf("json body %v: values must arrive as written", body)
		}
	})
}

// The run summary's error names owners and channel answers: escaped too.
func TestSummaryErrorIsEscaped(t *testing.T) {
	for _, tc := range []struct{ kind, bad string }{
		{notify.Slack, "<!channel>"}, {notify.Lark, `<at user_id="all">`}, {notify.DingTalk, "@all"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			srv, n, _ := setup(t, tc.kind, "", "")
			if err := n.Report(t.Context(), notify.Summary{RunID: "r1", Failed: 1, Error: `notices not delivered to <!channel> <at user_id="all">x</at> @all (1 instances)`}); err != nil {
				t.Fatal(err)
			}
			if text := srv.Messages()[0].Text(); strings.Contains(text, tc.bad) || !strings.Contains(text, "notices not delivered") {
				t.Errorf("summary %q carries %q live", text, tc.bad)
			}
		})
	}
}

// A repeated notice says so, on every channel, and an instance that runs
// under REAPER_RUNNING=skip is not promised a release while it runs.
func TestNoticesPromiseOnlyWhatHappens(t *testing.T) {
	exp := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			srv, n, _ := setup(t, kind, "", "")
			notice := notify.Notice{Owner: "alice", Again: true, Items: []notify.Item{
				{InstanceID: "i-bp1told0000001", Region: "cn-hangzhou", ExpiresAt: exp, Action: notify.ActionRelease, When: exp, Again: true},
				{InstanceID: "i-bp1runs0000002", Region: "cn-hangzhou", ExpiresAt: exp, Action: notify.ActionReleaseOnceStopped, When: exp},
			}}
			if err := n.Notify(t.Context(), notice); err != nil {
				t.Fatal(err)
			}
			text := srv.Messages()[0].Text()
			lines := strings.Split(strings.ReplaceAll(text, "\n\n", "\n"), "\n")
			if !strings.Contains(lines[0], "repeated notice") || !strings.Contains(text, "Repeated notice") {
				t.Errorf("a repeated notice does not say so:\n%s", text)
			}
			for _, l := range lines {
				switch {
				case strings.Contains(l, "i-bp1told0000001") && !strings.Contains(l, "told before"):
					t.Errorf("the repeated item is not marked: %q", l)
				case strings.Contains(l, "i-bp1runs0000002") && (strings.Contains(l, "will be released") || strings.Contains(l, "told before") ||
					!strings.Contains(l, "not released") || !strings.Contains(l, "Once it is stopped")):
					t.Errorf("the running instance is promised what will not happen: %q", l)
				}
			}
		})
	}
}
