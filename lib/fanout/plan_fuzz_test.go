package fanout_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
)

// FuzzPlanValidate: a plan read from OSS is untrusted. Whatever the bytes,
// reading and checking them never panics, and a plan Validate accepts is
// decided without a negative count, alone or summed with itself over many
// accounts (the organisation's check).
func FuzzPlanValidate(f *testing.F) {
	seed, _ := json.Marshal(planOf(accA, 4, 10))
	f.Add(seed)
	f.Add([]byte(`{"run":"` + string(run) + `","account":"` + accA + `","status":"planned","regions":[{"region":"cn-hangzhou","optedIn":16777216,"notices":3,` +
		`"release":[{"flags":{"terminateSubscription":true,"force":false},"ids":["i-1"]}],"handOvers":["eip-1"],"instanceEips":["eip-2"],` +
		`"kinds":{"disks":{"optedIn":16777216,"eligible":["d-1"]}}}]}`))
	f.Add([]byte(`{"run":"` + string(run) + `","account":"` + accA + `","status":"unreachable","regions":[]}`))
	f.Add([]byte(`{"run":"` + string(run) + `","account":"` + accA + `","status":"planned","regions":[{"region":"cn-hangzhou","optedIn":144115188075855872,` +
		`"release":[{"flags":{"terminateSubscription":false,"force":false},"ids":["i-1"]}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p fanout.Plan
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if dec.Decode(&p) != nil {
			return
		}
		if err := p.Validate(run, accA); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		var accounts []string
		plans := map[string]*fanout.Plan{}
		for i := range 64 {
			a := accA[:12] + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "00"
			q := p
			q.Account = a
			accounts = append(accounts, a)
			plans[a] = &q
		}
		d := fanout.Decide(manifest(accounts...), plans, nil, caps)
		if c := d.Org; c.OptedIn < 0 || c.Eligible < 0 || c.Percent < 0 {
			t.Fatalf("the organisation's check went negative: %+v", c)
		}
		for _, k := range d.Org.Kinds {
			if k.OptedIn < 0 || k.Percent < 0 {
				t.Fatalf("a kind's check went negative: %+v", k)
			}
		}
	})
}
