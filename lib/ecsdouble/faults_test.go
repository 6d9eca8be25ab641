package ecsdouble

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func regions(c *ecs.Client) error {
	_, err := c.DescribeRegions(ecs.CreateDescribeRegionsRequest())
	return err
}

func TestFaultErrors(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	for _, tc := range []struct {
		fault  *Fault
		status int
		code   string
	}{
		{Throttle(), 400, "Throttling.User"},
		{Unavailable(), 503, "ServiceUnavailable"},
		{Internal(), 500, "InternalError"},
		{Error(403, "Forbidden.RAM"), 403, "Forbidden.RAM"},
	} {
		h := s.FailNext("DescribeRegions", 1, tc.fault)
		serverErr(t, regions(c), tc.status, tc.code)
		if err := regions(c); err != nil {
			t.Fatalf("after %s: %v", tc.code, err)
		}
		if h.Fired() != 1 {
			t.Fatalf("%s fired %d times", tc.code, h.Fired())
		}
	}
}

func TestFaultBodies(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)

	s.FailNext("DescribeRegions", 1, HTML502())
	var se *sdkerrors.ServerError
	if err := regions(c); !errors.As(err, &se) || se.HttpStatus() != 502 || se.ErrorCode() != "" {
		t.Fatalf("HTML 502: %v", err)
	}

	s.FailNext("DescribeRegions", 1, Truncated())
	var ce *sdkerrors.ClientError
	if err := regions(c); !errors.As(err, &ce) || ce.ErrorCode() != sdkerrors.JsonUnmarshalErrorCode {
		t.Fatalf("truncated: %v", err)
	}

	s.FailNext("DescribeRegions", 1, Reset())
	if err := regions(c); err == nil || errors.As(err, &se) {
		t.Fatalf("reset: %v", err)
	}
	if err := regions(c); err != nil {
		t.Fatalf("after reset: %v", err)
	}
	codes := map[string]bool{}
	for _, call := range s.Calls() {
		codes[call.Code] = true
	}
	for _, want := range []string{"HTML502", "Truncated", "ConnectionReset"} {
		if !codes[want] {
			t.Errorf("no call recorded with %s: %v", want, codes)
		}
	}
}

func TestFaultDamagedDelete(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	s.FailNext("DeleteInstances", 1, Reset())
	if _, err := c.DeleteInstances(deleteReq("cn-hangzhou", "i-bp1postpaidstop0001")); err == nil {
		t.Fatal("reset delete succeeded")
	}
	if len(s.Released()) != 0 {
		t.Fatal("a plain fault must not apply the delete")
	}
	s.FailNext("DeleteInstances", 1, Truncated().AfterApplying())
	if _, err := c.DeleteInstances(deleteReq("cn-hangzhou", "i-bp1postpaidstop0001")); err == nil {
		t.Fatal("truncated delete succeeded")
	}
	if got := s.Released(); len(got) != 1 {
		t.Fatalf("AfterApplying should release: %v", got)
	}
}

func TestFaultRules(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	h := s.Inject(Rule{Action: "DescribeRegions", Nth: 2, Fault: Unavailable()})
	for i, wantErr := range []bool{false, true, false, false} {
		if err := regions(c); (err != nil) != wantErr {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	h.Remove()

	// Region-scoped rule.
	s.Inject(Rule{Action: "DescribeInstances", Region: "cn-shanghai", Fault: Throttle()})
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-hangzhou"
	if _, err := c.DescribeInstances(req); err != nil {
		t.Fatal(err)
	}
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-shanghai"
	_, err := c.DescribeInstances(req)
	serverErr(t, err, 400, "Throttling.User")
	s.ClearFaults()

	// OnRequest sees the call and may pick a fault.
	s.OnRequest(func(c *Call) *Fault {
		if c.Action == "DescribeInstances" && c.Params["InstanceIds"] != "" {
			return Internal()
		}
		return nil
	})
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-shanghai"
	if _, err := c.DescribeInstances(req); err != nil {
		t.Fatal(err)
	}
	req = ecs.CreateDescribeInstancesRequest()
	req.RegionId = "cn-shanghai"
	req.InstanceIds = `["i-uf6kept"]`
	_, err = c.DescribeInstances(req)
	serverErr(t, err, 500, "InternalError")
	s.OnRequest(nil)
}

func TestFaultProbabilitySeeded(t *testing.T) {
	pattern := func() []bool {
		s := startSmall(t, WithSeed(42))
		c := sdkClient(t, s)
		s.Inject(Rule{Action: "DescribeRegions", Probability: 0.5, Fault: Throttle()})
		var out []bool
		for range 30 {
			out = append(out, regions(c) != nil)
		}
		return out
	}
	a, b := pattern(), pattern()
	fails := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different pattern at %d", i)
		}
		if a[i] {
			fails++
		}
	}
	if fails == 0 || fails == len(a) {
		t.Fatalf("p=0.5 failed %d of %d", fails, len(a))
	}
}

