// Package notify tells owners before their machines go: one digest per
// owner per run, and a summary after a run that released, stopped, failed
// or tripped a cap, on one of the chat channels in channels (each in its
// own file), or any endpoint that takes the notice as JSON.
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
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/ecs-reaper/ecs-reaper/lib/pause"
)

// channel is everything the notifier knows about one platform. A new
// platform is a file holding one of these and a line in channels.
type channel struct {
	name string // the REAPER_NOTIFY_KIND word
	// label names the platform's webhooks in messages ("Slack incoming
	// webhooks").
	label string
	// hosts are the webhook hosts that select the channel when
	// REAPER_NOTIFY_KIND is unset.
	hosts []string
	// maxBytes bounds one message as size measures it; size nil measures
	// the request body.
	maxBytes int
	size     func(m message) int
	// interval is the least time between two messages (the platform's
	// rate limit).
	interval time.Duration
	// sign signs a request with the secret; nil: the platform takes no
	// secret (the URL is the credential) and the settings refuse one.
	sign func(r *request, secret string, now time.Time)
	// escape makes tag-derived text inert in the notice's markup; nil
	// leaves it raw. summaryEscape does it for the summary (nil: escape).
	escape, summaryEscape func(string) string
	// mention renders an owner that is exactly one user's ID in the
	// platform's form as a mention; ok false names the owner as text.
	mention func(owner string) (string, bool)
	// notice and summary build the message's JSON content from the text
	// rendered with the channel's escaper and mention (the title is also
	// the first line).
	notice  func(nt Notice, title string, lines []string) map[string]any
	summary func(s Summary, text string) map[string]any
	// read reads an answer that is not a redirect: nil when the platform
	// accepted the message.
	read func(a answer) *refusal
}

// channels are the chat channels, in the order the settings list them.
var channels = []*channel{dingTalk, lark, slack, weCom, jsonChannel}

func channelNamed(name string) *channel {
	for _, c := range channels {
		if c.name == name {
			return c
		}
	}
	return nil
}

// Kinds are the channels' REAPER_NOTIFY_KIND words, in order.
func Kinds() []string {
	out := make([]string, len(channels))
	for i, c := range channels {
		out[i] = c.name
	}
	return out
}

// KindChoices lists the kinds for a message: "a, b or c".
func KindChoices() string { return either(Kinds()) }

