package report

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
)

// Sections are a region's resource sections by kind name. The report
// takes the names as data (package kinds names them, and imports this
// package, so this one cannot import it): in JSON each section is a field
// of its region under its name ("disks": {...}), and the totals' counts a
// field of the totals, as they were when each kind had its own field.
type Sections map[string]*Section

// Names are the sections' names, sorted.
func (s Sections) Names() []string { return slices.Sorted(maps.Keys(s)) }

// Section returns the region's section of a kind; nil when it has none.
func (r *Region) Section(name string) *Section { return r.Sections[name] }

// MarshalJSON writes the region with a field for each section.
func (r *Region) MarshalJSON() ([]byte, error) {
	type plain Region // without this method
	b, err := json.Marshal((*plain)(r))
	if err != nil {
		return nil, err
	}
	return splice(b, r.Sections)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (r *Region) UnmarshalJSON(b []byte) error {
	type plain Region
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	secs, err := unsplice[*Section](b, regionFields)
	r.Sections = secs
	return err
}

// MarshalJSON writes the totals with a field for each kind's counts.
func (t Totals) MarshalJSON() ([]byte, error) {
	type plain Totals
	b, err := json.Marshal(plain(t))
	if err != nil {
		return nil, err
	}
	return splice(b, t.Kinds)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (t *Totals) UnmarshalJSON(b []byte) error {
	type plain Totals
	if err := json.Unmarshal(b, (*plain)(t)); err != nil {
		return err
	}
	kinds, err := unsplice[map[string]int](b, totalsFields)
	t.Kinds = kinds
	return err
}

// MarshalJSON writes the region's head with its sections' counts.
func (h RegionHead) MarshalJSON() ([]byte, error) {
	type plain Region
	b, err := json.Marshal(struct {
		*plain
		Groups    []*Group    `json:"instances,omitempty"`
		Batches   int         `json:"batches"`
		Leftovers []*Leftover `json:"leftovers,omitempty"`
	}{(*plain)(h.Region), h.Groups, h.Batches, h.Leftovers})
	if err != nil {
		return nil, err
	}
	return splice(b, h.Sections)
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (h *RegionHead) UnmarshalJSON(b []byte) error {
	type plain Region
	h.Region = new(Region)
	shell := struct {
		*plain
		Groups    []*Group    `json:"instances,omitempty"`
		Batches   int         `json:"batches"`
		Leftovers []*Leftover `json:"leftovers,omitempty"`
	}{plain: (*plain)(h.Region)}
	if err := json.Unmarshal(b, &shell); err != nil {
		return err
	}
	h.Groups, h.Batches, h.Leftovers = shell.Groups, shell.Batches, shell.Leftovers
	secs, err := unsplice[*SectionHead](b, regionFields)
	h.Sections = secs
	return err
}

var (
	regionFields = jsonFields(reflect.TypeFor[Region](), "instances")
	totalsFields = jsonFields(reflect.TypeFor[Totals]())
)

// jsonFields are the JSON names of a struct's fields, and extra.
func jsonFields(t reflect.Type, extra ...string) map[string]bool {
	out := map[string]bool{}
	for _, name := range extra {
		out[name] = true
	}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case !f.IsExported() || name == "-":
		case name != "":
			out[name] = true
		default:
			out[f.Name] = true
		}
	}
	return out
}

// splice appends a field for each non-nil value, by name, to the JSON
// object b.
func splice[T any](b []byte, fields map[string]T) ([]byte, error) {
	if len(fields) == 0 {
		return b, nil
	}
	out := bytes.TrimRight(b, " \n")
	out = out[:len(out)-1] // the object's closing brace
	empty := bytes.Equal(bytes.TrimSpace(out), []byte("{"))
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if reflect.ValueOf(fields[name]).IsNil() {
			continue
		}
		v, err := json.Marshal(fields[name])
		if err != nil {
			return nil, err
		}
		k, _ := json.Marshal(name)
		if !empty {
			out = append(out, ',')
		}
		empty = false
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, '}'), nil
}

// unsplice reads the fields of the JSON object b that are not known as
// T: a name whose value is not an object is not a section.
func unsplice[T any](b []byte, known map[string]bool) (map[string]T, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	var out map[string]T
	for name, v := range raw {
		if known[name] || !bytes.HasPrefix(bytes.TrimSpace(v), []byte("{")) {
			continue
		}
		var x T
		if err := json.Unmarshal(v, &x); err != nil {
			return nil, err
		}
		if out == nil {
			out = map[string]T{}
		}
		out[name] = x
	}
	return out, nil
}
