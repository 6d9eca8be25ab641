package notify

import (
	"regexp"
	"strings"
	"time"
)

// WeCom is the WeCom (企业微信) group robot: a markdown digest, an owner
// that is a WeCom userid mentioned as <@userid>, errcode answers inside a
// 200. It is not signed: the URL's key query value is the credential (it
// is redacted like every webhook token).
//
// Facts: https://developer.work.weixin.qq.com/document/path/91770 (markdown
// content at most 4096 bytes of UTF-8; 20 messages a minute per robot);
// errcode 93000 "invalid webhook url" for a wrong key and 40058 for too
// long a content are seen in the wild. UNCONFIRMED: that the webhook's rate
// limit answers 45009 (WeCom's generic "api freq out of limit"; any other
// code fails the delivery, which is safe: nothing is marked and the next
// tick tells again); whether its markdown honours backslash escapes or
// decodes entities (so the marks, & included, become full-width); whether
// <@all> would mention everyone (never produced).
const WeCom = "wecom"

var weCom = &channel{
	name:  WeCom,
	label: "WeCom group robots",
	hosts: []string{"qyapi.weixin.qq.com"},
	// markdown.content: at most 4096 bytes, UTF-8; measured on the content
	// itself (bytes, so a limit counted in characters holds too).
	maxBytes: 4096,
	size:     weComContentSize,
	// 20 messages a minute per robot.
	interval: 3 * time.Second,
	// WeCom markdown: headings, bold, links, quotes, inline code, <font>
	// colours and <@userid> mentions; the marks are replaced by their
	// full-width forms, & too in case entities are decoded.
	escape: strings.NewReplacer("\\", "＼", "`", "｀", "*", "＊", "_", "＿", "[", "［", "]", "］", "(", "（", ")", "）",
		"#", "＃", "!", "！", "<", "＜", ">", "＞", "|", "｜", "~", "～", "@", "＠", "&", "＆", "//", "／／").Replace,
	mention: func(owner string) (string, bool) {
		if weComUserID.MatchString(owner) && !strings.EqualFold(owner, "all") {
			return "<@" + owner + ">", true
		}
		return "", false
	},
	notice: func(_ Notice, _ string, lines []string) map[string]any {
		return weComMarkdown(strings.Join(lines, "\n\n"))
	},
	summary: func(_ Summary, text string) map[string]any { return weComMarkdown(text) },
	// 45009: rate limited, try again later (UNCONFIRMED for the webhook).
	read: func(a answer) *refusal { return readErrcode(a, 45009) },
}

// weComUserID is a WeCom userid: 1 to 64 bytes of letters, digits and
// _-@., starting with a letter or digit.
var weComUserID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

func weComMarkdown(content string) map[string]any {
	return map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": content}}
}

func weComContentSize(m message) int {
	md, _ := m.content["markdown"].(map[string]any)
	content, _ := md["content"].(string)
	return len(content)
}
