package decide

import (
	"strings"
	"testing"
	"time"
)

// Zones whose days start inside a DST gap on some dates.
var santiago, havana = loadZone("America/Santiago"), loadZone("America/Havana")

func loadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

func fuzzLocation(i uint8) *time.Location {
	switch i % 6 {
	case 1:
		return time.FixedZone("UTC+8", 8*3600)
	case 2:
		return time.FixedZone("UTC-12", -12*3600)
	case 3:
		return time.FixedZone("UTC+14", 14*3600)
	case 4:
		return santiago
	case 5:
		return havana
	}
	return nil
}

func FuzzParseExpiry(f *testing.F) {
	f.Add("2026-09-06", int64(0), uint8(4))
	f.Add("2026-03-08", int64(0), uint8(5))
	for _, s := range []string{"2026-11-20", "2026-11-20T00:00:00Z", "2026-11-20T08:00+08:00", "36h", "7d", "2w", "1w2d", "1.5h", "-1h", "0d", "2026-02-30", "99999999999w", ""} {
		f.Add(s, int64(1767225600), uint8(0))
	}
	f.Fuzz(func(t *testing.T, value string, createdUnix int64, loc uint8) {
		var created time.Time
		if createdUnix != 0 {
			created = time.Unix(createdUnix, 0).UTC()
		}
		got, err := ParseExpiry(value, created, fuzzLocation(loc))
		if err != nil {
			if !got.IsZero() {
				t.Fatalf("ParseExpiry(%q) returned %v with error %v", value, got, err)
			}
			return
		}
		if got.IsZero() {
			t.Fatalf("ParseExpiry(%q) returned the zero time with no error", value)
		}
		if day, derr := time.Parse("2006-01-02", strings.TrimSpace(value)); derr == nil {
			// A date expires at the first instant of that local day: on
			// that day, and the instant before it on an earlier one.
			zone := fuzzLocation(loc)
			if zone == nil {
				zone = time.UTC
			}
			y, m, d := got.In(zone).Date()
			py, pm, pd := got.Add(-time.Nanosecond).In(zone).Date()
			if y != day.Year() || m != day.Month() || d != day.Day() || (py == y && pm == m && pd == d) {
				t.Fatalf("date %q in %s expires at %v, not the first instant of that day", value, zone, got.In(zone))
			}
		}
		if ttl, terr := ParseTTL(strings.TrimSpace(value)); terr == nil {
			if ttl <= 0 {
				t.Fatalf("ParseTTL(%q) = %v, not positive", value, ttl)
			}
			if !got.After(created) {
				t.Fatalf("TTL %q from %v gave %v, not after creation", value, created, got)
			}
		}
	})
}

func FuzzDecide(f *testing.F) {
	f.Add("i-1", "Stopped", "PostPaid", "2099-12-31T15:59Z", "2026-11-01T08:00Z", false, "", "2026-11-20", true, false, false, int64(1795262400))
	f.Add("i-2", "Running", "PrePaid", "2026-11-15T16:00Z", "2026-11-01T08:00Z", false, "financial", "7d", true, false, true, int64(1795262400))
	f.Add("i-3", "Stopped", "PrePaid", "2026-11-15T16:00Z", "2026-11-01T08:00:00Z", false, "Security", "1h", true, false, true, int64(1795262400))
	f.Add("i-4", "Stopped", "PostPaid", "", "", true, "", "2026-01-01T00:00:00Z", true, true, true, int64(1795262400))
	f.Add("i-5", "Pending", "PostPaid", "", "2026-11-01T08:00Z", false, "recycling", "2030-01-01", true, false, true, int64(1795262400))
	f.Fuzz(func(t *testing.T, id, status, charge, expired, created string, protected bool, locks, tagValue string, optIn, keep, force bool, nowUnix int64) {
		inst := Instance{ID: id, Status: status, ChargeType: charge, ExpiredTime: expired, CreationTime: created, DeletionProtection: protected, Tags: map[string]string{}}
		if locks != "" {
			inst.LockReasons = strings.Split(locks, ",")
		}
		if optIn {
			inst.Tags["reaper-expires"] = tagValue
		}
		if keep {
			inst.Tags["reaper-keep"] = ""
		}
		rules := Rules{OptInKey: "reaper-expires", KeepKey: "reaper-keep", Force: force}
		now := time.Unix(nowUnix, 0).UTC()
		d := Decide(inst, rules, now)
		if d.Release == (d.Reason != "") {
			t.Fatalf("want exactly one of Release and Reason: %+v", d)
		}
		if d.Detail == "" {
			t.Fatalf("empty Detail: %+v", d)
		}
		if !d.Release {
			if d.Flags != (Flags{}) {
				t.Fatalf("flags set on a skip: %+v", d)
			}
			return
		}
		securityLocked := false
		for _, l := range inst.LockReasons {
			if strings.EqualFold(strings.TrimSpace(l), "security") {
				securityLocked = true
			}
		}
		switch {
		case !optIn:
			t.Fatalf("released without the opt-in tag: %+v", d)
		case keep:
			t.Fatalf("released with the keep tag: %+v", d)
		case protected:
			t.Fatalf("released a deletion-protected instance: %+v", d)
		case securityLocked:
			t.Fatalf("released a security-locked instance: %+v", d)
		case d.ExpiresAt.IsZero() || d.ExpiresAt.After(now):
			t.Fatalf("released with expiry %v, now %v: %+v", d.ExpiresAt, now, d)
		case status != StatusStopped && status != StatusRunning:
			t.Fatalf("released in status %q: %+v", status, d)
		case status == StatusRunning && (!force || !d.Flags.Force):
			t.Fatalf("released a running instance without force: %+v", d)
		case status != StatusRunning && d.Flags.Force:
			t.Fatalf("force flag on a %s instance: %+v", status, d)
		case charge != ChargePrePaid && charge != ChargePostPaid:
			t.Fatalf("released with charge type %q: %+v", charge, d)
		case d.Flags.TerminateSubscription != (charge == ChargePrePaid):
			t.Fatalf("TerminateSubscription %v for %s: %+v", d.Flags.TerminateSubscription, charge, d)
		}
		if charge == ChargePrePaid {
			end, err := ParseECSTime(expired)
			if err != nil || end.After(now) {
				t.Fatalf("released a PrePaid instance whose subscription has not ended (%q): %+v", expired, d)
			}
		}
	})
}
