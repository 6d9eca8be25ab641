package pause_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/pause"
)

func TestFor(t *testing.T) {
	start := time.Now()
	if err := pause.For(context.Background(), 20*time.Millisecond); err != nil || time.Since(start) < 20*time.Millisecond {
		t.Fatalf("For(20ms) = %v after %v", err, time.Since(start))
	}
	if err := pause.For(context.Background(), 0); err != nil {
		t.Fatalf("For(0) = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start = time.Now()
	if err := pause.For(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("For(an hour) on an ended context = %v after %v", err, time.Since(start))
	}
	if err := pause.For(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("For(0) on an ended context = %v", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := pause.For(ctx, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("For(an hour) past the deadline = %v", err)
	}
}
