package docs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// MaxReadmeLines is the most lines README.md may have: a newcomer reads it
// in five minutes; everything else belongs in docs/.
const MaxReadmeLines = 250

// DeliberatelyUnknown are REAPER_* names the documentation writes on
// purpose although no setting has them: the misspelling the
// unknown-name check is shown refusing.
var DeliberatelyUnknown = map[string]bool{"REAPER_DRYRUN": true}

// Problem is one defect in one file.
type Problem struct {
	File string // relative to the repository root, slash-separated
	Line int
	What string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.What) }

var (
	inlineLink   = regexp.MustCompile(`\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)`)
	refLinkDef   = regexp.MustCompile(`^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)`)
	htmlRef      = regexp.MustCompile(`(?i)\b(?:href|src)\s*=\s*"([^"]*)"`)
	htmlID       = regexp.MustCompile(`(?i)<a\s+(?:id|name)\s*=\s*"([^"]+)"`)
	bareURL      = regexp.MustCompile(`(?i)\b(?:https?|ftp)://[a-z0-9\[]|\bwww\.[a-z0-9-]+\.[a-z]`)
	codeSpan     = regexp.MustCompile("`+[^`]*`+")
	heading      = regexp.MustCompile(`^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$`)
	workItem     = regexp.MustCompile(`(?i)\b(?:issues?|work[- ]items?|tickets?|pull requests?|PRs?)\s*#?\d+|\bi\d{1,2}-[a-z]+\b`)
	settingName  = regexp.MustCompile(`\bREAPER_[A-Z0-9_]*[A-Z0-9]\b`)
	scheme       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	fenceOpening = regexp.MustCompile("^\\s{0,3}(```+|~~~+)")
	goRun        = regexp.MustCompile(`go run \./function(?:\s+(\S+))?`)
)

// Files lists README.md and every Markdown file under docs/, relative to
// root, slash-separated and sorted.
func Files(root string) ([]string, error) {
	files := []string{"README.md"}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".md") {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files[1:])
	return files, err
}

// line is one line of prose: code blocks are left out, code spans blanked
// (a link or URL quoted as code is not a link).
type line struct {
	n    int
	text string // code spans removed
	raw  string // as written (setting names count in code spans too)
	code bool   // in a code block (or its fence)
}

func proseLines(src string) []line {
	var out []line
	fence := ""
	for i, l := range strings.Split(src, "\n") {
		if m := fenceOpening.FindStringSubmatch(l); m != nil {
			switch {
			case fence == "":
				fence = m[1][:1]
				out = append(out, line{n: i + 1, raw: l, code: true})
				continue
			case strings.HasPrefix(m[1], fence):
				fence = ""
				continue
			}
		}
		if fence != "" {
			out = append(out, line{n: i + 1, raw: l, code: true})
			continue
		}
		out = append(out, line{n: i + 1, text: codeSpan.ReplaceAllString(l, "``"), raw: l})
	}
	return out
}

