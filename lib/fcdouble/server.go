// Package fcdouble is a test double of the Function Compute runtime API, the
// HTTP protocol by which the go1 runtime hands events to a function built with
// fc-runtime-go-sdk v0.3.1 (fc/runtime_api_client.go, fc/invoke_loop.go).
//
// A test starts a Server, runs the real function binary against it with
// StartFunction, and calls Invoke the way the platform would. Nothing in the
// function is stubbed: the SDK's own loop decodes the headers into fccontext,
// sets the context deadline and posts the result back, so the test sees what
// FC would see.
package fcdouble

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// APIVersion is the path prefix version fc-runtime-go-sdk v0.3.1 speaks.
const APIVersion = "2020-11-11"

const basePath = "/" + APIVersion + "/runtime/invocation/"

// Runtime API header names, as read by fc-runtime-go-sdk v0.3.1.
const (
	HeaderRequestID       = "x-fc-request-id"
	HeaderDeadline        = "x-fc-function-deadline" // epoch milliseconds; required
	HeaderTimeout         = "x-fc-function-timeout"  // seconds; required
	HeaderAccessKeyID     = "x-fc-access-key-id"
	HeaderAccessKeySecret = "x-fc-access-key-secret"
	HeaderSecurityToken   = "x-fc-security-token"
	HeaderFunctionName    = "x-fc-function-name"
	HeaderFunctionHandler = "x-fc-function-handler"
	HeaderFunctionMemory  = "x-fc-function-memory"
	HeaderRegion          = "x-fc-region"
	HeaderAccountID       = "x-fc-account-id"
	HeaderRetryCount      = "x-fc-retry-count"
	HeaderQualifier       = "x-fc-qualifier"
)

// DefaultTimeout is the function timeout an Invocation gets when it sets
// neither Timeout nor Deadline. It is long enough for a slow -race build to
// answer and short enough that a hung test still ends.
const DefaultTimeout = time.Minute

// ErrClosed is returned by Invoke when the server closes before the function
// has answered.
var ErrClosed = errors.New("fcdouble: server closed")

// Credentials are the temporary STS credentials FC passes per invocation
// when the function has a role.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// Invocation is one event as the platform would deliver it. Empty optional
// fields are left out of the headers, as FC does for a function without a
// role, so tests can exercise that case too.
type Invocation struct {
	// RequestID is generated ("fcdouble-N") when empty.
	RequestID string
	// Event is the body the function's handler decodes.
	Event []byte
	// Deadline is sent as x-fc-function-deadline; zero means now+Timeout.
	Deadline time.Time
	// Timeout is sent as x-fc-function-timeout in whole seconds; zero
	// means DefaultTimeout.
	Timeout      time.Duration
	Credentials  Credentials
	FunctionName string
	Handler      string
	// MemoryMB is sent as x-fc-function-memory when positive.
	MemoryMB   int
	Region     string
	AccountID  string
	Qualifier  string
	RetryCount int
	// Header holds extra headers, applied last so they can also override
	// (or, set to "", blank) the ones above — e.g. to send a malformed
	// deadline and check what the SDK does with it.
	Header http.Header
}

// StackFrame is one frame of an error's stack trace, as the SDK reports a
// panic.
type StackFrame struct {
	Path  string `json:"path"`
	Line  int32  `json:"line"`
	Label string `json:"label"`
}

// ErrorPayload is the body the function posts to /error.
type ErrorPayload struct {
	ErrorMessage string       `json:"errorMessage"`
	ErrorType    string       `json:"errorType"`
	StackTrace   []StackFrame `json:"stackTrace,omitempty"`
}

// Result is how the function answered one invocation.
type Result struct {
	RequestID string
	// Body is the raw body the function posted, to /response or /error.
	Body []byte
	// ContentType is the Content-Type of that post.
	ContentType string
	// Err is the decoded /error body; nil when the function succeeded. A
	// body that is not JSON still yields a non-nil Err (type
	// "fcdouble.UndecodableError") so a failure is never mistaken for success.
	Err *ErrorPayload
}

// Server is the runtime API double. It is safe for concurrent use; several
// invocations may be outstanding at once, as the SDK serves each in its own
// goroutine.
type Server struct {
	ln   net.Listener
	http *http.Server

	queue chan *pending
	done  chan struct{}
	once  sync.Once
	seq   atomic.Int64

	mu       sync.Mutex
	inflight map[string]*pending
}

type pending struct {
	req    *http.Request // carries only the headers and body to send
	id     string
	result chan Result // buffered 1
	// abandoned is set when Invoke gave up; next skips such entries.
	abandoned atomic.Bool
}

// Start listens on a random port of 127.0.0.1 (never on other interfaces:
// the double hands out credentials) and serves until Close.
func Start() (*Server, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fcdouble: listen: %w", err)
	}
	s := &Server{
		ln:       ln,
		queue:    make(chan *pending, 64),
		done:     make(chan struct{}),
		inflight: make(map[string]*pending),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+basePath+"next", s.next)
	mux.HandleFunc("POST "+basePath+"{id}/response", s.post(false))
	mux.HandleFunc("POST "+basePath+"{id}/error", s.post(true))
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }() // returns ErrServerClosed on Close
	return s, nil
}

