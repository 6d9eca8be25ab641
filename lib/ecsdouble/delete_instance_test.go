package ecsdouble

import (
	"slices"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func deleteOneReq(region, id string) *ecs.DeleteInstanceRequest {
	req := ecs.CreateDeleteInstanceRequest()
	req.RegionId = region
	req.InstanceId = id
	return req
}

func TestDeleteInstanceCodes(t *testing.T) {
	yes := requests.NewBoolean(true)
	cases := []struct {
		name   string
		region string
		id     string
		mod    func(*ecs.DeleteInstanceRequest)
		status int
		code   string // "" = success
	}{
		{name: "postpaid stopped", region: "cn-hangzhou", id: "i-bp1postpaidstop0001"},
		{name: "running without force", region: "cn-hangzhou", id: "i-bp1runningexpir0002", status: 403, code: "IncorrectInstanceStatus"},
		{name: "running with force", region: "cn-hangzhou", id: "i-bp1runningexpir0002",
			mod: func(r *ecs.DeleteInstanceRequest) { r.Force = yes }},
		{name: "prepaid expired without terminate", region: "cn-hangzhou", id: "i-bp1prepaidexpir0003", status: 403, code: "ChargeTypeViolation"},
		{name: "prepaid expired with terminate", region: "cn-hangzhou", id: "i-bp1prepaidexpir0003",
			mod: func(r *ecs.DeleteInstanceRequest) { r.TerminateSubscription = yes }},
		{name: "prepaid active", region: "cn-hangzhou", id: "i-bp1prepaidactiv0004", status: 403, code: "ChargeTypeViolation",
			mod: func(r *ecs.DeleteInstanceRequest) { r.TerminateSubscription, r.Force = yes, yes }},
		{name: "forced code", region: "cn-hangzhou", id: "i-bp1enilinked00012", status: 403, code: "InvalidOperation.EniLinked"},
		{name: "security lock", region: "cn-shanghai", id: "i-uf6securitylk0005", status: 403, code: "InstanceLockedForSecurity"},
		{name: "deletion protection", region: "cn-shanghai", id: "i-uf6protected00006", status: 403, code: "InvalidOperation.DeletionProtection"},
		{name: "other region", region: "cn-hangzhou", id: "i-uf6postpaidst0013", status: 404, code: "InvalidInstanceId.NotFound"},
		{name: "unknown", region: "cn-hangzhou", id: "i-gone", status: 404, code: "InvalidInstanceId.NotFound"},
		{name: "no id", region: "cn-hangzhou", id: "", status: 400, code: "MissingParameter"},
		{name: "bad flag", region: "cn-hangzhou", id: "i-bp1postpaidstop0001", status: 400, code: "InvalidParameter",
			mod: func(r *ecs.DeleteInstanceRequest) { r.QueryParams["Force"] = "yes" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startSmall(t)
			c := sdkClient(t, s)
			before := liveCount(s)
			req := deleteOneReq(tc.region, tc.id)
			if tc.mod != nil {
				tc.mod(req)
			}
			resp, err := c.DeleteInstance(req)
			if s.CallCount("DeleteInstance") != 1 {
				t.Fatalf("DeleteInstance calls = %d", s.CallCount("DeleteInstance"))
			}
			if tc.code != "" {
				serverErr(t, err, tc.status, tc.code)
				if len(s.Released()) != 0 || liveCount(s) != before {
					t.Fatalf("failed call released %v", s.Released())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.RequestId == "" || !slices.Equal(s.Released(), []string{tc.id}) || liveCount(s) != before-1 {
				t.Fatalf("released %v, want [%s]", s.Released(), tc.id)
			}
			if _, ok := s.Instance(tc.id); ok {
				t.Fatalf("%s still present", tc.id)
			}
		})
	}
}

func TestDeleteInstanceDryRunAndRepeat(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	req := deleteOneReq("cn-hangzhou", "i-bp1prepaidexpir0003")
	req.DryRun = requests.NewBoolean(true)
	req.TerminateSubscription = requests.NewBoolean(true)
	_, err := c.DeleteInstance(req)
	serverErr(t, err, 400, "DRYRUN.SUCCESS")
	req = deleteOneReq("cn-hangzhou", "i-bp1prepaidexpir0003")
	req.DryRun = requests.NewBoolean(true)
	_, err = c.DeleteInstance(req)
	serverErr(t, err, 403, "ChargeTypeViolation")
	if len(s.Released()) != 0 {
		t.Fatalf("dry run released %v", s.Released())
	}

	if _, err := c.DeleteInstance(deleteOneReq("cn-hangzhou", "i-bp1postpaidstop0001")); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteInstance(deleteOneReq("cn-hangzhou", "i-bp1postpaidstop0001"))
	serverErr(t, err, 404, "InvalidInstanceId.NotFound")
	ids, _ := describeAll(t, c, "cn-hangzhou", "reaper-expires", 100)
	if slices.Contains(ids, "i-bp1postpaidstop0001") {
		t.Fatalf("released instance still listed: %v", ids)
	}
	// The plural action is untouched by the singular one.
	_, err = c.DeleteInstances(deleteReq("cn-hangzhou", "i-bp1postpaidstop0001"))
	serverErr(t, err, 404, "InvalidInstanceIds.NotFound")
	if s.CallCount("DeleteInstance") != 4 || s.CallCount("DeleteInstances") != 1 {
		t.Fatalf("calls: singular %d, plural %d", s.CallCount("DeleteInstance"), s.CallCount("DeleteInstances"))
	}
}

func TestDeleteInstanceBeforeDeleteHook(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	var seen []string
	s.BeforeDelete(func(region string, ids []string) {
		seen = append(seen, region+":"+ids[0])
		s.Mutate("i-bp1postpaidstop0001", func(in *Instance) { in.Status = "Running" })
	})
	_, err := c.DeleteInstance(deleteOneReq("cn-hangzhou", "i-bp1postpaidstop0001"))
	serverErr(t, err, 403, "IncorrectInstanceStatus")
	if !slices.Equal(seen, []string{"cn-hangzhou:i-bp1postpaidstop0001"}) {
		t.Fatalf("hook saw %v", seen)
	}
}
