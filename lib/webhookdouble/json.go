package webhookdouble

import (
	"crypto/hmac"
	"net/http"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// jsonHook is a plain JSON endpoint: the token in the path, the body
// signed in X-Reaper-Signature, any 2xx a success.
var jsonHook = &platform{
	kind:      notify.JSON,
	path:      func(p string) bool { return strings.HasPrefix(p, "/hooks/") },
	url:       func(base, token string) string { return base + "/hooks/" + token },
	emptyBody: true,
	any2xx:    true,
	verify: func(s *Server, r *http.Request, raw []byte, _ map[string]any, _ time.Time) string {
		if strings.TrimPrefix(r.URL.Path, "/hooks/") != s.Token {
			return "unknown hook"
		}
		if s.Secret != "" && !hmac.Equal([]byte(r.Header.Get("X-Reaper-Signature")), []byte(notify.JSONSign(raw, s.Secret))) {
			return "bad signature"
		}
		return ""
	},
	refuse:   func(w http.ResponseWriter, status int, problem string) { http.Error(w, problem, status) },
	accept:   func(w http.ResponseWriter) { w.WriteHeader(204) },
	throttle: func(w http.ResponseWriter) { http.Error(w, "slow down", http.StatusTooManyRequests) },
	// A 2xx is success for json: nothing to fake.
	errorIn200: func(w http.ResponseWriter) { writeJSON(w, 200, map[string]any{"error": "rejected"}) },
	text:       [][]string{{"text"}},
}
