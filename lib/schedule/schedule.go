// Package schedule validates and evaluates Function Compute (FC 3.0) timer
// trigger expressions, so that a deployment's cronExpression can be checked
// before it is shipped and the next run can be reported.
//
// The accepted syntax is FC's:
//
//   - six space-separated fields with seconds: Seconds Minutes Hours
//     Day-of-month Month Day-of-week, e.g. "0 0 4 * * *" (robfig/cron v3
//     field syntax: *, ?, lists, ranges, steps, JAN-DEC, SUN-SAT; no L or W);
//   - a descriptor: @yearly, @annually, @monthly, @weekly, @daily,
//     @midnight, @hourly, or "@every <Go duration>" such as "@every 5m";
//   - either of the above after an optional "CRON_TZ=<IANA zone> " prefix,
//     e.g. "CRON_TZ=Asia/Shanghai 0 0 4 1 * *".
//
// Without a prefix an expression runs in UTC, as on FC (never time.Local).
// Five-field (minute-first) crontab lines are rejected: FC needs six fields.
// The plain "TZ=" prefix that robfig/cron also knows is rejected because FC
// documents only CRON_TZ=. "@every" must be a whole number of seconds of at
// least 1s; FC's own minimum interval is UNCONFIRMED, so a shorter interval
// than FC allows may pass here. A schedule that never fires (such as
// "0 0 0 31 4 *") is an error.
package schedule

import (
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // zones must load even where the runtime has no zoneinfo

	"github.com/robfig/cron/v3"
)

const tzPrefix = "CRON_TZ="

var parser = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

var descriptors = map[string]bool{
	"@yearly": true, "@annually": true, "@monthly": true, "@weekly": true,
	"@daily": true, "@midnight": true, "@hourly": true,
}

// neverReference is the instant from which Parse checks that a schedule
// fires at all; robfig/cron looks five years ahead, which always includes a
// 29 February from here.
var neverReference = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Parse parses an FC timer-trigger cronExpression. See the package
// documentation for the accepted syntax. The returned schedule evaluates in
// the CRON_TZ zone, or UTC without a prefix.
func Parse(expr string) (s cron.Schedule, err error) {
	spec := strings.TrimSpace(expr)
	if spec == "" {
		return nil, errors.New("cron expression is empty")
	}
	zone := "UTC"
	if strings.HasPrefix(spec, "TZ=") {
		return nil, fmt.Errorf("cron expression %q: FC takes a CRON_TZ= prefix, not TZ=", expr)
	}
	if strings.HasPrefix(spec, tzPrefix) {
		i := strings.IndexAny(spec, " \t\n\r\v\f")
		if i < 0 {
			return nil, fmt.Errorf("cron expression %q: CRON_TZ=Zone must be followed by a schedule", expr)
		}
		zone = spec[len(tzPrefix):i]
		spec = strings.TrimSpace(spec[i:])
		if zone == "" {
			return nil, fmt.Errorf("cron expression %q: CRON_TZ= names no time zone", expr)
		}
		if zone == "Local" {
			return nil, fmt.Errorf("cron expression %q: CRON_TZ=Local is not a fixed time zone; name an IANA zone such as Asia/Shanghai", expr)
		}
		if _, err := time.LoadLocation(zone); err != nil {
			return nil, fmt.Errorf("cron expression %q: unknown time zone %q: %w", expr, zone, err)
		}
		if strings.HasPrefix(spec, tzPrefix) || strings.HasPrefix(spec, "TZ=") {
			return nil, fmt.Errorf("cron expression %q: more than one time-zone prefix", expr)
		}
	}
	fields := strings.Fields(spec)
	switch {
	case strings.HasPrefix(spec, "@every"):
		if len(fields) != 2 || fields[0] != "@every" {
			return nil, fmt.Errorf("cron expression %q: want \"@every <duration>\", e.g. \"@every 5m\"", expr)
		}
		d, err := time.ParseDuration(fields[1])
		if err != nil {
			return nil, fmt.Errorf("cron expression %q: bad @every interval: %w", expr, err)
		}
		if d < time.Second || d%time.Second != 0 {
			return nil, fmt.Errorf("cron expression %q: @every interval %v must be a whole number of seconds, at least 1s", expr, d)
		}
	case strings.HasPrefix(spec, "@"):
		if len(fields) != 1 || !descriptors[fields[0]] {
			return nil, fmt.Errorf("cron expression %q: unknown descriptor (want @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)", expr)
		}
	case len(fields) == 5:
		return nil, fmt.Errorf("cron expression %q has 5 fields: FC needs 6 (Seconds Minutes Hours Day-of-month Month Day-of-week), e.g. \"0 %s\"", expr, strings.Join(fields, " "))
	case len(fields) != 6:
		return nil, fmt.Errorf("cron expression %q has %d fields: FC needs 6 (Seconds Minutes Hours Day-of-month Month Day-of-week)", expr, len(fields))
	}

	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("cron expression %q: rejected by the cron parser: %v", expr, r)
		}
	}()
	s, err = parser.Parse(tzPrefix + zone + " " + strings.Join(fields, " "))
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %w", expr, err)
	}
	if s.Next(neverReference).IsZero() {
		return nil, fmt.Errorf("cron expression %q never fires", expr)
	}
	return s, nil
}

// Next returns the first activation of expr strictly after after, in the
// schedule's time zone. It fails when expr does not parse or has no
// activation within robfig/cron's five-year search horizon.
func Next(expr string, after time.Time) (time.Time, error) {
	s, err := Parse(expr)
	if err != nil {
		return time.Time{}, err
	}
	next := s.Next(after)
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("cron expression %q has no activation within five years after %s", expr, after.UTC().Format(time.RFC3339))
	}
	return next, nil
}