// Anchor is the fragment GitHub gives a heading: lower case, punctuation
// dropped, spaces as hyphens.
func Anchor(text string) string {
	text = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`).ReplaceAllString(text, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors are the fragments a Markdown file defines: its headings' (with
// GitHub's -1, -2 for repeats) and its <a id> elements'.
func anchors(src string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range proseLines(src) {
		if l.code {
			continue
		}
		for _, m := range htmlID.FindAllStringSubmatch(l.text, -1) {
			out[m[1]] = true
		}
		m := heading.FindStringSubmatch(l.raw)
		if m == nil {
			continue
		}
		a := Anchor(m[2])
		if n := seen[a]; n > 0 {
			out[fmt.Sprintf("%s-%d", a, n)] = true
		} else {
			out[a] = true
		}
		seen[a]++
	}
	return out
}

// Check reads README.md and docs/**/*.md under root and returns every
// problem; known are the setting names the settings table defines.
func Check(root string, known map[string]bool) ([]Problem, error) {
	files, err := Files(root)
	if err != nil {
		return nil, err
	}
	var problems []Problem
	anchorCache := map[string]map[string]bool{}
	anchorsOf := func(rel string) (map[string]bool, error) {
		if a, ok := anchorCache[rel]; ok {
			return a, nil
		}
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return nil, err
		}
		anchorCache[rel] = anchors(string(b))
		return anchorCache[rel], nil
	}
	for _, file := range files {
		b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
		if err != nil {
			return nil, err
		}
		src := string(b)
		add := func(n int, format string, args ...any) {
			problems = append(problems, Problem{File: file, Line: n, What: fmt.Sprintf(format, args...)})
		}
		if file == "README.md" {
			if n := strings.Count(strings.TrimRight(src, "\n"), "\n") + 1; n > MaxReadmeLines {
				add(n, "README.md has %d lines, more than %d: move the detail to docs/", n, MaxReadmeLines)
			}
		}
		for _, l := range proseLines(src) {
			if file == "README.md" {
				for _, m := range goRun.FindAllStringSubmatch(l.raw, -1) {
					if m[1] != "demo" {
						add(l.n, "%q: the README runs the built binary (go build -o reaper ./function), whose exit codes hold; go run is for the demo only", m[0])
					}
				}
			}
			for _, m := range settingName.FindAllString(l.raw, -1) {
				if !known[m] && !DeliberatelyUnknown[m] {
					add(l.n, "%s is not a setting the settings table knows", m)
				}
			}
			if m := workItem.FindString(l.raw); m != "" {
				add(l.n, "internal work-item reference %q: say what changed instead", m)
			}
			if l.code {
				continue
			}
			var targets []string
			for _, re := range []*regexp.Regexp{inlineLink, refLinkDef, htmlRef} {
				for _, m := range re.FindAllStringSubmatch(l.text, -1) {
					targets = append(targets, m[1])
				}
			}
			if bareURL.MatchString(inlineLink.ReplaceAllString(l.text, "]()")) {
				add(l.n, "a URL outside the repository (quote a source as code, or link a file in the repository)")
			}
			for _, t := range targets {
				if msg := checkTarget(root, file, t, anchorsOf); msg != "" {
					add(l.n, "link %q: %s", t, msg)
				}
			}
		}
	}
	return problems, nil
}

func checkTarget(root, file, target string, anchorsOf func(string) (map[string]bool, error)) string {
	if target == "" {
		return "empty target"
	}
	if scheme.MatchString(target) || strings.HasPrefix(target, "//") {
		return "outside the repository (a clone must be enough)"
	}
	if strings.HasPrefix(target, "/") {
		return "an absolute path: link relative to the file"
	}
	p, frag, _ := strings.Cut(target, "#")
	rel := file
	if p != "" {
		rel = path.Clean(path.Join(path.Dir(file), p))
		if rel == ".." || strings.HasPrefix(rel, "../") {
			return "outside the repository (a clone must be enough)"
		}
		info, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			return "no such file in the repository"
		}
		if info.IsDir() || !strings.HasSuffix(rel, ".md") {
			if frag != "" && info.IsDir() {
				return "an anchor on a directory"
			}
			return ""
		}
	}
	if frag == "" {
		return ""
	}
	a, err := anchorsOf(rel)
	if err != nil {
		return err.Error()
	}
	if !a[frag] {
		return fmt.Sprintf("no heading or <a id> %q in %s", frag, rel)
	}
	return ""
}

// TryItCommands returns the commands of the first code block under the
// README's "## Try it" heading, one a line.
func TryItCommands(readme string) ([]string, error) {
	_, rest, ok := strings.Cut(readme, "\n## Try it\n")
	if !ok {
		return nil, fmt.Errorf("README.md has no \"## Try it\" section")
	}
	if next := strings.Index(rest, "\n## "); next >= 0 {
		rest = rest[:next]
	}
	_, block, ok := strings.Cut(rest, "```sh\n")
	if !ok {
		return nil, fmt.Errorf("README.md's Try it has no sh code block")
	}
	block, _, _ = strings.Cut(block, "```")
	var cmds []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			cmds = append(cmds, l)
		}
	}
	return cmds, nil
}
