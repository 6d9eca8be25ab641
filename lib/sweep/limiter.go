package sweep

import "sync"

// limiter bounds concurrent release batches in one region and adapts to
// throttling: the limit halves on a throttled call and grows by one after a
// run of successes, up to the configured maximum (AIMD).
type limiter struct {
	mu        sync.Mutex
	cond      *sync.Cond
	max       int
	limit     int
	inflight  int
	successes int
}

func newLimiter(maxConcurrent int) *limiter {
	if maxConcurrent < 1 {
		maxConcurrent = 1
	}
	l := &limiter{max: maxConcurrent, limit: maxConcurrent}
	l.cond = sync.NewCond(&l.mu)
	return l
}

func (l *limiter) acquire() {
	l.mu.Lock()
	for l.inflight >= l.limit {
		l.cond.Wait()
	}
	l.inflight++
	l.mu.Unlock()
}

func (l *limiter) release() {
	l.mu.Lock()
	l.inflight--
	l.cond.Broadcast()
	l.mu.Unlock()
}

// throttled shrinks the limit after a throttled call.
func (l *limiter) throttled() {
	l.mu.Lock()
	l.limit = max(1, l.limit/2)
	l.successes = 0
	l.mu.Unlock()
}

// succeeded grows the limit back after enough successes at the current one.
func (l *limiter) succeeded() {
	l.mu.Lock()
	l.successes++
	if l.successes >= l.limit && l.limit < l.max {
		l.limit++
		l.successes = 0
		l.cond.Broadcast()
	}
	l.mu.Unlock()
}
