package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// logged is the part of a logged report these tests read (the log's
// regions shadow their instance and batch lists).
// loggedReport is the report an invocation logged, put back together
// (FC keeps no answer body for a failed invocation: the logs carry the
// report).
func loggedReport(t *testing.T, proc *fcdouble.Process, requestID string) *report.Report {
	t.Helper()
	return readLogged(t, proc, "", requestID)
}

func sectionOutcome(sec *report.Section, id string) string {
	if sec == nil {
		return ""
	}
	for _, g := range sec.Groups {
		for _, it := range g.Instances {
			if it.ID == id {
				return string(g.Outcome) + "/" + string(g.Reason)
			}
		}
	}
	return ""
}

const writesFleet = `{
 "instances": [
  {"id": "i-bp1writes0000001", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-01-01"}}
 ],
 "disks": [
  {"id": "d-bp1writes-expired", "region": "cn-hangzhou", "size": 100, "tags": {"reaper-expires": "2026-01-01"}}
 ],
 "eips": [
  {"allocationId": "eip-bp1writes", "address": "47.1.2.4", "region": "cn-hangzhou", "instance": "i-bp1writes0000001"%s}
 ]
}`

// Every failed write of every kind fails the invocation, whose error
// names it (kind, ID, code) and whose logged report carries it.
func TestBinaryEveryFailedWriteFailsTheInvocation(t *testing.T) {
	cases := []struct {
		name    string
		eip     string // extra EIP fields
		env     []string
		fault   ecsdouble.Rule
		section func(*report.Region) *report.Section
		id      string
		want    []string
	}{
		{
			name: "DeleteDisk answered IncorrectDiskStatus", env: []string{"REAPER_RESOURCES=instances,disks"},
			fault:   ecsdouble.Rule{Action: "DeleteDisk", Fault: ecsdouble.Error(403, "IncorrectDiskStatus")},
			section: func(r *report.Region) *report.Section { return r.Section("disks") }, id: "d-bp1writes-expired",
			want: []string{"disk d-bp1writes-expired", "IncorrectDiskStatus"},
		},
		{
			name: "ReleaseEipAddress answered IncorrectEipStatus", env: []string{"REAPER_RELEASE_EIPS=true", "REAPER_MARK_SECRET=" + fnMarkSecret},
			fault:   ecsdouble.Rule{Action: "ReleaseEipAddress", Fault: ecsdouble.Error(400, "IncorrectEipStatus")},
			section: func(r *report.Region) *report.Section { return r.Section("eips") }, id: "eip-bp1writes",
			want: []string{"EIP eip-bp1writes", "IncorrectEipStatus"},
		},
		{
			name: "the hand-over mark could not be written", eip: `, "staysUnassociating": true`, env: []string{"REAPER_RELEASE_EIPS=true", "REAPER_MARK_SECRET=" + fnMarkSecret},
			fault:   ecsdouble.Rule{Action: "TagResources", Fault: ecsdouble.Error(400, "InvalidTagKey.Malformed")},
			section: func(r *report.Region) *report.Section { return r.Section("eips") }, id: "eip-bp1writes",
			want: []string{"EIP eip-bp1writes", "hand-over mark", "InvalidTagKey.Malformed"},
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fleet := strings.Replace(writesFleet, "%s", tc.eip, 1)
			s := startFleetStack(t, binary(t), fleet, append([]string{"REAPER_REGIONS=cn-hangzhou"}, tc.env...)...)
			s.ecs.Inject(tc.fault)
			id := "writes-" + string(rune('a'+i))
			res := s.invoke(t, id, timerEvent(""))
			wantError(t, res, append([]string{"releases failed"}, tc.want...)...)
			rep := loggedReport(t, s.proc, id)
			if rep.Error == "" || !strings.Contains(rep.Error, tc.want[0]) {
				t.Errorf("logged report's error %q", rep.Error)
			}
			if got := sectionOutcome(tc.section(rep.Regions[0]), tc.id); !strings.HasPrefix(got, "failed/") {
				t.Errorf("%s in the logged report: %q, want failed", tc.id, got)
			}
			sum := loggedSummary(t, s.proc, id)
			checkSummary(t, sum, rep)
			if !slices.ContainsFunc(sum.Failures, func(f report.SummaryFailure) bool { return f.ID == tc.id && f.Kind != report.KindInstances }) {
				t.Errorf("the logged summary's failures %+v do not name %s", sum.Failures, tc.id)
			}
			if _, ok := s.ecs.Instance("i-bp1writes0000001"); ok {
				t.Error("the instance's release was held back by another kind's failure")
			}
		})
	}
}

// A resource's notice mark that could not be written fails the invocation.
func TestBinaryResourceNoticeMarkThatFails(t *testing.T) {
	l := startLifecycleFleet(t, `{"instances": [], "eips": [
 {"allocationId": "eip-bp1owed", "address": "47.1.2.5", "region": "cn-hangzhou", "tags": {"reaper-expires": "2026-11-01", "owner": "13800138000"}}]}`,
		"REAPER_RESOURCES=eips")
	l.ecs.Inject(ecsdouble.Rule{Action: "TagResources", Fault: ecsdouble.Error(400, "InvalidTagKey.Malformed")})
	wantError(t, l.tick(t, lifeDay0), "releases failed", "EIP eip-bp1owed", "InvalidTagKey.Malformed")
	// The notice, then the run's summary (a failure is worth telling).
	if msgs := l.hook.Messages(); len(msgs) != 2 || !strings.Contains(msgs[0].Text(), "eip-bp1owed") || !strings.Contains(msgs[1].Text(), "1 failed") {
		t.Fatalf("%d messages: want the notice and the summary that says the failure", len(msgs))
	}
	rep := loggedReport(t, l.proc, "tick-"+lifeDay0.Format("0102T1504"))
	if got := sectionOutcome(rep.Regions[0].Section("eips"), "eip-bp1owed"); got != "failed/InvalidTagKey.Malformed" {
		t.Errorf("logged outcome %q", got)
	}
}

