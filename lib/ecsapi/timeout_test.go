package ecsapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// Each action's read timeout follows the SDK's table (sdk/api_timeout.go),
// and DeleteInstances, absent from it, gets DeleteInstance's 66 s rather
// than the 10 s default under which a 100-ID release can time out while
// ECS is still working.
func TestReadTimeoutsFitTheAction(t *testing.T) {
	for action, want := range map[string]time.Duration{
		ecsapi.ActionDescribeInstances: 10 * time.Second,
		ecsapi.ActionDescribeRegions:   19 * time.Second,
		ecsapi.ActionListTagResources:  10 * time.Second,
		ecsapi.ActionDeleteInstances:   66 * time.Second,
		"SomeActionNotInTheTable":      10 * time.Second,
	} {
		if got := ecsapi.ReadTimeout(action); got != want {
			t.Errorf("ReadTimeout(%s) = %v, want %v", action, got, want)
		}
	}
	for _, action := range ecsapi.Actions {
		if ecsapi.ReadTimeout(action) <= 0 {
			t.Errorf("%s has no read timeout", action)
		}
	}
}

// Every string an API error carries is redacted: code, request ID and
// message alike, whatever the server echoes back.
func TestServerErrorFieldsAreRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		esc := url.QueryEscape(secret)
		fmt.Fprintf(w, `{"Code":"Bad.%s","Message":"echo %s and %s and %s","RequestId":"req-%s","HostId":"%s"}`, token, secret, esc, ak, token, token)
	}))
	defer srv.Close()
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: token}, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteInstances(context.Background(), ecsapi.DeleteInput{Region: "cn-hangzhou", InstanceIDs: []string{"i-x"}, ClientToken: "t"})
	var apiErr *ecsapi.Error
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an *ecsapi.Error", err)
	}
	for _, field := range []string{apiErr.Code, apiErr.RequestID, apiErr.Message, apiErr.Error(), fmt.Sprintf("%+v", apiErr)} {
		for _, leak := range []string{secret, token, ak, url.QueryEscape(secret)} {
			if strings.Contains(field, leak) {
				t.Errorf("%q leaks %.6s...", field, leak)
			}
		}
	}
}
