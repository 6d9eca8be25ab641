package call

import (
	"context"
	"sync"
)

// Adaptive bounds how many calls of one kind run at once in a scope and
// adapts the bound to the API's throttling (AIMD): it halves on a
// throttled answer and grows by one after a run of successes. ECS
// throttles per API, per account and per region, at a rate this product
// cannot read; the bound finds it from the answers.
//
// One burst of throttled answers halves the bound once: an answer counts
// only if its call started after the latest cut. Up to one below the
// level where the latest cut happened the bound grows after Limit()
// successes; from there, only after slowGrowth times as many, so that a
// bound that has found the API's rate probes it again rarely (a probe
// costs a throttled call or two; slowGrowth keeps that near 5 %).
type Adaptive struct {
	mu        sync.Mutex
	cond      *sync.Cond
	min, max  int
	limit     int
	inflight  int
	successes int
	epoch     int // cuts so far
	cutAt     int // the bound when it was last cut; 0 before any cut
}

// slowGrowth is how many times more successes a bound next to or above
// its last cut needs before it grows.
const slowGrowth = 16

// Ticket is one call's slot: it remembers the bound's epoch at the start.
type Ticket struct{ epoch int }

// NewAdaptive starts at start calls at once, within [lo, hi] (lo at
// least 1).
func NewAdaptive(start, lo, hi int) *Adaptive {
	lo = max(lo, 1)
	hi = max(hi, lo)
	a := &Adaptive{min: lo, max: hi, limit: min(max(start, lo), hi)}
	a.cond = sync.NewCond(&a.mu)
	return a
}

// Acquire waits for a slot, or returns ctx's error when it ends first.
func (a *Adaptive) Acquire(ctx context.Context) (Ticket, error) {
	stop := context.AfterFunc(ctx, func() {
		a.mu.Lock()
		a.cond.Broadcast()
		a.mu.Unlock()
	})
	defer stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.inflight >= a.limit {
		if err := ctx.Err(); err != nil {
			return Ticket{}, err
		}
		a.cond.Wait()
	}
	if err := ctx.Err(); err != nil {
		return Ticket{}, err
	}
	a.inflight++
	return Ticket{epoch: a.epoch}, nil
}

// Release frees t's slot; throttled says whether any of its attempts was
// throttled.
func (a *Adaptive) Release(t Ticket, throttled bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inflight--
	switch {
	case throttled && t.epoch == a.epoch:
		a.cutAt = a.limit
		a.limit = max(a.min, a.limit/2)
		a.successes = 0
		a.epoch++
	case throttled:
		// Started before the latest cut: already accounted for.
	default:
		a.successes++
		need := a.limit
		if a.cutAt > 0 && a.limit+1 >= a.cutAt {
			need *= slowGrowth
		}
		if a.successes >= need && a.limit < a.max {
			a.limit++
			a.successes = 0
		}
	}
	a.cond.Broadcast()
}

// Limit is the current bound.
func (a *Adaptive) Limit() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.limit
}

// Cuts is how many times the bound was halved.
func (a *Adaptive) Cuts() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.epoch
}
