package mark_test

import (
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

// FuzzVerify: no value, whatever a user writes into a tag, verifies unless
// it is exactly what Sign makes; nothing panics; a valid mark reads back
// its content.
func FuzzVerify(f *testing.F) {
	f.Add("i-1", "reaper-notified", "2026-12-01T08:00:00Z;sig=8VYLqcfTovQtG2AJT25NKZ")
	f.Add("i-1", "reaper-notified", "")
	f.Add("eip-1", "reaper-notified-released-with", "i-doesnotexist")
	f.Add("i-1", "reaper-notified", ";sig=;sig=")
	k := mark.NewKeys(vectorSecret, strings.Repeat("p", 32))
	f.Fuzz(func(t *testing.T, id, key, value string) {
		content, st := k.Verify(id, key, value, true)
		if st == mark.Absent {
			t.Fatal("a present value read as absent")
		}
		if st == mark.Valid {
			if value != k.Sign(id, key, content) && value != mark.NewKeys(strings.Repeat("p", 32), "").Sign(id, key, content) {
				t.Fatalf("%q verified but is not a signature of %q", value, content)
			}
		}
		tm, tst := k.ReadTime(id, key, map[string]string{key: value})
		if tst == mark.Valid && (st != mark.Valid || mark.FormatTime(tm) != content) {
			t.Fatalf("time mark %q read as %v", value, tm)
		}
		inst, at, hst := k.ReadHandOver(id, key, map[string]string{key: value})
		if hst == mark.Valid && (st != mark.Valid || content != inst+"@"+mark.FormatTime(at) || inst == "") {
			t.Fatalf("hand-over %q read as %q@%v", value, inst, at)
		}
		// Round trip: what Sign writes verifies and reads back.
		if len(value)+len(mark.Sep)+mark.MACLen <= mark.MaxValueLen {
			signed := k.Sign(id, key, value)
			if got, st := k.Verify(id, key, signed, true); st != mark.Valid || got != value {
				t.Fatalf("Sign(%q) = %q does not verify: %q %v", value, signed, got, st)
			}
		}
	})
}
