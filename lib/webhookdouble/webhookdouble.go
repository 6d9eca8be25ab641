// Package webhookdouble is a chat-webhook double on 127.0.0.1 for tests
// and the demo: each chat platform in platforms, one file each. It checks
// each request's token and signature exactly as the platform does and
// answers a wrong or stale one the way the platform answers it; it records
// every message it accepted; and it can fail, throttle, answer an error
// inside a 200, redirect, or answer garbage, as anything answering for a
// webhook might.
package webhookdouble

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// platform is how the double plays one chat platform.
type platform struct {
	kind string
	// path reports whether a request's path is the platform's webhook;
	// url is the webhook URL of a token.
	path func(p string) bool
	url  func(base, token string) string
	// emptyBody: an empty body is a message (the json endpoint).
	emptyBody bool
	// any2xx: any 2xx is the platform's success, so garbage is answered
	// in a 502 (a garbage 200 would be a delivery).
	any2xx bool
	// verify checks the token and the signature as the platform does; it
	// returns the platform's complaint, or "".
	verify func(s *Server, r *http.Request, raw []byte, body map[string]any, now time.Time) string
	// refuse answers a bad request (status: 400 unreadable, 401 a bad
	// token or signature) the platform's way.
	refuse func(w http.ResponseWriter, status int, problem string)
	// content refuses a message the platform would not take (too large);
	// it returns whether it answered. nil takes every message.
	content func(w http.ResponseWriter, body map[string]any) bool
	// perMinute > 0: more accepted messages than this in a minute of the
	// double's clock are throttled.
	perMinute int
	// accept, throttle and errorIn200 are its success, its "too fast" and
	// its error code inside an HTTP 200.
	accept, throttle, errorIn200 func(w http.ResponseWriter)
	// garbageJSON is its error code in a 200 with the planted text in
	// other fields; nil answers the planted text in a 200.
	garbageJSON func(w http.ResponseWriter, planted string)
	// text are the paths of a message's visible text.
	text [][]string
}

// platforms are the platforms the double serves.
var platforms = []*platform{dingTalk, lark, slack, weCom, jsonHook}

func platformOf(kind string) *platform {
	for _, p := range platforms {
		if p.kind == kind {
			return p
		}
	}
	return nil
}

// Message is one accepted message.
type Message struct {
	Kind string
	Body map[string]any
	Raw  []byte
	At   time.Time
}

// Text is the message's visible text, whatever its kind.
func (m Message) Text() string {
	if p := platformOf(m.Kind); p != nil {
		for _, path := range p.text {
			var v any = m.Body
			for _, k := range path {
				obj, _ := v.(map[string]any)
				v = obj[k]
			}
			if s, ok := v.(string); ok {
				return s
			}
		}
	}
	return string(m.Raw)
}

// Fault is how the double misbehaves for the next requests.
type Fault int

// Faults.
const (
	None         Fault = iota
	Fail               // HTTP 500
	Throttle           // the platform's "too fast" answer
	ErrorIn200         // the platform's error code inside an HTTP 200
	Slow               // answer after 30 s (or when the client gives up)
	Redirect303        // 303 See Other to the RedirectTo location
	Redirect307        // 307 Temporary Redirect (a client following it re-posts the body)
	Garbage            // HTTP 200 with the planted body
	GarbageError       // HTTP 502 with the planted body
	GarbageJSON        // the platform's error code in a 200, the planted text in other fields
)

// Server is the double.
type Server struct {
	Token, Secret string
	srv           *http.Server
	ln            net.Listener

	mu        sync.Mutex
	messages  []Message
	faults    []Fault // one per request, consumed in order; then None
	now       func() time.Time
	rejected  int
	throttled int
	location  string // where the redirect faults send the client
	planted   string // what the garbage faults answer
}

// Start serves on 127.0.0.1 with the webhook token and signing secret.
func Start(token, secret string) (*Server, error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Token: token, Secret: secret, ln: ln, now: time.Now}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the double.
func (s *Server) Close() { _ = s.srv.Close() }

// SetClock sets the clock signatures and rate limits are checked against.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// URL is the webhook URL of kind, with its token; an unknown kind gets the
// json endpoint's.
func (s *Server) URL(kind string) string {
	p := platformOf(kind)
	if p == nil {
		p = jsonHook
	}
	return p.url("http://"+s.ln.Addr().String(), s.Token)
}

// Inject queues faults for the next requests, one each.
func (s *Server) Inject(f ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f...)
}

// RedirectTo sets the Location of the redirect faults.
func (s *Server) RedirectTo(location string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.location = location
}

// Plant sets the text the garbage faults answer with.
func (s *Server) Plant(text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.planted = text
}

// Messages returns the accepted messages.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Rejected counts requests refused for their token or signature.
func (s *Server) Rejected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rejected
}

// Throttled counts messages refused for the platform's rate limit (not the
// injected Throttle faults).
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

func (s *Server) next() (Fault, func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := None
	if len(s.faults) > 0 {
		f, s.faults = s.faults[0], s.faults[1:]
	}
	return f, s.now
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var p *platform
	for _, each := range platforms {
		if each.path(r.URL.Path) {
			p = each
			break
		}
	}
	if p == nil {
		http.NotFound(w, r)
		return
	}
	fault, now := s.next()
	if fault == Slow {
		select {
		case <-r.Context().Done():
			return
		case <-time.After(30 * time.Second):
		}
	}
	switch fault {
	case Fail:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case Redirect303, Redirect307:
		s.mu.Lock()
		location := s.location
		s.mu.Unlock()
		status := http.StatusSeeOther
		if fault == Redirect307 {
			status = http.StatusTemporaryRedirect
		}
		w.Header().Set("Location", location)
		w.WriteHeader(status)
		return
	case Garbage, GarbageError, GarbageJSON:
		s.garbage(w, p, fault)
		return
	}
	var body map[string]any
	if !p.emptyBody || len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			p.refuse(w, 400, "body is not JSON")
			return
		}
	}
	if problem := p.verify(s, r, raw, body, now()); problem != "" {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
		p.refuse(w, 401, problem)
		return
	}
	switch fault {
	case Throttle:
		p.throttle(w)
		return
	case ErrorIn200:
		p.errorIn200(w)
		return
	}
	if p.content != nil && p.content(w, body) {
		return
	}
	at := now()
	s.mu.Lock()
	if p.perMinute > 0 && s.sentSince(p.kind, at.Add(-time.Minute)) >= p.perMinute {
		s.throttled++
		s.mu.Unlock()
		p.throttle(w)
		return
	}
	s.messages = append(s.messages, Message{Kind: p.kind, Body: body, Raw: raw, At: at})
	s.mu.Unlock()
	p.accept(w)
}

// sentSince counts the messages of kind accepted after t; s.mu is held.
func (s *Server) sentSince(kind string, t time.Time) int {
	n := 0
	for _, m := range s.messages {
		if m.Kind == kind && m.At.After(t) {
			n++
		}
	}
	return n
}

func (s *Server) garbage(w http.ResponseWriter, p *platform, fault Fault) {
	s.mu.Lock()
	planted := s.planted
	s.mu.Unlock()
	switch {
	case fault == GarbageJSON && p.garbageJSON != nil:
		p.garbageJSON(w, planted)
	case fault == GarbageError || p.any2xx:
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, planted)
	default:
		w.WriteHeader(200)
		_, _ = io.WriteString(w, planted)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
