package call

import (
	"context"
	"testing"
	"time"
)

func TestAdaptiveHalvesOncePerBurstAndGrowsBack(t *testing.T) {
	a := NewAdaptive(8, 1, 16)
	var burst []Ticket
	for range 8 {
		tk, err := a.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		burst = append(burst, tk)
	}
	for _, tk := range burst { // all eight throttled together: one cut
		a.Release(tk, true)
	}
	if a.Limit() != 4 || a.Cuts() != 1 {
		t.Fatalf("limit %d after %d cuts; want 4 after 1", a.Limit(), a.Cuts())
	}
	tk, _ := a.Acquire(t.Context())
	a.Release(tk, true)
	if a.Limit() != 2 {
		t.Fatalf("limit %d; a later throttle halves again to 2", a.Limit())
	}
	tk, _ = a.Acquire(t.Context())
	a.Release(tk, true)
	tk, _ = a.Acquire(t.Context())
	a.Release(tk, true)
	if a.Limit() != 1 {
		t.Fatalf("limit %d; never below the floor 1", a.Limit())
	}
	ok := func(n int) {
		for range n {
			tk, _ := a.Acquire(t.Context())
			a.Release(tk, false)
		}
	}
	ok(slowGrowth - 1) // at the last cut (1): slowGrowth×1 successes to grow
	if a.Limit() != 1 {
		t.Fatalf("limit %d grew before %d successes", a.Limit(), slowGrowth)
	}
	ok(1)
	if a.Limit() != 2 {
		t.Fatalf("limit %d, want 2", a.Limit())
	}
	b := NewAdaptive(8, 1, 16) // more than one below its last cut, a bound grows after limit successes
	tk, _ = b.Acquire(t.Context())
	b.Release(tk, true)
	bok := func(n int) {
		for range n {
			tk, _ := b.Acquire(t.Context())
			b.Release(tk, false)
		}
	}
	bok(3)
	if b.Limit() != 4 {
		t.Fatalf("limit %d grew before 4 successes", b.Limit())
	}
	bok(1 + 5 + 6)
	if b.Limit() != 7 {
		t.Fatalf("limit %d, want 7 after 4, 5 and 6 successes", b.Limit())
	}
	bok(7*slowGrowth - 1) // one below the cut at 8: slowly
	if b.Limit() != 7 {
		t.Fatalf("limit %d grew next to its last cut before %d successes", b.Limit(), 7*slowGrowth)
	}
	bok(1)
	if b.Limit() != 8 {
		t.Fatalf("limit %d, want 8", b.Limit())
	}
	ok(100000)
	if a.Limit() != 16 {
		t.Fatalf("limit %d, want the ceiling 16", a.Limit())
	}
}

func TestAdaptiveBoundsCallsInFlight(t *testing.T) {
	a := NewAdaptive(2, 1, 4)
	t1, _ := a.Acquire(t.Context())
	_, _ = a.Acquire(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.Acquire(ctx); err == nil {
		t.Fatal("a third call started at limit 2")
	}
	done := make(chan error)
	go func() { _, err := a.Acquire(t.Context()); done <- err }()
	a.Release(t1, false)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
