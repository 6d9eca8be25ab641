package ecsdouble

import (
	"fmt"
	"slices"
	"time"
)

// Secret is what a double knows of an AccessKey.
type Secret struct {
	AccessKeySecret string
	SecurityToken   string    // "" for a permanent AccessKey
	Expiration      time.Time // zero: never
}

// AuthError is a request the API refuses before running it.
type AuthError struct {
	Status        int
	Code, Message string
}

func autherr(status int, code, format string, args ...any) *AuthError {
	return &AuthError{status, code, fmt.Sprintf(format, args...)}
}

// VerifyRequest checks an RPC request's common parameters, its Version
// (one of versions), its AccessKey (found by lookup), token, expiry and
// signature v1, and its SignatureNonce (fresh records it and reports
// whether it was unused), as Alibaba Cloud's RPC APIs do. Timestamps are
// checked against real time (15 minutes skew); so is the expiry.
func VerifyRequest(method string, p map[string]string, versions []string, lookup func(akID string) (Secret, bool), fresh func(nonce string) bool) *AuthError {
	for _, k := range []string{"Action", "Version", "Format", "Timestamp", "SignatureMethod", "SignatureVersion", "SignatureNonce", "AccessKeyId", "Signature"} {
		if p[k] == "" {
			return autherr(400, "MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", k)
		}
	}
	if !slices.Contains(versions, p["Version"]) {
		return autherr(400, "InvalidVersion", "Specified parameter Version %q is not valid.", p["Version"])
	}
	if p["Format"] != "JSON" {
		return autherr(400, "InvalidParameter.Format", "The double only serves Format=JSON, got %q.", p["Format"])
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return autherr(400, "InvalidSignatureMethod", "Specified signature method %q is not valid.", p["SignatureMethod"])
	}
	if p["SignatureVersion"] != "1.0" {
		return autherr(400, "InvalidSignatureVersion", "Specified signature version %q is not valid.", p["SignatureVersion"])
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", p["Timestamp"])
	if err != nil {
		return autherr(400, "InvalidTimeStamp.Format", "Specified time stamp %q does not match the specified format.", p["Timestamp"])
	}
	if d := time.Since(ts); d > 15*time.Minute || d < -15*time.Minute {
		return autherr(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	c, ok := lookup(p["AccessKeyId"])
	if !ok {
		return autherr(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	tok, hasTok := p["SecurityToken"]
	switch {
	case c.SecurityToken != "" && !hasTok:
		return autherr(400, "InvalidSecurityToken.Malformed", "The SecurityToken is missing for this temporary AccessKeyId.")
	case c.SecurityToken != "" && tok != c.SecurityToken:
		return autherr(400, "InvalidSecurityToken.Mismatch", "Specified SecurityToken does not match the AccessKeyId.")
	case c.SecurityToken == "" && hasTok:
		return autherr(400, "InvalidSecurityToken.Mismatch", "A SecurityToken was sent for a permanent AccessKeyId.")
	case !c.Expiration.IsZero() && !time.Now().Before(c.Expiration):
		return autherr(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")
	}
	sts := StringToSign(method, p)
	if signString(sts, c.AccessKeySecret) != p["Signature"] {
		return autherr(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation. server string to sign is:%s", sts)
	}
	if !fresh(p["SignatureNonce"]) {
		return autherr(400, "SignatureNonceUsed", "Specified signature nonce was used already.")
	}
	return nil
}
