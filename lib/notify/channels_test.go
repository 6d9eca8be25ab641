package notify_test

import (
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// The list of channels is the one the tests and the settings walk: each
// kind once, with a label; each host selecting exactly one kind.
func TestChannelsAreOneList(t *testing.T) {
	kinds := notify.Kinds()
	seen := map[string]bool{}
	for _, k := range kinds {
		if seen[k] || !notify.IsKind(k) || notify.Label(k) == k {
			t.Errorf("kind %q repeated, unknown or without a label", k)
		}
		seen[k] = true
	}
	hosts := map[string]bool{}
	for _, h := range notify.Hosts() {
		if k, ok := notify.KindOfHost(strings.ToUpper(h)); hosts[h] || !ok || !seen[k] {
			t.Errorf("host %s: repeated, or selects %q", h, k)
		}
		hosts[h] = true
	}
	if _, ok := notify.KindOfHost("example.com"); ok {
		t.Error("an unknown host selects a kind")
	}
	if notify.KindChoices() != strings.Join(kinds[:len(kinds)-1], ", ")+" or "+kinds[len(kinds)-1] {
		t.Errorf("KindChoices() = %q", notify.KindChoices())
	}
}

// A summary whose error is longer than the channel takes is cut to fit,
// and still says it failed. A platform whose double enforces its limit
// proves the fit by accepting it; the others' bodies are measured here.
func TestLongSummaryErrorIsCutToFit(t *testing.T) {
	limits := map[string]int{notify.DingTalk: 20000, notify.Lark: 20000, notify.Slack: 30000, notify.JSON: 256 << 10}
	for _, kind := range allKinds {
		t.Run(kind, func(t *testing.T) {
			srv, n, _ := setup(t, kind, "", "")
			long := "notices not delivered to " + strings.Repeat("owner-with-a-long-name ", 20000)
			if err := n.Report(t.Context(), notify.Summary{RunID: "r1", Failed: 1, Error: long}); err != nil {
				t.Fatal(err)
			}
			m := srv.Messages()[0]
			if lim, ok := limits[kind]; (ok && len(m.Raw) > lim) || !strings.Contains(m.Text(), "notices not delivered") || !strings.Contains(m.Text(), "cut to fit") {
				t.Errorf("summary of %d bytes (limit %d): %.200s", len(m.Raw), limits[kind], m.Text())
			}
		})
	}
}
