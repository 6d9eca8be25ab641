// Package notify tells owners before their machines go: one digest per
// owner per run, and a summary after a run that released, stopped, failed
// or tripped a cap, on a DingTalk custom robot, a Lark/Feishu custom bot, a
// Slack incoming webhook, or any endpoint that takes the notice as JSON.
//
// Each channel is signed the way its platform checks it, split under its
// size limit and paced under its rate limit; an answer that is not a
// success (an HTTP error, the platform's own error code inside a 200, a
// timeout) is an error, so that nothing is marked as notified that was not.
// The webhook URL's token and the signing secret are credentials: no error
// or log carries them.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ecs-reaper/ecs-reaper/lib/pause"
)

// Kinds of channel.
const (
	DingTalk = "dingtalk"
	Lark     = "lark"
	Slack    = "slack"
	JSON     = "json"
)

// Size limits of one message body, in bytes. DingTalk: "please keep the
// size within 20000 bytes" (its error for larger bodies); Lark/Feishu: the
// custom bot's request body is at most 20 KB; Slack: a message's text is
// truncated past 40,000 characters (30,000 keeps blocks of the digest
// whole); json: this tool's own choice.
var sizeLimits = map[string]int{DingTalk: 20000, Lark: 20000, Slack: 30000, JSON: 256 << 10}

// Rate limits: DingTalk 20 messages a minute per robot (more throttles it
// for 10 minutes); Lark/Feishu 5 a second and 100 a minute per bot; Slack
// about 1 a second per webhook. Messages are paced at these intervals.
var intervals = map[string]time.Duration{DingTalk: 3 * time.Second, Lark: 600 * time.Millisecond, Slack: time.Second}

// ErrNotDelivered marks a message the channel did not accept.
var ErrNotDelivered = errors.New("notice not delivered")

// Item is one instance in a notice.
type Item struct {
	// Kind is "" for an instance, or disks, snapshots or eips.
	Kind       string    `json:"kind,omitempty"`
	InstanceID string    `json:"instanceId"`
	Name       string    `json:"name,omitempty"`
	Region     string    `json:"region"`
	Account    string    `json:"account,omitempty"`
	ExpiresAt  time.Time `json:"expiresAt"`
	// Action is what will happen: ActionRelease, ActionStop or
	// ActionReleaseOnceStopped.
	Action string `json:"action"`
	// When is the earliest time it will happen.
	When time.Time `json:"when"`
	// Again: its owner was told before, and that notice no longer counts.
	Again bool `json:"again,omitempty"`
}

// Actions a notice announces.
const (
	ActionRelease = "release"
	ActionStop    = "stop"
	// ActionReleaseOnceStopped: a Running instance under REAPER_RUNNING=skip
	// is left alone while it runs, and released only once it is stopped.
	ActionReleaseOnceStopped = "release-once-stopped"
)

// Notice is the digest for one owner.
type Notice struct {
	Owner string `json:"owner,omitempty"` // "" sends to the channel without a mention
	Items []Item `json:"items"`
	// Again: the owner was told before about some of the items (each
	// marked Again), and that notice no longer counts.
	Again bool `json:"again,omitempty"`
}

// Summary is a run's result, sent after a run that did something worth
// telling.
type Summary struct {
	RunID      string `json:"runId"`
	DryRun     bool   `json:"dryRun"`
	Released   int    `json:"released"`
	Stopped    int    `json:"stopped"`
	Notified   int    `json:"notified"`
	Failed     int    `json:"failed"`
	CapTripped bool   `json:"capTripped"`
	Error      string `json:"error,omitempty"`
}

// Config configures a Notifier.
type Config struct {
	Kind, URL, Secret string
	// KeepTag and OptInTag name the tags a notice tells owners to use.
	KeepTag, OptInTag string
	// Client sends the requests; nil means one with a 10 s timeout that
	// never dials an internal address.
	Client *http.Client
	// Now is the clock of signatures; nil means time.Now.
	Now func() time.Time
	// Sleep waits between paced messages and retries; nil waits on a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Retries of a throttled or failed message before it counts as not
	// delivered (default 2).
	Retries int
}

// Notifier sends to one channel. It is safe for concurrent use; messages
// go out one at a time.
type Notifier struct {
	cfg    Config
	hidden []string // never quoted in an error
	mu     sync.Mutex
	last   time.Time // when the last message went out
}

// New checks cfg and returns its notifier.
func New(cfg Config) (*Notifier, error) {
	switch cfg.Kind {
	case DingTalk, Lark, Slack, JSON:
	default:
		return nil, fmt.Errorf("notify: unknown channel kind %q", cfg.Kind)
	}
	if _, err := url.Parse(cfg.URL); err != nil || cfg.URL == "" {
		return nil, errors.New("notify: the webhook URL does not parse")
	}
	if cfg.Client == nil {
		cfg.Client = defaultClient()
	}
	// A redirect is never followed: the notice goes to exactly the URL the
	// settings checked, and a 3xx is a failed delivery.
	client := *cfg.Client
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.Client = &client
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = pause.For
	}
	if cfg.Retries <= 0 {
		cfg.Retries = 2
	}
	return &Notifier{cfg: cfg, hidden: credentialsOf(cfg.URL, cfg.Secret)}, nil
}

