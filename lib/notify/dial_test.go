package notify_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// The settings refuse a literal internal address; a name that resolves to
// one is refused when dialled. 0.0.0.0 dials this machine, so a listener on
// loopback shows whether the request went out.
func TestDefaultClientNeverDialsAnInternalAddress(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	n, err := notify.New(notify.Config{Kind: notify.JSON, URL: "http://0.0.0.0:" + port + "/hook", Retries: 1,
		Sleep: func(_ context.Context, _ time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(t.Context(), notify.Notice{Owner: "alice", Items: []notify.Item{{InstanceID: "i-1", Name: "a", Region: "cn-hangzhou", Action: notify.ActionRelease, When: time.Now()}}})
	if err == nil || !strings.Contains(err.Error(), "refusing to dial") {
		t.Fatalf("Notify to 0.0.0.0 = %v; want a refused dial", err)
	}
	if hits.Load() != 0 {
		t.Fatalf("the listener got %d requests; the dial must be refused", hits.Load())
	}
}

func TestInternalAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"100.100.100.200": true, "169.254.169.254": true, "0.0.0.0": true, "0.1.2.3": true,
		"::": true, "fe80::1": true, "::ffff:100.100.100.200": true,
		"127.0.0.1": false, "203.0.113.7": false, "2001:db8::1": false,
	} {
		if got := notify.InternalAddress(netip.MustParseAddr(addr)); got != want {
			t.Errorf("InternalAddress(%s) = %v, want %v", addr, got, want)
		}
	}
}
