package credential

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Error is a credential source's failure, told only from parts known to
// be safe: credentials-go embeds whole config files, signed request URLs
// and STS answers in its messages, so the library's text is never shown.
// It keeps no cause, so nothing can print the original by unwrapping.
type Error struct {
	Source string // where the credentials were to come from
	Reason string // built by reason: safe by construction
}

func (e *Error) Error() string { return e.Source + ": " + e.Reason }

// sourceError is the one way an error of a source leaves this package.
func sourceError(source string, err error) *Error {
	return &Error{Source: source, Reason: reason(err)}
}

// reason rebuilds a message from the error's typed parts and from the
// library's fixed messages; anything else is withheld. Each case names
// what failed and where (a host, a file path, an offset), never content.
func reason(err error) string {
	var (
		own    *Error
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		urlErr *url.Error
		path   *fs.PathError
		parse  *time.ParseError
	)
	switch {
	case err == nil:
		return "failed"
	case errors.As(err, &own):
		return own.Reason
	case errors.As(err, &syntax):
		return fmt.Sprintf("JSON syntax error at offset %d", syntax.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Sprintf("the top level is not a JSON object (offset %d)", typ.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("a value of the wrong type at offset %d (field %s)", typ.Offset, safeToken(typ.Field))
	case errors.As(err, &urlErr):
		return fmt.Sprintf("cannot reach %s: %s", urlHost(urlErr.URL), netReason(urlErr.Err))
	case errors.As(err, &path):
		return fmt.Sprintf("cannot %s %s: %s", safeToken(path.Op), path.Path, errnoReason(path.Err))
	case errors.As(err, &parse):
		return "the STS answer's expiration is not a time"
	}
	return libraryReason(err.Error())
}

// urlHost is the scheme and host of a request URL: its query carries the
// AccessKey ID, signature and token, so nothing after the host is kept.
func urlHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "the credential service (its address withheld)"
	}
	return u.Scheme + "://" + u.Host
}

// netReason describes a transport failure by kind and address.
func netReason(err error) string {
	var (
		op   *net.OpError
		dns  *net.DNSError
		cert *tls.CertificateVerificationError
		auth x509.UnknownAuthorityError
		host x509.HostnameError
		ne   net.Error
	)
	switch {
	case errors.As(err, &op) && op.Op == "proxyconnect":
		var dial *net.OpError // the proxy's address is on the dial inside
		if errors.As(op.Err, &dial) {
			op = dial
		}
		return fmt.Sprintf("the proxy %s: %s", addr(op), errnoReason(op.Err))
	case errors.As(err, &dns):
		if dns.IsNotFound {
			return "host not found"
		}
		return "DNS lookup failed"
	case errors.As(err, &cert), errors.As(err, &auth), errors.As(err, &host):
		return "its TLS certificate is not trusted"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.As(err, &op):
		return fmt.Sprintf("%s %s: %s", safeToken(op.Op), addr(op), errnoReason(op.Err))
	}
	return "network error"
}

func addr(op *net.OpError) string {
	if op.Addr == nil {
		return "(no address)"
	}
	return op.Addr.String() // an IP and port
}

// errnoReason keeps the system's own fixed wording only.
func errnoReason(err error) string {
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno.Error()
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return "failed"
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// safeToken passes an identifier-like word and withholds anything else.
func safeToken(s string) string {
	if tokenRE.MatchString(s) {
		return s
	}
	return "(withheld)"
}

// fixedMessages are credentials-go v1.4.14's messages that interpolate
// nothing (errors.New of a constant): repeating them cannot leak.
var fixedMessages = map[string]bool{
	"the CLI profile is disabled":                                                             true,
	"IMDS credentials is disabled":                                                            true,
	"the RoleArn is empty":                                                                    true,
	"the OIDCProviderARN is empty":                                                            true,
	"the OIDCTokenFilePath is empty":                                                          true,
	"must specify a previous credentials provider to assume role":                             true,
	"session duration should be in the range of 900s - max session duration":                  true,
	"the Assume Role session duration should be in the range of 15min - max duration seconds": true,
	"the access key id is empty":                                                              true,
	"the access key secret is empty":                                                          true,
	"the security token is empty":                                                             true,
	"refresh RoleArn sts token err, fail to get credentials":                                  true,
	"get oidc sts token err, fail to get credentials":                                         true,
	"refresh Ecs sts token err, fail to get credentials":                                      true,
	"refresh Ecs sts token err, Code is not Success":                                          true,
	"cannot found home dir":                                                                   true,
	"invalid site type, support CN or INTL":                                                   true,
	"process_command is empty":                                                                true,
	"CloudSSO access token is empty or expired, please re-login with cli":                     true,
	"CloudSSO sign in url or account id or access config is empty":                            true,
}

// stsRefusals are the library's prefixes before an STS answer's body;
// only the answer's Code and RequestId are kept (its Message can quote
// the string to sign, AccessKey ID and token included).
var stsRefusals = []string{"refresh session token failed: ", "get session token failed: "}

var (
	metadataStatusRE = regexp.MustCompile(`^refresh Ecs sts token err, httpStatus: (\d{3}),`)
	roleNameStatusRE = regexp.MustCompile(`^get role name failed: \S+ (\d{3})$`)
	// STS codes are dotted words (SignatureDoesNotMatch,
	// InvalidSecurityToken.Expired), request IDs hex UUIDs: neither shape
	// fits an AccessKey secret or token, should an answer ever carry one.
	stsCodeRE   = regexp.MustCompile(`^[A-Z][A-Za-z]{0,40}(\.[A-Z][A-Za-z]{0,40}){0,3}$`)
	requestIDRE = regexp.MustCompile(`^[0-9A-Fa-f-]{1,64}$`)
)

// libraryReason maps the library's untyped messages to safe ones.
func libraryReason(msg string) string {
	if fixedMessages[msg] {
		return msg
	}
	for _, prefix := range stsRefusals {
		if body, ok := strings.CutPrefix(msg, prefix); ok {
			return stsRefusal(body)
		}
	}
	if m := metadataStatusRE.FindStringSubmatch(msg); m != nil {
		return "the ECS metadata service answered HTTP " + m[1]
	}
	if m := roleNameStatusRE.FindStringSubmatch(msg); m != nil {
		return "the ECS metadata service gave no role name (HTTP " + m[1] + ")"
	}
	switch {
	case strings.HasPrefix(msg, "refresh Ecs sts token err: "), strings.HasPrefix(msg, "get role name failed: "),
		strings.HasPrefix(msg, "get metadata token failed: "):
		return "cannot reach the ECS metadata service"
	case strings.HasPrefix(msg, "unmarshal aliyun cli config from "):
		return "the config file is not valid JSON"
	case strings.Contains(msg, "json.Unmarshal fail"):
		return "the credential service's answer is not valid JSON"
	}
	return "failed (the credential library's message is withheld: it can carry credentials)"
}

func stsRefusal(body string) string {
	var answer struct {
		Code      string
		RequestID string `json:"RequestId"`
	}
	if json.Unmarshal([]byte(body), &answer) != nil || !stsCodeRE.MatchString(answer.Code) {
		return "STS refused the request (its answer is withheld)"
	}
	out := "STS refused the request: " + answer.Code
	if requestIDRE.MatchString(answer.RequestID) {
		out += " (request " + answer.RequestID + ")"
	}
	return out
}
