// Package deployfiles loads the repository's deployment files (s.yaml,
// template.yaml and docs/ram-policy.json) and checks them against the
// program itself: the cron syntax FC accepts (schedule.Parse), the settings
// the program reads (settings.Names and their value rules), the ECS actions
// it calls (ecsapi.Actions) and the fc3 component's schema. A deployment
// file that drifts from the code fails the tests and `validate`, instead of
// failing at deploy time or, worse, running with a setting nobody reads or a
// role that can do more than the function needs.
package deployfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Paths of the deployment files, relative to the repository root.
const (
	SYAMLPath     = "s.yaml"
	SFanoutPath   = "docs/s.fanout.yaml" // optional: the fan-out's worker for Serverless Devs
	TemplatePath  = "template.yaml"
	RAMPolicyPath = "docs/ram-policy.json"
	// MemberRolePath is the member accounts' role (docs/many-accounts.md).
	MemberRolePath = "docs/member-role.yaml"
)

// Problem is one thing wrong with a deployment file.
type Problem struct {
	File string // SYAMLPath, TemplatePath or RAMPolicyPath
	Path string // where in the file, e.g. "resources.reaper.props.memorySize"; "" for the whole file
	Msg  string // what is wrong, and where it helps, what is expected
}

// Error formats the problem as "file: path: message", so a Problem can be
// returned or joined as an error.
func (p Problem) Error() string {
	if p.Path == "" {
		return p.File + ": " + p.Msg
	}
	return p.File + ": " + p.Path + ": " + p.Msg
}

// Files holds the parsed deployment files. The documents are generic YAML
// trees (maps, slices, scalars) because the checks must see exactly what
// the deploy tools would, including keys this package does not know.
type Files struct {
	SYAML     map[string]any
	Template  map[string]any
	RAMPolicy map[string]any
	SFanout   map[string]any // nil when the directory has no s.fanout.yaml
	// MemberRole is the member role's template; nil when the clone has none.
	MemberRole map[string]any
}

// Load reads and parses the three deployment files under repoRoot. It fails
// only when a file is missing or is not a YAML/JSON mapping; everything else
// is left to Check so all problems are reported at once.
func Load(repoRoot string) (Files, error) {
	var f Files
	for _, d := range []struct {
		path string
		dst  *map[string]any
	}{{SYAMLPath, &f.SYAML}, {TemplatePath, &f.Template}, {RAMPolicyPath, &f.RAMPolicy}} {
		b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(d.path)))
		if err != nil {
			return Files{}, fmt.Errorf("deployfiles: %w", err)
		}
		m, err := parseMapping(b)
		if err != nil {
			return Files{}, fmt.Errorf("deployfiles: %s: %w", d.path, err)
		}
		*d.dst = m
	}
	if b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(SFanoutPath))); err == nil {
		if f.SFanout, err = parseMapping(b); err != nil {
			return Files{}, fmt.Errorf("deployfiles: %s: %w", SFanoutPath, err)
		}
	}
	// The member role is optional: only many-account deployments need it.
	b, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(MemberRolePath)))
	switch {
	case err == nil:
		if f.MemberRole, err = parseMapping(b); err != nil {
			return Files{}, fmt.Errorf("deployfiles: %s: %w", MemberRolePath, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return Files{}, fmt.Errorf("deployfiles: %w", err)
	}
	return f, nil
}

// parseMapping decodes one YAML document (JSON is YAML) whose top level is
// a mapping. A second document is refused: the deploy tools read only the
// first, so anything after it would be silently ignored.
func parseMapping(b []byte) (map[string]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not a YAML mapping: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("empty document")
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("more than one YAML document")
	}
	return m, nil
}

// Check runs every check and returns the problems found, sorted by file and
// path; none means the files are consistent with the program.
func (f Files) Check() []Problem {
	var ps []Problem
	ps = append(ps, checkSYAML(f.SYAML)...)
	ps = append(ps, checkTemplate(f.Template)...)
	ps = append(ps, checkPolicyDocument(RAMPolicyPath, "", f.RAMPolicy)...)
	ps = append(ps, checkInStep(f.SYAML, f.Template)...)
	if f.SFanout != nil {
		ps = append(ps, checkSFanout(f.SFanout, f.SYAML)...)
	}
	if f.MemberRole != nil {
		ps = append(ps, checkMemberRole(f.MemberRole, f.Template)...)
	}
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].File != ps[j].File {
			return ps[i].File < ps[j].File
		}
		return ps[i].Path < ps[j].Path
	})
	return ps
}

// problems collects Problems for one file.
type problems struct {
	file string
	list []Problem
}

func (p *problems) add(path, format string, args ...any) {
	p.list = append(p.list, Problem{File: p.file, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// join builds a dotted path; an int element becomes an index "[i]".
func join(base string, elems ...any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, e := range elems {
		switch e := e.(type) {
		case int:
			b.WriteString("[" + strconv.Itoa(e) + "]")
		default:
			s := fmt.Sprint(e)
			if s == "" {
				continue
			}
			if strings.HasPrefix(s, "[") {
				b.WriteString(s)
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// asMap, asSlice and asString read a YAML tree node of the expected kind;
// ok is false for anything else, including a missing node.
func asMap(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	return m, ok
}

func asSlice(v any) ([]any, bool) {
	s, ok := v.([]any)
	return s, ok
}

func asString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok
}

// describe shows a value with its YAML-decoded type, so "got int 100"
// explains why an unquoted number is not a string.
func describe(v any) string { return fmt.Sprintf("%T %v", v, v) }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