func either(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// IsKind reports whether kind names a channel.
func IsKind(kind string) bool { return channelNamed(kind) != nil }

// KindOfHost is the channel a webhook host selects, if any.
func KindOfHost(host string) (string, bool) {
	host = strings.ToLower(host)
	for _, c := range channels {
		if slices.Contains(c.hosts, host) {
			return c.name, true
		}
	}
	return "", false
}

// Hosts are the webhook hosts that select a channel, in order.
func Hosts() []string {
	var out []string
	for _, c := range channels {
		out = append(out, c.hosts...)
	}
	return out
}

// Signed reports whether kind takes a signing secret.
func Signed(kind string) bool {
	c := channelNamed(kind)
	return c != nil && c.sign != nil
}

// SignedKinds are the kinds that take a signing secret, in order.
func SignedKinds() []string {
	var out []string
	for _, c := range channels {
		if c.sign != nil {
			out = append(out, c.name)
		}
	}
	return out
}

// Label names kind's webhooks in a message ("Slack incoming webhooks").
func Label(kind string) string {
	if c := channelNamed(kind); c != nil {
		return c.label
	}
	return kind
}

// ErrNotDelivered marks a message the channel did not accept.
var ErrNotDelivered = errors.New("notice not delivered")

// Item is one instance in a notice.
type Item struct {
	// Kind is "" for an instance, or the name of a kind of resource
	// (package kinds); Noun is what the notice calls it ("disk").
	Kind       string    `json:"kind,omitempty"`
	Noun       string    `json:"-"`
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
	ch     *channel
	hidden []string // never quoted in an error
	mu     sync.Mutex
	last   time.Time // when the last message went out
}

// New checks cfg and returns its notifier.
func New(cfg Config) (*Notifier, error) {
	ch := channelNamed(cfg.Kind)
	if ch == nil {
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
	return &Notifier{cfg: cfg, ch: ch, hidden: credentialsOf(cfg.URL, cfg.Secret)}, nil
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
func (n *Notifier) Kind() string { return n.ch.name }

// Interval is the least time between two messages on the channel: its
// pacing, which a sender budgets for.
func (n *Notifier) Interval() time.Duration { return n.ch.interval }

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

// Report sends a run's summary. An error too long for one message is cut
// (it names the first failures; the report holds them all).
func (n *Notifier) Report(ctx context.Context, s Summary) error {
	m := n.renderSummary(s)
	for r := []rune(s.Error); n.size(m) > n.ch.maxBytes && len(r) > 0; {
		r = r[:len(r)*3/4]
		s.Error = string(r) + "... (cut to fit the channel; the report has it all)"
		m = n.renderSummary(s)
	}
	return n.send(ctx, m)
}

func (n *Notifier) size(m message) int {
	if n.ch.size != nil {
		return n.ch.size(m)
	}
	return len(m.body)
}

// split cuts a notice into parts whose message fits the channel.
func (n *Notifier) split(notice Notice) []Notice {
	var parts []Notice
	cur := Notice{Owner: notice.Owner, Again: notice.Again}
	for _, it := range notice.Items {
		next := cur
		next.Items = append(append([]Item(nil), cur.Items...), it)
		if len(cur.Items) > 0 && n.size(n.renderNotice(next)) > n.ch.maxBytes {
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

// message is one request's content ready to sign and send.
type message struct {
	body    []byte
	content map[string]any // the body before signing, for the kinds that sign inside it
}

// request is a message on its way: a channel's sign may change any part.
type request struct {
	target  string
	body    []byte
	content map[string]any
	header  http.Header
}

// send paces, signs, posts and checks one message, retrying a throttled or
// failed one a few times with backoff (the channel's retry-after when it
// gives one).
func (n *Notifier) send(ctx context.Context, m message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	var err error
	for attempt := 0; attempt <= n.cfg.Retries; attempt++ {
		if wait := n.ch.interval - n.cfg.Now().Sub(n.last); !n.last.IsZero() && wait > 0 {
			if serr := n.cfg.Sleep(ctx, wait); serr != nil {
				return fmt.Errorf("%w: %s: %w", ErrNotDelivered, n.ch.name, serr)
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
	r := &request{target: n.cfg.URL, body: m.body, content: m.content,
		header: http.Header{"Content-Type": {"application/json; charset=utf-8"}}}
	if n.ch.sign != nil && n.cfg.Secret != "" {
		n.ch.sign(r, n.cfg.Secret, n.cfg.Now())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.target, bytes.NewReader(r.body))
	if err != nil {
		return 0, &answerError{kind: n.ch.name, what: "the request could not be built"}
	}
	req.Header = r.header
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return 0, &answerError{kind: n.ch.name, what: n.transportProblem(err), retry: true}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return n.check(resp, body)
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

// answer is what the platform answered, as a channel's read sees it.
type answer struct {
	status int
	header http.Header
	body   []byte
	// clean makes a platform's message field safe to quote (Notifier.clean).
	clean func(string) string
}

// refusal is a channel's reading of an answer that is not a success.
type refusal struct {
	what  string
	retry bool
	after time.Duration // the platform's own retry-after, if it gave one
}

func refuse(retry bool, format string, args ...any) *refusal {
	return &refusal{what: fmt.Sprintf(format, args...), retry: retry}
}

// check reads a channel's answer: success only when the platform says so.
// An error quotes only the platform's own error code and message fields,
// bounded and cleaned, never the body: whatever answers for the webhook
// may be hostile, and the error reaches logs, reports and the chat.
func (n *Notifier) check(resp *http.Response, body []byte) (time.Duration, error) {
	r := refusalOfRedirect(resp.StatusCode)
	if r == nil {
		r = n.ch.read(answer{status: resp.StatusCode, header: resp.Header, body: body, clean: n.clean})
	}
	if r == nil {
		return 0, nil
	}
	return r.after, &answerError{kind: n.ch.name, what: r.what, retry: r.retry}
}

func refusalOfRedirect(status int) *refusal {
	if status >= 300 && status <= 399 {
		return refuse(false, "HTTP %d: a redirect, not followed (notices go only to the configured URL)", status)
	}
	return nil
}

// readStatus refuses an answer that is not an HTTP 200 (a 5xx or a 429
// may pass with a retry): the platforms that answer JSON say "no" inside
// a 200, and anything else is not their answer.
func readStatus(a answer) *refusal {
	if a.status != http.StatusOK {
		return refuse(a.status >= 500 || a.status == http.StatusTooManyRequests, "HTTP %d", a.status)
	}
	return nil
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

// readErrcode reads the errcode/errmsg answer of the platforms that use it
// (DingTalk, WeCom): 0 is success, a throttled code may pass with a retry,
// any other code is a refusal quoting the platform's own two fields.
func readErrcode(a answer, throttled int) *refusal {
	if r := readStatus(a); r != nil {
		return r
	}
	var v struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil {
		return refuse(true, "answered something that is not JSON")
	}
	switch {
	case v.ErrCode == nil:
		return refuse(false, "answered without an errcode")
	case *v.ErrCode == throttled:
		return refuse(true, "errcode %d %s", *v.ErrCode, a.clean(v.ErrMsg))
	case *v.ErrCode != 0:
		return refuse(false, "errcode %d %s", *v.ErrCode, a.clean(v.ErrMsg))
	}
	return nil
}
