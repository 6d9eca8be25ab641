package decide

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ECS time layouts. The API documents seconds but its samples (and real
// responses) use minute precision, so both are accepted.
const (
	ecsLayoutMinutes = "2006-01-02T15:04Z07:00"
	ecsLayoutSeconds = "2006-01-02T15:04:05Z07:00"
	dateLayout       = "2006-01-02"
)

// ParseECSTime parses a time string as DescribeInstances returns it
// (ExpiredTime, CreationTime): "2006-01-02T15:04Z07:00" or
// "2006-01-02T15:04:05Z07:00" (fractional seconds allowed). An empty string is
// an error. The result is in UTC.
func ParseECSTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errors.New("empty time")
	}
	if t, err := time.Parse(ecsLayoutMinutes, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(ecsLayoutSeconds, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: want yyyy-MM-ddTHH:mmZ or yyyy-MM-ddTHH:mm:ssZ: %w", s, err)
	}
	return t.UTC(), nil
}

// ParseExpiry turns an opt-in tag value into the instant the instance
// expires. Surrounding white space is ignored. Accepted forms:
//
//   - an RFC 3339 timestamp with an offset, e.g. "2026-11-20T18:30:00+08:00"
//     (the ECS minute-precision form "2026-11-20T10:30Z" is accepted too);
//   - a date "YYYY-MM-DD", meaning the start of that day in loc (UTC when
//     loc is nil);
//   - a time to live counted from created: one or more <number><unit>
//     terms, e.g. "36h", "90m", "7d", "2w", "1w2d", "1d12h". Units are Go's
//     (ns, us, µs, ms, s, m, h; decimals allowed, e.g. "1.5h") plus d (24
//     hours) and w (7×24 hours), which take whole numbers only. Days are
//     fixed 24-hour spans, not calendar days. The total must be positive and
//     fit in a time.Duration (about 292 years); a sign is not accepted.
//
// A TTL needs a non-zero created time. The result is never the zero time
// when err is nil, and a TTL result is always after created.
func ParseExpiry(value string, created time.Time, loc *time.Location) (time.Time, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return time.Time{}, errors.New("empty expiry value")
	}
	if loc == nil {
		loc = time.UTC
	}
	var t time.Time
	switch {
	case looksLikeTimestamp(v):
		var err error
		t, err = time.Parse(time.RFC3339, v)
		if err != nil {
			if t2, err2 := time.Parse(ecsLayoutMinutes, v); err2 == nil {
				t, err = t2, nil
			}
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is not RFC 3339 (e.g. 2026-11-20T00:00:00Z): %w", v, err)
		}
	case looksLikeDate(v):
		var err error
		day, err := time.Parse(dateLayout, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("date %q is not a real YYYY-MM-DD date: %w", v, err)
		}
		t = StartOfDay(day.Year(), day.Month(), day.Day(), loc)
	default:
		ttl, err := ParseTTL(v)
		if err != nil {
			return time.Time{}, err
		}
		if created.IsZero() {
			return time.Time{}, fmt.Errorf("time to live %q needs the instance's creation time, which is unknown", v)
		}
		t = created.Add(ttl)
		if !t.After(created) {
			return time.Time{}, fmt.Errorf("time to live %q overflows when added to the creation time", v)
		}
	}
	if t.IsZero() {
		return time.Time{}, fmt.Errorf("expiry %q is the zero time", v)
	}
	if y := t.UTC().Year(); y < 1 || y > 9999 {
		// Not a date anyone means, and not one the report can write.
		return time.Time{}, fmt.Errorf("expiry %q falls in the year %d (UTC), outside 0001 to 9999", v, y)
	}
	return t, nil
}

// StartOfDay is the first instant of the local day in loc. Where the day
// starts inside a DST gap (no local midnight, e.g. America/Santiago on
// 2026-09-06), Go's time.Date answers an instant of the day before; the
// day then starts when the gap ends, never earlier.
func StartOfDay(year int, month time.Month, day int, loc *time.Location) time.Time {
	t := time.Date(year, month, day, 0, 0, 0, 0, loc)
	if y, m, d := t.Date(); y == year && m == month && d == day {
		return t
	}
	if _, end := t.ZoneBounds(); !end.IsZero() {
		return end
	}
	return t
}

// looksLikeTimestamp reports whether v has the shape of a date followed by
// a time ("YYYY-MM-DDT...").
func looksLikeTimestamp(v string) bool {
	return len(v) > len(dateLayout) && looksLikeDate(v[:len(dateLayout)]) && (v[len(dateLayout)] == 'T' || v[len(dateLayout)] == 't')
}

// looksLikeDate reports whether v has the shape "NNNN-NN-NN".
func looksLikeDate(v string) bool {
	if len(v) != len(dateLayout) {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// ParseTTL parses a time to live: Go duration terms plus whole-number d
// (24h) and w (168h) terms, in any combination, e.g. "36h", "7d", "1w2d",
// "1d12h30m". It must be positive, unsigned and fit in a time.Duration.
func ParseTTL(v string) (time.Duration, error) {
	if v == "" {
		return 0, errors.New("empty time to live")
	}
	if v[0] == '-' {
		return 0, fmt.Errorf("time to live %q is negative; it must be positive", v)
	}
	var total time.Duration
	rest := v
	for rest != "" {
		// Number: digits with an optional fraction.
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, fmt.Errorf("expiry %q is neither an RFC 3339 time, a YYYY-MM-DD date nor a time to live like 36h, 7d or 2w", v)
		}
		intPart := rest[:i]
		frac := false
		if i < len(rest) && rest[i] == '.' {
			frac = true
			i++
			j := i
			for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
				i++
			}
			if i == j {
				return 0, fmt.Errorf("time to live %q has a number with no digits after the decimal point", v)
			}
		}
		num := rest[:i]
		// Unit: letters up to the next digit.
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		unit := rest[i:j]
		if unit == "" {
			return 0, fmt.Errorf("time to live %q: %q has no unit (use s, m, h, d or w)", v, num)
		}
		var d time.Duration
		switch unit {
		case "d", "w":
			if frac {
				return 0, fmt.Errorf("time to live %q: %s%s: days and weeks must be whole numbers", v, num, unit)
			}
			n, err := strconv.ParseInt(intPart, 10, 64)
			per := 24 * time.Hour
			if unit == "w" {
				per = 7 * 24 * time.Hour
			}
			if err != nil || n > int64(math.MaxInt64/per) {
				return 0, fmt.Errorf("time to live %q: %s%s is too large", v, num, unit)
			}
			d = time.Duration(n) * per
		case "ns", "us", "µs", "μs", "ms", "s", "m", "h":
			var err error
			d, err = time.ParseDuration(num + unit)
			if err != nil {
				return 0, fmt.Errorf("time to live %q: %s%s: %w", v, num, unit, err)
			}
		default:
			return 0, fmt.Errorf("expiry %q is neither an RFC 3339 time, a YYYY-MM-DD date nor a time to live: unknown unit %q (use s, m, h, d or w)", v, unit)
		}
		if d > math.MaxInt64-total {
			return 0, fmt.Errorf("time to live %q is too large", v)
		}
		total += d
		rest = rest[j:]
	}
	if total <= 0 {
		return 0, fmt.Errorf("time to live %q is zero; it must be positive", v)
	}
	return total, nil
}
