package ecsdouble

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestDeleteInstancesCodes(t *testing.T) {
	yes := requests.NewBoolean(true)
	cases := []struct {
		name   string
		region string
		ids    []string
		mod    func(*ecs.DeleteInstancesRequest)
		setup  func(*Server)
		status int
		code   string // "" = success
	}{
		{name: "postpaid stopped", region: "cn-hangzhou", ids: []string{"i-bp1postpaidstop0001"}},
		{name: "running without force", region: "cn-hangzhou", ids: []string{"i-bp1runningexpir0002"}, status: 403, code: "IncorrectInstanceStatus"},
		{name: "running with force", region: "cn-hangzhou", ids: []string{"i-bp1runningexpir0002"},
			mod: func(r *ecs.DeleteInstancesRequest) { r.Force = yes }},
		{name: "prepaid expired without terminate", region: "cn-hangzhou", ids: []string{"i-bp1prepaidexpir0003"}, status: 403, code: "ChargeTypeViolation"},
		{name: "prepaid expired with terminate", region: "cn-hangzhou", ids: []string{"i-bp1prepaidexpir0003"},
			mod: func(r *ecs.DeleteInstancesRequest) { r.TerminateSubscription = yes }},
		{name: "prepaid active", region: "cn-hangzhou", ids: []string{"i-bp1prepaidactiv0004"}, status: 403, code: "ChargeTypeViolation",
			mod: func(r *ecs.DeleteInstancesRequest) { r.TerminateSubscription, r.Force = yes, yes }},
		{name: "forced code", region: "cn-hangzhou", ids: []string{"i-bp1enilinked00012"}, status: 403, code: "InvalidOperation.EniLinked"},
		{name: "forced 400 code", region: "cn-hangzhou", ids: []string{"i-bp1postpaidstop0001"}, status: 400, code: "DependencyViolation.SLBConfiguring",
			setup: func(s *Server) {
				s.Mutate("i-bp1postpaidstop0001", func(in *Instance) { in.FailWith = "DependencyViolation.SLBConfiguring" })
			}},
		{name: "security lock", region: "cn-shanghai", ids: []string{"i-uf6securitylk0005"}, status: 403, code: "InstanceLockedForSecurity"},
		{name: "deletion protection", region: "cn-shanghai", ids: []string{"i-uf6protected00006"}, status: 403, code: "InvalidOperation.DeletionProtection"},
		{name: "transitional", region: "cn-shanghai", ids: []string{"i-uf6starting00010"}, status: 403, code: "IncorrectInstanceStatus",
			mod: func(r *ecs.DeleteInstancesRequest) { r.Force = yes }},
		{name: "initializing", region: "cn-shanghai", ids: []string{"i-uf6starting00010"}, status: 403, code: "IncorrectInstanceStatus.Initializing",
			setup: func(s *Server) { s.Mutate("i-uf6starting00010", func(in *Instance) { in.Status = "Initializing" }) }},
		{name: "cross region", region: "cn-hangzhou", ids: []string{"i-bp1postpaidstop0001", "i-uf6postpaidst0013"}, status: 400, code: "InvalidParameter.CrossRegionNotSupport"},
		{name: "not found", region: "cn-hangzhou", ids: []string{"i-bp1postpaidstop0001", "i-gone"}, status: 404, code: "InvalidInstanceIds.NotFound"},
		{name: "all or nothing", region: "cn-shanghai", ids: []string{"i-uf6postpaidst0013", "i-uf6protected00006"}, status: 403, code: "InvalidOperation.DeletionProtection"},
		{name: "no ids", region: "cn-hangzhou", ids: []string{}, status: 400, code: "MissingParameter"},
		{name: "too many ids", region: "cn-hangzhou", ids: manyIDs(101), status: 403, code: "InvalidParameter.TooManyInstanceIds"},
		{name: "bad client token", region: "cn-hangzhou", ids: []string{"i-bp1postpaidstop0001"}, status: 400, code: "InvalidParameter",
			mod: func(r *ecs.DeleteInstancesRequest) { r.ClientToken = strings.Repeat("x", 65) }},
		{name: "non-ascii client token", region: "cn-hangzhou", ids: []string{"i-bp1postpaidstop0001"}, status: 400, code: "InvalidParameter",
			mod: func(r *ecs.DeleteInstancesRequest) { r.ClientToken = "tök" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startSmall(t)
			if tc.setup != nil {
				tc.setup(s)
			}
			c := sdkClient(t, s)
			before := liveCount(s)
			req := deleteReq(tc.region, tc.ids...)
			if tc.mod != nil {
				tc.mod(req)
			}
			resp, err := c.DeleteInstances(req)
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
			if resp.RequestId == "" || !slices.Equal(s.Released(), tc.ids) {
				t.Fatalf("released %v, want %v", s.Released(), tc.ids)
			}
			for _, id := range tc.ids {
				if _, ok := s.Instance(id); ok {
					t.Fatalf("%s still present", id)
				}
			}
		})
	}
}

func manyIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("i-bp1many%04d", i)
	}
	return ids
}

func liveCount(s *Server) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.byID)
}

