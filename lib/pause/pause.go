// Package pause waits for a while unless the context ends first: the one
// wait of the retries, the paced notices and the doubles' latencies.
package pause

import (
	"context"
	"time"
)

// For waits d, or until ctx ends, whichever is first, and returns ctx's
// error if it ended. A d of zero or less does not wait.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
