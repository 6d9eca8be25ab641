package decide

import (
	"strings"
	"testing"
	"time"
)

var (
	testNow   = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	testRules = Rules{OptInKey: "reaper-expires", KeepKey: "reaper-keep"}
)

// stoppedPostPaid is an expired, stopped pay-as-you-go instance: the
// baseline that releases; each case changes one thing.
func stoppedPostPaid() Instance {
	return Instance{
		ID:           "i-abc",
		Region:       "cn-hangzhou",
		Status:       StatusStopped,
		ChargeType:   ChargePostPaid,
		ExpiredTime:  "2099-12-31T15:59Z",
		CreationTime: "2026-11-01T08:00Z",
		Tags:         map[string]string{"reaper-expires": "2026-11-20"},
	}
}

func TestDecide(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	type want struct {
		release   bool
		flags     Flags
		reason    Reason
		detail    string // substring
		expiresAt time.Time
	}
	tests := []struct {
		name  string
		edit  func(*Instance)
		rules func(*Rules)
		now   time.Time
		want  want
	}{
		// Rule 1.
		{name: "baseline stopped postpaid releases", want: want{release: true, detail: "expired 2026-11-20T00:00:00Z (tag reaper-expires=2026-11-20); stopped", expiresAt: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)}},
		{name: "no tags at all", edit: func(i *Instance) { i.Tags = nil }, want: want{reason: ReasonNoOptIn}},
		{name: "only keep tag", edit: func(i *Instance) { i.Tags = map[string]string{"reaper-keep": ""} }, want: want{reason: ReasonNoOptIn}},
		{name: "opt-in key differs in case", edit: func(i *Instance) { i.Tags = map[string]string{"Reaper-Expires": "2026-11-20"} }, want: want{reason: ReasonNoOptIn}},
		{name: "empty opt-in key in rules touches nothing", edit: func(i *Instance) { i.Tags[""] = "2026-11-20" }, rules: func(r *Rules) { r.OptInKey = "" }, want: want{reason: ReasonNoOptIn}},
		{name: "no opt-in beats invalid data", edit: func(i *Instance) { i.Tags = nil; i.ID = "" }, want: want{reason: ReasonNoOptIn}},
		{name: "empty ID", edit: func(i *Instance) { i.ID = "" }, want: want{reason: ReasonInvalidData, detail: "instance ID is empty"}},
		{name: "blank ID", edit: func(i *Instance) { i.ID = "  " }, want: want{reason: ReasonInvalidData}},
		{name: "ID with newline", edit: func(i *Instance) { i.ID = "i-a\ni-b" }, want: want{reason: ReasonInvalidData}},
		{name: "unknown charge type", edit: func(i *Instance) { i.ChargeType = "Spot" }, want: want{reason: ReasonInvalidData, detail: "unknown charge type Spot"}},
		{name: "empty charge type", edit: func(i *Instance) { i.ChargeType = "" }, want: want{reason: ReasonInvalidData}},
		{name: "answer missing a safety field is not trusted", edit: func(i *Instance) { i.Problem = "the API's answer has no DeletionProtection" }, want: want{reason: ReasonInvalidData, detail: "no DeletionProtection"}},
		{name: "lower-case charge type is not trusted", edit: func(i *Instance) { i.ChargeType = "postpaid" }, want: want{reason: ReasonInvalidData}},

		// Rule 2.
		{name: "keep tag with empty value", edit: func(i *Instance) { i.Tags["reaper-keep"] = "" }, want: want{reason: ReasonExcluded}},
		{name: "keep tag with false value still excludes", edit: func(i *Instance) { i.Tags["reaper-keep"] = "false" }, want: want{reason: ReasonExcluded}},
		{name: "excluded beats invalid expiry", edit: func(i *Instance) { i.Tags["reaper-keep"] = "1"; i.Tags["reaper-expires"] = "junk" }, want: want{reason: ReasonExcluded}},

		// Rule 3.
		{name: "deletion protected", edit: func(i *Instance) { i.DeletionProtection = true }, want: want{reason: ReasonDeletionProtected}},
		{name: "excluded beats deletion-protected", edit: func(i *Instance) { i.DeletionProtection = true; i.Tags["reaper-keep"] = "x" }, want: want{reason: ReasonExcluded}},
		{name: "deletion-protected beats lock", edit: func(i *Instance) { i.DeletionProtection = true; i.LockReasons = []string{"security"} }, want: want{reason: ReasonDeletionProtected}},

		// Rule 4.
		{name: "security lock", edit: func(i *Instance) { i.LockReasons = []string{"security"} }, want: want{reason: ReasonSecurityLocked}},
		{name: "security lock mixed case", edit: func(i *Instance) { i.LockReasons = []string{"SeCuRiTy"} }, want: want{reason: ReasonSecurityLocked}},
		{name: "security lock after another lock", edit: func(i *Instance) { i.LockReasons = []string{"Recycling", "security"} }, want: want{reason: ReasonSecurityLocked}},
		{name: "recycling lock capitalised", edit: func(i *Instance) { i.LockReasons = []string{"Recycling"} }, want: want{reason: ReasonLocked, detail: "Recycling"}},
		{name: "refunded lock mixed case", edit: func(i *Instance) { i.LockReasons = []string{"ReFunded"} }, want: want{reason: ReasonLocked, detail: "ReFunded"}},
		{name: "dedicatedhostfinancial lock mixed case", edit: func(i *Instance) { i.LockReasons = []string{"DedicatedHostFinancial"} }, want: want{reason: ReasonLocked, detail: "DedicatedHostFinancial"}},
		{name: "unknown lock reason", edit: func(i *Instance) { i.LockReasons = []string{"mystery"} }, want: want{reason: ReasonLocked, detail: "mystery"}},
		{name: "empty lock reason", edit: func(i *Instance) { i.LockReasons = []string{""} }, want: want{reason: ReasonLocked}},
		{name: "financial lock on postpaid", edit: func(i *Instance) { i.LockReasons = []string{"Financial"} }, want: want{reason: ReasonLocked, detail: "financial lock on a PostPaid"}},
		{name: "financial lock on active prepaid", edit: func(i *Instance) {
			i.ChargeType, i.ExpiredTime, i.LockReasons = ChargePrePaid, "2027-01-01T00:00Z", []string{"financial"}
		}, want: want{reason: ReasonLocked, detail: "2027-01-01T00:00:00Z"}},
		{name: "financial lock on prepaid with unparseable ExpiredTime", edit: func(i *Instance) {
			i.ChargeType, i.ExpiredTime, i.LockReasons = ChargePrePaid, "soon", []string{"financial"}
		}, want: want{reason: ReasonLocked, detail: "cannot be parsed"}},
		{name: "financial lock on expired prepaid releases", edit: func(i *Instance) {
			i.ChargeType, i.ExpiredTime, i.LockReasons = ChargePrePaid, "2026-11-15T16:00Z", []string{"FINANCIAL"}
		}, want: want{release: true, flags: Flags{TerminateSubscription: true}, detail: "subscription expired 2026-11-15T16:00:00Z; stopped"}},
		{name: "financial plus recycling stays locked", edit: func(i *Instance) {
			i.ChargeType, i.ExpiredTime, i.LockReasons = ChargePrePaid, "2026-11-15T16:00Z", []string{"financial", "recycling"}
		}, want: want{reason: ReasonLocked, detail: "recycling"}},
		{name: "lock beats invalid expiry", edit: func(i *Instance) { i.LockReasons = []string{"refunded"}; i.Tags["reaper-expires"] = "junk" }, want: want{reason: ReasonLocked}},

		// Rule 5: formats.
		{name: "rfc3339 with seconds", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-20T10:30:00Z" }, want: want{release: true, expiresAt: time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)}},
		{name: "rfc3339 with offset", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-21T20:00:00+08:00" }, want: want{release: true, expiresAt: testNow}},
		{name: "ecs form without seconds", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-20T10:30Z" }, want: want{release: true, expiresAt: time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)}},
		{name: "expiry exactly now releases", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-21T12:00:00Z" }, want: want{release: true, expiresAt: testNow}},
		{name: "expiry one second after now", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-21T12:00:01Z" }, want: want{reason: ReasonNotExpired, detail: "expires 2026-11-21T12:00:01Z", expiresAt: testNow.Add(time.Second)}},
		{name: "date in Asia/Shanghai not yet reached", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-22" },
			rules: func(r *Rules) { r.Location = shanghai }, want: want{reason: ReasonNotExpired, detail: "expires 2026-11-21T16:00:00Z", expiresAt: time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)}},
		{name: "date in Asia/Shanghai reached before UTC midnight", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-22" },
			rules: func(r *Rules) { r.Location = shanghai }, now: time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC), want: want{release: true, expiresAt: time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC)}},
		{name: "date in UTC when location nil", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-22" }, now: time.Date(2026, 11, 21, 16, 0, 0, 0, time.UTC), want: want{reason: ReasonNotExpired, expiresAt: time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)}},
		{name: "ttl hours from creation", edit: func(i *Instance) { i.Tags["reaper-expires"] = "36h" }, want: want{release: true, expiresAt: time.Date(2026, 11, 2, 20, 0, 0, 0, time.UTC)}},
		{name: "ttl days", edit: func(i *Instance) { i.Tags["reaper-expires"] = "7d" }, want: want{release: true, expiresAt: time.Date(2026, 11, 8, 8, 0, 0, 0, time.UTC)}},
		{name: "ttl weeks not reached", edit: func(i *Instance) { i.Tags["reaper-expires"] = "4w" }, want: want{reason: ReasonNotExpired, expiresAt: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)}},
		{name: "ttl week and days", edit: func(i *Instance) { i.Tags["reaper-expires"] = "1w2d" }, want: want{release: true, expiresAt: time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC)}},
		{name: "ttl with creation time in seconds form", edit: func(i *Instance) { i.Tags["reaper-expires"] = "1d"; i.CreationTime = "2026-11-01T08:00:30Z" }, want: want{release: true, expiresAt: time.Date(2026, 11, 2, 8, 0, 30, 0, time.UTC)}},

		// Rule 5: invalid expiry.
		{name: "empty expiry", edit: func(i *Instance) { i.Tags["reaper-expires"] = "" }, want: want{reason: ReasonInvalidExpiry, detail: "empty"}},
		{name: "garbage expiry", edit: func(i *Instance) { i.Tags["reaper-expires"] = "tomorrow" }, want: want{reason: ReasonInvalidExpiry}},
		{name: "negative ttl", edit: func(i *Instance) { i.Tags["reaper-expires"] = "-1h" }, want: want{reason: ReasonInvalidExpiry, detail: "negative"}},
		{name: "zero ttl", edit: func(i *Instance) { i.Tags["reaper-expires"] = "0d" }, want: want{reason: ReasonInvalidExpiry, detail: "zero"}},
		{name: "bare number", edit: func(i *Instance) { i.Tags["reaper-expires"] = "7" }, want: want{reason: ReasonInvalidExpiry, detail: "no unit"}},
		{name: "fractional days", edit: func(i *Instance) { i.Tags["reaper-expires"] = "1.5d" }, want: want{reason: ReasonInvalidExpiry, detail: "whole numbers"}},
		{name: "impossible date", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-02-30" }, want: want{reason: ReasonInvalidExpiry, detail: "not a real"}},
		{name: "month 13", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-13-01" }, want: want{reason: ReasonInvalidExpiry}},
		{name: "timestamp without zone", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2026-11-20T00:00:00" }, want: want{reason: ReasonInvalidExpiry, detail: "RFC 3339"}},
		{name: "overflowing ttl", edit: func(i *Instance) { i.Tags["reaper-expires"] = "99999999999w" }, want: want{reason: ReasonInvalidExpiry, detail: "too large"}},
		{name: "overflowing sum", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2000000h2000000h2000000h" }, want: want{reason: ReasonInvalidExpiry}},
		{name: "ttl without creation time", edit: func(i *Instance) { i.Tags["reaper-expires"] = "1h"; i.CreationTime = "" }, want: want{reason: ReasonInvalidExpiry, detail: "creation time"}},
		{name: "ttl with unparseable creation time", edit: func(i *Instance) { i.Tags["reaper-expires"] = "1h"; i.CreationTime = "yesterday" }, want: want{reason: ReasonInvalidExpiry}},
		{name: "zero-time timestamp", edit: func(i *Instance) { i.Tags["reaper-expires"] = "0001-01-01T00:00:00Z" }, want: want{reason: ReasonInvalidExpiry, detail: "zero time"}},
		{name: "year 0 in UTC", edit: func(i *Instance) { i.Tags["reaper-expires"] = "0000-01-01T00:00:00+14:00" }, want: want{reason: ReasonInvalidExpiry, detail: "outside 0001 to 9999"}},
		{name: "year 0 date", edit: func(i *Instance) { i.Tags["reaper-expires"] = "0000-06-01" }, want: want{reason: ReasonInvalidExpiry, detail: "outside 0001 to 9999"}},
		{name: "year 10000 in UTC", edit: func(i *Instance) { i.Tags["reaper-expires"] = "9999-12-31T23:59:59-14:00" }, want: want{reason: ReasonInvalidExpiry, detail: "outside 0001 to 9999"}},
		{name: "not-expired beats running", edit: func(i *Instance) { i.Tags["reaper-expires"] = "2027-01-01"; i.Status = StatusRunning }, want: want{reason: ReasonNotExpired}},

		// Rule 6.
		{name: "postpaid with 2099 ExpiredTime releases", want: want{release: true}},
		{name: "postpaid with garbage ExpiredTime releases", edit: func(i *Instance) { i.ExpiredTime = "garbage" }, want: want{release: true}},
		{name: "prepaid subscription active", edit: func(i *Instance) { i.ChargeType, i.ExpiredTime = ChargePrePaid, "2027-03-01T16:00Z" },
			want: want{reason: ReasonSubscriptionActive, detail: "subscription active until 2027-03-01T16:00:00Z"}},
		{name: "prepaid unparseable ExpiredTime", edit: func(i *Instance) { i.ChargeType, i.ExpiredTime = ChargePrePaid, "" }, want: want{reason: ReasonInvalidData, detail: "ExpiredTime"}},
		{name: "prepaid expired with seconds", edit: func(i *Instance) { i.ChargeType, i.ExpiredTime = ChargePrePaid, "2026-11-21T11:59:59Z" },
			want: want{release: true, flags: Flags{TerminateSubscription: true}}},
		{name: "prepaid expiring exactly now", edit: func(i *Instance) { i.ChargeType, i.ExpiredTime = ChargePrePaid, "2026-11-21T12:00Z" },
			want: want{release: true, flags: Flags{TerminateSubscription: true}}},
		{name: "prepaid with +08:00 ExpiredTime", edit: func(i *Instance) { i.ChargeType, i.ExpiredTime = ChargePrePaid, "2026-11-21T20:01+08:00" },
			want: want{reason: ReasonSubscriptionActive}},
		{name: "prepaid expired running with force", edit: func(i *Instance) {
			i.ChargeType, i.ExpiredTime, i.Status = ChargePrePaid, "2026-11-01T00:00Z", StatusRunning
		}, rules: func(r *Rules) { r.Force = true }, want: want{release: true, flags: Flags{TerminateSubscription: true, Force: true}}},

		// Rule 7.
		{name: "running without force", edit: func(i *Instance) { i.Status = StatusRunning }, want: want{reason: ReasonRunning}},
		{name: "running with force", edit: func(i *Instance) { i.Status = StatusRunning }, rules: func(r *Rules) { r.Force = true },
			want: want{release: true, flags: Flags{Force: true}, detail: "running, released with force"}},
		{name: "stopped with force has no force flag", rules: func(r *Rules) { r.Force = true }, want: want{release: true}},
		{name: "pending", edit: func(i *Instance) { i.Status = "Pending" }, rules: func(r *Rules) { r.Force = true }, want: want{reason: ReasonTransitional, detail: "status Pending"}},
		{name: "starting", edit: func(i *Instance) { i.Status = "Starting" }, want: want{reason: ReasonTransitional, detail: "Starting"}},
		{name: "stopping", edit: func(i *Instance) { i.Status = "Stopping" }, want: want{reason: ReasonTransitional, detail: "Stopping"}},
		{name: "unknown status", edit: func(i *Instance) { i.Status = "Exploded" }, want: want{reason: ReasonTransitional}},
		{name: "lower-case stopped is not trusted", edit: func(i *Instance) { i.Status = "stopped" }, want: want{reason: ReasonTransitional}},
		{name: "empty status", edit: func(i *Instance) { i.Status = "" }, want: want{reason: ReasonTransitional}},
		{name: "prepaid transitional has no flags", edit: func(i *Instance) {
			i.ChargeType, i.ExpiredTime, i.Status = ChargePrePaid, "2026-11-01T00:00Z", "Stopping"
		}, want: want{reason: ReasonTransitional}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := stoppedPostPaid()
			if tt.edit != nil {
				tt.edit(&inst)
			}
			rules := testRules
			if tt.rules != nil {
				tt.rules(&rules)
			}
			now := testNow
			if !tt.now.IsZero() {
				now = tt.now
			}
			got := Decide(inst, rules, now)
			if got.InstanceID != inst.ID {
				t.Errorf("InstanceID = %q, want %q", got.InstanceID, inst.ID)
			}
			if got.Release != tt.want.release || got.Reason != tt.want.reason || got.Flags != tt.want.flags {
				t.Fatalf("Decide(%+v) = release %v reason %q flags %+v (%s); want release %v reason %q flags %+v",
					inst, got.Release, got.Reason, got.Flags, got.Detail, tt.want.release, tt.want.reason, tt.want.flags)
			}
			if got.Release == (got.Reason != "") {
				t.Errorf("want exactly one of Release and Reason, got %+v", got)
			}
			if got.Detail == "" || !strings.Contains(got.Detail, tt.want.detail) {
				t.Errorf("Detail = %q, want it to contain %q", got.Detail, tt.want.detail)
			}
			if !tt.want.expiresAt.IsZero() && !got.ExpiresAt.Equal(tt.want.expiresAt) {
				t.Errorf("ExpiresAt = %v, want %v", got.ExpiresAt, tt.want.expiresAt)
			}
			if got.Release && got.ExpiresAt.After(now) {
				t.Errorf("released with ExpiresAt %v after now %v", got.ExpiresAt, now)
			}
		})
	}
}

func TestParseECSTime(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Time
		wantErr  bool
	}{
		{name: "minutes Z", in: "2017-12-10T04:04Z", want: time.Date(2017, 12, 10, 4, 4, 0, 0, time.UTC)},
		{name: "seconds Z", in: "2017-12-10T04:04:05Z", want: time.Date(2017, 12, 10, 4, 4, 5, 0, time.UTC)},
		{name: "minutes offset", in: "2017-12-10T12:04+08:00", want: time.Date(2017, 12, 10, 4, 4, 0, 0, time.UTC)},
		{name: "seconds offset", in: "2017-12-10T12:04:05+08:00", want: time.Date(2017, 12, 10, 4, 4, 5, 0, time.UTC)},
		{name: "postpaid placeholder", in: "2099-12-31T15:59Z", want: time.Date(2099, 12, 31, 15, 59, 0, 0, time.UTC)},
		{name: "empty", in: "", wantErr: true},
		{name: "date only", in: "2017-12-10", wantErr: true},
		{name: "no zone", in: "2017-12-10T04:04", wantErr: true},
		{name: "impossible", in: "2017-02-30T04:04Z", wantErr: true},
		{name: "garbage", in: "soon", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseECSTime(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseECSTime(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("ParseECSTime(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseExpiry(t *testing.T) {
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		loc     *time.Location
		created time.Time
		want    time.Time
		wantErr string
	}{
		{name: "rfc3339", in: "2026-11-20T00:00:00Z", want: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{name: "rfc3339 fraction", in: "2026-11-20T00:00:00.5Z", want: time.Date(2026, 11, 20, 0, 0, 0, 5e8, time.UTC)},
		{name: "surrounding spaces", in: " 2026-11-20 ", want: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{name: "date shanghai", in: "2026-11-20", loc: shanghai, want: time.Date(2026, 11, 19, 16, 0, 0, 0, time.UTC)},
		{name: "leap day", in: "2028-02-29", want: time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		// Days that start inside a DST gap: no local midnight exists, and
		// the day starts when the gap ends (01:00 local), never before.
		{name: "date in Santiago DST gap", in: "2026-09-06", loc: mustZone(t, "America/Santiago"), want: time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC)},
		{name: "date in Havana DST gap", in: "2026-03-08", loc: mustZone(t, "America/Havana"), want: time.Date(2026, 3, 8, 5, 0, 0, 0, time.UTC)},
		{name: "date in Santiago after the gap", in: "2026-09-07", loc: mustZone(t, "America/Santiago"), want: time.Date(2026, 9, 7, 3, 0, 0, 0, time.UTC)},
		{name: "date in Havana DST fall back", in: "2026-11-01", loc: mustZone(t, "America/Havana"), want: time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)},
		{name: "go duration combo", in: "1h30m", want: created.Add(90 * time.Minute)},
		{name: "fractional hours", in: "1.5h", want: created.Add(90 * time.Minute)},
		{name: "mixed units", in: "1w2d3h", want: created.Add((9*24 + 3) * time.Hour)},
		{name: "not leap day", in: "2026-02-29", wantErr: "not a real"},
		{name: "february 30", in: "2026-02-30", wantErr: "not a real"},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "blank", in: "   ", wantErr: "empty"},
		{name: "negative", in: "-7d", wantErr: "negative"},
		{name: "plus sign", in: "+7d", wantErr: "neither"},
		{name: "zero", in: "0s", wantErr: "zero"},
		{name: "unknown unit", in: "3y", wantErr: "unknown unit"},
		{name: "trailing junk", in: "3dd", wantErr: "unknown unit"},
		{name: "dot without digits", in: "1.h", wantErr: "decimal point"},
		{name: "ttl needs creation", in: "1h", created: time.Time{}, wantErr: "creation time"},
		{name: "day overflow", in: "106752d", wantErr: "too large"},
		{name: "huge digits", in: "99999999999999999999999h", wantErr: "invalid duration"},
		{name: "slash date", in: "2026/11/20", wantErr: "neither"},
		{name: "two-digit year", in: "26-11-20", wantErr: "unknown unit \"-\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := created
			if tt.name == "ttl needs creation" {
				c = tt.created
			}
			got, err := ParseExpiry(tt.in, c, tt.loc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseExpiry(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !got.Equal(tt.want) {
				t.Fatalf("ParseExpiry(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// TestDateInDSTGapNeverReleasesEarly: in America/Santiago 2026-09-06 has no
// local midnight; an hour before the day begins (23:30 local on the 5th) the
// instance is not expired, and at 01:00 local on the 6th it is.
func TestDateInDSTGapNeverReleasesEarly(t *testing.T) {
	santiago := mustZone(t, "America/Santiago")
	inst := stoppedPostPaid()
	inst.Tags["reaper-expires"] = "2026-09-06"
	rules := Rules{OptInKey: "reaper-expires", KeepKey: "reaper-keep", Location: santiago}
	before := time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC) // 23:30 -04 on the 5th
	if d := Decide(inst, rules, before); d.Release || d.Reason != ReasonNotExpired {
		t.Fatalf("at %v: %+v; want not-expired (the local day has not begun)", before.In(santiago), d)
	}
	at := time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC) // 01:00 -03 on the 6th
	if d := Decide(inst, rules, at); !d.Release {
		t.Fatalf("at %v: %+v; want release", at.In(santiago), d)
	}
}
