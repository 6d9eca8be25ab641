package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// docs/settings.md is the table's: a setting added, renamed or reworded
// without regenerating it fails here.
func TestReferenceIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", filepath.FromSlash(ReferencePath))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != Reference() {
		t.Fatalf("%s is stale: run go generate ./lib/settings", ReferencePath)
	}
}

func TestReferenceListsEverySetting(t *testing.T) {
	ref := Reference()
	for _, sp := range Specs() {
		var row string
		for _, l := range strings.Split(ref, "\n") {
			if strings.HasPrefix(l, "| `"+sp.Name+"` |") {
				row = l
			}
		}
		if row == "" {
			t.Errorf("%s has no row", sp.Name)
			continue
		}
		if cells := strings.Count(row, " | "); cells != 4 {
			t.Errorf("%s: %d cell separators (a | in its text unescaped?): %s", sp.Name, cells, row)
		}
		if sp.Default != "" && !strings.Contains(row, "`"+sp.Default+"`") {
			t.Errorf("%s: no default in %s", sp.Name, row)
		}
		if sp.Secret != strings.HasSuffix(row, "| yes: never shown |") {
			t.Errorf("%s: secret %t, row %s", sp.Name, sp.Secret, row)
		}
	}
}