// credentialsOf lists what an answer quoted in an error must not repeat:
// the URL's query values and path segments (the token lives in one of
// them) and the signing secret.
func credentialsOf(rawURL, secret string) []string {
	var out []string
	if secret != "" {
		out = append(out, secret)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return out
	}
	for _, vs := range u.Query() {
		out = append(out, vs...)
	}
	out = append(out, strings.Split(u.EscapedPath(), "/")...)
	out = append(out, strings.Split(u.Path, "/")...)
	return slices.DeleteFunc(out, func(v string) bool { return len(v) < 6 })
}

// Kind is the channel's kind.
func (n *Notifier) Kind() string { return n.cfg.Kind }

// Notify sends one owner's digest, in as many messages as the channel's
// size limit needs; it is delivered only when every message was.
func (n *Notifier) Notify(ctx context.Context, notice Notice) error {
	for _, part := range n.split(notice) {
		if err := n.send(ctx, n.renderNotice(part)); err != nil {
			return err
		}
	}
	return nil
}

// Report sends a run's summary.
func (n *Notifier) Report(ctx context.Context, s Summary) error {
	return n.send(ctx, n.renderSummary(s))
}

// split cuts a notice into parts whose message fits the channel.
func (n *Notifier) split(notice Notice) []Notice {
	limit := sizeLimits[n.cfg.Kind]
	var parts []Notice
	cur := Notice{Owner: notice.Owner, Again: notice.Again}
	for _, it := range notice.Items {
		next := cur
		next.Items = append(append([]Item(nil), cur.Items...), it)
		if len(cur.Items) > 0 && len(n.renderNotice(next).body) > limit {
			parts = append(parts, cur)
			cur = Notice{Owner: notice.Owner, Again: notice.Again, Items: []Item{it}}
			continue
		}
		cur = next
	}
	if len(cur.Items) > 0 {
		parts = append(parts, cur)
	}
	return parts
}

// message is one request ready to sign and send.
type message struct {
	body    []byte
	content map[string]any // the body before signing, for the kinds that sign inside it
}

// send paces, signs, posts and checks one message, retrying a throttled or
// failed one a few times with backoff (Slack's Retry-After when given).
func (n *Notifier) send(ctx context.Context, m message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var err error
	for attempt := 0; attempt <= n.cfg.Retries; attempt++ {
		if wait := intervals[n.cfg.Kind] - n.cfg.Now().Sub(n.last); !n.last.IsZero() && wait > 0 {
			if serr := n.cfg.Sleep(ctx, wait); serr != nil {
				return fmt.Errorf("%w: %s: %w", ErrNotDelivered, n.cfg.Kind, serr)
			}
		}
		var retryAfter time.Duration
		retryAfter, err = n.post(ctx, m)
		n.last = n.cfg.Now()
		if err == nil {
			return nil
		}
		var fatal *answerError
		if errors.As(err, &fatal) && !fatal.retry {
			return err
		}
		backoff := time.Duration(1<<attempt) * time.Second
		if retryAfter > 0 {
			backoff = retryAfter
		}
		if attempt < n.cfg.Retries {
			if serr := n.cfg.Sleep(ctx, backoff); serr != nil {
				return err
			}
		}
	}
	return err
}

// answerError is a channel's refusal; retry says whether trying again may
// help (throttling, a 5xx).
type answerError struct {
	kind, what string
	retry      bool
}

func (e *answerError) Error() string {
	return fmt.Sprintf("%s: %s: %s", ErrNotDelivered, e.kind, e.what)
}

func (e *answerError) Unwrap() error { return ErrNotDelivered }

// post signs and sends m once and reads the channel's answer.
func (n *Notifier) post(ctx context.Context, m message) (retryAfter time.Duration, err error) {
	target := n.cfg.URL
	body := m.body
	header := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	now := n.cfg.Now()
	switch n.cfg.Kind {
	case DingTalk:
		if n.cfg.Secret != "" {
			ts := strconv.FormatInt(now.UnixMilli(), 10)
			q := "timestamp=" + ts + "&sign=" + url.QueryEscape(DingTalkSign(ts, n.cfg.Secret))
			if strings.Contains(target, "?") {
				target += "&" + q
			} else {
				target += "?" + q
			}
		}
	case Lark:
		if n.cfg.Secret != "" {
			ts := strconv.FormatInt(now.Unix(), 10)
			content := map[string]any{}
			for k, v := range m.content {
				content[k] = v
			}
			content["timestamp"], content["sign"] = ts, LarkSign(ts, n.cfg.Secret)
			body, _ = json.Marshal(content) // a map of JSON values always marshals
		}
	case JSON:
		if n.cfg.Secret != "" {
			header.Set("X-Reaper-Signature", JSONSign(body, n.cfg.Secret))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, &answerError{kind: n.cfg.Kind, what: "the request could not be built"}
	}
	req.Header = header
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return 0, &answerError{kind: n.cfg.Kind, what: n.transportProblem(err), retry: true}
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return n.check(resp, answer)
}

// transportProblem describes a failed request without its URL (the URL
// holds the webhook's token).
func (n *Notifier) transportProblem(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		if uerr.Timeout() {
			return "timed out"
		}
		err = uerr.Err
	}
	return "request failed: " + n.clean(err.Error())
}

