package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Lark is the Lark/Feishu custom bot: a text message, an open_id owner
// mentioned with an <at> tag, signed inside the body.
const Lark = "lark"

var lark = &channel{
	name:  Lark,
	label: "Lark/Feishu custom bots",
	hosts: []string{"open.feishu.cn", "open.larksuite.com"},
	// The custom bot's request body is at most 20 KB.
	maxBytes: 20000,
	// 5 a second and 100 a minute per bot.
	interval: 600 * time.Millisecond,
	sign: func(r *request, secret string, now time.Time) {
		ts := strconv.FormatInt(now.Unix(), 10)
		content := maps.Clone(r.content)
		content["timestamp"], content["sign"] = ts, LarkSign(ts, secret)
		r.body, _ = json.Marshal(content) // a map of JSON values always marshals
	},
	// Lark/Feishu text messages read <at ...> tags, [text](url) links and
	// a few style marks; entities are not documented as decoded, so the
	// characters are replaced by their full-width forms.
	escape: strings.NewReplacer("<", "＜", ">", "＞", "[", "［", "]", "］", "(", "（", ")", "）", "*", "＊", "~", "～", "//", "／／").Replace,
	mention: func(owner string) (string, bool) {
		if larkOpenID.MatchString(owner) {
			return `<at user_id="` + owner + `">` + owner + `</at>`, true
		}
		return "", false
	},
	notice: func(_ Notice, _ string, lines []string) map[string]any {
		return map[string]any{"msg_type": "text", "content": map[string]any{"text": strings.Join(lines, "\n")}}
	},
	summary: func(_ Summary, text string) map[string]any {
		return map[string]any{"msg_type": "text", "content": map[string]any{"text": text}}
	},
	read: readLark,
}

// larkOpenID is the owner form Lark mentions: an open_id.
var larkOpenID = regexp.MustCompile(`^ou_[A-Za-z0-9]+$`)

// readLark reads Lark's answer: {"code":0} (newer) or {"StatusCode":0}
// (older) is success; 11232 is its frequency limit.
func readLark(a answer) *refusal {
	if r := readStatus(a); r != nil {
		return r
	}
	var v struct {
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil {
		return refuse(true, "answered something that is not JSON")
	}
	code := v.Code
	if code == nil {
		code = v.StatusCode
	}
	switch {
	case code == nil:
		return refuse(false, "answered without a code")
	case *code == 11232: // frequency limited
		return refuse(true, "code %d %s", *code, a.clean(v.Msg))
	case *code != 0 || (v.StatusCode != nil && *v.StatusCode != 0):
		return refuse(false, "code %d %s", *code, a.clean(v.Msg))
	}
	return nil
}

// LarkSign is Lark/Feishu's signature: Base64 of HMAC-SHA256 keyed by
// timestamp (s) + "\n" + secret over an empty message.
func LarkSign(timestampS, secret string) string {
	mac := hmac.New(sha256.New, []byte(timestampS+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
