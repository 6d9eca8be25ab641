package ecsapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
)

// A page read by number carries its TotalCount; an answer without one, or
// that names another page, is malformed: the listing cannot be bounded or
// trusted by it.
func TestDescribeByPageNumber(t *testing.T) {
	_, c := start(t, stoppedInstance("i-a"), stoppedInstance("i-b"), stoppedInstance("i-c"))
	p, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou", PageNumber: 2, PageSize: 2})
	if err != nil || p.TotalCount != 3 || len(p.Instances) != 1 || p.Instances[0].ID != "i-c" {
		t.Fatalf("page %+v, err %v: want i-c of 3", p, err)
	}
	if _, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou", PageNumber: 2, NextToken: "x"}); err == nil {
		t.Fatal("PageNumber with NextToken was sent")
	}
	for name, edit := range map[string]func(string) string{
		"no TotalCount":  func(b string) string { return strings.Replace(b, `"TotalCount":3,`, "", 1) },
		"another page":   func(b string) string { return strings.Replace(b, `"PageNumber":2`, `"PageNumber":1`, 1) },
		"negative total": func(b string) string { return strings.Replace(b, `"TotalCount":3`, `"TotalCount":-1`, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			c := startWith(t, func(resp *http.Response) {
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				edited := edit(string(body))
				if edited == string(body) {
					t.Errorf("nothing to edit in %s", body)
				}
				resp.Body = io.NopCloser(strings.NewReader(edited))
				resp.ContentLength = int64(len(edited))
			}, stoppedInstance("i-a"), stoppedInstance("i-b"), stoppedInstance("i-c"))
			p, err := c.DescribeInstances(context.Background(), ecsapi.DescribeInput{Region: "cn-hangzhou", PageNumber: 2, PageSize: 2})
			var apiErr *ecsapi.Error
			if !errors.As(err, &apiErr) || apiErr.Code != ecsapi.CodeBadResponse {
				t.Fatalf("page %+v, err %v: want %s", p, err, ecsapi.CodeBadResponse)
			}
		})
	}
}