// owedFleet: five owners, one expired instance each, never told; their
// names run against their due dates.
const owedFleet = `{"instances": [
 {"id": "i-bp1owed00000005", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-01", "owner": "13800000005"}},
 {"id": "i-bp1owed00000004", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-02", "owner": "13800000004"}},
 {"id": "i-bp1owed00000003", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-03", "owner": "13800000003"}},
 {"id": "i-bp1owed00000002", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-04", "owner": "13800000002"}},
 {"id": "i-bp1owed00000001", "region": "cn-hangzhou", "status": "Stopped", "creationTime": "2026-01-01T00:00Z", "tags": {"reaper-expires": "2026-11-05", "owner": "13800000001"}}
]}`

// tickWithin invokes the function at when with a function timeout.
func (l *lifeStack) tickWithin(t *testing.T, when time.Time, id string, timeout time.Duration) answer {
	t.Helper()
	l.mu.Lock()
	l.clock = when
	l.mu.Unlock()
	ev, _ := json.Marshal(map[string]string{"triggerTime": when.UTC().Format(time.RFC3339), "triggerName": "hourly", "payload": ""})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := l.fc.Invoke(ctx, fcdouble.Invocation{RequestID: id, Event: ev, Timeout: timeout, Credentials: creds, Region: "cn-hangzhou"})
	if err != nil {
		t.Fatal(err)
	}
	return answer{res, l.proc}
}

// told lists the owners the DingTalk double heard from, in order.
func (l *lifeStack) toldOwners() []string {
	var out []string
	for _, m := range l.hook.Messages() {
		for i := 5; i >= 1; i-- {
			if owner := "1380000000" + string(rune('0'+i)); strings.Contains(m.Text(), "@"+owner) {
				out = append(out, owner)
			}
		}
	}
	return out
}

// DingTalk paces 3 s a message: a short invocation tells the owners it
// can still mark, earliest due first, and leaves the rest to the next
// tick; it succeeds (it made progress) and says what it left.
func TestBinaryNoticesWithinTheDeadline(t *testing.T) {
	l := startLifecycleFleet(t, owedFleet, "REAPER_DEADLINE_MARGIN=5s")
	res := l.tickWithin(t, lifeDay0, "owed-1", 12*time.Second)
	rep := decodeReport(t, res)
	checkSchema(t, reportSchema(t), reportBody(t, res)) // the notices summary included
	told := l.toldOwners()
	if len(told) == 0 || len(told) == 5 {
		t.Fatalf("told %v: want some, not all, in 12 s at 3 s a message with a 5 s margin", told)
	}
	want := []string{"13800000005", "13800000004", "13800000003", "13800000002", "13800000001"} // earliest due first
	if !slices.Equal(told, want[:len(told)]) {
		t.Errorf("told %v, want earliest due first %v", told, want[:len(told)])
	}
	for i, owner := range want {
		inst, _ := l.ecs.Instance("i-bp1owed0000000" + owner[len(owner)-1:])
		marked := inst.Tags["reaper-notified"] != ""
		if marked != (i < len(told)) {
			t.Errorf("owner %s (told: %v) marked: %v: each owner told is marked, no other", owner, i < len(told), marked)
		}
	}
	n := rep.Notices
	if n == nil || n.Delivered != len(told) || n.UnsentOwners != 5-len(told) || rep.Warning == "" || !strings.Contains(rep.Warning, "notices owed were not sent") {
		t.Fatalf("notices %+v, warning %q", n, rep.Warning)
	}
	// The next tick goes on with the owners left.
	decodeReport(t, l.tickWithin(t, lifeDay0.Add(time.Hour), "owed-2", 60*time.Second))
	if got := l.toldOwners(); !slices.Equal(got, want) {
		t.Errorf("after the second tick told %v, want each owner once, in due order", got)
	}
}

// An invocation too short to tell anyone and mark them fails: every tick
// would do the same.
func TestBinaryNoticesThatNeverFit(t *testing.T) {
	l := startLifecycleFleet(t, owedFleet, "REAPER_DEADLINE_MARGIN=5s")
	wantError(t, l.tickWithin(t, lifeDay0, "owed-none", 6*time.Second), "notices owed but not sent", "5 of 5 notices owed were not sent")
	if told := l.toldOwners(); len(told) != 0 {
		t.Fatalf("told %v, whose marks could not be written", told)
	}
	// The one message is the failed run's summary: a failed run is never quiet.
	if msgs := l.hook.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Text(), "notices owed but not sent") {
		for _, m := range msgs {
			t.Log(m.Text())
		}
		t.Fatalf("%d messages: want only the run's summary, naming the failure", len(msgs))
	}
	if rep := loggedReport(t, l.proc, "owed-none"); rep.Notices == nil || rep.Notices.UnsentItems != 5 || rep.Error == "" {
		t.Fatalf("logged report notices %+v, error %q", rep.Notices, rep.Error)
	}
}
