// Package webhookdouble is a chat-webhook double on 127.0.0.1 for tests
// and the demo: a DingTalk custom robot, a Lark/Feishu custom bot, a Slack
// incoming webhook and a plain JSON endpoint. It checks each request's
// token and signature exactly as the platform does and answers a wrong or
// stale one the way the platform answers it; it records every message it
// accepted; and it can fail, throttle, answer an error inside a 200,
// redirect, or answer garbage, as anything answering for a webhook might.
package webhookdouble

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// Message is one accepted message.
type Message struct {
	Kind string
	Body map[string]any
	Raw  []byte
	At   time.Time
}

// Text is the message's visible text, whatever its kind.
func (m Message) Text() string {
	for _, path := range [][]string{{"markdown", "text"}, {"text", "content"}, {"content", "text"}, {"text"}} {
		var v any = m.Body
		for _, k := range path {
			obj, _ := v.(map[string]any)
			v = obj[k]
		}
		if s, ok := v.(string); ok {
			return s
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

	mu       sync.Mutex
	messages []Message
	faults   []Fault // one per request, consumed in order; then None
	now      func() time.Time
	rejected int
	location string // where the redirect faults send the client
	planted  string // what the garbage faults answer
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

// SetClock sets the clock signatures are checked against.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// URL is the webhook URL of kind, with its token.
func (s *Server) URL(kind string) string {
	base := "http://" + s.ln.Addr().String()
	switch kind {
	case notify.DingTalk:
		return base + "/robot/send?access_token=" + s.Token
	case notify.Lark:
		return base + "/open-apis/bot/v2/hook/" + s.Token
	case notify.Slack:
		return base + "/services/T000/B000/" + s.Token
	}
	return base + "/hooks/" + s.Token
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
	var kind string
	switch {
	case r.URL.Path == "/robot/send":
		kind = notify.DingTalk
	case strings.HasPrefix(r.URL.Path, "/open-apis/bot/v2/hook/"):
		kind = notify.Lark
	case strings.HasPrefix(r.URL.Path, "/services/"):
		kind = notify.Slack
	case strings.HasPrefix(r.URL.Path, "/hooks/"):
		kind = notify.JSON
	default:
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
		s.garbage(w, kind, fault)
		return
	}
	var body map[string]any
	if kind != notify.JSON || len(raw) > 0 {
		if err := json.Unmarshal(raw, &body); err != nil {
			s.answer(w, kind, 400, "body is not JSON")
			return
		}
	}
	if problem := s.verify(kind, r, raw, body, now()); problem != "" {
		s.mu.Lock()
		s.rejected++
		s.mu.Unlock()
		s.answer(w, kind, 401, problem)
		return
	}
	switch fault {
	case Throttle:
		s.throttle(w, kind)
		return
	case ErrorIn200:
		s.errorIn200(w, kind)
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, Message{Kind: kind, Body: body, Raw: raw, At: now()})
	s.mu.Unlock()
	switch kind {
	case notify.DingTalk:
		writeJSON(w, 200, map[string]any{"errcode": 0, "errmsg": "ok"})
	case notify.Lark:
		writeJSON(w, 200, map[string]any{"StatusCode": 0, "StatusMessage": "success", "code": 0, "msg": "success"})
	case notify.Slack:
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "ok")
	default:
		w.WriteHeader(204)
	}
}

// verify checks the token and the signature as the platform does; it
// returns the platform's complaint, or "".
func (s *Server) verify(kind string, r *http.Request, raw []byte, body map[string]any, now time.Time) string {
	switch kind {
	case notify.DingTalk:
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
	case notify.Lark:
		if strings.TrimPrefix(r.URL.Path, "/open-apis/bot/v2/hook/") != s.Token {
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
	case notify.Slack:
		if !strings.HasSuffix(r.URL.Path, "/"+s.Token) {
			return "invalid_token"
		}
	case notify.JSON:
		if strings.TrimPrefix(r.URL.Path, "/hooks/") != s.Token {
			return "unknown hook"
		}
		if s.Secret != "" && !hmac.Equal([]byte(r.Header.Get("X-Reaper-Signature")), []byte(notify.JSONSign(raw, s.Secret))) {
			return "bad signature"
		}
	}
	return ""
}

// answer refuses a request the platform's way: DingTalk and Lark with their
// error codes inside an HTTP 200, Slack and json with an HTTP status.
func (s *Server) answer(w http.ResponseWriter, kind string, status int, problem string) {
	switch kind {
	case notify.DingTalk:
		code := 310000 // every security failure
		if problem == "token is not exist" {
			code = 300001
		}
		writeJSON(w, 200, map[string]any{"errcode": code, "errmsg": problem})
	case notify.Lark:
		code := 19021
		if problem == "invalid webhook token" {
			code = 19001
		}
		writeJSON(w, 200, map[string]any{"code": code, "msg": problem, "data": map[string]any{}})
	case notify.Slack:
		if status == 401 {
			status = 403
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, problem)
	default:
		http.Error(w, problem, status)
	}
}

func (s *Server) throttle(w http.ResponseWriter, kind string) {
	switch kind {
	case notify.DingTalk:
		writeJSON(w, 200, map[string]any{"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
	case notify.Lark:
		writeJSON(w, 200, map[string]any{"code": 11232, "msg": "frequency limited"})
	case notify.Slack:
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, "rate_limited")
	default:
		http.Error(w, "slow down", http.StatusTooManyRequests)
	}
}

func (s *Server) errorIn200(w http.ResponseWriter, kind string) {
	switch kind {
	case notify.DingTalk:
		writeJSON(w, 200, map[string]any{"errcode": 310000, "errmsg": "keywords not in content"})
	case notify.Lark:
		writeJSON(w, 200, map[string]any{"code": 9499, "msg": "Bad Request"})
	case notify.Slack:
		w.WriteHeader(200)
		_, _ = io.WriteString(w, "no_text")
	default:
		writeJSON(w, 200, map[string]any{"error": "rejected"}) // a 2xx is success for json: nothing to fake
	}
}

func (s *Server) garbage(w http.ResponseWriter, kind string, fault Fault) {
	s.mu.Lock()
	planted := s.planted
	s.mu.Unlock()
	switch {
	case fault == GarbageJSON && kind == notify.DingTalk:
		writeJSON(w, 200, map[string]any{"errcode": 310000, "errmsg": "sign not match", "detail": planted})
	case fault == GarbageJSON && kind == notify.Lark:
		writeJSON(w, 200, map[string]any{"code": 19021, "msg": "sign match fail", "data": map[string]any{"detail": planted}})
	case fault == GarbageError || kind == notify.JSON: // a 2xx is success for json
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
