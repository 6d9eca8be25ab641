package ecsdouble

import (
	"context"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// Each account has its own quota, as ECS throttles per account: one
// account throttled leaves another's calls alone. A key no account holds
// is refused.
func TestAccountsQuotasAndUnknownKeys(t *testing.T) {
	reg := NewRegistry()
	fleet := func(id string) Fleet {
		return Fleet{Instances: []Instance{{ID: id, Region: "cn-hangzhou", Status: "Stopped"}}}
	}
	a, err := StartAccounts(map[string]Fleet{"11": fleet("i-a"), "22": fleet("i-b")}, reg, WithRateLimit(1))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.AddCredential("11", "LTAIplantedA", "planted-secret-a", "")
	a.AddCredential("22", "LTAIplantedB", "planted-secret-b", "")
	client := func(ak, secret string) *ecsapi.Client {
		c, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret}, Endpoint: a.URL()})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	in := ecsapi.DescribeInput{Region: "cn-hangzhou", MaxResults: 10}
	ca, cb := client("LTAIplantedA", "planted-secret-a"), client("LTAIplantedB", "planted-secret-b")
	if _, err := ca.DescribeInstances(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.DescribeInstances(ctx, in); ecsapi.Classify(err) != ecsapi.ClassThrottled {
		t.Fatalf("A's second call in a second = %v, want throttled", err)
	}
	page, err := cb.DescribeInstances(ctx, in)
	if err != nil || len(page.Instances) != 1 || page.Instances[0].ID != "i-b" {
		t.Fatalf("B while A is throttled = %+v, %v", page, err)
	}
	if a.Account("11").Throttled() != 1 || a.Account("22").Throttled() != 0 {
		t.Fatalf("throttled A %d, B %d", a.Account("11").Throttled(), a.Account("22").Throttled())
	}
	if _, err := client("LTAIunknown", "x").DescribeInstances(ctx, in); ecsapi.Code(err) != "InvalidAccessKeyId.NotFound" {
		t.Fatalf("unknown key = %v", err)
	}
}
