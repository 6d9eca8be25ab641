package fcdouble_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
)

// startEcho builds testdata/echofn and runs it against a fresh server. Both
// are stopped when the test ends, the process first (see Server.Close).
func startEcho(t *testing.T, env ...string) (*fcdouble.Server, *fcdouble.Process) {
	t.Helper()
	ctx := t.Context()
	bin, err := fcdouble.Build(ctx, "./testdata/echofn", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := fcdouble.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	proc, err := fcdouble.StartFunction(context.Background(), bin, env, srv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proc.Stop()
		if t.Failed() {
			t.Logf("function output:\n%s", proc.Output())
		}
	})
	return srv, proc
}

func invoke(t *testing.T, srv *fcdouble.Server, inv fcdouble.Invocation) fcdouble.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := srv.Invoke(ctx, inv)
	if err != nil {
		t.Fatalf("Invoke(%s): %v", inv.RequestID, err)
	}
	return res
}

func decode(t *testing.T, res fcdouble.Result) map[string]any {
	t.Helper()
	if res.Err != nil {
		t.Fatalf("%s: function failed: %+v", res.RequestID, *res.Err)
	}
	var m map[string]any
	if err := json.Unmarshal(res.Body, &m); err != nil {
		t.Fatalf("%s: response %q is not a JSON object: %v", res.RequestID, res.Body, err)
	}
	return m
}

func timerEvent(payload string) []byte {
	b, _ := json.Marshal(map[string]string{
		"triggerTime": "2026-01-02T03:04:05Z",
		"triggerName": "timer",
		"payload":     payload,
	})
	return b
}