// Addr is host:port, the value for FC_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server. Pending Invoke calls return ErrClosed and blocked
// /next calls are answered 503. Stop the function process first: the SDK
// retries /next in a tight loop when the server is gone.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		_ = s.http.Close()
	})
}

// Invoke queues inv for the function and waits for its answer, for ctx to
// end, or for the server to close. The context only bounds the wait: as on
// FC, the function's own deadline comes from inv.Deadline/Timeout.
func (s *Server) Invoke(ctx context.Context, inv Invocation) (Result, error) {
	p, err := s.newPending(inv)
	if err != nil {
		return Result{}, err
	}
	s.mu.Lock()
	if _, dup := s.inflight[p.id]; dup {
		s.mu.Unlock()
		return Result{}, fmt.Errorf("fcdouble: request ID %q is already in flight", p.id)
	}
	s.inflight[p.id] = p
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.inflight, p.id)
		s.mu.Unlock()
	}()

	select {
	case s.queue <- p:
	case <-ctx.Done():
		return Result{}, fmt.Errorf("fcdouble: queue %s: %w", p.id, ctx.Err())
	case <-s.done:
		return Result{}, ErrClosed
	}
	select {
	case r := <-p.result:
		return r, nil
	case <-ctx.Done():
		p.abandoned.Store(true)
		return Result{}, fmt.Errorf("fcdouble: wait for %s: %w", p.id, ctx.Err())
	case <-s.done:
		p.abandoned.Store(true)
		return Result{}, ErrClosed
	}
}

func (s *Server) newPending(inv Invocation) (*pending, error) {
	id := inv.RequestID
	if id == "" {
		id = "fcdouble-" + strconv.FormatInt(s.seq.Add(1), 10)
	}
	if strings.ContainsAny(id, "/?#") {
		return nil, fmt.Errorf("fcdouble: request ID %q cannot be a URL path segment", id)
	}
	timeout := inv.Timeout
	deadline := inv.Deadline
	switch {
	case timeout == 0 && deadline.IsZero():
		timeout = DefaultTimeout
		deadline = time.Now().Add(timeout)
	case deadline.IsZero():
		deadline = time.Now().Add(timeout)
	case timeout == 0:
		timeout = time.Until(deadline).Round(time.Second)
	}

	h := http.Header{}
	h.Set(HeaderRequestID, id)
	h.Set(HeaderDeadline, strconv.FormatInt(deadline.UnixMilli(), 10))
	h.Set(HeaderTimeout, strconv.Itoa(int(timeout/time.Second)))
	set := func(k, v string) {
		if v != "" {
			h.Set(k, v)
		}
	}
	set(HeaderAccessKeyID, inv.Credentials.AccessKeyID)
	set(HeaderAccessKeySecret, inv.Credentials.AccessKeySecret)
	set(HeaderSecurityToken, inv.Credentials.SecurityToken)
	set(HeaderFunctionName, inv.FunctionName)
	set(HeaderFunctionHandler, inv.Handler)
	if inv.MemoryMB > 0 {
		h.Set(HeaderFunctionMemory, strconv.Itoa(inv.MemoryMB))
	}
	set(HeaderRegion, inv.Region)
	set(HeaderAccountID, inv.AccountID)
	set(HeaderQualifier, inv.Qualifier)
	if inv.RetryCount != 0 {
		h.Set(HeaderRetryCount, strconv.Itoa(inv.RetryCount))
	}
	for k, vs := range inv.Header {
		h.Del(k)
		for _, v := range vs {
			if v != "" {
				h.Add(k, v)
			}
		}
	}
	req := &http.Request{Header: h, Body: io.NopCloser(bytes.NewReader(inv.Event))}
	return &pending{req: req, id: id, result: make(chan Result, 1)}, nil
}

// next blocks until an invocation is queued, as the platform's /next does.
func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	for {
		select {
		case p := <-s.queue:
			if p.abandoned.Load() {
				continue
			}
			for k, vs := range p.req.Header {
				w.Header()[k] = vs
			}
			w.Header().Set("Content-Type", "application/octet-stream")
			w.WriteHeader(http.StatusOK)
			_, _ = io.Copy(w, p.req.Body)
			return
		case <-r.Context().Done():
			return
		case <-s.done:
			http.Error(w, "runtime API double closed", http.StatusServiceUnavailable)
			return
		}
	}
}

// post records the function's answer. An answer for an unknown request ID
// (never issued, already answered, or given up on) gets 404, which the SDK
// logs, so protocol slips show up in the function's output.
func (s *Server) post(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		p, ok := s.inflight[id]
		if ok {
			delete(s.inflight, id)
		}
		s.mu.Unlock()
		if !ok {
			http.Error(w, "unknown or already answered request "+id, http.StatusNotFound)
			return
		}
		res := Result{RequestID: id, Body: body, ContentType: r.Header.Get("Content-Type")}
		if isError {
			var e ErrorPayload
			if err := json.Unmarshal(body, &e); err != nil {
				e = ErrorPayload{ErrorMessage: string(body), ErrorType: "fcdouble.UndecodableError"}
			}
			res.Err = &e
		}
		p.result <- res
		w.WriteHeader(http.StatusOK)
	}
}
