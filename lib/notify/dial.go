package notify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// metadataService is Alibaba Cloud's instance metadata address.
var metadataService = netip.AddrFrom4([4]byte{100, 100, 100, 200})

// InternalAddress reports an address that is the machine's own
// neighbourhood rather than a chat service: link-local (the metadata
// services of most clouds), Alibaba Cloud's metadata address, or the
// unspecified address and 0.0.0.0/8 (which dial this machine).
func InternalAddress(a netip.Addr) bool {
	a = a.WithZone("").Unmap()
	return a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsUnspecified() || a == metadataService || (a.Is4() && a.As4()[0] == 0)
}

// refuseInternal is a dialer's Control: the settings check the webhook's
// literal address, but a name can resolve to the metadata service, so the
// address actually dialled is checked too.
func refuseInternal(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("notify: refusing to dial %q: not an address", address)
	}
	if InternalAddress(ap.Addr()) {
		return fmt.Errorf("notify: refusing to dial %s: a link-local, metadata-service or unspecified address", ap.Addr())
	}
	return nil
}

// defaultClient sends webhooks with a 10 s timeout, no proxy from the
// environment, and a dialer that refuses internal addresses.
func defaultClient() *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second, Control: refuseInternal}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: transport}
}
