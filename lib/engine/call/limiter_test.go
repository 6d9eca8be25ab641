package call

import (
	"testing"
	"testing/synctest"
)

func TestLimiterHalvesOnThrottlingAndGrowsBack(t *testing.T) {
	l := NewLimiter(8)
	for _, want := range []int{4, 2, 1, 1} {
		l.Throttled()
		if l.limit != want {
			t.Fatalf("after throttling, limit = %d, want %d", l.limit, want)
		}
	}
	// One success per slot at the current limit earns one more slot.
	var steps []int
	for l.limit < 8 {
		for range l.limit {
			l.Succeeded()
		}
		steps = append(steps, l.limit)
	}
	want := []int{2, 3, 4, 5, 6, 7, 8}
	if len(steps) != len(want) {
		t.Fatalf("recovery steps %v, want %v", steps, want)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Fatalf("recovery steps %v, want %v", steps, want)
		}
	}
	l.Succeeded()
	if l.limit != 8 {
		t.Errorf("limit grew past its maximum: %d", l.limit)
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
