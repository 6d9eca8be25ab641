package fanout_test

import (
	"bytes"
	"encoding/json"
	"os"
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
