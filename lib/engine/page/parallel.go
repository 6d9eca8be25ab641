package page

import (
	"context"
	"fmt"
	"sync"
)

// NumberFetch reads page n (1-based) of a PageNumber listing.
type NumberFetch func(ctx context.Context, n int) (Page, error)

// Parallel reads a PageNumber listing whose first page was read: pages 2
// to the last its answers' TotalCount needs, up to workers at once (fetch
// may bound its calls more tightly). A later answer announcing a larger total extends the listing;
// the page bound stays derived from the first page's total.
//
// Every page is checked against its own answer: one that holds fewer
// entries than its TotalCount puts on it (an empty one included) is
// short, and a full one whose entries were all listed before is stuck
// (an API that ignores the page number). Either stops the listing. The
// pages are read at different moments, so a resource created or deleted
// meanwhile shifts the others: one can be
// listed twice (fetch counts it once, Fresh) or move out of every page
// read (it is missed; the caller acts only on what was listed).
func (l Listing) Parallel(ctx context.Context, workers int, first Page, fetch NumberFetch) error {
	size := max(l.PageSize, 1)
	r := &parallel{l: l, size: size, last: 1, bound: numberFactor*ceilDiv(first.Total, size) + numberSlack}
	if err := r.check(1, first); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for n := 2; ; n++ {
		r.mu.Lock()
		for r.err == nil && n > r.last && r.running > 0 {
			r.cond().Wait() // an answer in flight may extend the listing
		}
		stop := r.err != nil || n > r.last
		r.mu.Unlock()
		if stop {
			break
		}
		r.mu.Lock()
		for r.err == nil && r.running >= max(workers, 1) {
			r.cond().Wait()
		}
		stop = r.err != nil
		if !stop {
			r.running++
		}
		r.mu.Unlock()
		if stop {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := fetch(ctx, n)
			r.mu.Lock()
			defer r.mu.Unlock()
			defer r.cond().Broadcast()
			r.running--
			if err == nil {
				err = r.check(n, p)
			}
			if err != nil && r.err == nil {
				r.err = err
				cancel()
			}
		}()
	}
	wg.Wait()
	return r.err
}

// parallel is the state of one Parallel listing, under mu.
type parallel struct {
	l       Listing
	size    int
	mu      sync.Mutex
	c       *sync.Cond
	last    int // the last page the answers' totals need
	bound   int // the most pages the first total allows
	read    int
	running int
	err     error
}

func (r *parallel) cond() *sync.Cond {
	if r.c == nil {
		r.c = sync.NewCond(&r.mu)
	}
	return r.c
}

// check applies the guards to page n's answer; callers hold mu (or run
// before any page is in flight).
func (r *parallel) check(n int, p Page) error {
	r.read++
	l := r.l
	if err := overfull(l, n, p); err != nil {
		return err
	}
	expected := min(max(p.Total-(n-1)*r.size, 0), r.size)
	switch {
	case p.Items < expected:
		return &Error{l.Name, Short, fmt.Sprintf("ended early: page %d holds %d entries where its TotalCount %d puts %d", n, p.Items, p.Total, expected)}
	case p.Items == r.size && p.Fresh == 0:
		// Only a full page: a create between two reads shifts a few
		// entries read before onto a later page, and the page past the
		// first total may hold nothing else.
		return &Error{l.Name, NothingNew, fmt.Sprintf("did not advance: page %d listed %d entries, none new", n, p.Items)}
	}
	r.last = max(r.last, ceilDiv(p.Total, r.size))
	switch {
	case r.last > r.bound:
		return &Error{l.Name, Bound, fmt.Sprintf("runs past the pages its first total needs: a later total of %d needs %d pages of %d, more than %d", p.Total, r.last, r.size, r.bound)}
	case r.last > MaxPages:
		return &Error{l.Name, Ceiling, fmt.Sprintf("runs past %d pages", MaxPages)}
	}
	return nil
}
