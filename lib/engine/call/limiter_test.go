package call

import (
	"testing"
	"testing/synctest"
)

func TestLimiterHalvesOncePerBurstAndGrowsBack(t *testing.T) {
	l := NewLimiter(8)
	// A burst of throttled calls (no success between them) halves once.
	for range 5 {
		l.Throttled()
	}
	if l.limit != 4 {
		t.Fatalf("after a burst of throttled calls, limit = %d, want 4 (halved once)", l.limit)
	}
	// A success ends the burst; the next throttled call halves again.
	l.Succeeded()
	l.Throttled()
	if l.limit != 2 {
		t.Fatalf("after a second burst, limit = %d, want 2", l.limit)
	}
	// Below one under the last cut (4), one success per slot earns a slot;
	// from there slowGrowth times as many.
	grow := func() int {
		n := 0
		for start := l.limit; l.limit == start; n++ {
			l.Succeeded()
		}
		return n
	}
	if n := grow(); n != 2 || l.limit != 3 {
		t.Fatalf("grew to %d after %d successes, want 3 after 2", l.limit, n)
	}
	if n := grow(); n != 3*slowGrowth || l.limit != 4 {
		t.Fatalf("grew to %d after %d successes, want 4 after %d (one below the cut at 4: slowly)", l.limit, n, 3*slowGrowth)
	}
	for l.limit < 8 {
		grow()
	}
	l.Succeeded()
	if l.limit != 8 {
		t.Errorf("limit grew past its maximum: %d", l.limit)
	}
}

func TestLimiterStartsAtTheListingsBound(t *testing.T) {
	l := NewLimiter(16)
	l.Throttled()
	l.Start(5)
	if l.Limit() != 5 || l.burst || l.cutAt != 0 {
		t.Fatalf("after Start(5): limit %d, burst %t, cut at %d; want 5 and a fresh start", l.Limit(), l.burst, l.cutAt)
	}
	l.Start(40)
	if l.Limit() != 16 {
		t.Errorf("Start(40) under a maximum of 16: limit %d", l.Limit())
	}
}

func TestLimiterBlocksAtTheLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLimiter(2)
		l.Acquire()
		l.Acquire()
		acquired := make(chan struct{})
		go func() {
			l.Acquire()
			close(acquired)
		}()
		synctest.Wait() // the third acquire is now blocked, or has passed
		select {
		case <-acquired:
			t.Fatal("a third acquire passed a limit of 2")
		default:
		}
		l.Release()
		synctest.Wait()
		select {
		case <-acquired:
		default:
			t.Fatal("a release did not let the waiting acquire through")
		}
	})
}
