package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/fcdouble"
)

// A fuzzed fleet through the function binary: random charge types,
// statuses, names, tags, unicode and missing fields, as an API answer
// could carry them. Every answer of the function, dry and live, must
// validate against docs/report.schema.json (a strict reader drops a whole
// report for one bad value), and nothing whose facts the rules cannot
// trust is released.
func FuzzReportSchema(f *testing.F) {
	for seed := range uint64(16) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		sch := reportSchema(t)
		fleet := fuzzFleet(seed)
		env := []string{"REAPER_REGIONS=cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT=100"}
		if seed%2 == 1 { // the lifecycle reads the marks and stops
			env = append(env, "REAPER_GRACE=1h", "REAPER_RUNNING=stop", "REAPER_MARK_SECRET="+fnMarkSecret)
		}
		s := startOddStack(t, binary(t), fleet, seed, env...)
		for _, dry := range []bool{true, false} {
			payload := ""
			if dry {
				payload = `{"dryRun": true}`
			}
			res := s.invoke(t, fmt.Sprintf("fuzz-%d-%t", seed, dry), timerEvent(payload))
			if noID(seed, fleet) {
				// A page that lists an instance without its ID cannot be
				// trusted: the region fails closed.
				wantError(t, res, "Response.Malformed", "nothing was released")
				continue
			}
			if res.Err != nil {
				t.Fatalf("seed %d: the invocation failed: %s", seed, res.Err.ErrorMessage)
			}
			list := checkSchema(t, sch, reportBody(t, res))
			for _, in := range list {
				if in.Outcome == "released" || in.Outcome == "would-release" {
					if in.ChargeType == "" || in.Status != "Stopped" {
						t.Errorf("seed %d: %s released on facts the rules cannot trust: %+v", seed, in.ID, in)
					}
				}
			}
		}
		if !noID(seed, fleet) && seed%2 == 0 && len(s.ecs.Released()) == 0 {
			t.Errorf("seed %d: nothing released, not even the plain due instances", seed)
		}
		for _, id := range s.ecs.Released() {
			if odd := oddFacts(seed, id); odd.untrusted() {
				t.Errorf("seed %d: released %s, whose answer was %+v", seed, id, odd)
			}
		}
	})
}

// noID: some answer of the fleet leaves an instance's ID out.
func noID(seed uint64, fleet ecsdouble.Fleet) bool {
	for _, in := range fleet.Instances {
		if slices.Contains(oddFacts(seed, in.ID).Drop, "InstanceId") {
			return true
		}
	}
	return false
}

// fuzzFleet is a fleet of 30 instances in cn-hangzhou with random names,
// tags, and expiries; the charge types and statuses the double serves are
// made odd on the way out (oddFacts).
func fuzzFleet(seed uint64) ecsdouble.Fleet {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	var fleet ecsdouble.Fleet
	for i := range 30 {
		in := ecsdouble.Instance{
			ID:           fmt.Sprintf("i-bp1fuzz%04d%06d", seed%10000, i),
			Region:       "cn-hangzhou",
			Status:       pick("Stopped", "Stopped", "Running", "Starting", "Stopping", "Pending"),
			ChargeType:   pick("PostPaid", "PostPaid", "PrePaid", ""),
			CreationTime: pick("2025-01-01T00:00Z", "2025-06-30T09:30Z", "", "not a time"),
			Name:         pick("web-1", "", "名前-テスト", strings.Repeat("n", 300), "tab\there", "<!channel>", "emoji 🦀", randomText(r)),
			Tags:         map[string]string{},
		}
		if in.ChargeType == "PrePaid" {
			in.ExpiredTime = pick("2025-03-01T16:00Z", "2099-06-30T16:00Z", "", "garbage", "9999-12-31T23:59Z", "0001-01-01T00:00Z")
		}
		if r.IntN(5) > 0 {
			in.Tags["reaper-expires"] = pick("2025-02-01", "2025-02-01T00:00:00Z", "2099-01-01", "7d", "520w", "next tuesday",
				"10000-01-01", "9999-12-31T23:59:59Z", "0001-01-01", "-1d", "99999999w", "２０２５-01-01", "1970-01-01T00:00:00Z",
				"2025-02-01T00:00:00.123456789+14:00", "9999-12-31T23:59:59-14:00", "0000-01-01T00:00:00+14:00", "0000-01-01", "", randomText(r))
		}
		if r.IntN(3) == 0 { // marks, forged or odd (read when grace is on)
			in.Tags["reaper-notified"] = pick("2025-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "0000-01-01T00:00:00+14:00", "2099-01-01T00:00:00Z", "", randomText(r),
				fnMarks.Time(in.ID, "reaper-notified", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)))
		}
		if r.IntN(5) == 0 {
			in.Tags["reaper-notified-stopped"] = pick("2025-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "0000-01-01T00:00:00+14:00", randomText(r))
		}
		if r.IntN(6) == 0 {
			in.Tags["reaper-keep"] = pick("true", "", "否")
		}
		if r.IntN(2) == 0 {
			in.Tags["owner"] = pick("alice@example.com", "<!here>", "ü", strings.Repeat("o", 128), randomText(r))
		}
		if r.IntN(4) == 0 {
			in.Tags[pick("team", "环境", "x")] = randomText(r)
		}
		if r.IntN(8) == 0 {
			in.DeletionProtection = true
		}
		if r.IntN(8) == 0 {
			in.LockReasons = []string{pick("financial", "security", "Recycling", "", randomText(r))}
		}
		if i%3 == 0 { // a plain due instance among the odd ones, so releases happen
			in = ecsdouble.Instance{ID: fmt.Sprintf("i-bp1plain%04d%06d", seed%10000, i), Region: "cn-hangzhou", Status: "Stopped",
				ChargeType: "PostPaid", CreationTime: "2025-01-01T00:00Z", Name: in.Name, Tags: map[string]string{"reaper-expires": "2025-02-01", "owner": in.Tags["owner"]}}
		}
		fleet.Instances = append(fleet.Instances, in)
	}
	return fleet
}

