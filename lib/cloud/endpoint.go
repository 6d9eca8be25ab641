package cloud

import (
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// ParseEndpoint checks an API endpoint override and returns the SDK's
// scheme ("HTTPS" or "HTTP") and the host[:port]. The rules, in one place
// for the settings and the API clients: an absolute https:// URL with a
// host, or plain http:// on a loopback address only (the test doubles); no
// user information, path, query or fragment. The error says what is wrong
// and never repeats user information.
func ParseEndpoint(v string) (scheme, host string, err error) {
	u, perr := url.Parse(v)
	problem := ""
	switch {
	case perr != nil:
		problem = "must be an absolute http(s) URL"
	case u.Scheme != "http" && u.Scheme != "https":
		problem = "must be an absolute http:// or https:// URL (scheme)"
	case u.Opaque != "" || u.Hostname() == "":
		problem = "must name a host, e.g. https://ecs.cn-hangzhou.aliyuncs.com (missing host)"
	case u.User != nil:
		problem = "must not contain user information"
	case u.Scheme == "http" && !IsLoopbackHost(u.Hostname()):
		problem = "must use https://: plain http:// is allowed on a loopback address (127.0.0.1, ::1, localhost) only, for the test doubles"
	case u.Path != "" && u.Path != "/":
		problem = "must have no path other than /"
	case u.RawQuery != "" || u.ForceQuery:
		problem = "must have no query"
	case u.Fragment != "" || strings.Contains(v, "#"):
		problem = "must have no fragment"
	}
	if problem == "" {
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				problem = "must have a port from 1 to 65535"
			}
		}
	}
	if problem == "" {
		for _, r := range v {
			if unicode.IsSpace(r) || unicode.IsControl(r) {
				problem = "must not contain white space or control characters"
				break
			}
		}
	}
	if problem != "" {
		return "", "", errors.New(problem)
	}
	return strings.ToUpper(u.Scheme), u.Host, nil
}

// IsLoopbackEndpoint reports whether an endpoint URL names this machine:
// the test doubles, which serve every region.
func IsLoopbackEndpoint(v string) bool {
	u, err := url.Parse(v)
	return err == nil && IsLoopbackHost(u.Hostname())
}

// IsLoopbackHost reports whether host is localhost or a loopback address.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedactEndpoint removes user information from an endpoint for display.
func RedactEndpoint(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		return "(unparseable URL)"
	}
	u.User = nil
	return u.String()
}
