package ecsdouble

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

func TestRateLimitPerActionAndRegion(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 3, Instances: 40, Regions: 2})
	s := startFleet(t, f, WithRateLimit(5))
	api, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret}, Endpoint: s.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	describe := func(region string) error {
		_, err := api.DescribeInstances(ctx, ecsapi.DescribeInput{Region: region, MaxResults: 10})
		return err
	}
	start := time.Now()
	ok, throttled := 0, 0
	for range 8 {
		err := describe("cn-hangzhou")
		var apiErr *ecsapi.Error
		switch {
		case err == nil:
			ok++
		case errors.As(err, &apiErr) && apiErr.Class == ecsapi.ClassThrottled && apiErr.HTTPStatus == 400 && apiErr.Code == "Throttling":
			throttled++
		default:
			t.Fatalf("call answered %v, want success or 400 Throttling classified as throttled", err)
		}
	}
	if time.Since(start) >= time.Second {
		t.Skip("the machine took over a second for 8 calls; the window has moved on")
	}
	if ok != 5 || throttled != 3 || s.Throttled() != 3 {
		t.Fatalf("%d answered, %d throttled (double counts %d); want 5 and 3", ok, throttled, s.Throttled())
	}
	// Another region and another action have limits of their own.
	if err := describe("cn-shanghai"); err != nil {
		t.Fatalf("another region: %v", err)
	}
	if _, err := api.ListTagResources(ctx, ecsapi.ListTagInput{Region: "cn-hangzhou", TagKey: "reaper-expires"}); err != nil {
		t.Fatalf("another action: %v", err)
	}
	// The raw SDK sees the API's answer: HTTP 400, code Throttling.
	_, err = sdkClient(t, s).DescribeInstances(describeReq("cn-hangzhou"))
	serverErr(t, err, 400, "Throttling")
	// A second later the window has room again.
	time.Sleep(time.Until(start.Add(1100 * time.Millisecond)))
	if err := describe("cn-hangzhou"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// Lifting the limit lets every call through.
	s.SetRateLimit(0)
	for range 10 {
		if err := describe("cn-hangzhou"); err != nil {
			t.Fatalf("without a limit: %v", err)
		}
	}
}

// Over a few seconds the limit admits perSecond calls a second, not more.
func TestRateLimitRate(t *testing.T) {
	f := GenerateFleet(GenConfig{Seed: 3, Instances: 10})
	s := startFleet(t, f, WithRateLimit(20))
	c := sdkClient(t, s)
	start := time.Now()
	answered := 0
	for time.Since(start) < 1500*time.Millisecond {
		if _, err := c.DescribeInstances(describeReq("cn-hangzhou")); err == nil {
			answered++
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Two full windows at most: 20 in [0, 1 s) and 20 in [1 s, 1.5 s).
	if answered < 21 || answered > 40 || s.Throttled() == 0 {
		t.Fatalf("%d answered in 1.5 s at 20/s, %d throttled", answered, s.Throttled())
	}
}

func describeReq(region string) *ecs.DescribeInstancesRequest {
	req := ecs.CreateDescribeInstancesRequest()
	req.RegionId = region
	return req
}
