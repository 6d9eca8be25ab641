package fanout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Notice is one notice due in a region, as the Plan worker records it:
// what the owner's digest names, and the mark its delivery implies.
type Notice struct {
	Kind       string        `json:"kind,omitempty"` // "" for an instance, else a kind (lib/kinds)
	ID         string        `json:"id"`
	Name       string        `json:"name,omitempty"`
	Owner      string        `json:"owner"` // "" when the instance has no owner tag: the channel is told
	ExpiresAt  time.Time     `json:"expiresAt"`
	Action     string        `json:"action"` // release, stop, release-once-stopped
	When       time.Time     `json:"when"`   // no earlier than
	Again      bool          `json:"again,omitempty"`
	Unverified bool          `json:"unverified,omitempty"`
	Facts      *report.Facts `json:"facts,omitempty"`
	// Mark is the tag the Execute worker writes once the digest was
	// delivered (REAPER_MARK_KEY); its value, signed, is made when
	// written, so that the grace runs from the mark, never from the plan.
	Mark string `json:"mark"`
}

// Field bounds of a notice read back: a tag value is at most 128
// characters (256 bytes leave room for any UTF-8), a tag key 128.
const (
	maxNoticeText = 256
	maxTagKey     = 128
)

var actions = []string{decide.ActionRelease, decide.ActionStop, decide.ActionReleaseOnceStopped}

// checkNotices checks a region's notices: among its marks to write, each with a resource
// ID listed once in the plan, a known kind and action, times, and text
// within a tag's bounds.
func checkNotices(at string, r RegionPlan, id func(where, v string), bad func(string, ...any)) {
	if len(r.Owed) > r.Notices {
		bad("%s: %d notices listed but %d marks counted", at, len(r.Owed), r.Notices)
	}
	if r.Closed && len(r.Owed) > 0 {
		bad("%s: failed closed, yet plans notices", at)
	}
	for _, n := range r.Owed {
		where := at + " notice " + quote(n.ID)
		id(at, n.ID)
		switch {
		case n.Kind != "" && !slices.Contains(kinds.Names(), n.Kind):
			bad("%s: kind %s is unknown", where, quote(n.Kind))
		case !slices.Contains(actions, n.Action):
			bad("%s: action %s must be one of %s", where, quote(n.Action), strings.Join(actions, ", "))
		case n.When.IsZero() || n.ExpiresAt.IsZero():
			bad("%s: no time (when, expiresAt)", where)
		case !tagText(n.Owner, maxNoticeText) || !tagText(n.Name, maxNoticeText):
			bad("%s: the owner or name is not text within %d bytes", where, maxNoticeText)
		case n.Mark == "" || !tagText(n.Mark, maxTagKey):
			bad("%s: mark %s is not a tag key", where, quote(n.Mark))
		case n.Facts != nil && (!tagText(n.Facts.Name, maxNoticeText) || !tagText(n.Facts.Status, 64) || !tagText(n.Facts.ChargeType, 64)):
			bad("%s: its facts are not text within their bounds", where)
		}
	}
}

func tagText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// Delivery statuses of an owner's digest in the Notify record.
const (
	NoticeDelivered   = "delivered"    // told (or, with no channel, to be marked without a notice)
	NoticeFailed      = "failed"       // the channel refused it: not marked, the run fails
	NoticeUnsent      = "unsent"       // owed: too little time; the next run tells the owner
	NoticeWouldNotify = "would-notify" // a dry run: nothing sent
)

// NoticeRef names a notice an owner's digest named: its mark is written
// in that account and region.
type NoticeRef struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Kind    string `json:"kind,omitempty"`
	ID      string `json:"id"`
	Action  string `json:"action"`
	// ExpiresAt is the expiry the digest named: an expiry tag changed
	// since is another notice, not marked on this one's delivery.
	ExpiresAt time.Time `json:"expiresAt"`
}

// refKey is a NoticeRef as a map key (a time.Time is not comparable by ==).
type refKey struct {
	account, region, kind, id, action, expiresAt string
}

func (r NoticeRef) key() refKey {
	return refKey{r.Account, r.Region, r.Kind, r.ID, r.Action, r.ExpiresAt.UTC().Format(time.RFC3339Nano)}
}

