package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// Credentials planted in the aliyun CLI's config.json: none may appear in
// anything the command line prints or writes.
const (
	plantedKeyID  = "LTAIplantedKeyId0042"
	plantedSecret = "planted-profile-secret-7Qx"
	plantedToken  = "planted-sts-token-9Lm"
	plantedOIDC   = "planted-oidc-token-3Rt"
)

// plantedConfig has a profile of every mode, each carrying the planted
// values; current names which one is used.
func plantedConfig(current string) string {
	return `{"current": "` + current + `", "profiles": [
 {"name": "ak", "mode": "AK", "access_key_id": "` + plantedKeyID + `", "access_key_secret": "` + plantedSecret + `", "region_id": "cn-hangzhou"},
 {"name": "sts", "mode": "StsToken", "access_key_id": "` + plantedKeyID + `", "access_key_secret": "` + plantedSecret + `", "sts_token": "` + plantedToken + `"},
 {"name": "role", "mode": "RamRoleArn", "access_key_id": "` + plantedKeyID + `", "access_key_secret": "` + plantedSecret + `", "ram_role_arn": "acs:ram::1:role/reaper"},
 {"name": "oidc", "mode": "OIDC", "ram_role_arn": "acs:ram::1:role/reaper", "oidc_provider_arn": "acs:ram::1:oidc-provider/p", "oidc_token": "` + plantedOIDC + `"},
 {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "sts", "ram_role_arn": "acs:ram::1:role/reaper"},
 {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "reaper"}
]}`
}

// credentialLeaks lists the planted values and signed-request parts in out.
func credentialLeaks(out string) []string {
	var found []string
	for _, s := range []string{plantedKeyID, plantedSecret, plantedToken, plantedOIDC, "Signature=", "SignatureNonce", "AccessKeyId=", "SecurityToken=", "?"} {
		if strings.Contains(out, s) {
			found = append(found, s)
		}
	}
	return found
}

// closedLoopback is an address on 127.0.0.1 that nothing listens on.
func closedLoopback(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// runCommandLine runs the built command line with only env (and PATH) and returns
// its exit code and everything it printed or wrote to files under dir.
func runCommandLine(t *testing.T, dir string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), cliBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	all := string(out)
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(path, "config.json") {
			b, _ := os.ReadFile(path)
			all += "\n" + string(b)
		}
		return nil
	})
	return code, all
}

func writeHome(t *testing.T, config string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aliyun"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aliyun", "config.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return home
}

// The commands that take the caller's credentials.
var credentialCommands = [][]string{
	{"plan", "--region", "cn-hangzhou"},
	{"plan", "--region", "cn-hangzhou", "--json"},
	{"run", "--region", "cn-hangzhou", "--yes", "--json"},
	{"invoke", "--logs", "function.log"},
	{"schedule", "--once", "--cron", "0 0 */1 * * *"},
}

// A config.json with one syntax error: credentials-go's message quotes the
// whole file; the command line says where the error is and nothing more.
func TestBrokenConfigFilePrintsNoSecret(t *testing.T) {
	for _, current := range []string{"ak", "sts", "role", "oidc", "chained", "ecs"} {
		config := strings.Replace(plantedConfig(current), `"mode": "StsToken",`, `"mode": "StsToken"`, 1)
		home := writeHome(t, config)
		for _, profile := range []string{"", current} {
			for _, args := range credentialCommands {
				if profile != "" {
					args = append(append([]string(nil), args...), "--profile", profile)
				}
				t.Run(current+"/"+strings.Join(args, " "), func(t *testing.T) {
					env := []string{"HOME=" + home, "REAPER_ECS_ENDPOINT=http://" + closedLoopback(t)}
					code, out := runCommandLine(t, t.TempDir(), env, args...)
					if code != 2 {
						t.Errorf("exit %d, want 2 (usage)\n%s", code, out)
					}
					if found := credentialLeaks(out); len(found) > 0 {
						t.Fatalf("the output carries %q:\n%s", found, out)
					}
					for _, want := range []string{filepath.Join(home, ".aliyun", "config.json"), "JSON syntax error at line 3, column"} {
						if !strings.Contains(out, want) {
							t.Errorf("the output lacks %q:\n%s", want, out)
						}
					}
				})
			}
		}
	}
}

// A RamRoleArn profile whose STS cannot be reached (the only proxy is a
// closed loopback port, so nothing leaves the machine): credentials-go's
// message is the whole signed AssumeRole URL; the command line names the
// STS host and the failure only.
func TestUnreachableSTSPrintsNoSignedURL(t *testing.T) {
	proxy := closedLoopback(t)
	for _, tc := range []struct {
		current string
		env     []string
		host    string
	}{
		{"role", nil, "https://sts.aliyuncs.com"},
		{"chained", []string{"ALIBABA_CLOUD_STS_REGION=cn-shanghai"}, "https://sts.cn-shanghai.aliyuncs.com"},
		{"oidc", nil, "https://sts.aliyuncs.com"},
	} {
		home := writeHome(t, plantedConfig(tc.current))
		for _, args := range credentialCommands {
			t.Run(tc.current+"/"+strings.Join(args, " "), func(t *testing.T) {
				env := append([]string{"HOME=" + home, "HTTPS_PROXY=http://" + proxy, "https_proxy=http://" + proxy, "NO_PROXY=", "no_proxy=",
					"REAPER_ECS_ENDPOINT=http://" + closedLoopback(t)}, tc.env...)
				code, out := runCommandLine(t, t.TempDir(), env, args...)
				if code != 2 {
					t.Errorf("exit %d, want 2\n%s", code, out)
				}
				if found := credentialLeaks(out); len(found) > 0 {
					t.Fatalf("the output carries %q:\n%s", found, out)
				}
				want := "current profile " + tc.current + " (" + filepath.Join(home, ".aliyun", "config.json")
				for _, want := range []string{want, "cannot reach " + tc.host + ": the proxy " + proxy + ": connection refused"} {
					if !strings.Contains(out, want) {
						t.Errorf("the output lacks %q:\n%s", want, out)
					}
				}
			})
		}
	}
}