// slackError is Slack's documented short error form (invalid_token,
// no_text, channel_not_found): the only answer text of Slack's an error
// quotes.
var slackError = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// check reads a channel's answer: success only when the platform says so.
// An error quotes only the platform's own error code and message fields,
// bounded and cleaned, never the body: whatever answers for the webhook
// may be hostile, and the error reaches logs, reports and the chat.
func (n *Notifier) check(resp *http.Response, answer []byte) (time.Duration, error) {
	kind := n.cfg.Kind
	status := resp.StatusCode
	fail := func(retry bool, format string, args ...any) (time.Duration, error) {
		return 0, &answerError{kind: kind, what: fmt.Sprintf(format, args...), retry: retry}
	}
	if status >= 300 && status <= 399 {
		return fail(false, "HTTP %d: a redirect, not followed (notices go only to the configured URL)", status)
	}
	switch kind {
	case Slack:
		answered := strings.TrimSpace(string(answer))
		code := "(an answer that is not one of Slack's error codes)"
		if slackError.MatchString(answered) {
			code = n.clean(answered)
		}
		switch {
		case status == http.StatusTooManyRequests:
			after, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			return time.Duration(after) * time.Second, &answerError{kind: kind, what: "HTTP 429 rate limited", retry: true}
		case status != http.StatusOK:
			return fail(status >= 500, "HTTP %d %s", status, code)
		case answered != "ok":
			return fail(false, "answered %s instead of ok", code)
		}
		return 0, nil
	case JSON:
		if status < 200 || status > 299 {
			return fail(status >= 500 || status == http.StatusTooManyRequests, "HTTP %d", status)
		}
		return 0, nil
	}
	if status != http.StatusOK {
		return fail(status >= 500 || status == http.StatusTooManyRequests, "HTTP %d", status)
	}
	var a struct {
		ErrCode    *int   `json:"errcode"`
		ErrMsg     string `json:"errmsg"`
		Code       *int   `json:"code"`
		Msg        string `json:"msg"`
		StatusCode *int   `json:"StatusCode"`
	}
	if err := json.Unmarshal(answer, &a); err != nil {
		return fail(true, "answered something that is not JSON")
	}
	switch kind {
	case DingTalk:
		switch {
		case a.ErrCode == nil:
			return fail(false, "answered without an errcode")
		case *a.ErrCode == 130101: // "send too fast, exceed 20 times per minute"
			return fail(true, "errcode %d %s", *a.ErrCode, n.clean(a.ErrMsg))
		case *a.ErrCode != 0:
			return fail(false, "errcode %d %s", *a.ErrCode, n.clean(a.ErrMsg))
		}
	case Lark:
		code := a.Code
		if code == nil {
			code = a.StatusCode
		}
		switch {
		case code == nil:
			return fail(false, "answered without a code")
		case *code == 11232: // frequency limited
			return fail(true, "code %d %s", *code, n.clean(a.Msg))
		case *code != 0 || (a.StatusCode != nil && *a.StatusCode != 0):
			return fail(false, "code %d %s", *code, n.clean(a.Msg))
		}
	}
	return 0, nil
}

// maxQuoted bounds a platform's error message quoted in an error.
const maxQuoted = 200

// clean makes a platform's error message safe to quote: valid UTF-8, no
// control characters or line breaks, no credential of the webhook, at most
// maxQuoted characters, in quotes.
func (n *Notifier) clean(msg string) string {
	msg = plain(msg)
	for _, h := range n.hidden {
		msg = strings.ReplaceAll(msg, h, "<redacted>")
	}
	msg = strings.TrimSpace(msg)
	if r := []rune(msg); len(r) > maxQuoted {
		msg = string(r[:maxQuoted]) + "..."
	}
	return strconv.Quote(msg)
}

// plain replaces control and format characters (a line break would start
// a heading, list or quote of the value's own) with spaces.
func plain(v string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(v, "?"))
}

// DingTalkSign is DingTalk's signature: URL-unescaped Base64 of
// HMAC-SHA256 keyed by the secret over timestamp (ms) + "\n" + secret.
func DingTalkSign(timestampMS, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestampMS + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// LarkSign is Lark/Feishu's signature: Base64 of HMAC-SHA256 keyed by
// timestamp (s) + "\n" + secret over an empty message.
func LarkSign(timestampS, secret string) string {
	mac := hmac.New(sha256.New, []byte(timestampS+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// JSONSign is the json channel's X-Reaper-Signature: hex HMAC-SHA256 of the
// body keyed by the secret.
func JSONSign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Interval is the least time between two messages on the channel: its
// pacing, which a sender budgets for.
func (n *Notifier) Interval() time.Duration { return intervals[n.cfg.Kind] }
