package ossdouble_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	"github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"

	"github.com/ecs-reaper/ecs-reaper/lib/ossdouble"
)

// Planted test values only.
const (
	ak     = "LTAI5tTestOnlyOSSDouble"
	secret = "test-only-oss-double-secret-0123"
	token  = "test-only-oss-double-token"
	bucket = "reaper-results"
)

func client(t *testing.T, srv *ossdouble.Server, secret, token string) *oss.Client {
	t.Helper()
	cfg := oss.LoadDefaultConfig().WithRegion("cn-hangzhou").WithEndpoint(srv.URL()).WithDisableSSL(true).WithRetryMaxAttempts(1).
		WithCredentialsProvider(credentials.NewStaticCredentialsProvider(ak, secret, token))
	return oss.NewClient(cfg)
}

func start(t *testing.T) *ossdouble.Server {
	t.Helper()
	srv, err := ossdouble.Start(bucket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	srv.AddCredential(ak, secret, token)
	return srv
}

func code(err error) string {
	var se *oss.ServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

func put(c *oss.Client, key, body string, once bool) error {
	req := &oss.PutObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr(key), Body: strings.NewReader(body)}
	if once {
		req.ForbidOverwrite = oss.Ptr("true")
	}
	_, err := c.PutObject(context.Background(), req)
	return err
}

// The double answers only what the SDK signed with a credential it was
// given: the secret and the security token are both checked.
func TestSignatureAndTokenAreChecked(t *testing.T) {
	srv := start(t)
	if err := put(client(t, srv, secret, token), "a/b c.json", "{}", false); err != nil {
		t.Fatalf("a correctly signed request (a key with a space): %v", err)
	}
	if err := put(client(t, srv, "another-secret-0123456789abcdef", token), "x", "{}", false); code(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	if err := put(client(t, srv, secret, "another-token"), "x", "{}", false); code(err) != "InvalidSecurityToken" {
		t.Errorf("wrong token: %v", err)
	}
	if keys := srv.Keys(bucket); len(keys) != 1 || keys[0] != "a/b c.json" {
		t.Errorf("keys %v", keys)
	}
}

func TestForbidOverwrite(t *testing.T) {
	srv := start(t)
	c := client(t, srv, secret, token)
	if err := put(c, "m", "first", true); err != nil {
		t.Fatal(err)
	}
	if err := put(c, "m", "second", true); code(err) != "FileAlreadyExists" {
		t.Errorf("second write-once: %v", err)
	}
	if err := put(c, "m", "third", false); err != nil {
		t.Fatal(err)
	}
	if b, _ := srv.Object(bucket, "m"); string(b) != "third" {
		t.Errorf("content %q", b)
	}
}

func TestGetAndListThroughTheSDK(t *testing.T) {
	srv := start(t)
	srv.SetMaxKeys(2)
	c := client(t, srv, secret, token)
	for _, k := range []string{"p/1", "p/2", "p/3", "q/1"} {
		if err := put(c, k, k, false); err != nil {
			t.Fatal(err)
		}
	}
	res, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("p/2")})
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if _, err := c.GetObject(context.Background(), &oss.GetObjectRequest{Bucket: oss.Ptr(bucket), Key: oss.Ptr("p/9")}); code(err) != "NoSuchKey" {
		t.Errorf("missing key: %v", err)
	}
	var got []string
	pg := c.NewListObjectsV2Paginator(&oss.ListObjectsV2Request{Bucket: oss.Ptr(bucket), Prefix: oss.Ptr("p/")})
	for pg.HasNext() {
		page, err := pg.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got = append(got, oss.ToString(o.Key))
		}
	}
	if strings.Join(got, ",") != "p/1,p/2,p/3" {
		t.Errorf("listed %v", got)
	}
	if _, err := c.ListObjectsV2(context.Background(), &oss.ListObjectsV2Request{Bucket: oss.Ptr("no-such-bucket")}); code(err) != "NoSuchBucket" {
		t.Errorf("unknown bucket: %v", err)
	}
}

func TestSkewedClockRefused(t *testing.T) {
	srv := start(t)
	srv.SetClock(func() time.Time { return time.Now().Add(time.Hour) })
	if err := put(client(t, srv, secret, token), "x", "{}", false); code(err) != "RequestTimeTooSkewed" {
		t.Errorf("an hour off: %v", err)
	}
}
