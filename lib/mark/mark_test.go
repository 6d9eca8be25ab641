package mark_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/mark"
)

// The test vector the README documents; reproducible with
//
//	printf '%s' 'i-bp1testvector0001|reaper-notified|2026-12-01T08:00:00Z' |
//	  openssl dgst -sha256 -hmac 'reaper-test-vector-secret-0123456789abcdef' -binary |
//	  base64 | tr '+/' '-_' | tr -d '=' | cut -c1-22
const vectorSecret = "reaper-test-vector-secret-0123456789abcdef"

func TestVector(t *testing.T) {
	k := mark.NewKeys(vectorSecret, "")
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if got, want := k.Time("i-bp1testvector0001", "reaper-notified", at), "2026-12-01T08:00:00Z;sig=8VYLqcfTovQtG2AJT25NKZ"; got != want {
		t.Errorf("notice mark %q, want %q", got, want)
	}
	if got, want := k.HandOver("eip-bp1testvector01", "reaper-notified-released-with", "i-bp1testvector0001", at),
		"i-bp1testvector0001@2026-12-01T08:00:00Z;sig=TfOFOhE2meSSXcTB62YkfY"; got != want {
		t.Errorf("hand-over mark %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	k := mark.NewKeys(vectorSecret, "")
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	good := k.Time("i-1", "reaper-notified", at)
	for _, tc := range []struct {
		name  string
		tags  map[string]string
		want  mark.Status
		found time.Time
	}{
		{"absent", map[string]string{}, mark.Absent, time.Time{}},
		{"valid", map[string]string{"reaper-notified": good}, mark.Valid, at},
		{"plain time (today's format)", map[string]string{"reaper-notified": "2026-12-01T08:00:00Z"}, mark.Unverified, time.Time{}},
		{"empty", map[string]string{"reaper-notified": ""}, mark.Unverified, time.Time{}},
		{"time altered", map[string]string{"reaper-notified": strings.Replace(good, "08:00", "07:00", 1)}, mark.Unverified, time.Time{}},
		{"mac altered", map[string]string{"reaper-notified": good[:len(good)-1] + "A"}, mark.Unverified, time.Time{}},
		{"mac truncated", map[string]string{"reaper-notified": good[:len(good)-1]}, mark.Unverified, time.Time{}},
		{"signed by another secret", map[string]string{"reaper-notified": mark.NewKeys(strings.Repeat("x", 40), "").Time("i-1", "reaper-notified", at)}, mark.Unverified, time.Time{}},
		{"copied from another resource", map[string]string{"reaper-notified": k.Time("i-2", "reaper-notified", at)}, mark.Unverified, time.Time{}},
		{"copied from another key", map[string]string{"reaper-notified": k.Time("i-1", "reaper-notified-stopped", at)}, mark.Unverified, time.Time{}},
		{"signed, not a time", map[string]string{"reaper-notified": k.Sign("i-1", "reaper-notified", "yesterday")}, mark.Unverified, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, st := k.ReadTime("i-1", "reaper-notified", tc.tags)
			if st != tc.want || !got.Equal(tc.found) {
				t.Errorf("ReadTime = %v, %v; want %v, %v", got, st, tc.found, tc.want)
			}
		})
	}
	if _, st := (mark.Keys{}).ReadTime("i-1", "reaper-notified", map[string]string{"reaper-notified": good}); st != mark.Unverified {
		t.Error("keys without a secret verified a mark")
	}
}

func TestRotation(t *testing.T) {
	oldSecret, newSecret := strings.Repeat("o", 32), strings.Repeat("n", 32)
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	old := mark.NewKeys(oldSecret, "").Time("i-1", "k", at)
	rotated := mark.NewKeys(newSecret, oldSecret)
	if _, st := rotated.ReadTime("i-1", "k", map[string]string{"k": old}); st != mark.Valid {
		t.Error("a mark of the previous secret does not verify during the rotation")
	}
	if got := rotated.Time("i-1", "k", at); got != mark.NewKeys(newSecret, "").Time("i-1", "k", at) {
		t.Errorf("signed with the previous secret: %q", got)
	}
	if _, st := mark.NewKeys(newSecret, "").ReadTime("i-1", "k", map[string]string{"k": old}); st != mark.Unverified {
		t.Error("a mark of a dropped secret still verifies")
	}
}

func TestHandOver(t *testing.T) {
	k := mark.NewKeys(vectorSecret, "")
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	v := k.HandOver("eip-1", "m-released-with", "i-abc", at)
	inst, got, st := k.ReadHandOver("eip-1", "m-released-with", map[string]string{"m-released-with": v})
	if st != mark.Valid || inst != "i-abc" || !got.Equal(at) {
		t.Fatalf("ReadHandOver = %q %v %v", inst, got, st)
	}
	for _, forged := range []string{"i-doesnotexist", "", "i-abc@2026-12-01T08:00:00Z", k.HandOver("eip-2", "m-released-with", "i-abc", at),
		k.Sign("eip-1", "m-released-with", "i-abc"), k.Sign("eip-1", "m-released-with", "@2026-12-01T08:00:00Z")} {
		if _, _, st := k.ReadHandOver("eip-1", "m-released-with", map[string]string{"m-released-with": forged}); st != mark.Unverified {
			t.Errorf("forged hand-over %q: %v", forged, st)
		}
	}
}

// The longest marks fit ECS's 128-character tag values: an instance ID is
// at most 22 characters today; the hand-over carries one.
func TestFitsATagValue(t *testing.T) {
	k := mark.NewKeys(vectorSecret, "")
	at := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	if v := k.HandOver("eip-"+strings.Repeat("x", 60), strings.Repeat("k", 128), "i-"+strings.Repeat("z", 60), at); len(v) > mark.MaxValueLen {
		t.Errorf("hand-over of a 62-character instance ID is %d characters", len(v))
	}
}

func TestKeysNeverPrint(t *testing.T) {
	k := mark.NewKeys(vectorSecret, "previous-secret-previous-secret-xx")
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k), k.LogValue().String()} {
		if strings.Contains(s, "vector-secret") || strings.Contains(s, "previous-secret") {
			t.Errorf("printed a secret: %s", s)
		}
	}
}

// A mark shown to people keeps its content and loses its MAC: what is
// shown does not verify, on the resource or anywhere else.
func TestShownDoesNotVerify(t *testing.T) {
	k := mark.NewKeys(strings.Repeat("s", 40), "")
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	for _, v := range []string{k.Time("i-1", "reaper-notified", at), k.HandOver("eip-1", "reaper-notified-released-with", "i-1", at)} {
		shown := mark.Shown(v)
		content, _, _ := strings.Cut(v, mark.Sep)
		if shown != content+mark.Elided {
			t.Errorf("Shown(%q) = %q, want the content and %q", v, shown, mark.Elided)
		}
		for _, id := range []string{"i-1", "eip-1"} {
			for _, key := range []string{"reaper-notified", "reaper-notified-released-with"} {
				if _, st := k.Verify(id, key, shown, true); st == mark.Valid {
					t.Errorf("shown %q verifies on %s/%s", shown, id, key)
				}
			}
		}
	}
	for in, want := range map[string]string{
		"2026-12-01T08:00:00Z":                     "2026-12-01T08:00:00Z", // not a mark: as it is
		"a;sig=short;sig=Mi5MAUm25px9r0yDWbNP1x":   "a;sig=…;sig=…",
		"x ;sig=Mi5MAUm25px9r0yDWbNP1xEXTRA, done": "x ;sig=…, done",
		"": "",
	} {
		if got := mark.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
