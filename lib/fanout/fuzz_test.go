package fanout_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout/flowcheck"
)

// FuzzParsePayload: the parser never panics, every refusal says what is
// wrong, and whatever it accepts is valid under the documented schema and
// reads back the same after encoding (the schema and the parser do not
// drift apart).
func FuzzParsePayload(f *testing.F) {
	raw, err := os.ReadFile("../../" + flowcheck.SchemaPath)
	if err != nil {
		f.Fatal(err)
	}
	schema, err := flowcheck.CompileSchema(raw)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		`{"phase":"plan","run":"20261206T090000Z","account":"1234567890123456"}`,
		`{"phase":"decide","run":"20261206T090000Z"}`,
		`{"phase":"notify","run":"20261206T090000Z"}`,
		`{"phase":"notify","run":"20261206T090000Z","account":"123456"}`,
		`{"phase":"report","run":"20261206T090000Z","account":"1"}`,
		`{"phase":"plan","phase":"plan","run":"20261206T090000Z","account":"123456"}`,
		`{"phase":"execute","run":"20260229T000000Z","account":"123456"}`,
		`{}`, `null`, `[`, `{"run":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := fanout.ParsePayload(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if !utf8.Valid(b) {
			t.Fatalf("accepted invalid UTF-8 %q", b)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("accepted %q, which is not JSON: %v", b, err)
		}
		if err := schema.Validate(inst); err != nil {
			t.Fatalf("accepted %q, which the schema refuses: %v", b, err)
		}
		enc, _ := json.Marshal(p)
		again, err := fanout.ParsePayload(enc)
		if err != nil || again != p {
			t.Fatalf("%q: re-encoded %s reads %+v, %v", b, enc, again, err)
		}
	})
}

// FuzzPlanNotices: a plan document read back as the store reads it never
// makes Validate panic, and a plan it accepts keeps the notices' rules:
// counted, each ID once, a known action, times, and text within a tag's
// bounds, none in a closed region, no more than the marks counted.
func FuzzPlanNotices(f *testing.F) {
	good, _ := json.Marshal(planWithNotices(accA, notice("i-1", "alice"), notice("i-2", "")))
	f.Add(good)
	f.Add([]byte(`{"run":"20261206T090000Z","account":"1000000000000001","status":"planned","regions":[{"region":"cn-hangzhou","optedIn":1,"notices":1,"owed":[{"id":"i-1","owner":"a\u0000b","expiresAt":"2026-12-07T09:00:00Z","action":"release","when":"2026-12-08T09:00:00Z","mark":"m"}]}]}`))
	f.Add([]byte(`{"run":"20261206T090000Z","account":"1000000000000001","status":"planned","regions":[{"region":"cn-hangzhou","closed":true,"optedIn":0,"notices":0,"owed":[{"id":"i-1","owner":"","expiresAt":"2026-12-07T09:00:00Z","action":"stop","when":"2026-12-08T09:00:00Z","mark":"m"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var p fanout.Plan
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if dec.Decode(&p) != nil {
			return
		}
		if err := p.Validate(run, accA); err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		seen := map[string]bool{}
		for _, r := range p.Regions {
			if len(r.Owed) > r.Notices || (r.Closed && len(r.Owed) > 0) {
				t.Fatalf("accepted region %s: %d marks counted, %d notices listed, closed %v", r.Region, r.Notices, len(r.Owed), r.Closed)
			}
			for _, n := range r.Owed {
				if seen[n.ID] || n.ID == "" || n.When.IsZero() || n.Mark == "" || len(n.Owner) > 256 || !utf8.ValidString(n.Owner) || strings.ContainsAny(n.Owner, "\x00\n\r") {
					t.Fatalf("accepted notice %+v", n)
				}
				switch n.Action {
				case "release", "stop", "release-once-stopped":
				default:
					t.Fatalf("accepted action %q", n.Action)
				}
				seen[n.ID] = true
			}
		}
	})
}
