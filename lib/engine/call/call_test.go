package call

import (
	"context"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

type counter struct{ calls int }

func (c *counter) Call(string) { c.calls++ }

// A rate limit shared by several calls in flight may throttle one call
// more often than a failure would be retried; it keeps waiting, while a
// failing call stops at MaxAttempts.
func TestThrottledCallsGetTheirOwnAttempts(t *testing.T) {
	policy := RetryPolicy{MaxAttempts: 3, ThrottledAttempts: 9, BaseDelay: time.Microsecond, MaxDelay: time.Microsecond}
	for _, tc := range []struct {
		code      string
		failures  int
		wantErr   bool
		wantCalls int
	}{
		{code: "Throttling", failures: 8, wantErr: false, wantCalls: 9},
		{code: "Throttling", failures: 9, wantErr: true, wantCalls: 9},
		{code: "ServiceUnavailable", failures: 8, wantErr: true, wantCalls: 3},
	} {
		n := &counter{}
		c := NewCaller(policy, 0, time.Time{}, 1, n)
		left := tc.failures
		err := c.Do(context.Background(), "DescribeInstances", nil, func() error {
			if left > 0 {
				left--
				return &ecsapi.Error{Code: tc.code, HTTPStatus: 503, Class: ecsapi.ClassifyCode(tc.code, 503)}
			}
			return nil
		})
		if (err != nil) != tc.wantErr || n.calls != tc.wantCalls {
			t.Errorf("%s failing %d times: err %v after %d calls; want error %v after %d", tc.code, tc.failures, err, n.calls, tc.wantErr, tc.wantCalls)
		}
	}
}
