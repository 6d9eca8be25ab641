package ecsdouble

import (
	"sync"
	"time"
)

// ECS limits each API per account and region (Quota Center, API Rate
// Limits); beyond the limit it answers HTTP 400 Throttling, which the SDK
// does not retry. The double's limit is the same shape: at most perSecond
// answered calls of one action in one region in any second. A throttled
// call does not count against the limit.
const (
	throttleCode    = "Throttling"
	throttleMessage = "Request was denied due to request throttling."
)

// rateLimit is the per-action, per-region limit; perSecond 0 is none.
type rateLimit struct {
	mu        sync.Mutex
	perSecond int
	windows   map[string]*window // action + "\x00" + region
	throttled int
}

// window holds the times of the last perSecond admitted calls, oldest at
// next once full.
type window struct {
	times []time.Time
	next  int
}

// admit reports whether a call of action in region may be answered at now,
// and counts it if so.
func (l *rateLimit) admit(action, region string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.perSecond <= 0 {
		return true
	}
	key := action + "\x00" + region
	w := l.windows[key]
	if w == nil {
		w = &window{times: make([]time.Time, 0, l.perSecond)}
		l.windows[key] = w
	}
	if len(w.times) < l.perSecond {
		w.times = append(w.times, now)
		return true
	}
	if now.Sub(w.times[w.next]) < time.Second {
		l.throttled++
		return false
	}
	w.times[w.next] = now
	w.next = (w.next + 1) % len(w.times)
	return true
}

func (l *rateLimit) set(perSecond int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.perSecond = max(0, perSecond)
	l.windows = map[string]*window{}
}

// WithRateLimit answers at most perSecond calls of each action in each
// region in any second, and HTTP 400 Throttling to the others, as ECS's
// per-API quota does; see SetRateLimit.
func WithRateLimit(perSecond int) Option { return func(c *config) { c.rate = perSecond } }

// SetRateLimit changes the per-action, per-region limit (0 removes it) and
// forgets the calls counted so far.
func (s *Server) SetRateLimit(perSecond int) { s.rate.set(perSecond) }

// Throttled is the number of calls the rate limit refused.
func (s *Server) Throttled() int {
	s.rate.mu.Lock()
	defer s.rate.mu.Unlock()
	return s.rate.throttled
}
