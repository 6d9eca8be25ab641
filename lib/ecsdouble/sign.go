package ecsdouble

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"sort"
	"strings"
)

// PercentEncode is the RFC 3986 encoding signature v1 uses: unreserved
// characters (A-Z a-z 0-9 - _ . ~) stay, every other byte is %XX in
// upper-case hex, so space is %20 and '*' is %2A.
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// StringToSign builds the RPC v1 string to sign from every parameter except
// Signature, blank values included, sorted by key: METHOD&%2F& and then
// the percent-encoded query, percent-encoded again. It is built in one pass:
// encoding twice leaves an unreserved byte as it is and turns any other
// into %25XX.
func StringToSign(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	size := len(method) + 6
	for k, v := range params {
		if k != "Signature" {
			keys = append(keys, k)
			size += 3*(len(k)+len(v)) + 6
		}
	}
	sort.Strings(keys)
	b := make([]byte, 0, size)
	b = append(b, strings.ToUpper(method)...)
	b = append(b, "&%2F&"...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, "%26"...) // '&'
		}
		b = appendEncodedTwice(b, k)
		b = append(b, "%3D"...) // '='
		b = appendEncodedTwice(b, params[k])
	}
	return string(b)
}

func appendEncodedTwice(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', '2', '5', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// Sign returns the base64 HMAC-SHA1 signature of params with key secret+"&",
// exactly as the SDK computes it.
func Sign(method string, params map[string]string, secret string) string {
	return signString(StringToSign(method, params), secret)
}

func signString(stringToSign, secret string) string {
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
