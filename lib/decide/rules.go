package decide

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// ECS values the rules compare against.
const (
	ChargePrePaid  = "PrePaid"  // subscription
	ChargePostPaid = "PostPaid" // pay-as-you-go

	StatusRunning = "Running"
	StatusStopped = "Stopped"
)

// Lock reasons (OperationLocks.LockReason), lower-cased.
const (
	LockFinancial = "financial"
	LockSecurity  = "security"
)

// Decide applies the release rules to one instance and returns exactly one
// outcome. It is pure: the same inputs always give the same Decision. See
// the package documentation for the rules and their order.
func Decide(inst Instance, rules Rules, now time.Time) Decision {
	d := Decision{InstanceID: inst.ID}
	skip := func(r Reason, format string, args ...any) Decision {
		d.Reason = r
		d.Detail = fmt.Sprintf(format, args...)
		return d
	}

	// 1. Opt-in, then data the rules cannot trust.
	tagValue, optedIn := inst.Tags[rules.OptInKey]
	if rules.OptInKey == "" || !optedIn {
		return skip(ReasonNoOptIn, "no %s tag", tagName(rules.OptInKey))
	}
	if problem := badID(inst.ID); problem != "" {
		return skip(ReasonInvalidData, "instance ID %s", problem)
	}
	if inst.Problem != "" {
		return skip(ReasonInvalidData, "%s", inst.Problem)
	}
	if inst.ChargeType != ChargePrePaid && inst.ChargeType != ChargePostPaid {
		return skip(ReasonInvalidData, "unknown charge type %s (want PrePaid or PostPaid)", quote(inst.ChargeType))
	}

	// 2. Exclusion tag, any value.
	if _, keep := inst.Tags[rules.KeepKey]; keep {
		return skip(ReasonExcluded, "has the %s tag", tagName(rules.KeepKey))
	}

	// 3. Deletion protection.
	if inst.DeletionProtection {
		return skip(ReasonDeletionProtected, "deletion protection is on")
	}

	// Subscription expiry, needed by the financial-lock rule and rule 6.
	prePaid := inst.ChargeType == ChargePrePaid
	var subEnd time.Time
	var subErr error
	if prePaid {
		subEnd, subErr = ParseECSTime(inst.ExpiredTime)
	}

	// 4. Operation locks: security first, then any other lock but financial.
	var financial bool
	for _, raw := range inst.LockReasons {
		if normLock(raw) == LockSecurity {
			return skip(ReasonSecurityLocked, "security lock (release would also delete disks kept with DeleteWithInstance=false)")
		}
	}
	for _, raw := range inst.LockReasons {
		switch normLock(raw) {
		case LockFinancial:
			financial = true
		default:
			return skip(ReasonLocked, "lock reason %s", quote(raw))
		}
	}
	if financial {
		switch {
		case !prePaid:
			return skip(ReasonLocked, "financial lock on a %s instance (overdue payment)", inst.ChargeType)
		case subErr != nil:
			return skip(ReasonLocked, "financial lock and ExpiredTime %s cannot be parsed", quote(inst.ExpiredTime))
		case subEnd.After(now):
			return skip(ReasonLocked, "financial lock while the subscription runs until %s (overdue payment)", utc(subEnd))
		}
		// Financial lock on an expired subscription: allowed.
	}

	// 5. Expiry from the opt-in tag.
	created, _ := ParseECSTime(inst.CreationTime) // zero when unknown; only a TTL needs it
	expires, err := ParseExpiry(tagValue, created, rules.Location)
	if err != nil {
		return skip(ReasonInvalidExpiry, "tag %s=%s: %v", rules.OptInKey, quote(tagValue), err)
	}
	d.ExpiresAt = expires.UTC()
	if now.Before(expires) {
		return skip(ReasonNotExpired, "expires %s (tag %s=%s)", utc(expires), rules.OptInKey, quote(tagValue))
	}
	why := fmt.Sprintf("expired %s (tag %s=%s)", utc(expires), rules.OptInKey, quote(tagValue))

	// 6. Subscription.
	terminate := false
	if prePaid {
		if subErr != nil {
			return skip(ReasonInvalidData, "%s; PrePaid ExpiredTime %s cannot be parsed", why, quote(inst.ExpiredTime))
		}
		if subEnd.After(now) {
			return skip(ReasonSubscriptionActive, "%s; subscription active until %s", why, utc(subEnd))
		}
		terminate = true
		why += fmt.Sprintf("; subscription expired %s", utc(subEnd))
	}

	// 7. Status.
	force := false
	switch inst.Status {
	case StatusStopped:
		why += "; stopped"
	case StatusRunning:
		if !rules.Force {
			return skip(ReasonRunning, "%s; running and force is off", why)
		}
		force = true
		why += "; running, released with force"
	default:
		return skip(ReasonTransitional, "%s; status %s", why, quote(inst.Status))
	}
	d.Release = true
	d.Flags = Flags{TerminateSubscription: terminate, Force: force}
	d.Detail = why
	return d
}

