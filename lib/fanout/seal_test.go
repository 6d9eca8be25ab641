package fanout

import (
	"errors"
	"testing"
)

func TestNoticeRecordSeal(t *testing.T) {
	const cur, prev = "current-secret-current-secret-000", "previous-secret-previous-secret-0"
	rec := NoticeRecord{Run: "20260301T040000Z", Channel: "dingtalk", Owners: []OwnerNotice{
		{Run: "20260301T040000Z", Owner: "alice", Status: NoticeFailed, Why: "refused", Notices: []NoticeRef{{Account: "1", Region: "r", ID: "i-1", Action: "release"}}}}}
	if err := rec.Seal(prev); err != nil {
		t.Fatal(err)
	}
	if err := rec.Verify(cur, prev); err != nil {
		t.Errorf("sealed with the previous secret: %v", err)
	}
	if err := rec.Verify(cur); !errors.Is(err, ErrUnsealed) {
		t.Errorf("verified with another secret: %v", err)
	}
	forged := rec
	forged.Owners = []OwnerNotice{rec.Owners[0]}
	forged.Owners[0].Status = NoticeDelivered
	if err := forged.Verify(cur, prev); !errors.Is(err, ErrUnsealed) {
		t.Errorf("a failed digest rewritten as delivered verified: %v", err)
	}
	if err := forged.Verify("", ""); !errors.Is(err, ErrUnsealed) {
		t.Errorf("without a secret, a record listing a delivery verified: %v", err)
	}
	if err := rec.Verify(""); err != nil {
		t.Errorf("without a secret, a record listing no delivery (nothing to mark): %v", err)
	}

	o := rec.Owners[0]
	o.Status = NoticeDelivered
	if err := o.Seal(cur); err != nil {
		t.Fatal(err)
	}
	if err := o.Verify(cur); err != nil {
		t.Errorf("owner's record: %v", err)
	}
	o.Notices = append(o.Notices, NoticeRef{Account: "1", Region: "r", ID: "i-2", Action: "release"})
	if err := o.Verify(cur); !errors.Is(err, ErrUnsealed) {
		t.Errorf("an owner's record naming one more notice verified: %v", err)
	}
	if err := (OwnerNotice{Sealed: rec.Sealed}).Verify(prev); !errors.Is(err, ErrUnsealed) {
		t.Errorf("a record's seal verified an owner's record")
	}
}
