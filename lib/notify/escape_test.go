package notify

import (
	"strings"
	"testing"
	"unicode"
)

// Whatever a tag holds, its escaped form carries none of the channel's
// control characters and no line break.
func FuzzEscapedValuesStayText(f *testing.F) {
	for _, s := range []string{"<!channel>", `<at user_id="all">x</at>`, "[Click](//evil.example)", "![i](x)", "**b** _i_ `c`", "# h\n> q", "@all", "a\u2028b\x00c", "&lt;"} {
		f.Add(s)
	}
	forbidden := map[string]string{
		Slack:    "<>",
		Lark:     "<>[]()*~",
		DingTalk: "\\`*_[]()#!<>|~@",
		WeCom:    "\\`*_[]()#!<>|~@&",
	}
	f.Fuzz(func(t *testing.T, v string) {
		for kind, chars := range forbidden {
			out := (&Notifier{ch: channelNamed(kind)}).escape(v)
			if strings.ContainsAny(out, chars) || strings.ContainsFunc(out, unicode.IsControl) {
				t.Fatalf("%s: %q escaped to %q", kind, v, out)
			}
			if kind != Slack && strings.Contains(out, "//") {
				t.Fatalf("%s: %q escaped to %q, a link", kind, v, out)
			}
			if kind == Slack && strings.Contains(strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(out, "&amp;", ""), "&lt;", ""), "&gt;", ""), "&") {
				t.Fatalf("slack: %q escaped to %q: a bare &", v, out)
			}
		}
	})
}
