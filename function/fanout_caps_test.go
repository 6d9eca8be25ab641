package main

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// notYet is n opted-in instances of an account that expire in 2099.
func notYet(account string, n int) []ecsdouble.Instance {
	out := expired(account, n)
	for i := range out {
		out[i].ID = fmt.Sprintf("i-%s-later-%02d", account[len(account)-3:], i)
		out[i].Tags["reaper-expires"] = "2099-01-01"
	}
	return out
}

// capsFleets: the fine member's two expired instances (of six opted in)
// each have an EIP the run releases after them, and it has an EIP an
// earlier run handed over; the other member has two expired instances (of
// six) and three expired disks (of seven) of its own. Instances alone are
// 4 writes; with the EIPs and the disks, 10. No share is over 50 %.
func capsFleets() map[string]ecsdouble.Fleet {
	fleets := orgFleets()
	fine := expired(orgFine, 2)
	var eips []ecsdouble.EIP
	for i, in := range fine {
		eips = append(eips, ecsdouble.EIP{AllocationID: fmt.Sprintf("eip-bp1fine%d", i), Address: fmt.Sprintf("47.1.2.%d", i), Region: "cn-hangzhou", Instance: in.ID})
	}
	hand := "eip-bp1handed"
	eips = append(eips, ecsdouble.EIP{AllocationID: hand, Address: "47.1.2.9", Region: "cn-hangzhou",
		Tags: map[string]string{handOverKey: fnMarks.HandOver(hand, handOverKey, "i-bp1gone0000001", time.Now().Add(-time.Hour))}})
	fleets[orgFine] = ecsdouble.Fleet{Instances: append(fine, notYet(orgFine, 4)...), EIPs: eips}
	var disks []ecsdouble.Disk
	for i := range 7 {
		expiry := "2020-01-01"
		if i >= 3 {
			expiry = "2099-01-01"
		}
		disks = append(disks, ecsdouble.Disk{ID: fmt.Sprintf("d-bp1other%d", i), Region: "cn-hangzhou", CreationTime: "2026-01-01T00:00Z",
			Tags: map[string]string{"reaper-expires": expiry}})
	}
	fleets[orgOverCap] = ecsdouble.Fleet{Instances: append(expired(orgOverCap, 2), notYet(orgOverCap, 4)...), Disks: disks}
	return fleets
}

func capsEnv(orgMax int) []string {
	return []string{"REAPER_RELEASE_EIPS=true", "REAPER_RESOURCES=instances,disks", "REAPER_MARK_SECRET=" + fnMarkSecret,
		"REAPER_MAX_RELEASE=20", "REAPER_MAX_RELEASE_PERCENT=100", "REAPER_ORG_MAX_RELEASE=" + fmt.Sprint(orgMax),
		"REAPER_ORG_MAX_RELEASE_PERCENT=50", "REAPER_PERCENT_CAP_MIN_ELIGIBLE=3",
		"REAPER_ACCOUNTS_EXCLUDE=" + orgExcluded + "," + orgNoRole}
}

