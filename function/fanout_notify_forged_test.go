package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

// The channel refuses alice's digest, then someone who may write the
// bucket rewrites Notify's record to say it was delivered: the Execute
// workers refuse the record (its seal, made with the mark secret, no
// longer verifies), so no mark is written and nothing will be released
// without a warning.
func TestFanoutForgedNoticeRecordMarksNothing(t *testing.T) {
	hook := startHook(t)
	s := startFanout(t, orgFleets(), noticeEnv(hook)...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	hook.Inject(webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail)
	key := fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocNotices)
	forged := false
	fr := s.runFlow(t, func(phase, account string, attempt int) bool {
		if phase != "execute" || forged {
			return false
		}
		forged = true
		b, ok := s.oss.Object(fanoutBucket, key)
		if !ok {
			t.Fatal("no Notify record in OSS")
		}
		var rec fanout.NoticeRecord
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		for i := range rec.Owners {
			rec.Owners[i].Status, rec.Owners[i].Why = fanout.NoticeDelivered, ""
		}
		b, _ = json.Marshal(rec)
		s.oss.Put(fanoutBucket, key, b)
		return false
	})
	if !forged {
		t.Fatal("no Execute ran")
	}
	for _, a := range []string{orgFine, orgOverCap} {
		if w := markWrites(s.ecs.Account(a)); len(w) != 0 {
			t.Errorf("%d marks written in %s on a forged record: released later without a notice", len(w), a)
		}
	}
	if fr.status != "Failed" {
		t.Errorf("execution %s: a forged record fails it", fr.status)
	}
	if !strings.Contains(s.proc.Output(), "notices' record is not trusted") {
		t.Errorf("the log does not say why the record was refused")
	}
}

// Someone who may write the bucket plants a record saying alice was told
// (and that a Notify attempt began) before Notify runs: Notify refuses it
// rather than skip her digest, and nothing is marked.
func TestFanoutForgedOwnerRecordMarksNothing(t *testing.T) {
	hook := startHook(t)
	s := startFanout(t, orgFleets(), noticeEnv(hook)...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	var refs []fanout.NoticeRef
	for i := range 2 {
		refs = append(refs, fanout.NoticeRef{Account: orgFine, Region: "cn-hangzhou", ID: "i-111-0" + string(rune('0'+i)), Action: "release"})
	}
	for i := range 5 {
		refs = append(refs, fanout.NoticeRef{Account: orgOverCap, Region: "cn-hangzhou", ID: "i-222-0" + string(rune('0'+i)), Action: "release"})
	}
	told, _ := json.Marshal(fanout.OwnerNotice{Run: fanoutRun, Owner: "alice", Status: fanout.NoticeDelivered, Notices: refs})
	s.oss.Put(fanoutBucket, fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.OwnerDoc("alice")), told)
	s.oss.Put(fanoutBucket, fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocNotifyStarted), []byte("{}"))
	fr := s.runFlow(t, nil)
	for _, a := range []string{orgFine, orgOverCap} {
		if w := markWrites(s.ecs.Account(a)); len(w) != 0 && len(digests(hook)) == 0 {
			t.Errorf("%d marks written in %s, and alice was never told", len(w), a)
		}
	}
	if fr.status != "Failed" {
		t.Errorf("execution %s: a forged owner's record fails it", fr.status)
	}
	if !strings.Contains(s.proc.Output(), fanout.ErrUnsealed.Error()) {
		t.Errorf("the log does not say why alice's record was refused")
	}
}

// A refused digest's answer is kept in Notify's record and the report:
// no document of the run holds the webhook's token or secret, nor the
// mark secret (its seals are HMACs keyed with it).
func TestFanoutRefusedDigestKeepsNoSecret(t *testing.T) {
	hook := startHook(t)
	s := startFanout(t, orgFleets(), noticeEnv(hook)...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	hook.Inject(webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail)
	s.runFlow(t, nil)
	record := fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocNotices)
	if b, _ := s.oss.Object(fanoutBucket, record); !strings.Contains(string(b), `"failed"`) {
		t.Fatalf("Notify's record %s: want the refused digest in it", b)
	}
	for _, k := range s.oss.Keys(fanoutBucket) {
		b, _ := s.oss.Object(fanoutBucket, k)
		for _, secret := range []string{fnMarkSecret, hookSecret, hookToken} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds a secret (%.6s...)", k, secret)
			}
		}
	}
	for _, secret := range []string{fnMarkSecret, hookSecret, hookToken} {
		if strings.Contains(s.proc.Output(), secret) {
			t.Errorf("the log holds a secret (%.6s...)", secret)
		}
	}
}

// A told-record sealed with the mark secret but naming other notices than
// the plans owe its owner (here one of alice's seven) is not this run's
// Notify's: a retried Notify refuses it rather than skip alice's digest
// and have her instances marked untold.
func TestFanoutOwnerRecordOfOtherNoticesMarksNothing(t *testing.T) {
	hook := startHook(t)
	s := startFanout(t, orgFleets(), noticeEnv(hook)...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fr := s.runFlow(t, func(phase, _ string, attempt int) bool {
		if phase != "notify" || attempt != 1 {
			return false
		}
		planned := fanout.Key(fanout.DefaultResultPrefix, fanoutRun, orgFine, fanout.DocPlan)
		b, ok := s.oss.Object(fanoutBucket, planned)
		if !ok {
			t.Fatal("no plan")
		}
		var p fanout.Plan
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		n := p.Regions[0].Owed[0]
		told := fanout.OwnerNotice{Run: fanoutRun, Owner: "alice", Status: fanout.NoticeDelivered,
			Notices: []fanout.NoticeRef{{Account: orgFine, Region: p.Regions[0].Region, Kind: n.Kind, ID: n.ID, Action: n.Action, ExpiresAt: n.ExpiresAt}}}
		if err := told.Seal(fnMarkSecret); err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(told)
		s.oss.Put(fanoutBucket, fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.OwnerDoc("alice")), b)
		s.oss.Put(fanoutBucket, fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocNotifyStarted), []byte("{}"))
		return false
	})
	if len(digests(hook)) == 0 {
		for _, a := range []string{orgFine, orgOverCap} {
			if w := markWrites(s.ecs.Account(a)); len(w) != 0 {
				t.Errorf("%d marks written in %s, and alice was never told", len(w), a)
			}
		}
	}
	if fr.status != "Failed" || !strings.Contains(s.proc.Output(), "names other notices than the plans owe") {
		t.Errorf("execution %s: want it failed, the log naming the record", fr.status)
	}
}