// normLock canonicalises a lock reason for comparison.
func normLock(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// badID describes what is wrong with an instance ID, or returns "".
func badID(id string) string {
	if strings.TrimSpace(id) == "" {
		return "is empty"
	}
	for _, r := range id {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return fmt.Sprintf("%q contains white space or control characters", id)
		}
	}
	return ""
}

// tagName renders a tag key for a detail message.
func tagName(k string) string {
	if k == "" {
		return "opt-in (no key configured)"
	}
	return quote(k)
}

// quote leaves plain values as they are and quotes anything else, so details
// stay readable and one line long.
func quote(s string) string {
	if s == "" {
		return `""`
	}
	for _, r := range s {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.:+/@", r)) {
			return strconv.Quote(s)
		}
	}
	return s
}

// utc formats t as RFC 3339 in UTC.
func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// DecideIn decides an instance as the API of region described it. An
// answer that does not name that region (no RegionId, or another) is not
// trusted: invalid-data, whatever its tags say, and trusted is false so
// that it does not count toward the opted-in total. how says where the
// answer came from ("listed", "re-read") for the detail.
func DecideIn(inst Instance, region string, rules Rules, now time.Time, how string) (d Decision, trusted bool) {
	switch inst.Region {
	case region:
		return Decide(inst, rules, now), true
	case "":
		return Decision{InstanceID: inst.ID, Reason: ReasonInvalidData,
			Detail: fmt.Sprintf("%s in %s, but the API's answer has no RegionId", how, region)}, false
	}
	return Decision{InstanceID: inst.ID, Reason: ReasonInvalidData,
		Detail: fmt.Sprintf("%s in %s but reports region %q", how, region, inst.Region)}, false
}

// Resource is a resource of a kind (package kinds) as the rules read it.
type Resource struct {
	ID   string
	Tags map[string]string
	// Created is the API's CreationTime, the start of a TTL.
	Created string
	// Held, when not "", says why the resource must stay whatever its
	// tags say (in use, a system disk, ...); HeldDetail explains it.
	Held       Reason
	HeldDetail string
}

// DecideResource applies the rules to a resource that carries the opt-in
// tag itself: the keep tag, then the resource's own safety (Held), then
// the expiry (a TTL counts from Created). It never releases what the
// instance rules would keep for the same tags.
func DecideResource(r Resource, rules Rules, now time.Time) Decision {
	id, tags, held := r.ID, r.Tags, r.Held
	d := Decision{InstanceID: id}
	skip := func(r Reason, format string, args ...any) Decision {
		d.Reason, d.Detail = r, fmt.Sprintf(format, args...)
		return d
	}
	tagValue, optedIn := tags[rules.OptInKey]
	switch _, keep := tags[rules.KeepKey]; {
	case !optedIn:
		return skip(ReasonNoOptIn, "no %s tag", tagName(rules.OptInKey))
	case badID(id) != "":
		return skip(ReasonInvalidData, "ID %s", badID(id))
	case keep:
		return skip(ReasonExcluded, "has the %s tag", tagName(rules.KeepKey))
	case held != "":
		return skip(held, "%s", r.HeldDetail)
	}
	createdAt, _ := ParseECSTime(r.Created)
	expires, err := ParseExpiry(tagValue, createdAt, rules.Location)
	if err != nil {
		return skip(ReasonInvalidExpiry, "tag %s=%s: %v", rules.OptInKey, quote(tagValue), err)
	}
	d.ExpiresAt = expires.UTC()
	if now.Before(expires) {
		return skip(ReasonNotExpired, "expires %s (tag %s=%s)", utc(expires), rules.OptInKey, quote(tagValue))
	}
	d.Release = true
	d.Detail = fmt.Sprintf("expired %s (tag %s=%s)", utc(expires), rules.OptInKey, quote(tagValue))
	return d
}
