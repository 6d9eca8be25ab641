package fanout_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/fnfdouble"
)

const flowName = "ecs-reaper-fanout"

func startFNF(t *testing.T) (*fnfdouble.Server, *fanout.Starter) {
	t.Helper()
	srv, err := fnfdouble.Start(flowName)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.AddCredential(testAK, testSecret, testToken)
	st, err := fanout.NewStarter(fanout.StarterConfig{FlowName: flowName, Region: "cn-hangzhou", Endpoint: srv.URL(),
		Credentials: func() (ecsapi.Credentials, error) {
			return ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testToken}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return srv, st
}

var accounts = []string{"2222222222222222", "1111111111111111"}

// A repeated or retried tick finds the run's execution running or
// finished and starts nothing new.
func TestStartIsIdempotentByExecutionName(t *testing.T) {
	srv, st := startFNF(t)
	ctx := context.Background()
	for i := range 3 {
		out, err := st.Start(ctx, run, accounts)
		if err != nil || out != fanout.Started {
			t.Fatalf("start %d: %v, %v", i, out, err)
		}
	}
	execs := srv.Executions(flowName)
	if len(execs) != 1 || execs[0].Name != "ecs-reaper-20261206T090000Z" || execs[0].Starts != 3 {
		t.Fatalf("executions %+v", execs)
	}
	var in fanout.ExecutionInput
	if err := json.Unmarshal([]byte(execs[0].Input), &in); err != nil || in.Run != run || len(in.Accounts) != 2 || in.Accounts[0].Account != accounts[0] {
		t.Errorf("input %s: %v", execs[0].Input, err)
	}
	srv.Finish(flowName, run.ExecutionName(), fnfdouble.Succeeded)
	out, err := st.Start(ctx, run, accounts)
	if err != nil || out != fanout.AlreadyFinished {
		t.Fatalf("after it finished: %v, %v", out, err)
	}
	if execs := srv.Executions(flowName); len(execs) != 1 || execs[0].Status != fnfdouble.Succeeded {
		t.Errorf("a finished run was started again: %+v", execs)
	}
	// The next tick is another run.
	if out, err := st.Start(ctx, "20261206T100000Z", accounts); err != nil || out != fanout.Started || len(srv.Executions(flowName)) != 2 {
		t.Errorf("next run: %v, %v", out, err)
	}
}

func TestStartRefusesBadInput(t *testing.T) {
	_, st := startFNF(t)
	ctx := context.Background()
	many := make([]string, fanout.MaxFlowAccounts+1)
	for i := range many {
		many[i] = "1111111111111111"
	}
	for name, tc := range map[string]struct {
		run      fanout.RunID
		accounts []string
		want     string
	}{
		"bad run":        {"yesterday", accounts, "is not a run ID"},
		"no accounts":    {run, nil, "0 accounts"},
		"too many":       {run, many, "401 accounts"},
		"bad account ID": {run, []string{"12ab"}, "is not an account ID"},
	} {
		if _, err := st.Start(ctx, tc.run, tc.accounts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestStartErrorsAreClassifiedAndShowNoSecret(t *testing.T) {
	srv, _ := startFNF(t)
	st, err := fanout.NewStarter(fanout.StarterConfig{FlowName: "no-such-flow", Region: "cn-hangzhou", Endpoint: srv.URL(),
		Credentials: func() (ecsapi.Credentials, error) {
			return ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: testSecret, SecurityToken: testToken}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Start(context.Background(), run, accounts); ecsapi.Code(err) != "FlowNotExists" {
		t.Errorf("unknown flow: %v", err)
	}
	bad, _ := fanout.NewStarter(fanout.StarterConfig{FlowName: flowName, Region: "cn-hangzhou", Endpoint: srv.URL(),
		Credentials: func() (ecsapi.Credentials, error) {
			return ecsapi.Credentials{AccessKeyID: testAK, AccessKeySecret: "wrong-secret-0123456789", SecurityToken: testToken}, nil
		}})
	_, err = bad.Start(context.Background(), run, accounts)
	if ecsapi.Classify(err) != ecsapi.ClassCredential || strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), testToken) {
		t.Errorf("wrong secret: %v", err)
	}
	if len(srv.Executions(flowName)) != 0 {
		t.Error("a refused start started something")
	}
	if _, err := fanout.NewStarter(fanout.StarterConfig{FlowName: flowName, Region: "cn-hangzhou", Endpoint: "http://fnf.example.com",
		Credentials: func() (ecsapi.Credentials, error) { return ecsapi.Credentials{}, nil }}); err == nil {
		t.Error("plain http to a remote host accepted")
	}
}

// A duplicate tick whose account list changed in between still starts the
// first tick's run, with the first tick's accounts.
func TestCoordinateKeepsTheFirstTicksAccounts(t *testing.T) {
	oss := startOSS(t)
	store := newStore(t, oss, testSecret)
	fnf, starter := startFNF(t)
	ctx := context.Background()
	out, m, err := fanout.Coordinate(ctx, store, starter, run, accounts)
	if err != nil || out != fanout.Started || strings.Join(m.Accounts, ",") != "1111111111111111,2222222222222222" {
		t.Fatalf("first tick: %v, %+v, %v", out, m, err)
	}
	out, m, err = fanout.Coordinate(ctx, store, starter, run, []string{"3333333333333333"})
	if err != nil || out != fanout.Started || strings.Join(m.Accounts, ",") != "1111111111111111,2222222222222222" {
		t.Fatalf("duplicate tick: %v, %+v, %v", out, m, err)
	}
	execs := fnf.Executions(flowName)
	if len(execs) != 1 || strings.Contains(execs[0].Input, "3333333333333333") {
		t.Errorf("executions %+v", execs)
	}
}