// Half-set OIDC (no provider ARN) is an error naming what is missing; it
// never falls through to the aliyun CLI's current profile, which here
// would work.
func TestHalfSetOIDCDoesNotFallThrough(t *testing.T) {
	fleet, err := ecsdouble.ParseFleet([]byte(e2eFleet))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ecsdouble.Start(fleet, ecsdouble.WithCredential(plantedKeyID, plantedSecret, plantedToken))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	home := writeHome(t, plantedConfig("sts"))
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(plantedOIDC), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"HOME=" + home, "REAPER_ECS_ENDPOINT=" + srv.URL()}
	// The profile alone works: the fall-through would have succeeded.
	if code, out := runCommandLine(t, t.TempDir(), base, "plan", "--region", "cn-hangzhou"); code != 0 {
		t.Fatalf("the current profile's plan: exit %d\n%s", code, out)
	}
	calls := srv.CallCount("DescribeInstances")
	for _, args := range credentialCommands {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			env := append(base, "ALIBABA_CLOUD_ROLE_ARN=acs:ram::1:role/reaper", "ALIBABA_CLOUD_OIDC_TOKEN_FILE="+tokenFile)
			code, out := runCommandLine(t, t.TempDir(), env, args...)
			if code != 2 {
				t.Errorf("exit %d, want 2\n%s", code, out)
			}
			for _, want := range []string{"OIDC", "missing ALIBABA_CLOUD_OIDC_PROVIDER_ARN"} {
				if !strings.Contains(out, want) {
					t.Errorf("the output lacks %q:\n%s", want, out)
				}
			}
			if found := credentialLeaks(out); len(found) > 0 {
				t.Errorf("the output carries %q:\n%s", found, out)
			}
		})
	}
	if got := srv.CallCount("DescribeInstances"); got != calls {
		t.Errorf("the half-set runs reached ECS (%d calls) as the current profile", got-calls)
	}
}

// stsDouble answers every AssumeRole as STS answers a bad signature: 400,
// with a Message quoting the string to sign (the AccessKey ID and token
// included). It is reached through a CONNECT proxy on loopback and trusted
// through SSL_CERT_FILE, so the request never leaves the machine.
type stsDouble struct {
	caFile string
	proxy  string
	calls  atomic.Int32
}

func startSTSDouble(t *testing.T) *stsDouble {
	t.Helper()
	d := &stsDouble{}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sts double"},
		DNSNames: []string{"sts.aliyuncs.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	d.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(d.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	sts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.calls.Add(1)
		_ = r.ParseForm()
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{
			"RequestId": "0D1E2F3A-4B5C", "HostId": "sts.aliyuncs.com", "Code": "SignatureDoesNotMatch",
			"Message": "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&" + url.QueryEscape(r.URL.RawQuery),
		})
	}))
	sts.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	sts.StartTLS()
	t.Cleanup(sts.Close)
	// The proxy tunnels every CONNECT to the double, whatever host it names.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		upstream, err := net.Dial("tcp", sts.Listener.Addr().String())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			upstream.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n"))
		go func() { _, _ = io.Copy(upstream, buf); upstream.Close() }()
		_, _ = io.Copy(conn, upstream)
		conn.Close()
	}))
	t.Cleanup(proxy.Close)
	d.proxy = proxy.URL
	return d
}

// STS refuses the signed AssumeRole: its answer quotes the string to sign,
// and the command line keeps only its code and request ID.
func TestSTSRefusalPrintsOnlyItsCode(t *testing.T) {
	sts := startSTSDouble(t)
	for _, current := range []string{"role", "chained"} {
		home := writeHome(t, plantedConfig(current))
		for _, args := range credentialCommands {
			t.Run(current+"/"+strings.Join(args, " "), func(t *testing.T) {
				before := sts.calls.Load()
				env := []string{"HOME=" + home, "HTTPS_PROXY=" + sts.proxy, "https_proxy=" + sts.proxy, "NO_PROXY=", "no_proxy=",
					"SSL_CERT_FILE=" + sts.caFile, "REAPER_ECS_ENDPOINT=http://" + closedLoopback(t)}
				code, out := runCommandLine(t, t.TempDir(), env, args...)
				if sts.calls.Load() == before {
					t.Fatalf("the STS double was not asked:\n%s", out)
				}
				if code != 2 {
					t.Errorf("exit %d, want 2\n%s", code, out)
				}
				if found := credentialLeaks(out); len(found) > 0 {
					t.Fatalf("the output carries %q:\n%s", found, out)
				}
				if want := "STS refused the request: SignatureDoesNotMatch (request 0D1E2F3A-4B5C)"; !strings.Contains(out, want) {
					t.Errorf("the output lacks %q:\n%s", want, out)
				}
			})
		}
	}
}
