package benchmark

import (
	"bytes"
	"errors"
	"os"
	"strings"
)

// Markers delimit the generated part of docs/BENCHMARKS.md; the text
// around them is written by hand and kept when the results are refreshed.
const (
	BeginMarker = "<!-- reaper-bench results: begin (generated; run the command below to refresh) -->"
	EndMarker   = "<!-- reaper-bench results: end -->"
)

// Results renders the generated section: machine, command, tables.
func (r *Result) Results() []byte {
	var b bytes.Buffer
	b.WriteString(BeginMarker + "\n\n")
	r.WriteMachine(&b)
	b.WriteString("\n")
	r.WriteTables(&b)
	b.WriteString("\n" + EndMarker + "\n")
	return b.Bytes()
}

// WriteDocument writes the results into path: between the markers when the
// file has them, else as a new file holding only the generated section.
func (r *Result) WriteDocument(path string) error {
	gen := r.Results()
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return os.WriteFile(path, append([]byte("# Benchmarks\n\n"), gen...), 0o644)
	}
	if err != nil {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, BeginMarker), strings.Index(s, EndMarker)
	if i < 0 || j < i {
		return os.WriteFile(path, append(old, append([]byte("\n"), gen...)...), 0o644)
	}
	out := s[:i] + string(gen) + strings.TrimPrefix(s[j+len(EndMarker):], "\n")
	return os.WriteFile(path, []byte(out), 0o644)
}
