package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		expr    string
		wantErr string
	}{
		{name: "daily at 04:00 UTC", expr: "0 0 4 * * *"},
		{name: "every hour", expr: "0 0 */1 * * *"},
		{name: "question mark", expr: "0 30 2 ? * MON-FRI"},
		{name: "every 5m", expr: "@every 5m"},
		{name: "every 1s", expr: "@every 1s"},
		{name: "every 1h30m", expr: "@every 1h30m"},
		{name: "hourly", expr: "@hourly"},
		{name: "daily in zone", expr: "CRON_TZ=Asia/Shanghai @daily"},
		{name: "shanghai prefix", expr: "CRON_TZ=Asia/Shanghai 0 0 4 1 * *"},
		{name: "surrounding and inner spaces", expr: "  0  0 4 * * *  "},
		{name: "tab after prefix", expr: "CRON_TZ=UTC\t0 0 4 * * *"},
		{name: "prefix alone panics robfig", expr: "CRON_TZ=UTC", wantErr: "must be followed by a schedule"},
		{name: "prefix alone with space", expr: "CRON_TZ=UTC ", wantErr: "must be followed by a schedule"},
		{name: "empty zone", expr: "CRON_TZ= 0 0 4 * * *", wantErr: "names no time zone"},
		{name: "local zone", expr: "CRON_TZ=Local 0 0 4 * * *", wantErr: "Local"},
		{name: "unknown zone", expr: "CRON_TZ=Mars/Olympus 0 0 4 * * *", wantErr: "unknown time zone"},
		{name: "TZ prefix", expr: "TZ=UTC 0 0 4 * * *", wantErr: "CRON_TZ="},
		{name: "two prefixes", expr: "CRON_TZ=Asia/Shanghai CRON_TZ=UTC 0 0 4 * * *", wantErr: "more than one"},
		{name: "five fields", expr: "0 4 * * *", wantErr: "FC needs 6"},
		{name: "seven fields", expr: "0 0 4 * * * 2026", wantErr: "7 fields"},
		{name: "empty", expr: "", wantErr: "empty"},
		{name: "blank", expr: "   ", wantErr: "empty"},
		{name: "garbage", expr: "every day at four", wantErr: "4 fields"},
		{name: "garbage six fields", expr: "a b c d e f", wantErr: "cron expression"},
		{name: "out of range", expr: "0 0 25 * * *", wantErr: "above maximum"},
		{name: "L not supported", expr: "0 0 4 L * *", wantErr: "cron expression"},
		{name: "never fires", expr: "0 0 0 31 4 *", wantErr: "never fires"},
		{name: "every below a second", expr: "@every 500ms", wantErr: "at least 1s"},
		{name: "every fractional", expr: "@every 1500ms", wantErr: "whole number of seconds"},
		{name: "every zero", expr: "@every 0s", wantErr: "at least 1s"},
		{name: "every negative", expr: "@every -5m", wantErr: "at least 1s"},
		{name: "every without interval", expr: "@every", wantErr: "@every <duration>"},
		{name: "every extra words", expr: "@every 5m now", wantErr: "@every <duration>"},
		{name: "every bad duration", expr: "@every 5 minutes", wantErr: "@every <duration>"},
		{name: "everyday", expr: "@everyday", wantErr: "@every <duration>"},
		{name: "unknown descriptor", expr: "@fortnightly", wantErr: "unknown descriptor"},
		{name: "reboot", expr: "@reboot", wantErr: "unknown descriptor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.expr)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.expr, err, tt.wantErr)
				}
				if s != nil {
					t.Errorf("Parse(%q) returned a schedule with an error", tt.expr)
				}
				return
			}
			if err != nil || s == nil {
				t.Fatalf("Parse(%q) = %v, %v", tt.expr, s, err)
			}
		})
	}
}

func TestNext(t *testing.T) {
	after := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		expr string
		want time.Time
	}{
		{name: "daily 04:00 UTC", expr: "0 0 4 * * *", want: time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)},
		{name: "every 5m", expr: "@every 5m", want: after.Add(5 * time.Minute)},
		{name: "hourly", expr: "@hourly", want: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC)},
		{name: "shanghai first of month 04:00", expr: "CRON_TZ=Asia/Shanghai 0 0 4 1 * *", want: time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC)},
		{name: "seconds field", expr: "30 * * * * *", want: after.Add(30 * time.Second)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Next(tt.expr, after)
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("Next(%q, %v) = %v, %v; want %v", tt.expr, after, got, err, tt.want)
			}
		})
	}
	t.Run("error passes through", func(t *testing.T) {
		if _, err := Next("0 4 * * *", after); err == nil {
			t.Fatal("want an error for five fields")
		}
	})
}

// TestNoPrefixIsUTC changes time.Local, so it must not run in parallel.
func TestNoPrefixIsUTC(t *testing.T) {
	saved := time.Local
	t.Cleanup(func() { time.Local = saved })
	for _, zone := range []string{"Asia/Shanghai", "America/Los_Angeles", "Pacific/Kiritimati"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			time.Local = loc
			after := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
			got, err := Next("0 0 4 * * *", after)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
				t.Fatalf("with time.Local=%s, Next = %v, want %v (UTC)", zone, got, want)
			}
		})
	}
}
