package ecsapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// startWith is start with every answer passed through edit on its way back.
func startWith(t *testing.T, edit func(*http.Response), instances ...ecsdouble.Instance) *ecsapi.Client {
	t.Helper()
	srv, err := ecsdouble.Start(ecsdouble.Fleet{Instances: instances}, ecsdouble.WithCredential(ak, secret, token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	c, err := ecsapi.NewClient(ecsapi.Config{
		Credentials: ecsapi.Credentials{AccessKeyID: ak, AccessKeySecret: secret, SecurityToken: token},
		Endpoint:    srv.URL(),
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := base.RoundTrip(r)
			if err == nil {
				edit(resp)
			}
			return resp, err
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// brokenBody hands out part of a body, then fails like a reset connection.
type brokenBody struct{ r io.Reader }

func (b brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, errors.New("connection reset by peer")
	}
	return n, err
}

func (brokenBody) Close() error { return nil }

func TestListingBodyCutMidwayIsATransportError(t *testing.T) {
	c := startWith(t, func(resp *http.Response) {
		head := make([]byte, 40)
		n, _ := io.ReadFull(resp.Body, head)
		_ = resp.Body.Close()
		resp.Body = brokenBody{strings.NewReader(string(head[:n]))}
	}, stoppedInstance("i-a"))
	_, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou"})
	var apiErr *ecsapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != ecsapi.CodeTransport || ecsapi.Classify(err) != ecsapi.ClassRetryable {
		t.Fatalf("err %v: want a retryable %s", err, ecsapi.CodeTransport)
	}
}

func TestOversizedListingIsMalformed(t *testing.T) {
	defer ecsapi.SetMaxPageBytes(200)()
	_, c := start(t, stoppedInstance("i-a"), stoppedInstance("i-b"))
	_, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou"})
	var apiErr *ecsapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != ecsapi.CodeBadResponse {
		t.Fatalf("err %v: want %s", err, ecsapi.CodeBadResponse)
	}
}

// TestListingDecodesStrictly: the SDK's own decoder reads "", "false" and 0
// as a false DeletionProtection; the listing refuses all three.
func TestListingDecodesStrictly(t *testing.T) {
	for _, v := range []string{`""`, `"false"`, `0`, `"true"`} {
		t.Run(v, func(t *testing.T) {
			c := startWith(t, func(resp *http.Response) {
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				edited := strings.Replace(string(body), `"DeletionProtection":false`, `"DeletionProtection":`+v, 1)
				if edited == string(body) {
					t.Errorf("answer has no DeletionProtection to edit: %s", body)
				}
				resp.Body = io.NopCloser(strings.NewReader(edited))
				resp.ContentLength = int64(len(edited))
			}, stoppedInstance("i-a"))
			page, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou"})
			var apiErr *ecsapi.Error
			if !errors.As(err, &apiErr) || apiErr.Code != ecsapi.CodeBadResponse {
				t.Fatalf("page %+v, err %v: want %s", page, err, ecsapi.CodeBadResponse)
			}
		})
	}
}

func TestErrorAnswersStillReachTheSDK(t *testing.T) {
	srv, c := start(t, stoppedInstance("i-a"))
	srv.FailNext(ecsapi.ActionDescribeInstances, 1, ecsdouble.Error(403, "Forbidden.RAM"))
	_, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou"})
	var apiErr *ecsapi.Error
	if !errors.As(err, &apiErr) || apiErr.Code != "Forbidden.RAM" || apiErr.HTTPStatus != 403 || apiErr.RequestID == "" {
		t.Fatalf("err %+v: want the server's Forbidden.RAM with its request ID", err)
	}
}
