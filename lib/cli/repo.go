package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/ecs-reaper/ecs-reaper/lib/deployfiles"
)

// Deployment files, relative to the repository root.
const (
	sYAMLPath     = deployfiles.SYAMLPath
	templatePath  = deployfiles.TemplatePath
	ramPolicyPath = deployfiles.RAMPolicyPath
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
	found, err := readKeys(root, file, "cronExpression", "CronExpression")
	var out []cronEntry
	for _, f := range found {
		switch v := f.Value.(type) {
		case string:
			out = append(out, cronEntry{File: file, Path: f.Path, Expr: v})
		case map[string]any:
			// A ROS parameter: the schedule a stack gets by default.
			name, _ := v["Ref"].(string)
			if def, ok := parameterDefault(root, file, name); ok {
				out = append(out, cronEntry{File: file, Path: f.Path + " (parameter " + name + ")", Expr: def})
			}
		}
	}
	return out, err
}

// parameterDefault reads a ROS template parameter's Default.
func parameterDefault(root, file, name string) (string, bool) {
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil || name == "" {
		return "", false
	}
	var doc struct {
		Parameters map[string]struct {
			Default any `yaml:"Default"`
		} `yaml:"Parameters"`
	}
	if yaml.Unmarshal(b, &doc) != nil {
		return "", false
	}
	def, ok := doc.Parameters[name].Default.(string)
	return def, ok
}

// keyEntry is one value found under a key in a deployment file.
type keyEntry struct {
	Path  string
	Key   string
	Value any
}

// readKeys returns the values of every mapping key named one of keys, in
// sorted order of their paths.
func readKeys(root, file string, keys ...string) ([]keyEntry, error) {
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return nil, err
	}
	var doc any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []keyEntry
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			names := make([]string, 0, len(v))
			for k := range v {
				names = append(names, k)
			}
			sort.Strings(names)
			for _, k := range names {
				p := k
				if path != "" {
					p = path + "." + k
				}
				if slices.Contains(keys, k) {
					out = append(out, keyEntry{Path: p, Key: k, Value: v[k]})
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
