package call

import "sync"

// Limiter bounds concurrent write batches in one scope and adapts to
// throttling: the limit starts where the scope's listing ended (Start),
// halves once per burst of throttled calls (the burst ends with the next
// success) and grows by one after a run of successes, up to the
// configured maximum (AIMD). As the listing's Adaptive, it grows slowly
// (slowGrowth times the successes) from one below the level it was last
// cut at, so that a limit that found the API's rate probes it rarely.
type Limiter struct {
	mu        sync.Mutex
	cond      *sync.Cond
	max       int
	limit     int
	inflight  int
	successes int
	burst     bool // a throttled call cut the limit, and no call succeeded since
	cutAt     int  // the limit when it was last cut; 0 before any cut
}

// NewLimiter allows maxConcurrent batches at once (at least 1).
func NewLimiter(maxConcurrent int) *Limiter {
	if maxConcurrent < 1 {
		maxConcurrent = 1
	}
	l := &Limiter{max: maxConcurrent, limit: maxConcurrent}
	l.cond = sync.NewCond(&l.mu)
	return l
}

// Acquire waits for a slot.
func (l *Limiter) Acquire() {
	l.mu.Lock()
	for l.inflight >= l.limit {
		l.cond.Wait()
	}
	l.inflight++
	l.mu.Unlock()
}

// Release frees a slot.
func (l *Limiter) Release() {
	l.mu.Lock()
	l.inflight--
	l.cond.Broadcast()
	l.mu.Unlock()
}

// Start sets the limit to n within [1, the maximum]: the writes start
// near the rate the API allowed the scope's listing.
func (l *Limiter) Start(n int) {
	l.mu.Lock()
	l.limit = min(max(n, 1), l.max)
	l.successes, l.burst, l.cutAt = 0, false, 0
	l.cond.Broadcast()
	l.mu.Unlock()
}

// Limit is the current limit.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// Throttled shrinks the limit after a throttled call: once per burst.
func (l *Limiter) Throttled() {
	l.mu.Lock()
	if !l.burst {
		l.burst = true
		l.cutAt = l.limit
		l.limit = max(1, l.limit/2)
		l.successes = 0
	}
	l.mu.Unlock()
}

// Succeeded ends a burst of throttling and grows the limit back after
// enough successes at the current one.
func (l *Limiter) Succeeded() {
	l.mu.Lock()
	l.burst = false
	l.successes++
	need := l.limit
	if l.cutAt > 0 && l.limit+1 >= l.cutAt {
		need *= slowGrowth
	}
	if l.successes >= need && l.limit < l.max {
		l.limit++
		l.successes = 0
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}
