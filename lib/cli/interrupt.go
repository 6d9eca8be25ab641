package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
)

// interruptWait bounds how long an interrupted run waits for the calls in
// flight: they are let finish, so that the report can say what they did,
// but not for ever.
var interruptWait = 10 * time.Second

// interruptible returns the context a sweep runs under: when ctx ends
// (Ctrl-C), no call starts any more, the calls in flight go on for at
// most interruptWait, and a line on w says so. stop releases it.
func interruptible(ctx context.Context, w io.Writer) (run context.Context, stop func()) {
	hard, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			fmt.Fprintf(w, "\ninterrupted: no call starts any more; waiting up to %v for the calls in flight (Ctrl-C again to quit at once)\n", interruptWait)
			select {
			case <-time.After(interruptWait):
				cancel()
			case <-done:
			}
		case <-done:
		}
	}()
	return call.WithInterrupt(hard, ctx.Done()), func() { close(done); cancel() }
}

// readLine reads one line from r, or returns ok false when ctx ends
// first (Ctrl-C at a prompt) or r ends without one.
func readLine(ctx context.Context, r io.Reader) (line string, ok bool) {
	got := make(chan string, 1)
	go func() {
		var b []byte
		one := make([]byte, 1)
		for {
			n, err := r.Read(one)
			if n == 1 {
				if one[0] == '\n' {
					got <- string(b)
					return
				}
				b = append(b, one[0])
			}
			if err != nil {
				if len(b) > 0 {
					got <- string(b)
				}
				close(got)
				return
			}
		}
	}()
	select {
	case <-ctx.Done():
		return "", false
	case l, open := <-got:
		return l, open
	}
}
