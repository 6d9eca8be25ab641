package ecsdouble_test

import (
	"net"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// TestWithAddr: the double listens where it is told on loopback, and
// refuses any address another machine could reach.
func TestWithAddr(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	srv, err := ecsdouble.Start(ecsdouble.Fleet{}, ecsdouble.WithAddr(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.URL() != "http://"+addr {
		t.Errorf("URL() = %q, want http://%s", srv.URL(), addr)
	}
	for _, bad := range []string{"0.0.0.0:0", ":0", "10.1.2.3:0", "localhost:0", "[::]:0", "127.0.0.1"} {
		srv, err := ecsdouble.Start(ecsdouble.Fleet{}, ecsdouble.WithAddr(bad))
		if err == nil {
			srv.Close()
			t.Errorf("WithAddr(%q) was accepted", bad)
			continue
		}
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("WithAddr(%q): error %q does not name the address", bad, err)
		}
	}
}
