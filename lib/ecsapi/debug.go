package ecsapi

import (
	"slices"
	"strings"
)

// SDKDebugFlag is the DEBUG entry that makes the SDK print every request
// URI and header to stdout, the FC log: the Signature, the AccessKey ID and
// the SecurityToken included. The SDK reads DEBUG once, when its packages
// initialise, before main runs, so it cannot be switched off in-process.
const SDKDebugFlag = "sdk"

// secretPrintingFlags are the DEBUG entries of Alibaba's libraries that
// print requests with their credentials: the SDK's, credentials-go's
// (the metadata token, Bearer tokens) and the Tea runtime's.
var secretPrintingFlags = []string{SDKDebugFlag, "credential", "tea"}

// WithoutSDKDebug returns environ ("NAME=value" entries) with every
// secret-printing flag removed from DEBUG's comma-separated flags, and
// whether one was there. The function binary re-executes itself with the
// result: the only way to start the libraries with their debug output off.
func WithoutSDKDebug(environ []string) ([]string, bool) {
	out := make([]string, 0, len(environ))
	changed := false
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if name != "DEBUG" {
			out = append(out, kv)
			continue
		}
		var kept []string
		for _, flag := range strings.Split(value, ",") {
			if slices.Contains(secretPrintingFlags, flag) {
				changed = true
				continue
			}
			kept = append(kept, flag)
		}
		if len(kept) > 0 {
			out = append(out, "DEBUG="+strings.Join(kept, ","))
		}
	}
	return out, changed
}
