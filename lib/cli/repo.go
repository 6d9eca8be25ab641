package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

// Deployment files, relative to the repository root; the same paths as
// lib/deployfiles, which this package does not import (see
// internal/deploycheck).
const (
	sYAMLPath     = "s.yaml"
	templatePath  = "template.yaml"
	ramPolicyPath = "docs/ram-policy.json"
)

// findRepoRoot walks up from dir to the first directory holding s.yaml, so
// the commands work from any subdirectory of a clone.
func findRepoRoot(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, sYAMLPath)); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no %s in %s or any parent directory", sYAMLPath, abs)
		}
	}
}

// cronEntry is one timer cron expression found in a deployment file.
type cronEntry struct {
	File string // s.yaml or template.yaml
	Path string // e.g. resources.reaper.props.triggers[0].triggerConfig.cronExpression
	Expr string
}

// readCrons returns every timer cron expression in the file: values of
// cronExpression (s.yaml, fc3) and CronExpression (template.yaml, ROS)
// keys, in document order of their paths.
func readCrons(root, file string) ([]cronEntry, error) {
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return nil, err
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []cronEntry
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if s, ok := v[k].(string); ok && (k == "cronExpression" || k == "CronExpression") {
					out = append(out, cronEntry{File: file, Path: p, Expr: s})
					continue
				}
				walk(p, v[k])
			}
		case []any:
			for i, e := range v {
				walk(path+"["+strconv.Itoa(i)+"]", e)
			}
		}
	}
	walk("", doc)
	return out, nil
}

// defaultCron is the timer trigger's cronExpression in s.yaml under root.
func defaultCron(root string) (cronEntry, error) {
	crons, err := readCrons(root, sYAMLPath)
	if err != nil {
		return cronEntry{}, err
	}
	if len(crons) == 0 {
		return cronEntry{}, errors.New(sYAMLPath + " has no timer trigger cronExpression")
	}
	return crons[0], nil
}
