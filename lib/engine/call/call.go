// Package call runs one scope's API calls under the run's policy: no call
// starts with less than the deadline margin left, retryable and throttled
// failures are retried with capped exponential backoff and full jitter
// (the caller's closure keeps its inputs, and so its ClientToken), every
// attempt is counted, throttling shrinks the scope's write concurrency,
// and a credential failure stops the scope. Discovery, the executor and
// region resolution all call through it: there is one retry loop.
package call

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// ErrDeadline is what a call that was not started for lack of time
// returns. It wraps context.DeadlineExceeded, so it classifies as canceled.
var ErrDeadline = fmt.Errorf("less than the deadline margin left before the invocation deadline: %w", context.DeadlineExceeded)

// ErrInterrupted is what a call not started because the operator
// interrupted the run returns.
var ErrInterrupted = fmt.Errorf("not started: the run was interrupted: %w", context.Canceled)

type interruptKey struct{}

// WithInterrupt marks ctx so that no call starts once stop is closed,
// while the calls in flight go on under ctx (which bounds them): an
// interrupted run ends its writes cleanly instead of cutting them.
func WithInterrupt(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, interruptKey{}, stop)
}

// Interrupted reports whether the run of ctx was interrupted.
func Interrupted(ctx context.Context) bool {
	stop, _ := ctx.Value(interruptKey{}).(<-chan struct{})
	if stop == nil {
		return false
	}
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

func interruptOf(ctx context.Context) <-chan struct{} {
	stop, _ := ctx.Value(interruptKey{}).(<-chan struct{})
	return stop // nil blocks for ever in a select: never interrupted
}

// RetryPolicy is capped exponential backoff with full jitter for retryable
// and throttled calls.
type RetryPolicy struct {
	MaxAttempts int // total attempts per call, at least 1
	// ThrottledAttempts bounds the attempts of a call that is being
	// throttled: waiting is the answer to a rate limit, and several calls
	// in flight share it, so it gets more than a failing call (the deadline
	// margin still bounds both). Zero means MaxAttempts.
	ThrottledAttempts int
	BaseDelay         time.Duration // first backoff ceiling
	MaxDelay          time.Duration // backoff cap
}

// DefaultRetryPolicy suits the ECS API's per-account throttling.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, ThrottledAttempts: 12, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}
}

// attempts is how many attempts a call whose last answer was of class may
// have.
func (p RetryPolicy) attempts(class ecsapi.Class) int {
	if class == ecsapi.ClassThrottled && p.ThrottledAttempts > p.MaxAttempts {
		return p.ThrottledAttempts
	}
	return p.MaxAttempts
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

// Counter counts calls by action (a scope's recorder, or the run's).
type Counter interface{ Call(action string) }

// Caller makes one scope's calls. It is safe for concurrent use.
type Caller struct {
	retry    RetryPolicy
	margin   time.Duration
	deadline time.Time // the invocation's own deadline; zero means none
	count    Counter
	// Limit bounds the scope's concurrent write batches.
	Limit *Limiter

	mu      sync.Mutex
	stopped *verdict.Failure
}

// NewCaller returns the caller of one scope. deadline is the invocation's
// (zero for none); the margin is counted from it.
func NewCaller(retry RetryPolicy, margin time.Duration, deadline time.Time, batchConcurrency int, count Counter) *Caller {
	if retry.MaxAttempts < 1 {
		retry = DefaultRetryPolicy()
	}
	return &Caller{retry: retry, margin: margin, deadline: deadline, count: count, Limit: NewLimiter(batchConcurrency)}
}

// TimeLeft reports whether a new call may start: at least the margin is
// left before the invocation deadline.
func (c *Caller) TimeLeft(ctx context.Context) bool {
	if ctx.Err() != nil || Interrupted(ctx) {
		return false
	}
	return c.deadline.IsZero() || time.Until(c.deadline) >= c.margin
}

// Stop ends the scope's writes after a credential or permission error:
// every further call would fail the same way. The first failure is kept.
func (c *Caller) Stop(f *verdict.Failure) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped == nil {
		c.stopped = f
	}
}

// Stopped returns the failure that stopped the scope, or nil.
func (c *Caller) Stopped() *verdict.Failure {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopped
}

// Do runs call until it succeeds, fails for a reason retrying cannot fix,
// runs out of attempts, or would wait past the context deadline.
//
// before, when not nil, runs ahead of every attempt (the freshness check);
// its error ends the retries. No attempt starts with less than the
// deadline margin left: then Do returns the last attempt's error, or
// ErrDeadline when nothing was sent.
func (c *Caller) Do(ctx context.Context, action string, before func(attempt int) error, call func() error) error {
	var last error
	noTime := func() error {
		switch {
		case last != nil:
			return last
		case Interrupted(ctx):
			return ErrInterrupted
		}
		return ErrDeadline
	}
	for attempt := 1; ; attempt++ {
		if !c.TimeLeft(ctx) {
			return noTime()
		}
		if before != nil {
			if err := before(attempt); err != nil {
				return err
			}
			if !c.TimeLeft(ctx) { // the check took the time left
				return noTime()
			}
		}
		c.count.Call(action)
		err := call()
		if err == nil {
			return nil
		}
		last = err
		class := ecsapi.Classify(err)
		if class == ecsapi.ClassThrottled {
			c.Limit.Throttled()
		}
		if class != ecsapi.ClassRetryable && class != ecsapi.ClassThrottled {
			return err
		}
		if attempt >= c.retry.attempts(class) {
			return err
		}
		wait := c.retry.delay(attempt)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return err
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return err
		case <-interruptOf(ctx):
			timer.Stop()
			return err
		case <-timer.C:
		}
	}
}

// Failure renders a failed call for the report: its API code and message,
// or reason "deadline" for a call never started for lack of time.
func Failure(err error) *verdict.Failure {
	if errors.Is(err, ErrInterrupted) {
		return &verdict.Failure{Code: string(verdict.Interrupted), Message: ErrInterrupted.Error()}
	}
	if errors.Is(err, ErrDeadline) {
		return &verdict.Failure{Code: string(report.ReasonDeadline), Message: "not started: " + ErrDeadline.Error()}
	}
	var apiErr *ecsapi.Error
	if errors.As(err, &apiErr) {
		return &verdict.Failure{Code: apiErr.Code, Message: apiErr.Error(), RequestID: apiErr.RequestID}
	}
	code := ecsapi.Code(err)
	if code == "" {
		code = "Internal"
	}
	return &verdict.Failure{Code: code, Message: err.Error()}
}

// Work bounds every call of a run: in-flight calls end a reserve before
// the invocation deadline (half the margin, at most 5 s, at least
// ReserveFloor), so that a call hanging past the deadline still leaves time
// to log and return the report.
func Work(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	reserve := max(min(margin/2, 5*time.Second), ReserveFloor)
	return context.WithDeadline(ctx, deadline.Add(-reserve))
}

// ReserveFloor is the least time kept after the last call for logging and
// returning the report.
const ReserveFloor = 250 * time.Millisecond
