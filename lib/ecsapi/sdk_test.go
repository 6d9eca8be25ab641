package ecsapi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

const (
	ak     = "LTAI-ecsapi-test"
	secret = "ecsapi-secret-Zq9"
	token  = "ecsapi-sts-token-Xw7"
)

func start(t *testing.T, instances ...ecsdouble.Instance) (*ecsdouble.Server, *ecsapi.Client) {
	t.Helper()
	srv, err := ecsdouble.Start(ecsdouble.Fleet{Instances: instances}, ecsdouble.WithCredential(ak, secret, token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: token}, Endpoint: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c
}

func stoppedInstance(id string) ecsdouble.Instance {
	return ecsdouble.Instance{ID: id, Region: "cn-hangzhou", Status: "Stopped", ChargeType: "PostPaid",
		CreationTime: "2026-01-01T00:00Z", Tags: map[string]string{"reaper-expires": "2026-02-01"},
		LockReasons: []string{"financial"}}
}

func lastCall(srv *ecsdouble.Server) ecsdouble.Call {
	calls := srv.Calls()
	return calls[len(calls)-1]
}

func TestDescribeInstancesMapsTheResponse(t *testing.T) {
	srv, c := start(t, stoppedInstance("i-a"), stoppedInstance("i-b"), stoppedInstance("i-c"))
	page, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-a", "i-c"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := lastCall(srv).Params["InstanceIds"]; got != `["i-a","i-c"]` {
		t.Errorf("InstanceIds sent as %q, want a JSON array", got)
	}
	if len(page.Instances) != 2 || page.RequestID == "" {
		t.Fatalf("page %+v: want 2 instances and a request ID", page)
	}
	in := page.Instances[0]
	if in.ID != "i-a" || in.Region != "cn-hangzhou" || in.Status != "Stopped" || in.ChargeType != "PostPaid" ||
		in.Tags["reaper-expires"] != "2026-02-01" || len(in.LockReasons) != 1 || in.LockReasons[0] != "financial" ||
		in.CreationTime != "2026-01-01T00:00Z" {
		t.Errorf("instance mapped as %+v", in)
	}
}

func TestDeleteInstancesSendsForceStopOnlyWithForce(t *testing.T) {
	srv, c := start(t, stoppedInstance("i-a"), stoppedInstance("i-b"))
	ctx := context.Background()
	if _, err := c.DeleteInstances(ctx, ecsapi.DeleteInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-a"}, ForceStop: true, ClientToken: "t-1"}); err != nil {
		t.Fatal(err)
	}
	if p := lastCall(srv).Params; p["ForceStop"] != "" || p["Force"] != "false" || p["ClientToken"] != "t-1" || p["InstanceId.1"] != "i-a" {
		t.Errorf("unforced call params %v: want Force=false, no ForceStop", p)
	}
	if _, err := c.DeleteInstances(ctx, ecsapi.DeleteInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-b"}, Force: true, ForceStop: false, ClientToken: "t-2"}); err != nil {
		t.Fatal(err)
	}
	if p := lastCall(srv).Params; p["ForceStop"] != "false" || p["Force"] != "true" {
		t.Errorf("forced call params %v: want Force=true ForceStop=false", p)
	}
}

func TestDryRunSuccessIsNotAnError(t *testing.T) {
	srv, c := start(t, stoppedInstance("i-a"))
	out, err := c.DeleteInstances(context.Background(), ecsapi.DeleteInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-a"}, DryRun: true, ClientToken: "t"})
	if err != nil || !out.DryRunPassed || out.RequestID == "" {
		t.Fatalf("dry run = %+v, %v; want DryRunPassed with a request ID", out, err)
	}
	if len(srv.Released()) != 0 {
		t.Error("dry run released")
	}
}

func TestMalformedAnswersAreRetryableErrors(t *testing.T) {
	for name, fault := range map[string]*ecsdouble.Fault{
		"truncated JSON": ecsdouble.Truncated(),
		"HTML 502":       ecsdouble.HTML502(),
		"reset":          ecsdouble.Reset(),
	} {
		t.Run(name, func(t *testing.T) {
			srv, c := start(t, stoppedInstance("i-a"))
			srv.FailNext(ecsapi.ActionDescribeInstances, 1, fault)
			_, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou"})
			if err == nil {
				t.Fatal("no error")
			}
			if cl := ecsapi.Classify(err); cl != ecsapi.ClassRetryable {
				t.Errorf("classified %v (%v), want retryable", cl, err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), token) || strings.Contains(err.Error(), "Signature=") {
				t.Errorf("error leaks request material: %v", err)
			}
		})
	}
}

func TestCallsEndAtTheContextDeadline(t *testing.T) {
	srv, c := start(t, stoppedInstance("i-a"))
	srv.FailNext(ecsapi.ActionDescribeInstances, 1, ecsdouble.Slow(5*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := c.DescribeInstances(ctx, ecsapi.DescribeInput{Region: "cn-hangzhou"})
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("call outlived its deadline by far: %v", took)
	}
	if ecsapi.Classify(err) != ecsapi.ClassCanceled || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v: want canceled, wrapping the deadline", err)
	}
}

func TestProductionClientUsesHTTPS(t *testing.T) {
	// No endpoint: the SDK resolves the regional endpoint; the scheme must
	// be HTTPS. A canceled context keeps the call from leaving the machine.
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret}})
	if err != nil {
		t.Fatal(err)
	}
	if !c.UsesHTTPS() {
		t.Error("default client does not use HTTPS")
	}
	if _, err := ecsapi.NewClient(ecsapi.Config{}); err == nil {
		t.Error("client without credentials accepted")
	}
}

func TestDescribeInstancesKeepsOnlyTheTagsAsked(t *testing.T) {
	in := stoppedInstance("i-a")
	in.Tags = map[string]string{"reaper-expires": "7d", "reaper-keep": "", "team": "qa", "cost-center": "42"}
	_, c := start(t, in)
	page, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou", TagKeys: []string{"reaper-expires", "reaper-keep"}})
	if err != nil {
		t.Fatal(err)
	}
	got := page.Instances[0].Tags
	if len(got) != 2 || got["reaper-expires"] != "7d" {
		t.Errorf("tags %v: want only the two rule keys", got)
	}
	if _, kept := got["reaper-keep"]; !kept {
		t.Error("an empty-valued keep tag was dropped")
	}
	if page.Instances[0].Problem != "" {
		t.Errorf("a complete answer flagged: %s", page.Instances[0].Problem)
	}
}