func TestLatencyAndCancellation(t *testing.T) {
	s := startSmall(t, WithLatency(20*time.Millisecond))
	c := sdkClient(t, s)
	start := time.Now()
	if err := regions(c); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("latency not applied: %v", d)
	}
	s.SetLatency(0)

	// A slow answer past the client's timeout: the handler stops waiting.
	s.FailNext("DescribeRegions", 1, Slow(time.Minute))
	c.SetReadTimeout(30 * time.Millisecond)
	var se *sdkerrors.ServerError
	if err := regions(c); err == nil || errors.As(err, &se) {
		t.Fatalf("slow answer past the read timeout: %v", err)
	}
	c.SetReadTimeout(5 * time.Second)

	s.SetLatency(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/?Action=DescribeRegions", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		_ = resp.Body.Close()
		t.Fatal("cancelled request answered")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		calls := s.Calls()
		if n := len(calls); n > 0 && calls[n-1].Status == 0 && calls[n-1].Action == "DescribeRegions" && calls[n-1].Fault == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("handler kept waiting after the client went away")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestConcurrentUse(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 2, Instances: 400, Regions: 2})
	s := startFleet(t, f)
	s.Inject(Rule{Action: "DescribeInstances", Probability: 0.2, Fault: Throttle()})
	done := make(chan error, 8)
	for w := range 8 {
		// One SDK client per goroutine: v1.63.107 mutates the shared
		// http.Client timeout on every call, which -race reports.
		c := sdkClient(t, s)
		go func() {
			var err error
			for i := w; i < 200; i += 8 {
				in := f.Instances[i]
				switch i % 3 {
				case 0:
					req := deleteReq(in.Region, in.ID)
					req.QueryParams["Force"] = "true"
					_, err = c.DeleteInstances(req)
				case 1:
					req := ecs.CreateDescribeInstancesRequest()
					req.RegionId = in.Region
					_, err = c.DescribeInstances(req)
					var se *sdkerrors.ServerError
					if errors.As(err, &se) && se.ErrorCode() == "Throttling.User" {
						err = nil
					}
				default:
					s.Mutate(in.ID, func(x *Instance) { x.Tags["touched"] = "1" })
				}
				if err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err) // only eligible PostPaid instances are generated here
		}
	}
	if n := len(s.Released()); n != 67 {
		t.Fatalf("released %d", n)
	}
}

// The paging faults damage a listing's answer: the token it was read at
// handed back, the entries emptied (token and total kept), or the
// previous page served again.
func TestPagingFaults(t *testing.T) {
	f := Fleet{Instances: []Instance{{ID: "i-1", Region: "cn-hangzhou", Status: "Running"}}}
	for i := range 15 {
		f.Disks = append(f.Disks, Disk{ID: fmt.Sprintf("d-%02d", i), Region: "cn-hangzhou"})
		f.EIPs = append(f.EIPs, EIP{AllocationID: fmt.Sprintf("eip-%02d", i), Address: fmt.Sprintf("47.0.0.%d", i), Region: "cn-hangzhou"})
	}
	s := startFleet(t, f)
	disks := func(token string) map[string]any {
		t.Helper()
		status, m := raw(t, s, map[string]string{"Action": "DescribeDisks", "RegionId": "cn-hangzhou", "MaxResults": "10", "NextToken": token})
		if status != 200 {
			t.Fatalf("DescribeDisks: %d %v", status, m)
		}
		return m
	}
	entries := func(m map[string]any, outer, inner string) []any {
		list, _ := m[outer].(map[string]any)[inner].([]any)
		return list
	}
	s.FailNext("DescribeDisks", 1, CycleToken())
	if m := disks("10"); m["NextToken"] != "10" || len(entries(m, "Disks", "Disk")) != 5 {
		t.Errorf("cycle: NextToken %v with %d disks, want 10 and the 5 of the page", m["NextToken"], len(entries(m, "Disks", "Disk")))
	}
	s.FailNext("DescribeDisks", 1, EmptyPage())
	if m := disks(""); m["NextToken"] != "10" || len(entries(m, "Disks", "Disk")) != 0 {
		t.Errorf("empty: NextToken %v with %d disks, want 10 and none", m["NextToken"], len(entries(m, "Disks", "Disk")))
	}
	eips := func(n int) map[string]any {
		t.Helper()
		status, m := raw(t, s, map[string]string{"Action": "DescribeEipAddresses", "Version": VPCAPIVersion, "RegionId": "cn-hangzhou",
			"PageSize": "10", "PageNumber": strconv.Itoa(n)})
		if status != 200 {
			t.Fatalf("DescribeEipAddresses: %d %v", status, m)
		}
		return m
	}
	s.FailNext("DescribeEipAddresses", 1, RepeatPage())
	got := entries(eips(2), "EipAddresses", "EipAddress")
	if len(got) != 10 || got[0].(map[string]any)["AllocationId"] != "eip-00" {
		t.Errorf("repeat: page 2 served %d EIPs, want page 1's 10", len(got))
	}
	s.FailNext("DescribeEipAddresses", 1, EmptyPage())
	if m := eips(1); m["TotalCount"] != float64(15) || len(entries(m, "EipAddresses", "EipAddress")) != 0 {
		t.Errorf("empty: TotalCount %v with %d EIPs, want 15 and none", m["TotalCount"], len(entries(m, "EipAddresses", "EipAddress")))
	}
	if got := entries(eips(2), "EipAddresses", "EipAddress"); len(got) != 5 {
		t.Errorf("after the faults, page 2 has %d EIPs, want 5", len(got))
	}
}
