package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/webhookdouble"
)

// noticeEnv is the lifecycle with a webhook: alice owns every instance of
// the fine account (2) and of the other (5), all due a notice.
func noticeEnv(hook *webhookdouble.Server, extra ...string) []string {
	return append([]string{"REAPER_ACCOUNTS_EXCLUDE=" + orgExcluded + "," + orgNoRole,
		"REAPER_NOTIFY_URL=" + hook.URL(notify.DingTalk), "REAPER_NOTIFY_KIND=dingtalk", "REAPER_NOTIFY_SECRET=" + hookSecret,
		"REAPER_MARK_SECRET=" + fnMarkSecret, "REAPER_GRACE=24h", "REAPER_MAX_RELEASE_PERCENT=100"}, extra...)
}

func startHook(t *testing.T) *webhookdouble.Server {
	t.Helper()
	hook, err := webhookdouble.Start(hookToken, hookSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hook.Close)
	return hook
}

// digests are the hook's notices (the messages naming instances).
func digests(hook *webhookdouble.Server) []webhookdouble.Message {
	var out []webhookdouble.Message
	for _, m := range hook.Messages() {
		if strings.Contains(m.Text(), "i-") {
			out = append(out, m)
		}
	}
	return out
}

var instanceIDs = regexp.MustCompile(`i-[0-9]{3}-[0-9]{2}`)

// namedIDs are the instances a digest names, sorted.
func namedIDs(text string) []string {
	ids := slices.Compact(slices.Sorted(slices.Values(instanceIDs.FindAllString(text, -1))))
	return ids
}

