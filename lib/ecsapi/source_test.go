package ecsapi_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// rotating hands out the right credentials until told to rotate, then
// new ones (as a refreshed STS token would be), or fails.
type rotating struct {
	mu      sync.Mutex
	asked   int
	rotated bool
	fail    error
}

func (r *rotating) Credentials() (ecsapi.Credentials, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked++
	if r.fail != nil {
		return ecsapi.Credentials{}, r.fail
	}
	if r.rotated {
		return ecsapi.Credentials{AccessKeyID: "STS.rotated", AccessKeySecret: "rotated-secret-Kp2", SecurityToken: "rotated-token-Mn4"}, nil
	}
	return ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: token}, nil
}

// Each call asks the source, so a chain's refreshed credentials are used
// from the next call on; a source that fails is a credential error.
func TestCredentialSourceAskedPerCall(t *testing.T) {
	srv, err := ecsdouble.Start(ecsdouble.Fleet{Instances: []ecsdouble.Instance{stoppedInstance("i-a")}}, ecsdouble.WithCredential(ak, secret, token))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src := &rotating{}
	c, err := ecsapi.NewClient(ecsapi.Config{Source: src, Endpoint: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	in := ecsapi.DescribeInput{Region: "cn-hangzhou"}
	for range 2 {
		if _, err := c.DescribeInstances(context.Background(), in); err != nil {
			t.Fatal(err)
		}
	}
	if src.asked != 2 {
		t.Errorf("the source was asked %d times for 2 calls", src.asked)
	}

	// Rotated credentials are what the next call signs with (the double
	// knows only the first ones, so it refuses them), and never printed.
	src.rotated = true
	_, err = c.DescribeInstances(context.Background(), in)
	if ecsapi.Classify(err) != ecsapi.ClassCredential {
		t.Fatalf("a call with credentials the server refuses: %v (class %v)", err, ecsapi.Classify(err))
	}
	for _, s := range []string{"rotated-secret-Kp2", "rotated-token-Mn4"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error carries a credential: %v", err)
		}
	}

	src.fail = errors.New("sts: token file unreadable")
	_, err = c.DescribeInstances(context.Background(), in)
	var apiErr *ecsapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != ecsapi.CodeCredentials || ecsapi.Classify(err) != ecsapi.ClassCredential ||
		!strings.Contains(err.Error(), "token file unreadable") {
		t.Fatalf("a failing source: %v", err)
	}
}
