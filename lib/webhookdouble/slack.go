package webhookdouble

import (
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// slack is a Slack incoming webhook: the token is the path's last
// segment, plain-text answers with HTTP statuses.
var slack = &platform{
	kind: notify.Slack,
	path: func(p string) bool { return strings.HasPrefix(p, "/services/") },
	url:  func(base, token string) string { return base + "/services/T000/B000/" + token },
	verify: func(s *Server, r *http.Request, _ []byte, _ map[string]any, _ time.Time) string {
		if !strings.HasSuffix(r.URL.Path, "/"+s.Token) {
			return "invalid_token"
		}
		return ""
	},
	refuse: func(w http.ResponseWriter, status int, problem string) {
		if status == 401 {
			status = 403
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, problem)
	},
	accept: func(w http.ResponseWriter) {
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "ok")
	},
	throttle: func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "rate_limited")
	},
	errorIn200: func(w http.ResponseWriter) {
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "no_text")
	},
	text: [][]string{{"text"}},
}
