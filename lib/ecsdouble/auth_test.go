package ecsdouble

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"
)

func TestSignReferenceVector(t *testing.T) {
	p := map[string]string{
		"AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
		"SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z", "Version": "2014-05-26",
	}
	wantSTS := "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
	if got := StringToSign("GET", p); got != wantSTS {
		t.Fatalf("string to sign:\n got %s\nwant %s", got, wantSTS)
	}
	if got := Sign("GET", p, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Fatalf("signature %s", got)
	}
	p["Signature"] = "ignored"
	if got := Sign("GET", p, "testsecret"); got != "OLeaidS1JvxuMvnyHOwuJ+uX5qY=" {
		t.Fatalf("Signature param must not be signed: %s", got)
	}
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{"a b": "a%20b", "a*b": "a%2Ab", "a~b": "a~b", "a+b": "a%2Bb", "é": "%C3%A9", "-_.": "-_."} {
		if got := PercentEncode(in); got != want {
			t.Errorf("PercentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPercentEncode holds the single-pass encoder to what the SDK's signer
// does: url.QueryEscape, then %20 for '+', %2A for '*' and '~' for %7E.
func FuzzPercentEncode(f *testing.F) {
	for _, s := range []string{"", "a b", "a*b~c+d", "é/?&=%", "\x00\xff", "[\"i-1\",\"i-2\"]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := url.QueryEscape(s)
		want = strings.ReplaceAll(want, "+", "%20")
		want = strings.ReplaceAll(want, "*", "%2A")
		want = strings.ReplaceAll(want, "%7E", "~")
		if got := PercentEncode(s); got != want {
			t.Fatalf("PercentEncode(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzStringToSign holds the one-pass string to sign to the SDK's recipe
// (sdk/auth/rpc_signature_composer.go): url.Values.Encode of the sorted
// parameters, %20 for '+', %2A for '*', '~' for %7E, then QueryEscape.
func FuzzStringToSign(f *testing.F) {
	f.Add("InstanceId.1", "i-bp1 abc*~", "GET")
	f.Add("Tag.1.Key", "reaper-expires=2026&x", "post")
	f.Add("é", "\x00\xff%", "GET")
	f.Fuzz(func(t *testing.T, k, v, method string) {
		p := map[string]string{"Action": "DeleteInstances", "Timestamp": "2026-01-02T03:04:05Z", "Signature": "skip", k: v}
		q := url.Values{}
		for key, val := range p {
			if key != "Signature" {
				q.Add(key, val)
			}
		}
		want := q.Encode()
		want = strings.ReplaceAll(want, "+", "%20")
		want = strings.ReplaceAll(want, "*", "%2A")
		want = strings.ReplaceAll(want, "%7E", "~")
		want = strings.ToUpper(method) + "&%2F&" + url.QueryEscape(want)
		if got := StringToSign(method, p); got != want {
			t.Fatalf("StringToSign(%q, %q=%q):\n got %s\nwant %s", method, k, v, got, want)
		}
	})
}

func TestAuthAcceptsAKAndSTS(t *testing.T) {
	s := startSmall(t)
	for name, c := range map[string]*ecs.Client{
		"ak":  sdkClient(t, s),
		"sts": sdkClientWith(t, s, stsAK, stsSecret, stsToken),
	} {
		resp, err := c.DescribeRegions(ecs.CreateDescribeRegionsRequest())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got []string
		for _, r := range resp.Regions.Region {
			got = append(got, r.RegionId)
			if r.RegionEndpoint != "ecs."+r.RegionId+".aliyuncs.com" || r.LocalName == "" {
				t.Errorf("%s: region %+v", name, r)
			}
		}
		if strings.Join(got, ",") != "cn-hangzhou,cn-shanghai" {
			t.Fatalf("%s: regions %v", name, got)
		}
	}
	for _, c := range s.Calls() {
		for _, k := range []string{"Signature", "SecurityToken", "AccessKeyId"} {
			if _, ok := c.Params[k]; ok {
				t.Errorf("Call.Params holds %s", k)
			}
		}
		if _, ok := c.Params["SignatureType"]; !ok {
			t.Errorf("blank SignatureType should be recorded: %v", c.Params)
		}
	}
}

func TestAuthRejects(t *testing.T) {
	s := startSmall(t)
	cases := []struct {
		name              string
		ak, secret, token string
		status            int
		code              string
	}{
		{"wrong secret", testAK, "nope", "", 400, "SignatureDoesNotMatch"},
		{"unknown key", "LTAI-unknown", testSecret, "", 404, "InvalidAccessKeyId.NotFound"},
		{"wrong token", stsAK, stsSecret, "other-token", 400, "InvalidSecurityToken.Mismatch"},
		{"missing token", stsAK, stsSecret, "", 400, "InvalidSecurityToken.Malformed"},
		{"token on plain AK", testAK, testSecret, "tok", 400, "InvalidSecurityToken.Mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := sdkClientWith(t, s, tc.ak, tc.secret, tc.token)
			_, err := c.DescribeRegions(ecs.CreateDescribeRegionsRequest())
			serverErr(t, err, tc.status, tc.code)
		})
	}
	s.SetLatency(0)
	if n := s.CallCount("DescribeRegions"); n != len(cases) {
		t.Fatalf("CallCount = %d", n)
	}
}

func TestAuthCommonParams(t *testing.T) {
	s := startSmall(t)
	if st, m := raw(t, s, map[string]string{"Action": "DescribeRegions", "Version": "2016-01-01"}); st != 400 || m["Code"] != "InvalidVersion" {
		t.Fatalf("version: %d %v", st, m)
	}
	if st, m := raw(t, s, map[string]string{"Action": "DescribeRegions", "Format": "XML"}); st != 400 || m["Code"] != "InvalidParameter.Format" {
		t.Fatalf("format: %d %v", st, m)
	}
	if st, m := raw(t, s, map[string]string{"Action": "DescribeRegions", "SignatureNonce": ""}); st != 400 || m["Code"] != "MissingParameter" {
		t.Fatalf("nonce: %d %v", st, m)
	}
	if st, m := raw(t, s, map[string]string{"Action": "DescribeRegions", "Timestamp": "2020-01-01T00:00:00Z"}); st != 400 || m["Code"] != "InvalidTimeStamp.Expired" {
		t.Fatalf("timestamp: %d %v", st, m)
	}
	if st, m := raw(t, s, map[string]string{"Action": "DescribeRegions", "SignatureNonce": "same"}); st != 200 {
		t.Fatalf("first nonce: %d %v", st, m)
	}
	if st, m := raw(t, s, map[string]string{"Action": "DescribeRegions", "SignatureNonce": "same"}); st != 400 || m["Code"] != "SignatureNonceUsed" {
		t.Fatalf("replayed nonce: %d %v", st, m)
	}
	if st, m := raw(t, s, map[string]string{"Action": "RunInstances"}); st != 400 || m["Code"] != "InvalidAction.NotFound" {
		t.Fatalf("action: %d %v", st, m)
	}
	req, _ := http.NewRequest(http.MethodPut, s.URL()+"/", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Fatalf("PUT answered %d", resp.StatusCode)
	}
}

func TestRequestIDsUnique(t *testing.T) {
	s := startSmall(t)
	c := sdkClient(t, s)
	seen := map[string]bool{}
	for range 20 {
		resp, err := c.DescribeRegions(ecs.CreateDescribeRegionsRequest())
		if err != nil {
			t.Fatal(err)
		}
		if seen[resp.RequestId] || resp.RequestId == "" {
			t.Fatalf("duplicate or empty RequestId %q", resp.RequestId)
		}
		seen[resp.RequestId] = true
	}
}
