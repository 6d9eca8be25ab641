package deployfiles

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// fc3Schema is devsapp/fc3's own definition of the props `s deploy`
// accepts (see schema/README.md). It is embedded, not read from disk, so
// `validate` gives the same answer on a user's machine as in CI.
//
//go:embed schema/fc3-props.schema.json
var fc3Schema []byte

const fc3SchemaURL = "https://github.com/devsapp/fc3/src/schema.json"

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
	knownProps  map[string]bool
)

func fc3() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(fc3Schema))
		if err != nil {
			compileErr = fmt.Errorf("embedded fc3 schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(fc3SchemaURL, doc); err != nil {
			compileErr = fmt.Errorf("embedded fc3 schema: %w", err)
			return
		}
		if compiled, compileErr = c.Compile(fc3SchemaURL); compileErr != nil {
			return
		}
		var top struct {
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if err := json.Unmarshal(fc3Schema, &top); err != nil {
			compileErr = fmt.Errorf("embedded fc3 schema: %w", err)
			return
		}
		knownProps = make(map[string]bool, len(top.Properties))
		for k := range top.Properties {
			knownProps[k] = true
		}
	})
	return compiled, compileErr
}

// schemaErr is one schema violation: a dotted path relative to props.
type schemaErr struct {
	path string
	msg  string
}

var printer = message.NewPrinter(language.English)

// validateProps validates props against the fc3 schema. The YAML tree goes
// through JSON first so numbers, booleans and strings are typed exactly as
// `s` sends them (and a YAML-only value such as a timestamp is reported).
func validateProps(props map[string]any) []schemaErr {
	sch, err := fc3()
	if err != nil {
		return []schemaErr{{msg: err.Error()}}
	}
	b, err := json.Marshal(props)
	if err != nil {
		return []schemaErr{{msg: fmt.Sprintf("cannot be expressed as JSON: %v", err)}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return []schemaErr{{msg: fmt.Sprintf("cannot be expressed as JSON: %v", err)}}
	}
	err = sch.Validate(inst)
	var ve *jsonschema.ValidationError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ve) {
		return []schemaErr{{msg: err.Error()}}
	}
	var out []schemaErr
	collect(ve, &out)
	return out
}

// collect turns the error tree into one message per failing keyword. An
// anyOf/oneOf is reported once at its location instead of with every
// branch's reasons, which would list the fields of unrelated trigger types.
func collect(e *jsonschema.ValidationError, out *[]schemaErr) {
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		*out = append(*out, schemaErr{instancePath(e.InstanceLocation), "matches none of the shapes the fc3 schema allows here"})
		return
	}
	if len(e.Causes) == 0 {
		*out = append(*out, schemaErr{instancePath(e.InstanceLocation), "fc3 schema: " + e.ErrorKind.LocalizedString(printer)})
		return
	}
	for _, c := range e.Causes {
		collect(c, out)
	}
}

func instancePath(loc []string) string {
	var b strings.Builder
	for _, s := range loc {
		if _, err := strconv.Atoi(s); err == nil {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}
