package docs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ecs-reaper/ecs-reaper/lib/docs"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

func knownSettings() map[string]bool {
	known := map[string]bool{}
	for _, sp := range settings.Specs() {
		known[sp.Name] = true
	}
	return known
}

// TestRepositoryDocs: the README and docs/ as committed have no broken
// link or anchor, no link outside the repository, no internal work-item
// reference, no unknown setting, and the README fits its length.
func TestRepositoryDocs(t *testing.T) {
	root := filepath.Join("..", "..")
	problems, err := docs.Check(root, knownSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
	files, err := docs.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("found only %v: the check would pass on nothing", files)
	}
}

// TestDocsIndexListsEveryFile: docs/README.md links every Markdown file in
// docs/, so nothing moved out of the README is lost to a reader.
func TestDocsIndexListsEveryFile(t *testing.T) {
	root := filepath.Join("..", "..")
	index, err := os.ReadFile(filepath.Join(root, "docs", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := docs.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name, ok := strings.CutPrefix(f, "docs/")
		if !ok || name == "README.md" {
			continue
		}
		if !strings.Contains(string(index), "("+name+")") && !strings.Contains(string(index), "("+name+"#") {
			t.Errorf("docs/README.md does not link %s", name)
		}
	}
}

// write makes a repository under a temporary directory from path → text.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, text := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestCheckFindsEachDefect: each kind of defect, alone in an otherwise
// clean tree, is reported naming its file and line; the clean tree passes.
func TestCheckFindsEachDefect(t *testing.T) {
	clean := map[string]string{
		"README.md": "# Tool\n\nSee [the rules](docs/rules.md#the-caps-defaults), [why](#why) and " +
			"[a file](s.yaml).\n\n## Why\n\nSet `REAPER_DRY_RUN`. A misspelt `REAPER_DRYRUN` is refused.\n" +
			"Sources are quoted as code: `developer.example.com/doc`.\n\n```sh\ncurl https://example.com/in-a-code-block\n```\n",
		"docs/rules.md": "# Rules\n\n## The caps' defaults\n\n<a id=\"marks\"></a>Back to [the top](../README.md#tool) and [marks](#marks).\n",
		"s.yaml":        "edition: 3.0.0\n",
	}
	known := map[string]bool{"REAPER_DRY_RUN": true}
	if problems, err := docs.Check(write(t, clean), known); err != nil || len(problems) != 0 {
		t.Fatalf("clean tree: %v, %v", problems, err)
	}
	cases := []struct {
		name, file, text, want string
	}{
		{"missing file", "docs/rules.md", "# Rules\n\nSee [x](nothere.md).\n", "no such file"},
		{"missing anchor in another file", "README.md", "# Tool\n\n[x](docs/rules.md#nope)\n", `no heading or <a id> "nope" in docs/rules.md`},
		{"missing anchor in the same file", "README.md", "# Tool\n\n[x](#tools)\n", `no heading or <a id> "tools"`},
		{"outside by ..", "README.md", "# Tool\n\n[facts](../shared/reference/facts.md)\n", "outside the repository"},
		{"outside by URL", "docs/rules.md", "# Rules\n\n[docs](https://help.aliyun.com/x)\n", "outside the repository"},
		{"bare URL", "docs/rules.md", "# Rules\n\nsee https://help.aliyun.com/x\n", "a URL outside the repository"},
		{"absolute path", "docs/rules.md", "# Rules\n\n[x](/etc/passwd)\n", "absolute path"},
		{"work item", "docs/rules.md", "# Rules\n\nIt was 50 MiB before issues 12 and 13.\n", "internal work-item reference"},
		{"work item heading", "docs/rules.md", "# After the redesign (issue 10)\n", "internal work-item reference"},
		{"unknown setting", "docs/rules.md", "# Rules\n\nSet `REAPER_DRY_RUNS=true`.\n", "REAPER_DRY_RUNS is not a setting"},
		{"unknown setting in a code block", "README.md", "# Tool\n\n```\nREAPER_NOPE=1\n```\n", "REAPER_NOPE is not a setting"},
		{"go run beyond the demo", "README.md", "# Tool\n\n```sh\ngo run ./function plan --demo\n```\n", "go run is for the demo only"},
		{"long README", "README.md", "# Tool\n" + strings.Repeat("line\n", docs.MaxReadmeLines), "more than 250"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tree := map[string]string{}
			for k, v := range clean {
				tree[k] = v
			}
			tree[c.file] = c.text
			problems, err := docs.Check(write(t, tree), known)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, p := range problems {
				if p.File == c.file && strings.Contains(p.What, c.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("want a problem in %s containing %q, got %v", c.file, c.want, problems)
			}
		})
	}
}

func TestAnchor(t *testing.T) {
	for in, want := range map[string]string{
		"The caps' defaults":             "the-caps-defaults",
		"Outcomes, exit codes and logs":  "outcomes-exit-codes-and-logs",
		"`REAPER_RUNNING=stop` and more": "reaper_runningstop-and-more",
		"Run locally (s local invoke)":   "run-locally-s-local-invoke",
	} {
		if got := docs.Anchor(in); got != want {
			t.Errorf("Anchor(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReadmeTryItIsWhatCIRuns: the README's "Try it" gives exactly the two
// set-up commands, and .ci/run runs both, so CI checks what a newcomer
// types.
func TestReadmeTryItIsWhatCIRuns(t *testing.T) {
	root := filepath.Join("..", "..")
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile(filepath.Join(root, ".ci", "run"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, err := docs.TryItCommands(string(readme))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"go run ./function demo", "go test -race ./..."}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Errorf("the README's Try it gives %q, want exactly %q", cmds, want)
	}
	for _, c := range cmds {
		if !strings.Contains(string(ci), c) {
			t.Errorf(".ci/run does not run the README's %q", c)
		}
	}
}

// TestDryRunClaimsMatchSYAML: what the README and the command-line guide
// say s.yaml ships (a first deploy, and s local invoke, are dry runs) is
// what s.yaml holds.
func TestDryRunClaimsMatchSYAML(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var syaml struct {
		Resources map[string]struct {
			Props struct {
				Env map[string]string `yaml:"environmentVariables"`
			} `yaml:"props"`
		} `yaml:"resources"`
	}
	if err := yaml.Unmarshal(raw, &syaml); err != nil {
		t.Fatal(err)
	}
	ships := syaml.Resources["reaper"].Props.Env["REAPER_DRY_RUN"]
	if ships != "true" {
		t.Fatalf("s.yaml ships REAPER_DRY_RUN %q: a first deploy must be a dry run", ships)
	}
	claim := "ships `REAPER_DRY_RUN: \"" + ships + "\"`"
	for _, file := range []string{"README.md", "docs/cli.md"} {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(strings.Fields(string(b)), " "); !strings.Contains(text, claim) {
			t.Errorf("%s does not say s.yaml %s", file, claim)
		}
	}
}

// TestDeployGuideNamesEveryAction: the deploy guide's list of the role's
// actions is the policy's, so an action added to the code (and so to the
// policy, which lib/deployfiles checks) is explained to whoever grants it.
func TestDeployGuideNamesEveryAction(t *testing.T) {
	root := filepath.Join("..", "..")
	raw, err := os.ReadFile(filepath.Join(root, "docs", "ram-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Statement []struct {
			Action []string `json:"Action"`
		} `json:"Statement"`
	}
	if err := json.Unmarshal(raw, &policy); err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile(filepath.Join(root, "docs", "deploy.md"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, st := range policy.Statement {
		for _, action := range st.Action {
			n++
			if !strings.Contains(string(guide), "`"+action+"`") {
				t.Errorf("docs/deploy.md does not name the role's action %s", action)
			}
		}
	}
	if n == 0 {
		t.Fatal("docs/ram-policy.json names no action")
	}
}