func TestDeleteReleasedDisappear(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	req := deleteReq("cn-shanghai", "i-uf6postpaidst0013")
	req.Force = requests.NewBoolean(true)
	req.QueryParams["ForceStop"] = "false" // absent from the SDK struct
	if _, err := c.DeleteInstances(req); err != nil {
		t.Fatal(err)
	}
	calls := s.Calls()
	last := calls[len(calls)-1]
	if last.Action != "DeleteInstances" || last.Params["ForceStop"] != "false" || last.Params["InstanceId.1"] != "i-uf6postpaidst0013" || last.Status != 200 {
		t.Fatalf("call record %+v", last)
	}
	ids, _ := describeAll(t, c, "cn-shanghai", "reaper-expires", 100)
	if slices.Contains(ids, "i-uf6postpaidst0013") || len(ids) != 5 {
		t.Fatalf("DescribeInstances after release: %v", ids)
	}
	lreq := ecs.CreateListTagResourcesRequest()
	lreq.RegionId = "cn-shanghai"
	lreq.ResourceType = "instance"
	lreq.ResourceId = &[]string{"i-uf6postpaidst0013"}
	lresp, err := c.ListTagResources(lreq)
	if err != nil {
		t.Fatal(err)
	}
	if len(lresp.TagResources.TagResource) != 0 {
		t.Fatalf("ListTagResources after release: %+v", lresp.TagResources)
	}
	// Releasing it again: it no longer exists.
	_, err = c.DeleteInstances(deleteReq("cn-shanghai", "i-uf6postpaidst0013"))
	serverErr(t, err, 404, "InvalidInstanceIds.NotFound")
}

func TestDeleteDryRun(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	req := deleteReq("cn-hangzhou", "i-bp1postpaidstop0001", "i-bp1prepaidexpir0003")
	req.DryRun = requests.NewBoolean(true)
	req.TerminateSubscription = requests.NewBoolean(true)
	_, err := c.DeleteInstances(req)
	serverErr(t, err, 400, "DRYRUN.SUCCESS")
	if len(s.Released()) != 0 {
		t.Fatalf("dry run released %v", s.Released())
	}
	req = deleteReq("cn-hangzhou", "i-bp1postpaidstop0001", "i-bp1prepaidexpir0003")
	req.DryRun = requests.NewBoolean(true)
	_, err = c.DeleteInstances(req)
	serverErr(t, err, 403, "ChargeTypeViolation")
}

func TestDeleteClientToken(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	mk := func(force bool, ids ...string) *ecs.DeleteInstancesRequest {
		r := deleteReq("cn-hangzhou", ids...)
		r.ClientToken = "123e4567-e89b-12d3-a456-426655440000"
		r.Force = requests.NewBoolean(force)
		return r
	}
	first, err := c.DeleteInstances(mk(false, "i-bp1postpaidstop0001"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.DeleteInstances(mk(false, "i-bp1postpaidstop0001"))
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if again.RequestId != first.RequestId || len(s.Released()) != 1 {
		t.Fatalf("replay answered %s (first %s), released %v", again.RequestId, first.RequestId, s.Released())
	}
	_, err = c.DeleteInstances(mk(true, "i-bp1postpaidstop0001"))
	serverErr(t, err, 400, "IdempotentParameterMismatch")
	_, err = c.DeleteInstances(mk(false, "i-bp1runningexpir0002"))
	serverErr(t, err, 400, "IdempotentParameterMismatch")
	// A failed call does not consume its token.
	r := deleteReq("cn-hangzhou", "i-bp1runningexpir0002")
	r.ClientToken = "tok-2"
	_, err = c.DeleteInstances(r)
	serverErr(t, err, 403, "IncorrectInstanceStatus")
	r = deleteReq("cn-hangzhou", "i-bp1runningexpir0002")
	r.ClientToken = "tok-2"
	r.Force = requests.NewBoolean(true)
	if _, err := c.DeleteInstances(r); err != nil {
		t.Fatal(err)
	}
}

func TestBeforeDeleteHook(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	var seen []string
	s.BeforeDelete(func(region string, ids []string) {
		seen = append(seen, region+":"+strings.Join(ids, ","))
		s.Mutate("i-bp1postpaidstop0001", func(in *Instance) { in.Status = "Running" })
		s.Remove("i-bp1prepaidexpir0003")
	})
	_, err := c.DeleteInstances(deleteReq("cn-hangzhou", "i-bp1postpaidstop0001"))
	serverErr(t, err, 403, "IncorrectInstanceStatus")
	req := deleteReq("cn-hangzhou", "i-bp1prepaidexpir0003")
	req.TerminateSubscription = requests.NewBoolean(true)
	_, err = c.DeleteInstances(req)
	serverErr(t, err, 404, "InvalidInstanceIds.NotFound")
	if len(seen) != 2 || seen[0] != "cn-hangzhou:i-bp1postpaidstop0001" {
		t.Fatalf("hook saw %v", seen)
	}
	in, ok := s.Instance("i-bp1postpaidstop0001")
	if !ok || in.Status != "Running" || in.Tags["team"] != "qa" {
		t.Fatalf("mutated instance %+v", in)
	}
	if len(s.Released()) != 0 {
		t.Fatalf("released %v", s.Released())
	}
}
