package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// JSON is any endpoint that takes the notice as JSON: the values stay raw
// (JSON encoding escapes them, and the reader decides how to show them).
const JSON = "json"

var jsonChannel = &channel{
	name:  JSON,
	label: "json endpoints",
	// This tool's own choice; no host selects it.
	maxBytes: 256 << 10,
	sign: func(r *request, secret string, _ time.Time) {
		r.header.Set("X-Reaper-Signature", JSONSign(r.body, secret))
	},
	notice: func(nt Notice, _ string, lines []string) map[string]any {
		return map[string]any{"kind": "notice", "owner": nt.Owner, "again": nt.Again, "items": nt.Items, "text": strings.Join(lines, "\n")}
	},
	summary: func(s Summary, text string) map[string]any {
		return map[string]any{"kind": "summary", "summary": s, "text": text}
	},
	// Any 2xx is success.
	read: func(a answer) *refusal {
		if a.status < 200 || a.status > 299 {
			return refuse(a.status >= 500 || a.status == http.StatusTooManyRequests, "HTTP %d", a.status)
		}
		return nil
	},
}

// JSONSign is the json channel's X-Reaper-Signature: hex HMAC-SHA256 of the
// body keyed by the secret.
func JSONSign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