// OwnerNotice is what became of one owner's digest.
type OwnerNotice struct {
	Run     RunID       `json:"run"`
	Owner   string      `json:"owner"`
	Status  string      `json:"status"`
	Why     string      `json:"why,omitempty"` // the channel's answer (failed), or why unsent
	Notices []NoticeRef `json:"notices"`
	Sealed  string      `json:"seal,omitempty"` // see Seal
}

// NoticeRecord is the Notify step's record (one per run): every owner's
// outcome. Execute workers mark only what it lists as delivered.
type NoticeRecord struct {
	Run     RunID         `json:"run"`
	DryRun  bool          `json:"dryRun,omitempty"`
	Channel string        `json:"channel,omitempty"` // the channel's kind; "" for none
	Owners  []OwnerNotice `json:"owners"`
	Sealed  string        `json:"seal,omitempty"` // see Seal
}

// SameNotices says whether a and b name the same notices, in any order.
func SameNotices(a, b []NoticeRef) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[refKey]int{}
	for _, r := range a {
		count[r.key()]++
	}
	for _, r := range b {
		if count[r.key()]--; count[r.key()] < 0 {
			return false
		}
	}
	return true
}

// OwnerDoc is the document recording one owner's delivered digest, written
// as soon as the channel took it, so that a retried Notify does not send
// it again: "told-" and a hash of the owner (any text a tag may hold).
func OwnerDoc(owner string) string {
	sum := sha256.Sum256([]byte(owner))
	return "told-" + hex.EncodeToString(sum[:16])
}

// DocNotifyStarted marks that a Notify attempt began: the first attempt
// of a run creates it, and only a retry (which finds it) reads the owners'
// records back.
const DocNotifyStarted = "notify-started"

// Delivered is the Execute worker's view of the record: the delivery of
// the notice of id (kind, action, expiry) in account and region, owned by owner.
type Delivered struct {
	byRef map[refKey]*OwnerNotice
}

// Deliveries indexes the record by notice.
func (r *NoticeRecord) Deliveries() *Delivered {
	d := &Delivered{byRef: map[refKey]*OwnerNotice{}}
	for i := range r.Owners {
		o := &r.Owners[i]
		for _, ref := range o.Notices {
			d.byRef[ref.key()] = o
		}
	}
	return d
}

// Of is the owner's outcome for ref, nil when no digest named it (or it
// named it for another owner: then this owner was not told).
func (d *Delivered) Of(ref NoticeRef, owner string) *OwnerNotice {
	o := d.byRef[ref.key()]
	if o == nil || o.Owner != owner {
		return nil
	}
	return o
}

// Summary is the record as the report's notices summary: owed, owners,
// delivered and what was left unsent (a dry run delivers none).
func (r *NoticeRecord) Summary() *report.Notices {
	if len(r.Owners) == 0 {
		return nil
	}
	n := &report.Notices{Owners: len(r.Owners)}
	for _, o := range r.Owners {
		n.Owed += len(o.Notices)
		switch o.Status {
		case NoticeDelivered:
			n.Delivered++
		case NoticeUnsent:
			for range o.Notices {
				n.AddUnsent(o.Owner, string(verdict.Deadline))
			}
		}
	}
	return n
}

// Failures are the owners whose digest the channel refused, for the report.
func (r *NoticeRecord) Failures() []string {
	var out []string
	for _, o := range r.Owners {
		if o.Status == NoticeFailed {
			who := o.Owner
			if who == "" {
				who = "the channel (no owner tag)"
			}
			out = append(out, fmt.Sprintf("notice to %s (%d) not delivered: %s", who, len(o.Notices), o.Why))
		}
	}
	return out
}

// ReadNotices reads the run's Notify record: an error when Notify did not
// finish, since without it nothing may be marked, or when its seal does
// not verify with secrets (the mark secret, current and previous).
func ReadNotices(ctx context.Context, store *Store, run RunID, secrets ...string) (*NoticeRecord, error) {
	var r NoticeRecord
	found, err := store.Get(ctx, run, OrgAccount, DocNotices, &r)
	switch {
	case err != nil:
		return nil, fmt.Errorf("read the notices' record: %w", err)
	case !found || r.Run != run:
		return nil, fmt.Errorf("run %s has no notices' record: Notify did not finish, so nothing is marked", run)
	}
	if err := r.Verify(secrets...); err != nil {
		return nil, fmt.Errorf("run %s's notices' record is not trusted, so nothing is marked: %w", run, err)
	}
	return &r, nil
}
