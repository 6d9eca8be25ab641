package ecsdouble

import (
	"time"
)

// FaultKind says how a faulted request is answered.
type FaultKind int

// Fault kinds. FaultNone with a Delay is a slow but otherwise normal answer.
const (
	FaultNone      FaultKind = iota // answer normally (after Delay)
	FaultError                      // JSON error body with Status and Code
	FaultHTML                       // HTTP 502 with an HTML body, as a gateway would send
	FaultTruncated                  // HTTP 200 with a JSON body cut in half
	FaultReset                      // hijack the connection and reset it (TCP RST)
	// The paging faults answer a listing normally, then damage its paging.
	FaultCycleToken // hand back the NextToken the request was read at
	FaultEmptyPage  // list nothing, keeping NextToken and TotalCount
	FaultRepeatPage // a PageNumber listing: serve the previous page again
)

// Fault is how the double misbehaves for one request. Build one with the
// helpers (Throttle, Unavailable, Internal, HTML502, Truncated, Reset, Slow,
// Error) and adjust fields as needed.
type Fault struct {
	Kind    FaultKind
	Delay   time.Duration // wait this long (or until the client gives up) first
	Status  int           // FaultError: HTTP status
	Code    string        // FaultError: error code
	Message string        // FaultError: message; a default is used when empty
	// Applied runs the action for real before damaging the answer: with
	// FaultTruncated, FaultReset or FaultHTML it simulates "the release
	// happened but the response was lost". Ignored for FaultError.
	Applied bool
}

// Throttle answers HTTP 400 Throttling.User, which the SDK never retries.
func Throttle() *Fault {
	return &Fault{Kind: FaultError, Status: 400, Code: "Throttling.User",
		Message: "Request was denied due to user flow control."}
}

// Unavailable answers HTTP 503 ServiceUnavailable.
func Unavailable() *Fault {
	return &Fault{Kind: FaultError, Status: 503, Code: "ServiceUnavailable",
		Message: "The request has failed due to a temporary failure of the server."}
}

// Internal answers HTTP 500 InternalError.
func Internal() *Fault {
	return &Fault{Kind: FaultError, Status: 500, Code: "InternalError",
		Message: "The request processing has failed due to some unknown error."}
}

// Error answers with any status and error code.
func Error(status int, code string) *Fault {
	return &Fault{Kind: FaultError, Status: status, Code: code}
}

// HTML502 answers HTTP 502 with an HTML page instead of JSON.
func HTML502() *Fault { return &Fault{Kind: FaultHTML} }

// Truncated answers HTTP 200 with half a JSON body.
func Truncated() *Fault { return &Fault{Kind: FaultTruncated} }

// Reset closes the connection with a TCP reset and no response.
func Reset() *Fault { return &Fault{Kind: FaultReset} }

// Slow answers normally after d (or stops when the client cancels).
func Slow(d time.Duration) *Fault { return &Fault{Delay: d} }

// CycleToken answers a NextToken listing with the token it was read at:
// a listing that would read the same page forever.
func CycleToken() *Fault { return &Fault{Kind: FaultCycleToken} }

// EmptyPage answers a listing with no entries but its NextToken (or its
// TotalCount): a page that lists nothing new.
func EmptyPage() *Fault { return &Fault{Kind: FaultEmptyPage} }

// RepeatPage answers page n of a PageNumber listing with page n-1.
func RepeatPage() *Fault { return &Fault{Kind: FaultRepeatPage} }

// AfterApplying returns a copy of f with Applied set: the action takes effect
// and only the answer is damaged.
func (f *Fault) AfterApplying() *Fault {
	c := *f
	c.Applied = true
	return &c
}

// Rule injects a fault into matching requests. Zero fields match anything.
// Calls that match Action and Region are counted per rule (1-based); Nth
// restricts the rule to that one call, Times caps how often it fires, and
// Probability (0 < p < 1) fires it at random with the server's seeded rand.
type Rule struct {
	Action      string  // "" = every action
	Region      string  // "" = every region
	Nth         int     // > 0: only the Nth matching call
	Times       int     // > 0: fire at most this many times
	Probability float64 // 0 or >= 1: always
	Fault       *Fault
}

type ruleState struct {
	Rule
	seen, fired int
}

// RuleHandle identifies an injected rule so a test can inspect or remove it.
type RuleHandle struct {
	s  *Server
	rs *ruleState
}

// Fired reports how many times the rule has fired.
func (h RuleHandle) Fired() int {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.rs.fired
}

// Remove stops the rule.
func (h RuleHandle) Remove() {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	for i, rs := range h.s.rules {
		if rs == h.rs {
			h.s.rules = append(h.s.rules[:i:i], h.s.rules[i+1:]...)
			return
		}
	}
}

// Inject adds a fault rule; rules are checked in the order added and the
// first that fires wins.
func (s *Server) Inject(r Rule) RuleHandle {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := &ruleState{Rule: r}
	s.rules = append(s.rules, rs)
	return RuleHandle{s: s, rs: rs}
}

// FailNext makes the next n calls of action answer with f.
func (s *Server) FailNext(action string, n int, f *Fault) RuleHandle {
	return s.Inject(Rule{Action: action, Times: n, Fault: f})
}

// OnRequest sets a hook asked before the rules for every authenticated
// request; returning a non-nil Fault applies it. nil removes the hook. The
// hook gets a copy of the Call (no Status yet) and runs outside the lock.
func (s *Server) OnRequest(f func(c *Call) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onRequest = f
}

// BeforeDelete sets a hook run just before a DeleteInstances call is checked
// and applied (after parameter validation), outside the server lock, so it
// may call Mutate or Remove to change or remove instances between listing
// and release. nil removes the hook.
func (s *Server) BeforeDelete(f func(region string, ids []string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beforeDelete = f
}

// ClearFaults removes all rules, the OnRequest hook and the latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
	s.onRequest = nil
	s.latency.Store(0)
}

// SetLatency makes every answer leave d after its request arrived (0
// disables); a cancelled request stops waiting.
func (s *Server) SetLatency(d time.Duration) { s.latency.Store(int64(d)) }

// pickFault returns the fault for c, if any. The hook runs outside s.mu so
// it may call any Server method.
func (s *Server) pickFault(c *Call) *Fault {
	s.mu.Lock()
	hook := s.onRequest
	s.mu.Unlock()
	if hook != nil {
		cc := *c
		if f := hook(&cc); f != nil {
			return f
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rs := range s.rules {
		if rs.Action != "" && rs.Action != c.Action || rs.Region != "" && rs.Region != c.Region {
			continue
		}
		rs.seen++
		if rs.Nth > 0 && rs.seen != rs.Nth || rs.Times > 0 && rs.fired >= rs.Times {
			continue
		}
		if rs.Probability > 0 && rs.Probability < 1 && s.rand.Float64() >= rs.Probability {
			continue
		}
		rs.fired++
		return rs.Fault
	}
	return nil
}

// DenyDescribe makes the double answer like ECS does for a caller whose role
// lacks ecs:DescribeInstances: an empty list, and Forbidden.RAM only when
// the call is a dry run.
func (s *Server) DenyDescribe(denied bool) { s.describeDenied.Store(denied) }
