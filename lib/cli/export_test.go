package cli

import "time"

// SetInterruptWait shortens the wait for the calls in flight after Ctrl-C
// for a test, and restores it after.
func SetInterruptWait(d time.Duration) (restore func()) {
	old := interruptWait
	interruptWait = d
	return func() { interruptWait = old }
}