func randomText(r *rand.Rand) string {
	alphabet := []rune("abcXYZ019 -_:/@.<>&\"'\\\u00e9\u4e2d\u0000\u200b\U0001F600\n\t")
	n := r.IntN(40)
	out := make([]rune, n)
	for i := range out {
		out[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(out)
}

// odd is what the API answer says of one instance instead of the
// double's own facts: a charge type or status ECS does not document, or a
// field left out. The same instance is always answered the same way.
type odd struct {
	ChargeType, Status *string
	Drop               []string
}

func (o odd) untrusted() bool {
	for _, k := range o.Drop {
		switch k {
		case "Status", "InstanceChargeType", "DeletionProtection", "OperationLocks", "InstanceId":
			return true
		}
	}
	return (o.ChargeType != nil && *o.ChargeType != "PostPaid" && *o.ChargeType != "PrePaid") ||
		(o.Status != nil && *o.Status != "Stopped")
}

func oddFacts(seed uint64, id string) odd {
	if strings.HasPrefix(id, "i-bp1plain") {
		return odd{}
	}
	h := fnv.New64a()
	_, _ = io.WriteString(h, id)
	r := rand.New(rand.NewPCG(seed, h.Sum64()))
	var o odd
	str := func(xs ...string) *string { s := xs[r.IntN(len(xs))]; return &s }
	if r.IntN(3) == 0 {
		o.ChargeType = str("", "Spot", "prepaid", "PrePaid ", "预付费", "PostPaid\u0000", "Subscription", randomText(r))
	}
	if r.IntN(4) == 0 {
		o.Status = str("", "Deleted", "stopped", "Stopped\n", "停止", "Expired", randomText(r))
	}
	for _, k := range []string{"InstanceId", "Status", "InstanceChargeType", "ExpiredTime", "CreationTime", "DeletionProtection", "OperationLocks", "InstanceName", "RegionId", "Tags"} {
		if r.IntN(12) == 0 && (k != "InstanceId" || seed%4 == 3) {
			o.Drop = append(o.Drop, k)
		}
	}
	return o
}

// startOddStack runs bin under the doubles, its ECS calls going through a
// proxy that makes the DescribeInstances answers odd (oddFacts).
func startOddStack(t *testing.T, bin string, fleet ecsdouble.Fleet, seed uint64, env ...string) *stack {
	t.Helper()
	ecs, err := ecsdouble.Start(fleet, ecsdouble.WithCredential(stsKeyID, stsSecret, stsToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ecs.Close)
	target, _ := url.Parse(ecs.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if bytes.Contains(body, []byte(`"Instances":{"Instance":[`)) {
			body = oddAnswer(t, seed, body)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	srv, err := fcdouble.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	env = append([]string{"REAPER_ECS_ENDPOINT=" + front.URL}, env...)
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
	return &stack{ecs: ecs, fc: srv, proc: proc}
}

// oddAnswer rewrites a DescribeInstances answer's instances.
func oddAnswer(t *testing.T, seed uint64, body []byte) []byte {
	var page map[string]any
	if err := json.Unmarshal(body, &page); err != nil {
		t.Errorf("the double's answer is not JSON: %v", err)
		return body
	}
	insts, _ := page["Instances"].(map[string]any)
	list, _ := insts["Instance"].([]any)
	for _, x := range list {
		in, _ := x.(map[string]any)
		id, _ := in["InstanceId"].(string)
		o := oddFacts(seed, id)
		if o.ChargeType != nil {
			in["InstanceChargeType"] = *o.ChargeType
		}
		if o.Status != nil {
			in["Status"] = *o.Status
		}
		for _, k := range o.Drop {
			delete(in, k)
		}
	}
	out, err := json.Marshal(page)
	if err != nil {
		t.Errorf("re-encode: %v", err)
		return body
	}
	return out
}