// The organisation's count cap trips on every write one invocation
// counts, the EIPs released with instances or handed over and the disks
// included: 10 writes, 4 of them instances, over a cap of 9. Decide holds
// the run, naming them, as the one-invocation mode holds the same fleet;
// at a cap of 10 both release the same instances, EIPs and disks. (A plan
// read from the dry run's report counted those EIPs as EIPs swept by
// their own tag: 3 of 3, over the 50 % cap, held where one invocation
// releases.)
func TestFanoutOrganisationCapCountsEveryWrite(t *testing.T) {
	for _, tc := range []struct {
		orgMax int
		held   bool
	}{{9, true}, {10, false}} {
		t.Run(fmt.Sprintf("cap %d", tc.orgMax), func(t *testing.T) {
			env := capsEnv(tc.orgMax)
			s := startFanout(t, capsFleets(), env...)
			if res := s.invoke(t, "tick", tick("")); res.Err != nil {
				t.Fatalf("coordinator: %+v", *res.Err)
			}
			fr := s.runFlow(t, nil)
			rep := s.orgReport(t, fr)
			if rep.Cap == nil || rep.Cap.Eligible != 10 || rep.Cap.Instances != 4 || rep.Cap.OptedIn != 12 || rep.Cap.InstanceEIPs != 2 || rep.Cap.HandOvers != 1 ||
				len(rep.Cap.Kinds) != 1 || rep.Cap.Kinds["disks"] == nil || rep.Cap.Kinds["disks"].Eligible != 3 || rep.Cap.PercentExceeded {
				t.Errorf("the organisation's check %+v: want 10 writes (4 instances of 12, 2 of their EIPs, 1 handed over, 3 disks), no share over 50 %%", rep.Cap)
			}
			fanned := releasedIn(s.orgStack, fanoutAccounts...)

			off := startOrg(t, binary(t), capsFleets(), env...)
			res := off.invoke(t, "off", timerEvent(""))
			_, one := off.logged(t, res)
			single := releasedIn(off, fanoutAccounts...)
			if one.Cap == nil || !reflect.DeepEqual(one.Cap, rep.Cap) || one.Cap.Exceeded != tc.held {
				t.Errorf("one invocation's organisation check %+v, the fan-out's %+v: want the same, exceeded %v", one.Cap, rep.Cap, tc.held)
			}
			if !slices.Equal(fanned, single) {
				t.Errorf("fanned out released %v; one invocation released %v", fanned, single)
			}
			sameAccounts(t, rep, one, nil)
			if tc.held {
				if fr.decide.Status != fanout.DecisionHeld || fr.status != "Failed" || len(fanned) != 0 ||
					!strings.Contains(rep.Error, "the count cap of 9") || !strings.Contains(rep.Error, "1 EIPs handed over") {
					t.Errorf("decide %s (%s), execution %s, released %v: want held naming the EIPs, nothing released", fr.decide.Status, rep.Error, fr.status, fanned)
				}
				return
			}
			want := []string{"d-bp1other0", "d-bp1other1", "d-bp1other2", "eip-bp1fine0", "eip-bp1fine1", "eip-bp1handed",
				"i-111-00", "i-111-01", "i-222-00", "i-222-01"}
			if fr.decide.Status != fanout.DecisionProceed || fr.status != "Succeeded" || !slices.Equal(fanned, want) {
				t.Errorf("decide %s, execution %s, released %v: want %v", fr.decide.Status, fr.status, fanned, want)
			}
		})
	}
}

// Between Plan and Execute, one planned instance is started (its release
// now needs Force) and another instance expires. Through the binary,
// Execute releases only what the plan holds with the flags it was planned
// with: the started one waits (not-attempted), the newly expired one too
// (skipped/not-confirmed), and the run reports both.
func TestFanoutExecuteReleasesNoMoreThanPlanned(t *testing.T) {
	fleets := orgFleets()
	fleets[orgFine] = ecsdouble.Fleet{Instances: append(expired(orgFine, 3), notYet(orgFine, 1)...)}
	s := startFanout(t, fleets, "REAPER_RUNNING=force", "REAPER_MAX_RELEASE=10", "REAPER_MAX_RELEASE_PERCENT=100",
		"REAPER_ACCOUNTS_EXCLUDE="+orgExcluded+","+orgNoRole)
	if res := s.invoke(t, "tick", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fine := s.ecs.Account(orgFine)
	fr := s.runFlow(t, func(phase, account string, attempt int) bool {
		if phase == "execute" && account == orgFine && attempt == 1 {
			fine.Mutate("i-111-00", func(in *ecsdouble.Instance) { in.Status = "Running" })
			fine.Mutate("i-111-later-00", func(in *ecsdouble.Instance) { in.Tags["reaper-expires"] = "2020-01-01" })
		}
		return false
	})
	if got, want := s.released(orgFine), []string{"i-111-01", "i-111-02"}; !slices.Equal(got, want) {
		t.Errorf("released %v in %s, want %v: the plan's, with their planned flags", got, orgFine, want)
	}
	if in, ok := fine.Instance("i-111-00"); !ok || in.Status != "Running" {
		t.Errorf("i-111-00: %+v, %v: want it running, kept", in, ok)
	}
	rep := s.orgReport(t, fr)
	for _, a := range rep.Accounts {
		if a.Account != orgFine {
			continue
		}
		if a.Outcomes["not-attempted"] != 1 || a.Outcomes["skipped"] != 1 || a.Outcomes["released"] != 2 {
			t.Errorf("the account's part %+v: want 2 released, 1 not-attempted (flags), 1 skipped (not planned)", a)
		}
	}
	if fr.status != "Succeeded" {
		t.Errorf("the execution ended %s", fr.status)
	}
	out := s.proc.Output()
	for _, want := range []string{`"instance_id":"i-111-00","outcome":"not-attempted","reason":"decision-changed"`, `"instance_id":"i-111-later-00","outcome":"skipped","reason":"not-confirmed"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
}