// markWrites are an account's TagResources calls writing the notice mark.
func markWrites(srv *ecsdouble.Server) []ecsdouble.Call {
	var out []ecsdouble.Call
	for _, c := range srv.Calls() {
		if c.Action != "TagResources" || c.Status != 200 {
			continue
		}
		for k, v := range c.Params {
			if strings.HasPrefix(k, "Tag.") && strings.HasSuffix(k, ".Key") && v == "reaper-notified" {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// marked are the instances of account whose notice mark verifies.
func marked(s *orgStack, account string, n int) []string {
	var out []string
	srv := s.ecs.Account(account)
	for i := range n {
		id := fmt.Sprintf("i-%s-%02d", account[len(account)-3:], i)
		inst, _ := srv.Instance(id)
		if _, st := fnMarks.ReadTime(id, "reaper-notified", inst.Tags); st == mark.Valid {
			out = append(out, id)
		}
	}
	return out
}

func (s *fanoutStack) notifyAgain(t *testing.T) answer {
	t.Helper()
	b, _ := json.Marshal(fanout.Payload{Phase: fanout.PhaseNotify, Run: fanoutRun})
	return s.invoke(t, "notify-retry", b)
}

// The owners' notices across accounts go through the flow's Notify step:
// alice, due notices in two accounts, gets one digest naming both
// accounts' instances, sent before any mark is written in either; the
// Execute workers then mark exactly those, and send nothing. A Notify
// that fails after sending, and is retried, does not send it again. The one-invocation mode on the same
// fleet sends the same digest and writes the same marks.
func TestFanoutNoticesAcrossAccounts(t *testing.T) {
	hook := startHook(t)
	s := startFanout(t, orgFleets(), noticeEnv(hook)...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	executes := 0
	record := fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.DocNotices)
	alice := fanout.Key(fanout.DefaultResultPrefix, fanoutRun, fanout.OrgAccount, fanout.OwnerDoc("alice"))
	fr := s.runFlow(t, func(phase, account string, attempt int) bool {
		if phase == "notify" {
			// The first Notify sends the digest, then cannot write the
			// run's record and fails; the second cannot read whether alice
			// was told, sends nothing and fails; the third finds her told.
			s.oss.FailKey(record, 0)
			s.oss.FailKey(alice, 0)
			switch attempt {
			case 1:
				s.oss.FailKey(record, 1000)
			case 2:
				s.oss.FailKey(alice, 1000)
			}
			return false
		}
		if phase != "execute" {
			return false
		}
		executes++
		if executes == 1 {
			// Before the first Execute worker: the digest is out, no mark is.
			if n := len(digests(hook)); n != 1 {
				t.Errorf("%d digests before Execute, want the one", n)
			}
			for _, a := range []string{orgFine, orgOverCap} {
				if w := markWrites(s.ecs.Account(a)); len(w) != 0 {
					t.Errorf("%d marks written in %s before Execute", len(w), a)
				}
			}
		}
		return false
	})
	if fr.status != "Succeeded" {
		t.Fatalf("execution %s (%v)", fr.status, fr.invocations)
	}
	if n := strings.Count(strings.Join(fr.invocations, " "), "notify/:error"); n != 2 || !slices.Contains(fr.invocations, "notify/:ok") {
		t.Errorf("invocations %v: want Notify failed twice, then retried", fr.invocations)
	}
	got := digests(hook)
	if len(got) != 1 {
		t.Fatalf("%d digests, want one for the one owner across accounts, not resent by the retried Notify", len(got))
	}
	text := got[0].Text()
	for _, want := range []string{orgFine + "/cn-hangzhou", orgOverCap + "/cn-hangzhou"} {
		if !strings.Contains(text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, text)
		}
	}
	wantIDs := []string{"i-111-00", "i-111-01", "i-222-00", "i-222-01", "i-222-02", "i-222-03", "i-222-04"}
	if ids := namedIDs(text); !slices.Equal(ids, wantIDs) {
		t.Errorf("the digest names %v, want %v", ids, wantIDs)
	}
	for account, n := range map[string]int{orgFine: 2, orgOverCap: 5} {
		if m := marked(s.orgStack, account, n); len(m) != n {
			t.Errorf("%s: marked %v, want its %d", account, m, n)
		}
		for _, c := range markWrites(s.ecs.Account(account)) {
			if c.Time.Before(got[0].At) {
				t.Errorf("%s: a mark written at %v, before the digest at %v", account, c.Time, got[0].At)
			}
		}
		if r := s.released(account); len(r) != 0 {
			t.Errorf("released %v in %s before the grace", r, account)
		}
	}
	// The organisation's report (in OSS and, the same, in the log) shows
	// the notices as one invocation's does.
	rep := s.orgReport(t, fr)
	if n := rep.Notices; n == nil || n.Owners != 1 || n.Owed != 7 || n.Delivered != 1 || n.UnsentItems != 0 {
		t.Errorf("report notices %+v: want 1 owner, 7 owed, 1 delivered", n)
	}
	if got := rep.Totals.Outcomes["notified"]; got != 7 || rep.Error != "" {
		t.Errorf("report: %d notified, error %q; want 7, none", got, rep.Error)
	}
	// The run's summary record carries them too.
	logged, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.proc.WaitForOutput(logged, `"notices":{"owed":7,"owners":1,"delivered":1,`); err != nil {
		t.Errorf("the logged summary lacks the notices: %v", err)
	}
	// The run's documents name the mark's tag, never its secret nor the
	// webhook's.
	keys := s.oss.Keys(fanoutBucket)
	if !slices.Contains(keys, record) || !slices.Contains(keys, alice) {
		t.Errorf("keys %v: want Notify's record and alice's", keys)
	}
	for _, k := range keys {
		b, _ := s.oss.Object(fanoutBucket, k)
		for _, secret := range []string{fnMarkSecret, hookSecret, hookToken} {
			if strings.Contains(string(b), secret) {
				t.Errorf("%s holds a secret (%.6s...)", k, secret)
			}
		}
	}

	// CloudFlow retries Notify (its answer was lost): nothing is resent.
	if res := s.notifyAgain(t); res.Err != nil {
		t.Fatalf("notify retried: %+v", *res.Err)
	}
	if n := len(digests(hook)); n != 1 {
		t.Errorf("%d digests after a retried Notify, want still one", n)
	}

	// The one-invocation mode on the same fleet: the same digest, the
	// same marks.
	hookOff := startHook(t)
	off := startOrg(t, binary(t), orgFleets(), noticeEnv(hookOff)...)
	if res := off.invoke(t, "off", timerEvent("")); res.Err != nil {
		t.Fatalf("one invocation: %+v", *res.Err)
	}
	single := digests(hookOff)
	if len(single) != 1 || !slices.Equal(namedIDs(single[0].Text()), namedIDs(text)) {
		t.Errorf("one invocation sent %d digests naming %v; the fan-out one naming %v", len(single), namedIDsOf(single), namedIDs(text))
	}
	for account, n := range map[string]int{orgFine: 2, orgOverCap: 5} {
		if a, b := marked(s.orgStack, account, n), marked(off, account, n); !slices.Equal(a, b) {
			t.Errorf("%s: the fan-out marked %v, one invocation %v", account, a, b)
		}
	}
}

func namedIDsOf(ms []webhookdouble.Message) [][]string {
	var out [][]string
	for _, m := range ms {
		out = append(out, namedIDs(m.Text()))
	}
	return out
}

// The channel refuses the digest: no mark in any account, nothing
// released, the Execute workers fail naming the notice, and the
// execution and its report fail.
func TestFanoutNoticeFailedMarksNothing(t *testing.T) {
	hook := startHook(t)
	s := startFanout(t, orgFleets(), noticeEnv(hook)...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	hook.Inject(webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail, webhookdouble.Fail)
	fr := s.runFlow(t, nil)
	if fr.status != "Failed" {
		t.Errorf("execution %s: a refused digest fails it", fr.status)
	}
	for _, a := range []string{orgFine, orgOverCap} {
		if w := markWrites(s.ecs.Account(a)); len(w) != 0 {
			t.Errorf("%d marks written in %s after the digest failed", len(w), a)
		}
		if r := s.released(a); len(r) != 0 {
			t.Errorf("released %v in %s", r, a)
		}
	}
	rep := s.orgReport(t, fr)
	if !strings.Contains(rep.Error, "notice to alice (7) not delivered") {
		t.Errorf("report error %q: want the refused digest named", rep.Error)
	}
	for _, a := range []string{orgFine, orgOverCap} {
		if !strings.Contains(rep.Error, "account "+a+": notices not delivered") {
			t.Errorf("report error %q: want account %s's Execute failure named", rep.Error, a)
		}
	}
	listed := 0
	for _, r := range rep.Regions {
		for _, g := range r.Groups {
			if g.Outcome == "failed" && g.Reason == "notice-not-delivered" {
				listed += len(g.Instances)
			}
		}
	}
	if got := rep.Totals.Outcomes["failed"]; got != 7 || listed != 7 {
		t.Errorf("%d failed, %d listed failed/notice-not-delivered in the report; want 7", got, listed)
	}
}

// A dry run through the flow sends nothing and marks nothing; its report
// says what would be told.
func TestFanoutNoticesDryRun(t *testing.T) {
	hook := startHook(t)
	s := startFanout(t, orgFleets(), noticeEnv(hook, "REAPER_DRY_RUN=true")...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fr := s.runFlow(t, nil)
	if fr.status != "Succeeded" {
		t.Errorf("execution %s", fr.status)
	}
	if n := len(hook.Messages()); n != 0 {
		t.Errorf("a dry run sent %d messages", n)
	}
	for _, a := range []string{orgFine, orgOverCap} {
		if w := markWrites(s.ecs.Account(a)); len(w) != 0 {
			t.Errorf("a dry run wrote %d marks in %s", len(w), a)
		}
	}
	rep := s.orgReport(t, fr)
	would := rep.Totals.Outcomes["would-notify"]
	if n := rep.Notices; would != 7 || n == nil || n.Owed != 7 || n.Delivered != 0 {
		t.Errorf("report: %d would-notify, notices %+v; want 7 owed, none delivered", would, n)
	}
}

// A run the organisation's cap holds notifies nobody: the owners of the
// fine account, due notices, are not told, since nothing is written
// anywhere (a notice implies its mark).
func TestFanoutHeldRunNotifiesNobody(t *testing.T) {
	fleets := orgFleets()
	// The other account's five were told three days ago (verified marks,
	// past the grace): releases, over the organisation's cap of 2.
	told := expired(orgOverCap, 5)
	for i := range told {
		told[i].Tags["reaper-notified"] = fnMarks.Time(told[i].ID, "reaper-notified", time.Now().Add(-72*time.Hour))
	}
	fleets[orgOverCap] = ecsdouble.Fleet{Instances: told}
	hook := startHook(t)
	s := startFanout(t, fleets, noticeEnv(hook, "REAPER_MAX_RELEASE=10", "REAPER_ORG_MAX_RELEASE=2")...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fr := s.runFlow(t, nil)
	if fr.decide.Status != fanout.DecisionHeld || fr.status != "Failed" {
		t.Fatalf("decide %+v, execution %s: want held, failed", fr.decide, fr.status)
	}
	if !slices.Contains(fr.invocations, "notify/:ok") {
		t.Errorf("invocations %v: Notify runs, and tells nobody", fr.invocations)
	}
	if n := len(hook.Messages()); n != 0 {
		t.Errorf("a held run sent %d messages", n)
	}
	for _, a := range []string{orgFine, orgOverCap} {
		if w := markWrites(s.ecs.Account(a)); len(w) != 0 || len(s.released(a)) != 0 {
			t.Errorf("%s: %d marks written, released %v in a held run", a, len(w), s.released(a))
		}
	}
}

// With the lifecycle on and no channel, the fan-out marks without a
// notice, as the one-invocation mode does.
func TestFanoutMarksWithoutChannel(t *testing.T) {
	env := []string{"REAPER_ACCOUNTS_EXCLUDE=" + orgExcluded + "," + orgNoRole, "REAPER_MARK_SECRET=" + fnMarkSecret, "REAPER_GRACE=24h", "REAPER_MAX_RELEASE_PERCENT=100"}
	s := startFanout(t, orgFleets(), env...)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	if fr := s.runFlow(t, nil); fr.status != "Succeeded" {
		t.Fatalf("execution %s (%v)", fr.status, fr.invocations)
	}
	for account, n := range map[string]int{orgFine: 2, orgOverCap: 5} {
		if m := marked(s.orgStack, account, n); len(m) != n {
			t.Errorf("%s: marked %v, want its %d", account, m, n)
		}
	}
}
