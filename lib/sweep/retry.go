package sweep

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// RetryPolicy is capped exponential backoff with full jitter for retryable
// and throttled calls.
type RetryPolicy struct {
	MaxAttempts int           // total attempts per call, at least 1
	BaseDelay   time.Duration // first backoff ceiling
	MaxDelay    time.Duration // backoff cap
}

// DefaultRetryPolicy suits the ECS API's per-account throttling.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}
}

func (p RetryPolicy) delay(attempt int) time.Duration {
	ceiling := p.BaseDelay << min(attempt-1, 20)
	if ceiling <= 0 || ceiling > p.MaxDelay {
		ceiling = p.MaxDelay
	}
	if ceiling <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceiling)) + 1)
}

// retry runs call until it succeeds, fails for a reason retrying cannot
// fix, runs out of attempts, or would wait past the context deadline. The
// caller's call closure reuses its request inputs (and so its ClientToken).
//
// before, when not nil, runs ahead of every attempt (the freshness check);
// its error ends the retries. No attempt starts with less than the
// deadline margin left: then retry returns the last attempt's error, or
// errDeadline when nothing was sent.
func (rr *regionRun) retry(ctx context.Context, action string, before func(attempt int) error, call func() error) error {
	policy := rr.s.opts.Retry
	var last error
	for attempt := 1; ; attempt++ {
		if !rr.timeLeft(ctx) {
			if last != nil {
				return last
			}
			return errDeadline
		}
		if before != nil {
			if err := before(attempt); err != nil {
				return err
			}
			if !rr.timeLeft(ctx) { // the re-read took the time left
				if last != nil {
					return last
				}
				return errDeadline
			}
		}
		rr.countCall(action)
		err := call()
		if err == nil {
			return nil
		}
		last = err
		class := ecsapi.Classify(err)
		if class == ecsapi.ClassThrottled {
			rr.limit.throttled()
			rr.throttled.Add(1)
		}
		if class != ecsapi.ClassRetryable && class != ecsapi.ClassThrottled {
			return err
		}
		if attempt >= policy.MaxAttempts {
			return err
		}
		wait := policy.delay(attempt)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}
