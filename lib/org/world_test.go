package org_test

import (
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/orgdouble"
)

const (
	mgmt     = "1000000000000001"
	acctA    = "1000000000000111"
	acctB    = "1000000000000222"
	acctC    = "1000000000000333"
	callerAK = "LTAIplantedCallerKey"
	// callerSecret is a planted test value, never a real credential.
	callerSecret = "planted-caller-secret-0123456789"
)

// world is an organisation on loopback: the management account's caller
// credentials, one ECS fleet per account, STS and ResourceManager.
type world struct {
	reg    *ecsdouble.Registry
	ecs    *ecsdouble.Accounts
	org    *orgdouble.Server
	caller *ecsapi.Client
}

func instance(id, region string) ecsdouble.Instance {
	return ecsdouble.Instance{ID: id, Region: region, Status: "Stopped", Tags: map[string]string{"reaper-expires": "2020-01-01"}}
}

func newWorld(t *testing.T, fleets map[string]ecsdouble.Fleet, opts ...orgdouble.Option) *world {
	t.Helper()
	reg := ecsdouble.NewRegistry()
	if fleets == nil {
		fleets = map[string]ecsdouble.Fleet{}
	}
	if _, ok := fleets[mgmt]; !ok {
		fleets[mgmt] = ecsdouble.Fleet{Instances: []ecsdouble.Instance{instance("i-mgmt1", "cn-hangzhou")}}
	}
	ecs, err := ecsdouble.StartAccounts(fleets, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ecs.Close)
	ecs.AddCredential(mgmt, callerAK, callerSecret, "")
	srv, err := orgdouble.Start(reg, append([]orgdouble.Option{orgdouble.WithManagement(mgmt)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	caller, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: callerAK, AccessKeySecret: callerSecret},
		Endpoint: ecs.URL(), STSEndpoint: srv.URL(), ResourceManagerEndpoint: srv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return &world{reg: reg, ecs: ecs, org: srv, caller: caller}
}

// memberClient is an ECS client of a member account, signing with s.
func (w *world) memberClient(t *testing.T, s ecsapi.CredentialSource) *ecsapi.Client {
	t.Helper()
	c, err := ecsapi.NewClient(ecsapi.Config{Source: s, Endpoint: w.ecs.URL()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
