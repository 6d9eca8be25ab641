package decide_test

import (
	"fmt"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
)

func ExampleDecide() {
	rules := decide.Rules{OptInKey: "reaper-expires", KeepKey: "reaper-keep"}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

	stopped := decide.Instance{
		ID:           "i-stopped",
		Status:       "Stopped",
		ChargeType:   "PostPaid",
		ExpiredTime:  "2099-12-31T15:59Z", // pay-as-you-go placeholder, ignored
		CreationTime: "2026-11-01T08:00Z",
		Tags:         map[string]string{"reaper-expires": "2026-11-20"},
	}
	d := decide.Decide(stopped, rules, now)
	fmt.Println(d.Release, d.Flags, d.Detail)

	kept := stopped
	kept.ID = "i-kept"
	kept.Tags = map[string]string{"reaper-expires": "7d", "reaper-keep": ""}
	d = decide.Decide(kept, rules, now)
	fmt.Println(d.Release, d.Reason)

	// Output:
	// true {false false} expired 2026-11-20T00:00:00Z (tag reaper-expires=2026-11-20); stopped
	// false excluded
}