func TestFunctionEndToEnd(t *testing.T) {
	srv, proc := startEcho(t, "ECHO_ENV=from-test", "FC_REGION=cn-shanghai")

	t.Run("event and context reach the handler", func(t *testing.T) {
		deadline := time.Now().Add(90 * time.Second).Truncate(time.Millisecond)
		res := invoke(t, srv, fcdouble.Invocation{
			RequestID: "req-ok-1",
			Event:     timerEvent(`{"dryRun":true}`),
			Deadline:  deadline,
			Timeout:   600 * time.Second,
			Credentials: fcdouble.Credentials{
				AccessKeyID: "STS.id", AccessKeySecret: "secret", SecurityToken: "token",
			},
			FunctionName: "ecs-reaper",
			Handler:      "main",
			MemoryMB:     128,
			Region:       "cn-hangzhou",
			AccountID:    "1234",
			Qualifier:    "LATEST",
			RetryCount:   2,
		})
		if res.RequestID != "req-ok-1" {
			t.Errorf("RequestID = %q", res.RequestID)
		}
		if res.ContentType != "application/json" {
			t.Errorf("ContentType = %q, want application/json", res.ContentType)
		}
		got := decode(t, res)
		want := map[string]any{
			"triggerTime":     "2026-01-02T03:04:05Z",
			"triggerName":     "timer",
			"payload":         `{"dryRun":true}`,
			"payloadNil":      false,
			"envRegion":       "cn-shanghai", // the caller's env wins over the defaults
			"envEcho":         "from-test",
			"deadlineMs":      float64(deadline.UnixMilli()),
			"requestId":       "req-ok-1",
			"accessKeyId":     "STS.id",
			"accessKeySecret": "secret",
			"securityToken":   "token",
			"functionName":    "ecs-reaper",
			"handler":         "main",
			"memory":          "128",
			"timeout":         float64(600),
			"region":          "cn-hangzhou",
			"accountId":       "1234",
			"retryCount":      float64(2),
			"qualifier":       "LATEST",
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s = %#v, want %#v", k, got[k], w)
			}
		}
	})

	t.Run("no payload and no role", func(t *testing.T) {
		res := invoke(t, srv, fcdouble.Invocation{Event: []byte(`{"triggerName":"timer"}`)})
		if !strings.HasPrefix(res.RequestID, "fcdouble-") {
			t.Errorf("generated RequestID = %q", res.RequestID)
		}
		got := decode(t, res)
		if got["payloadNil"] != true || got["accessKeyId"] != "" || got["retryCount"] != float64(0) {
			t.Errorf("got %v, want nil payload, no credentials, retry 0", got)
		}
		if got["timeout"] != float64(fcdouble.DefaultTimeout/time.Second) {
			t.Errorf("timeout = %v, want the default", got["timeout"])
		}
	})

	t.Run("error goes to /error and the next invocation is served", func(t *testing.T) {
		res := invoke(t, srv, fcdouble.Invocation{RequestID: "req-fail", Event: timerEvent("fail")})
		if res.Err == nil {
			t.Fatalf("want an error, got success %s", res.Body)
		}
		if res.Err.ErrorMessage != "echofn: asked to fail" || res.Err.ErrorType != "errorString" {
			t.Errorf("Err = %+v", *res.Err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := proc.WaitForOutput(ctx, "FC Invoke End RequestId: req-fail, Error: Unhandled function error"); err != nil {
			t.Error(err)
		}
		if got := decode(t, invoke(t, srv, fcdouble.Invocation{RequestID: "req-after-fail", Event: timerEvent("x")})); got["requestId"] != "req-after-fail" {
			t.Errorf("after an error: %v", got)
		}
	})

	t.Run("panic is reported with a stack and the process lives on", func(t *testing.T) {
		res := invoke(t, srv, fcdouble.Invocation{RequestID: "req-panic", Event: timerEvent("panic")})
		if res.Err == nil || res.Err.ErrorMessage != "echofn: asked to panic" || len(res.Err.StackTrace) == 0 {
			t.Fatalf("Err = %+v, want the panic message with a stack trace", res.Err)
		}
		if got := decode(t, invoke(t, srv, fcdouble.Invocation{RequestID: "req-after-panic", Event: timerEvent("x")})); got["requestId"] != "req-after-panic" {
			t.Errorf("after a panic: %v", got)
		}
	})

	t.Run("context deadline is the invocation deadline", func(t *testing.T) {
		start := time.Now()
		res := invoke(t, srv, fcdouble.Invocation{
			RequestID: "req-wait", Event: timerEvent("wait"), Deadline: start.Add(300 * time.Millisecond),
		})
		if res.Err == nil || res.Err.ErrorMessage != context.DeadlineExceeded.Error() {
			t.Fatalf("Err = %+v, want %q", res.Err, context.DeadlineExceeded)
		}
		if took := time.Since(start); took < 250*time.Millisecond {
			t.Errorf("handler returned after %v, before the deadline", took)
		}
	})

	t.Run("concurrent invocations are matched by request ID", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				id := fmt.Sprintf("req-par-%d", i)
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				res, err := srv.Invoke(ctx, fcdouble.Invocation{RequestID: id, Event: timerEvent(id)})
				if err != nil {
					errs <- err
					return
				}
				var m map[string]any
				if err := json.Unmarshal(res.Body, &m); err != nil || m["requestId"] != id || m["payload"] != id {
					errs <- fmt.Errorf("%s: got %s (%w)", id, res.Body, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})

	t.Run("malformed deadline gets no answer", func(t *testing.T) {
		// The SDK drops an invocation whose deadline does not parse; FC
		// then times it out. The double must let the caller see that.
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		_, err := srv.Invoke(ctx, fcdouble.Invocation{
			RequestID: "req-bad-deadline", Event: timerEvent("x"),
			Header: http.Header{"X-Fc-Function-Deadline": {"soon"}},
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline error", err)
		}
		if got := decode(t, invoke(t, srv, fcdouble.Invocation{RequestID: "req-after-bad", Event: timerEvent("x")})); got["requestId"] != "req-after-bad" {
			t.Errorf("after a dropped invocation: %v", got)
		}
	})
}

func TestInvokeWithoutFunction(t *testing.T) {
	srv, err := fcdouble.Start()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(srv.Addr(), "127.0.0.1:") {
		t.Errorf("Addr = %q, want loopback only", srv.Addr())
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := srv.Invoke(ctx, fcdouble.Invocation{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Invoke with nobody polling: err = %v, want deadline exceeded", err)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := srv.Invoke(context.Background(), fcdouble.Invocation{})
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	srv.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, fcdouble.ErrClosed) {
			t.Errorf("Invoke after Close: err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Invoke did not return after Close")
	}
}

// TestProtocol drives the server with a plain HTTP client, as the SDK does,
// to pin the wire details the SDK relies on.
func TestProtocol(t *testing.T) {
	srv, err := fcdouble.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := "http://" + srv.Addr() + "/2020-11-11/runtime/invocation/"
	// do makes one request and returns the status and headers; the body
	// is drained and closed here so connections are reused.
	do := func(method, url, body string) (int, http.Header) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header
	}

	deadline := time.Now().Add(time.Minute)
	type answer struct {
		res fcdouble.Result
		err error
	}
	done := make(chan answer, 1)
	go func() {
		res, err := srv.Invoke(t.Context(), fcdouble.Invocation{
			RequestID: "r1", Event: []byte(`{"a":1}`), Deadline: deadline, Timeout: 60 * time.Second, RetryCount: 1,
		})
		done <- answer{res, err}
	}()

	status, header := do(http.MethodGet, base+"next", "")
	if status != http.StatusOK {
		t.Fatalf("next: status %d", status)
	}
	for h, want := range map[string]string{
		"x-fc-request-id":        "r1",
		"x-fc-function-deadline": fmt.Sprint(deadline.UnixMilli()),
		"x-fc-function-timeout":  "60",
		"x-fc-retry-count":       "1",
	} {
		if got := header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}

	if st, _ := do(http.MethodPost, base+"nope/response", `{}`); st != http.StatusNotFound {
		t.Errorf("response for an unknown ID: status %d, want 404", st)
	}
	if st, _ := do(http.MethodPost, base+"r1/error", `not json`); st != http.StatusOK {
		t.Errorf("error post: status %d, want 200", st)
	}
	if st, _ := do(http.MethodPost, base+"r1/response", `{}`); st != http.StatusNotFound {
		t.Errorf("second answer for r1: status %d, want 404", st)
	}
	a := <-done
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.res.Err == nil || a.res.Err.ErrorType != "fcdouble.UndecodableError" || a.res.Err.ErrorMessage != "not json" {
		t.Errorf("undecodable error body: Err = %+v", a.res.Err)
	}
}
