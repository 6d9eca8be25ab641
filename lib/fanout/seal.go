package fanout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Notify's documents say which notices were delivered, and a delivered
// notice is marked, then released on its grace: anyone who may write the
// bucket could otherwise forge a delivery and have machines released
// without warning. So Notify seals them with the mark secret (which only
// the function holds, and which already guards every mark), and nothing
// is marked on a document whose seal does not verify.

// ErrUnsealed: a Notify document whose seal does not verify.
var ErrUnsealed = errors.New("not sealed by this run's Notify with the mark secret")

// sealDomains keep these seals apart from each other and from the marks'.
const (
	sealRecord = "ecs-reaper fan-out notify record v1\n"
	sealOwner  = "ecs-reaper fan-out owner told v1\n"
)

func seal(domain, secret string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(domain))
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

func verifySeal(domain, got string, v any, secrets []string) error {
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		want, err := seal(domain, secret, v)
		if err != nil {
			return err
		}
		if hmac.Equal([]byte(got), []byte(want)) {
			return nil
		}
	}
	return ErrUnsealed
}

// asStored makes v what reading it back gives (JSON turns invalid UTF-8,
// say in a channel's answer, into U+FFFD), so that its seal verifies
// once read.
func asStored[T any](v *T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	var back T
	if err := json.Unmarshal(b, &back); err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	*v = back
	return nil
}

// Seal signs the record (its run, channel and every owner's outcome).
func (r *NoticeRecord) Seal(secret string) error {
	r.Sealed = ""
	if err := asStored(r); err != nil {
		return err
	}
	s, err := seal(sealRecord, secret, r)
	r.Sealed = s
	return err
}

// Verify checks the record's seal with the current or previous secret.
// Without a secret no mark can be written, so only a record that lists
// no delivery is accepted.
func (r NoticeRecord) Verify(secrets ...string) error {
	if !slices.ContainsFunc(secrets, func(s string) bool { return s != "" }) {
		if slices.ContainsFunc(r.Owners, func(o OwnerNotice) bool { return o.Status == NoticeDelivered }) {
			return fmt.Errorf("%w: it lists deliveries, and no mark secret is set", ErrUnsealed)
		}
		return nil
	}
	got := r.Sealed
	r.Sealed = ""
	return verifySeal(sealRecord, got, r, secrets)
}

// Seal signs one owner's outcome.
func (o *OwnerNotice) Seal(secret string) error {
	o.Sealed = ""
	if err := asStored(o); err != nil {
		return err
	}
	s, err := seal(sealOwner, secret, o)
	o.Sealed = s
	return err
}

// Verify checks the owner's record's seal.
func (o OwnerNotice) Verify(secrets ...string) error {
	got := o.Sealed
	o.Sealed = ""
	return verifySeal(sealOwner, got, o, secrets)
}
