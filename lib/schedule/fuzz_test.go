package schedule

import (
	"testing"
	"time"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 0 4 * * *", "@every 5m", "CRON_TZ=Asia/Shanghai 0 0 4 1 * *", "CRON_TZ=UTC", "TZ=UTC", "0 4 * * *", "*/0 * * * * *", "0 0 0 31 4 *", "@hourly", ""} {
		f.Add(s)
	}
	after := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr)
		if (s == nil) == (err == nil) {
			t.Fatalf("Parse(%q) = %v, %v: want exactly one of schedule and error", expr, s, err)
		}
		if err != nil {
			return
		}
		next, err := Next(expr, after)
		if err == nil && !next.After(after) {
			t.Fatalf("Next(%q) = %v, not after %v", expr, next, after)
		}
	})
}
