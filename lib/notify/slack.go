package notify

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Slack is a Slack incoming webhook: {"text": …} in mrkdwn, not signed
// (the URL is the credential).
const Slack = "slack"

var slack = &channel{
	name:  Slack,
	label: "Slack incoming webhooks",
	hosts: []string{"hooks.slack.com"},
	// A message's text is truncated past 40,000 characters; 30,000 keeps
	// the digest's lines whole.
	maxBytes: 30000,
	// About 1 message a second per webhook.
	interval: time.Second,
	// mrkdwn: &, < and > are its control characters (<!channel>, <@U..>,
	// <url|text>); Slack decodes these three entities.
	escape: strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace,
	mention: func(owner string) (string, bool) {
		if slackUserID.MatchString(owner) {
			return "<@" + owner + ">", true
		}
		return "", false
	},
	notice: func(_ Notice, _ string, lines []string) map[string]any {
		return map[string]any{"text": strings.Join(lines, "\n")}
	},
	summary: func(_ Summary, text string) map[string]any { return map[string]any{"text": text} },
	read:    readSlack,
}

// slackUserID is the owner form Slack mentions: a user ID.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{6,}$`)

// slackError is Slack's documented short error form (invalid_token,
// no_text, channel_not_found): the only answer text of Slack's an error
// quotes.
var slackError = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// readSlack reads Slack's answer: a plain "ok" in a 200 is success; a 429
// waits its Retry-After.
func readSlack(a answer) *refusal {
	answered := strings.TrimSpace(string(a.body))
	code := "(an answer that is not one of Slack's error codes)"
	if slackError.MatchString(answered) {
		code = a.clean(answered)
	}
	switch {
	case a.status == http.StatusTooManyRequests:
		after, _ := strconv.Atoi(a.header.Get("Retry-After"))
		r := refuse(true, "HTTP 429 rate limited")
		r.after = time.Duration(after) * time.Second
		return r
	case a.status != http.StatusOK:
		return refuse(a.status >= 500, "HTTP %d %s", a.status, code)
	case answered != "ok":
		return refuse(false, "answered %s instead of ok", code)
	}
	return nil
}
