package settings

import (
	"strings"
	"testing"
)

func FuzzParsePayload(f *testing.F) {
	for _, s := range []string{"", `{"dryRun": true}`, `{"regions": ["cn-hangzhou"]}`, `{"maxRelease": 10}`, `{"dryRun":"yes"}`, `{"foo":1}`, `[1]`, `not json`, `{"dryRun":true}{}`, `{"dryRun":null}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, payload string) {
		o, err := ParsePayload(payload)
		if err != nil {
			if o.DryRun != nil || o.Regions != nil || o.MaxRelease != nil {
				t.Fatalf("ParsePayload(%q) returned overrides with error %v", payload, err)
			}
			return
		}
		if o.MaxRelease != nil && *o.MaxRelease < 0 {
			t.Fatalf("ParsePayload(%q): negative maxRelease %d", payload, *o.MaxRelease)
		}
		if o.Regions != nil && len(o.Regions) == 0 {
			t.Fatalf("ParsePayload(%q): empty regions accepted", payload)
		}
		if err := Default().Apply(o).Validate(); err != nil {
			t.Fatalf("ParsePayload(%q) = %+v, which makes valid settings invalid: %v", payload, o, err)
		}
	})
}

// FuzzFromEnv sets every variable from one fuzzed string split on "\n",
// in the order of Names.
func FuzzFromEnv(f *testing.F) {
	f.Add("all\nreaper-expires\nreaper-keep\ntrue\nfalse\n1\n-3\n50\nAsia/Shanghai\nhttps://ecs.cn-hangzhou.aliyuncs.com\n60s\n30s\n4\n4")
	f.Add("cn-hangzhou,cn-hangzhou\nsame\nsame\nyes\n\n\n\n0\nLocal\nftp://x\n0s\n-1s\n0\n17")
	f.Add("")
	// The cross-field checks: a notice or a kind without a usable channel,
	// an opt-in tag that is a key derived from the mark tag, a mark tag too
	// long for its derived keys.
	for _, m := range []map[string]string{
		{EnvNotice: "2d", EnvNotifyURL: " "},
		{EnvNotifyKind: "slack"},
		{EnvTagKey: "reaper-notified-stopped"},
		{EnvMarkTag: strings.Repeat("m", 120)},
		{EnvNotice: "2d", EnvGrace: "6h", EnvNotifyKind: "json", EnvNotifyURL: "http://127.0.0.1:1/hook"},
	} {
		parts := make([]string, len(Names))
		for i, n := range Names {
			parts[i] = m[n]
		}
		f.Add(strings.Join(parts, "\n"))
	}
	f.Fuzz(func(t *testing.T, values string) {
		parts := strings.Split(values, "\n")
		m := map[string]string{}
		for i, n := range Names {
			if i < len(parts) {
				m[n] = parts[i]
			}
		}
		s, err := FromEnv(func(k string) (string, bool) { v, ok := m[k]; return v, ok })
		if err != nil {
			if strings.Contains(err.Error(), "\n\n") {
				t.Fatalf("blank line in joined error: %q", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("FromEnv(%q) succeeded but Validate() = %v", values, err)
		}
	})
}
