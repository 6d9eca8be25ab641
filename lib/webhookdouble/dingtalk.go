package webhookdouble

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// dingTalk is a DingTalk custom robot: the token in the URL's
// access_token, signed in the URL, errcode answers inside a 200.
var dingTalk = &platform{
	kind: notify.DingTalk,
	path: func(p string) bool { return p == "/robot/send" },
	url:  func(base, token string) string { return base + "/robot/send?access_token=" + token },
	verify: func(s *Server, r *http.Request, _ []byte, _ map[string]any, now time.Time) string {
		q := r.URL.Query()
		if q.Get("access_token") != s.Token {
			return "token is not exist"
		}
		if s.Secret == "" {
			return ""
		}
		ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if err != nil || now.Sub(time.UnixMilli(ts)).Abs() > time.Hour {
			return "invalid timestamp"
		}
		if !hmac.Equal([]byte(q.Get("sign")), []byte(notify.DingTalkSign(q.Get("timestamp"), s.Secret))) {
			return "sign not match"
		}
		return ""
	},
	refuse: func(w http.ResponseWriter, _ int, problem string) {
		code := 310000 // every security failure
		if problem == "token is not exist" {
			code = 300001
		}
		writeJSON(w, 200, map[string]any{"errcode": code, "errmsg": problem})
	},
	accept: func(w http.ResponseWriter) { writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok"}) },
	throttle: func(w http.ResponseWriter) {
		writeJSON(w, 200, map[string]any{"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
	},
	errorIn200: func(w http.ResponseWriter) {
		writeJSON(w, 200, map[string]any{"errcode": 310000, "errmsg": "keywords not in content"})
	},
	garbageJSON: func(w http.ResponseWriter, planted string) {
		writeJSON(w, 200, map[string]any{"errcode": 310000, "errmsg": "sign not match", "detail": planted})
	},
	text: [][]string{{"markdown", "text"}, {"text", "content"}},
}
