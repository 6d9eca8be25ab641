package webhookdouble

import (
	"net/http"
	"strconv"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// weCom is a WeCom group robot: the key in the URL's query, no signing,
// errcode answers inside a 200, markdown content of at most 4096 bytes,
// 20 messages a minute.
var weCom = &platform{
	kind: notify.WeCom,
	path: func(p string) bool { return p == "/cgi-bin/webhook/send" },
	url:  func(base, token string) string { return base + "/cgi-bin/webhook/send?key=" + token },
	verify: func(s *Server, r *http.Request, _ []byte, _ map[string]any, _ time.Time) string {
		if r.URL.Query().Get("key") != s.Token {
			return "invalid webhook url"
		}
		return ""
	},
	refuse: func(w http.ResponseWriter, status int, problem string) {
		code := 93000 // a wrong key
		if status == 400 {
			code = 40035 // illustrative: any non-zero code is a refusal
		}
		writeJSON(w, 200, map[string]any{"errcode": code, "errmsg": problem + ", hint: [1700000000_1_double], more info at https://open.work.weixin.qq.com/devtool/query?e=" + strconv.Itoa(code)})
	},
	content: func(w http.ResponseWriter, body map[string]any) bool {
		md, _ := body["markdown"].(map[string]any)
		content, ok := md["content"].(string)
		switch {
		case body["msgtype"] != "markdown" || !ok:
			writeJSON(w, 200, map[string]any{"errcode": 40008, "errmsg": "invalid message type"})
		case len(content) > 4096:
			writeJSON(w, 200, map[string]any{"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
		default:
			return false
		}
		return true
	},
	perMinute: 20,
	accept:    func(w http.ResponseWriter) { writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok"}) },
	throttle: func(w http.ResponseWriter) {
		writeJSON(w, 200, map[string]any{"errcode": 45009, "errmsg": "api freq out of limit"})
	},
	errorIn200: func(w http.ResponseWriter) {
		writeJSON(w, 200, map[string]any{"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"})
	},
	garbageJSON: func(w http.ResponseWriter, planted string) {
		writeJSON(w, 200, map[string]any{"errcode": 93000, "errmsg": "invalid webhook url", "detail": planted})
	},
	text: [][]string{{"markdown", "content"}},
}
