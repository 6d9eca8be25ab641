package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// A plan rewritten in OSS after Decide counted it (a late Plan worker,
// anyone with write access to the bucket) is not executed: Execute writes
// only the plan the caps were applied to, so the organisation's cap cannot
// be passed between the phases. The account's Execute fails, the
// execution fails, and nothing is released there.
func TestFanoutExecuteRefusesAPlanChangedSinceDecide(t *testing.T) {
	s := startFanout(t, orgFleets(), "REAPER_MAX_RELEASE=3", "REAPER_ACCOUNTS_EXCLUDE="+orgExcluded)
	if res := s.invoke(t, "tick-1", tick("")); res.Err != nil {
		t.Fatalf("coordinator: %+v", *res.Err)
	}
	fine := s.ecs.Account(orgFine)
	key := fanout.Key(fanout.DefaultResultPrefix, fanoutRun, orgFine, fanout.DocPlan)
	fr := s.runFlow(t, func(phase, account string, attempt int) bool {
		if phase != "execute" || account != orgFine || attempt != 1 {
			return false
		}
		fine.Add(ecsdouble.Instance{ID: "i-111-late", Region: "cn-hangzhou", Status: "Stopped", Tags: map[string]string{"reaper-expires": "2020-01-01"}})
		b, ok := s.oss.Object(fanoutBucket, key)
		if !ok {
			t.Fatal("no plan in OSS")
		}
		var p fanout.Plan
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatal(err)
		}
		r := &p.Regions[0]
		r.OptedIn++
		r.Release[0].IDs = append(r.Release[0].IDs, "i-111-late")
		b, _ = json.Marshal(p)
		s.oss.Put(fanoutBucket, key, b)
		return false
	})
	if got := fine.Released(); len(got) != 0 {
		t.Errorf("released %v from a plan Decide never counted", got)
	}
	if slices.Contains(fr.invocations, "execute/"+orgFine+":ok") || fr.status != "Failed" {
		t.Errorf("invocations %v, execution %s: the Execute worker must refuse the plan and the execution fail", fr.invocations, fr.status)
	}
	if !strings.Contains(s.proc.Output(), "not the plan Decide counted") {
		t.Errorf("the log does not say why the plan was refused")
	}
}
