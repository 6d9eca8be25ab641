package webhookdouble

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

const larkPath = "/open-apis/bot/v2/hook/"

// lark is a Lark/Feishu custom bot: the token in the path, signed in the
// body, code answers inside a 200.
var lark = &platform{
	kind: notify.Lark,
	path: func(p string) bool { return strings.HasPrefix(p, larkPath) },
	url:  func(base, token string) string { return base + larkPath + token },
	verify: func(s *Server, r *http.Request, _ []byte, body map[string]any, now time.Time) string {
		if strings.TrimPrefix(r.URL.Path, larkPath) != s.Token {
			return "invalid webhook token"
		}
		if s.Secret == "" {
			return ""
		}
		tsText, _ := body["timestamp"].(string)
		sign, _ := body["sign"].(string)
		ts, err := strconv.ParseInt(tsText, 10, 64)
		if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > time.Hour || !hmac.Equal([]byte(sign), []byte(notify.LarkSign(tsText, s.Secret))) {
			return "sign match fail or timestamp is not within one hour from current time"
		}
		return ""
	},
	refuse: func(w http.ResponseWriter, _ int, problem string) {
		code := 19021
		if problem == "invalid webhook token" {
			code = 19001
		}
		writeJSON(w, 200, map[string]any{"code": code, "msg": problem, "data": map[string]any{}})
	},
	accept: func(w http.ResponseWriter) {
		writeJSON(w, 200, map[string]any{"StatusCode": 0, "StatusMessage": "success", "code": 0, "msg": "success"})
	},
	throttle: func(w http.ResponseWriter) {
		writeJSON(w, 200, map[string]any{"code": 11232, "msg": "frequency limited"})
	},
	errorIn200: func(w http.ResponseWriter) { writeJSON(w, 200, map[string]any{"code": 9499, "msg": "Bad Request"}) },
	garbageJSON: func(w http.ResponseWriter, planted string) {
		writeJSON(w, 200, map[string]any{"code": 19021, "msg": "sign match fail", "data": map[string]any{"detail": planted}})
	},
	text: [][]string{{"content", "text"}},
}
