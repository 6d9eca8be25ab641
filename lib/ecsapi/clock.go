package ecsapi

import (
	"net/http"
	"sync"
	"time"
)

// serverClock keeps the API's clock: the Date of the latest answer that
// carried a usable one, and when (by this host's monotonic clock) it
// arrived. Marks are written and their age measured by it, so that a
// host whose wall clock is slow or fast never shortens a grace.
type serverClock struct {
	mu   sync.Mutex
	date time.Time // the answer's Date, UTC, to the second
	at   time.Time // when it arrived (monotonic reading)
}

// maxDateSkew bounds how far an answer's Date may lie from this host's
// clock and still be taken: beyond it the header is garbage, not a clock.
const maxDateSkew = 366 * 24 * time.Hour

// take reads an answer's Date header (HTTP-date); a missing or
// unparsable one, or one absurdly far from this host's clock, leaves the
// clock as it was.
func (c *serverClock) take(header string) {
	if header == "" {
		return
	}
	d, err := http.ParseTime(header)
	now := time.Now()
	if err != nil || d.Sub(now) > maxDateSkew || now.Sub(d) > maxDateSkew {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// Answers arrive concurrently; the latest reading wins. A Date is
	// truncated to the second, so an older reading is not more precise.
	if c.at.IsZero() || !now.Before(c.at) {
		c.date, c.at = d.UTC(), now
	}
}

// ServerTime is the API's clock now: the latest Date plus the time since it
// arrived. known is false while no answer carried a usable Date.
func (c *Client) ServerTime() (t time.Time, known bool) {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	if c.clock.at.IsZero() {
		return time.Time{}, false
	}
	return c.clock.date.Add(time.Since(c.clock.at)), true
}
