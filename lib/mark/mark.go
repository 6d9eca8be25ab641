// Package mark signs and verifies the marks the reaper writes in tags (the
// notice time, the stop time, an EIP's hand-over), so that nobody who may
// merely tag a resource can forge one. The format is a public contract:
//
//	value   = <content> ";sig=" <mac>
//	content = the UTC time, e.g. 2026-12-01T08:00:00Z
//	          (for an EIP's hand-over: <instance ID> "@" <time>)
//	mac     = the first 22 characters of the unpadded base64url encoding of
//	          HMAC-SHA256(key = the secret's bytes,
//	                      message = <resource ID> "|" <tag key> "|" <content>)
//
// The resource ID is the instance, disk or snapshot ID, or the EIP's
// allocation ID; the tag key is the full key the mark is written under, so
// a mark copied to another resource or another key does not verify.
package mark

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

const (
	// TimeLayout is the one accepted time format: RFC 3339 in UTC, to the
	// second (e.g. 2026-12-01T08:00:00Z).
	TimeLayout = "2006-01-02T15:04:05Z"
	// Sep separates the content from the MAC.
	Sep = ";sig="
	// MACLen is how many base64url characters of the HMAC are kept (132
	// bits).
	MACLen = 22
	// MinSecretLen is the least length of REAPER_MARK_SECRET.
	MinSecretLen = 32
	// MaxValueLen is ECS's limit on a tag value.
	MaxValueLen = 128
)

// Status is what reading a tag found.
type Status int

// Statuses.
const (
	Absent     Status = iota // no such tag
	Valid                    // a mark signed by the current or the previous secret
	Unverified               // a value that is not a mark this tool wrote: forged, altered, copied or garbage
)

// Keys hold the secret marks are signed with and, during a rotation, the
// previous one, accepted only when reading. They never print.
type Keys struct {
	current, previous []byte
}

// NewKeys returns the keys of a secret and, optionally (""), the previous.
func NewKeys(secret, previous string) Keys {
	k := Keys{current: []byte(secret)}
	if previous != "" {
		k.previous = []byte(previous)
	}
	return k
}

// IsZero reports keys without a secret: nothing can be signed, and no mark
// verifies.
func (k Keys) IsZero() bool { return len(k.current) == 0 }

// String keeps the secrets out of any output.
func (k Keys) String() string {
	if k.IsZero() {
		return "mark.Keys{unset}"
	}
	return "mark.Keys{<redacted>}"
}

// GoString keeps %#v from printing the secrets.
func (k Keys) GoString() string { return k.String() }

// LogValue keeps slog from printing the secrets.
func (k Keys) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MAC is the mark's MAC of content on the resource under key.
func MAC(secret []byte, resourceID, key, content string) string {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(resourceID + "|" + key + "|" + content))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))[:MACLen]
}

// Sign returns the tag value of content on the resource under key.
func (k Keys) Sign(resourceID, key, content string) string {
	return content + Sep + MAC(k.current, resourceID, key, content)
}

// Verify reads a tag's value (present: the tag exists). It returns the
// content of a mark signed with either secret; anything else that is
// present, the empty value included, is Unverified.
func (k Keys) Verify(resourceID, key, value string, present bool) (string, Status) {
	if !present {
		return "", Absent
	}
	i := strings.LastIndex(value, Sep)
	if k.IsZero() || i < 0 || len(value) > MaxValueLen {
		return "", Unverified
	}
	content, mac := value[:i], value[i+len(Sep):]
	if len(mac) != MACLen {
		return "", Unverified
	}
	for _, secret := range [][]byte{k.current, k.previous} {
		if len(secret) > 0 && hmac.Equal([]byte(mac), []byte(MAC(secret, resourceID, key, content))) {
			return content, Valid
		}
	}
	return "", Unverified
}

// Elided stands for a MAC in anything shown to people.
const Elided = Sep + "…"

// macs matches a MAC as it follows Sep, of any length (an altered one too).
var macs = regexp.MustCompile(regexp.QuoteMeta(Sep) + `[A-Za-z0-9_-]*`)

// Shown renders a mark's value for people — reports, logs, errors, the
// CLI — as its content and Elided. A value shown whole could be copied
// onto the resource by anyone who reads a report (a dry run's included)
// and would verify: only the tool may write a mark.
func Shown(value string) string { return Redact(value) }

// Redact elides every MAC in a text that may quote a mark (an API's error
// message about the tags it was sent).
func Redact(text string) string {
	if !strings.Contains(text, Sep) {
		return text
	}
	return macs.ReplaceAllLiteralString(text, Elided)
}

// FormatTime writes a mark's time.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeLayout) }

// ParseTime reads a mark's time: exactly TimeLayout, not zero.
func ParseTime(s string) (time.Time, bool) {
	if len(s) != len(TimeLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(TimeLayout, s)
	if err != nil || t.IsZero() {
		return time.Time{}, false
	}
	return t, true
}

// Time signs a time mark.
func (k Keys) Time(resourceID, key string, t time.Time) string {
	return k.Sign(resourceID, key, FormatTime(t))
}

// ReadTime reads a time mark from tags. A signed value whose content is
// not a time is Unverified too: this tool never writes one.
func (k Keys) ReadTime(resourceID, key string, tags map[string]string) (time.Time, Status) {
	v, present := tags[key]
	content, st := k.Verify(resourceID, key, v, present)
	if st != Valid {
		return time.Time{}, st
	}
	t, ok := ParseTime(content)
	if !ok {
		return time.Time{}, Unverified
	}
	return t, Valid
}

// HandOver signs an EIP's hand-over mark: the EIP (allocation ID) was
// bound to instance, released at t.
func (k Keys) HandOver(allocationID, key, instance string, t time.Time) string {
	return k.Sign(allocationID, key, instance+"@"+FormatTime(t))
}

// ReadHandOver reads an EIP's hand-over mark from tags: the instance it
// was released with.
func (k Keys) ReadHandOver(allocationID, key string, tags map[string]string) (instance string, at time.Time, st Status) {
	v, present := tags[key]
	content, st := k.Verify(allocationID, key, v, present)
	if st != Valid {
		return "", time.Time{}, st
	}
	i := strings.LastIndex(content, "@")
	if i <= 0 {
		return "", time.Time{}, Unverified
	}
	t, ok := ParseTime(content[i+1:])
	if !ok {
		return "", time.Time{}, Unverified
	}
	return content[:i], t, Valid
}
