package settings

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Prefix is the prefix of every setting's name. A variable with it that the
// program does not read is an error, never ignored: a misspelt
// REAPER_DRYRUN must not leave a run releasing.
const Prefix = "REAPER_"

// CheckNames refuses every REAPER_* name in environ ("NAME=value" entries,
// as os.Environ gives them) that is not a known setting, naming the
// closest known one. Values are never shown: they may be secrets.
func CheckNames(environ []string) error {
	var errs []error
	seen := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(strings.ToUpper(name), Prefix) || slices.Contains(Names, name) || seen[name] {
			continue
		}
		seen[name] = true
		errs = append(errs, fmt.Errorf("%s is not a setting this program reads (did you mean %s?); unset it or correct its name", name, Closest(name)))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// Closest returns the known setting name nearest to name by edit distance,
// compared without case.
func Closest(name string) string {
	best, bestDist := Names[0], -1
	for _, known := range Names {
		if d := editDistance(strings.ToUpper(name), known); bestDist < 0 || d < bestDist {
			best, bestDist = known, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
