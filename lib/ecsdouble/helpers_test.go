package ecsdouble

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

const (
	testAK     = "LTAI-test"
	testSecret = "test-secret"
	stsAK      = "STS.test"
	stsSecret  = "sts-secret"
	stsToken   = "token/with+special=chars*~ and space"
)

func fleetPath(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "fleets", name)
}

func startFleet(t testing.TB, f Fleet, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithCredential(testAK, testSecret, ""), WithCredential(stsAK, stsSecret, stsToken)}, opts...)
	s, err := Start(f, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func startSmall(t testing.TB, opts ...Option) *Server {
	t.Helper()
	f, err := LoadFleet(fleetPath("small.json"))
	if err != nil {
		t.Fatal(err)
	}
	return startFleet(t, f, opts...)
}

func sdkClient(t testing.TB, s *Server) *ecs.Client {
	t.Helper()
	return sdkClientWith(t, s, testAK, testSecret, "")
}

func sdkClientWith(t testing.TB, s *Server, ak, secret, token string) *ecs.Client {
	t.Helper()
	var c *ecs.Client
	var err error
	if token == "" {
		c, err = ecs.NewClientWithAccessKey("cn-hangzhou", ak, secret)
	} else {
		c, err = ecs.NewClientWithStsToken("cn-hangzhou", ak, secret, token)
	}
	if err != nil {
		t.Fatal(err)
	}
	c.Domain = s.Host()
	c.SetReadTimeout(5 * time.Second)
	return c
}

// serverErr asserts err is an SDK ServerError with status and code.
func serverErr(t testing.TB, err error, status int, code string) {
	t.Helper()
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("want ServerError %d %s, got %v", status, code, err)
	}
	if se.HttpStatus() != status || se.ErrorCode() != code {
		t.Fatalf("want %d %s, got %d %s (%s)", status, code, se.HttpStatus(), se.ErrorCode(), se.Message())
	}
	if se.RequestId() == "" || se.HostId() != HostID {
		t.Fatalf("error body lacks RequestId/HostId: %v", err)
	}
}

// raw sends a signed POST with exactly params (plus the common ones) and
// decodes the JSON answer.
func raw(t testing.TB, s *Server, params map[string]string) (int, map[string]any) {
	t.Helper()
	p := map[string]string{
		"Version": APIVersion, "Format": "JSON", "Timestamp": time.Now().UTC().Format("2006-01-02T15:04:05Z"),
		"SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureType": "",
		"SignatureNonce": strconv.FormatInt(time.Now().UnixNano(), 16), "AccessKeyId": testAK,
	}
	for k, v := range params {
		p[k] = v
	}
	p["Signature"] = Sign("POST", p, testSecret)
	q := url.Values{}
	for k, v := range p {
		q.Set(k, v)
	}
	resp, err := http.Post(s.URL()+"/?"+q.Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("status %d, non-JSON body %q", resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

// describeAll pages through DescribeInstances with a fresh request per page.
func describeAll(t testing.TB, c *ecs.Client, region string, tagKey string, max int) (ids []string, pages int) {
	t.Helper()
	token := ""
	for {
		req := ecs.CreateDescribeInstancesRequest()
		req.RegionId = region
		req.MaxResults = requests.NewInteger(max)
		req.NextToken = token
		if tagKey != "" {
			req.Tag = &[]ecs.DescribeInstancesTag{{Key: tagKey}}
		}
		resp, err := c.DescribeInstances(req)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, in := range resp.Instances.Instance {
			ids = append(ids, in.InstanceId)
		}
		if resp.NextToken == "" {
			return ids, pages
		}
		token = resp.NextToken
		if pages > 10000 {
			t.Fatal("pagination does not end")
		}
	}
}

func deleteReq(region string, ids ...string) *ecs.DeleteInstancesRequest {
	req := ecs.CreateDeleteInstancesRequest()
	req.RegionId = region
	req.InstanceId = &ids
	return req
}
