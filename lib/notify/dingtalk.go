package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DingTalk is the DingTalk custom robot: a markdown digest, the owner's
// phone number in at.atMobiles, signed in the URL.
const DingTalk = "dingtalk"

var dingTalk = &channel{
	name:  DingTalk,
	label: "DingTalk custom robots",
	hosts: []string{"oapi.dingtalk.com"},
	// "please keep the size within 20000 bytes" (its error for larger
	// bodies).
	maxBytes: 20000,
	// 20 messages a minute per robot; more throttles it for 10 minutes.
	interval: 3 * time.Second,
	sign: func(r *request, secret string, now time.Time) {
		ts := strconv.FormatInt(now.UnixMilli(), 10)
		q := "timestamp=" + ts + "&sign=" + url.QueryEscape(DingTalkSign(ts, secret))
		if strings.Contains(r.target, "?") {
			r.target += "&" + q
		} else {
			r.target += "?" + q
		}
	},
	// DingTalk markdown: links, images, emphasis, headings, quotes, code,
	// tables, HTML, at-mentions; whether it honours backslash escapes is
	// undocumented, so the marks are replaced by their full-width forms.
	escape: strings.NewReplacer("\\", "＼", "`", "｀", "*", "＊", "_", "＿", "[", "［", "]", "］", "(", "（", ")", "）",
		"#", "＃", "!", "！", "<", "＜", ">", "＞", "|", "｜", "~", "～", "@", "＠", "//", "／／").Replace,
	// The summary is a text message: it renders no markup; only an
	// at-mention is live.
	summaryEscape: strings.NewReplacer("@", "＠").Replace,
	mention: func(owner string) (string, bool) {
		if dingTalkPhone.MatchString(owner) {
			return "@" + owner, true
		}
		return "", false
	},
	notice: func(nt Notice, title string, lines []string) map[string]any {
		at := map[string]any{}
		if dingTalkPhone.MatchString(nt.Owner) {
			at["atMobiles"] = []string{nt.Owner}
		}
		return map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": title, "text": strings.Join(lines, "\n\n")}, "at": at}
	},
	summary: func(_ Summary, text string) map[string]any {
		return map[string]any{"msgtype": "text", "text": map[string]any{"content": text}}
	},
	// 130101 "send too fast, exceed 20 times per minute".
	read: func(a answer) *refusal { return readErrcode(a, 130101) },
}

// dingTalkPhone is the owner form DingTalk mentions: a phone number.
var dingTalkPhone = regexp.MustCompile(`^\+?[0-9][0-9-]{5,19}$`)

// DingTalkSign is DingTalk's signature: URL-unescaped Base64 of
// HMAC-SHA256 keyed by the secret over timestamp (ms) + "\n" + secret.
func DingTalkSign(timestampMS, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestampMS + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
