package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ecs-reaper/ecs-reaper/lib/cli"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
)

// longest is the widest line of out, in runes.
func longest(out string) (int, string) {
	n, line := 0, ""
	for _, l := range strings.Split(out, "\n") {
		if w := utf8.RuneCountInString(l); w > n {
			n, line = w, l
		}
	}
	return n, line
}

// The text fits 80 columns when the width is unknown, $COLUMNS when set,
// and --wide shows everything; long ID lists collapse to a count.
func TestOutputFitsTheWidth(t *testing.T) {
	narrow := run(t, nil, "", "demo")
	narrow.must(t, cli.ExitOK, "The ECS double released 5 instances (--wide lists them).")
	if n, line := longest(narrow.stdout); n >= 80 {
		t.Errorf("a line of %d columns with the width unknown:\n%s", n, line)
	}
	wider := run(t, map[string]string{"COLUMNS": "120"}, "", "demo")
	if n, line := longest(wider.stdout); n >= 120 || n <= 80 {
		t.Errorf("widest line %d columns at COLUMNS=120:\n%s", n, line)
	}
	wide := run(t, nil, "", "demo", "--wide")
	if n, _ := longest(wide.stdout); n <= 120 {
		t.Errorf("--wide cut the lines to %d columns", n)
	}
	if !strings.Contains(wide.stdout, "ecs-reaper-") || strings.Contains(narrow.stdout, "ecs-reaper-") {
		t.Error("the client tokens: all of them with --wide, none at 80 columns")
	}
}

// On a terminal the tables take the terminal's width.
func TestOutputFitsTheTerminal(t *testing.T) {
	term := startOnTerminal(t, nil, "demo") // 100 columns
	if code := term.exit(); code != cli.ExitOK {
		t.Fatalf("exit code %d\n%s", code, term.output())
	}
	out := strings.NewReplacer("\r\n", "\n", "\r", "\n", "\x1b[K", "").Replace(term.output())
	if n, line := longest(out); n >= 100 || n <= 80 {
		t.Errorf("widest line %d columns on a 100-column terminal:\n%s", n, line)
	}
}

// With the cap tripped the summary says one coherent thing, and the cap's
// error is stated once, not on every held row.
func TestCapErrorSaidOnce(t *testing.T) {
	r := run(t, map[string]string{"REAPER_MAX_RELEASE": "2"}, "", "demo")
	r.must(t, cli.ExitFailed, "CAP EXCEEDED", "NO: the caps held back every write", "see the error above")
	if n := strings.Count(r.stdout, "over the count cap of 2"); n > 2 { // the attention line and the error
		t.Errorf("the cap's error %d times:\n%s", n, r.stdout)
	}
	if strings.Contains(r.stdout, "the next run picks up what was left") {
		t.Errorf("a run every later run refuses too says the next one picks up:\n%s", r.stdout)
	}
	if strings.Index(r.stdout, "Needs attention") > strings.Index(r.stdout, "Summary") {
		t.Error("what needs attention is not first")
	}
}

// ownedFleet is a fleet with owners, mistakes and running expired ones.
func ownedFleet(t *testing.T) string {
	t.Helper()
	fleet := filepath.Join(t.TempDir(), "fleet.json")
	body := `{"instances": [
 {"id": "i-alice-bad00001", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "someday", "owner": "alice"}},
 {"id": "i-alice-bad00002", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-13-45", "owner": "alice"}},
 {"id": "i-bob-bad000003", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "soon", "owner": "bob"}},
 {"id": "i-bob-running04", "region": "eu-central-1", "status": "Running", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01", "owner": "bob"}},
 {"id": "i-carol-gone005", "region": "eu-central-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2025-02-01", "owner": "carol"}},
 {"id": "i-carol-later06", "region": "eu-west-1", "status": "Stopped", "creationTime": "2025-01-01T00:00Z", "tags": {"reaper-expires": "2099-01-01", "owner": "carol"}}
]}`
	if err := os.WriteFile(fleet, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return fleet
}

// The summary says what needs a person first: expired instances left
// Running, the owners of unreadable expiry tags; --by owner gives one
// line per owner.
func TestAttentionFirstAndByOwner(t *testing.T) {
	env := map[string]string{"REAPER_MAX_RELEASE_PERCENT": "100", "REAPER_OWNER_TAG": "owner"}
	r := run(t, env, "", "demo", "--fleet", ownedFleet(t), "--by", "owner")
	r.must(t, cli.ExitOK, "Needs attention", "RUNNING: 1 expired instances", "INVALID EXPIRY TAGS: 3 instances of 2 owners", "alice 2, bob 1",
		"By owner (3 owners)")
	attention, summary := strings.Index(r.stdout, "Needs attention"), strings.Index(r.stdout, "Summary")
	if attention < 0 || attention > summary {
		t.Errorf("what needs attention is not first:\n%s", r.stdout)
	}
	var owners []string
	for _, l := range strings.Split(r.stdout, "\n") {
		if f := strings.Fields(l); len(f) > 2 && (f[0] == "alice" || f[0] == "bob" || f[0] == "carol") && !strings.HasPrefix(f[1], "i-") {
			owners = append(owners, strings.Join(f, " "))
		}
	}
	want := []string{"alice 2 skipped/invalid-expiry 2", "bob 2 skipped/invalid-expiry 1, skipped/running 1",
		"carol 2 released 1, skipped/not-expired 1"}
	if strings.Join(owners, "|") != strings.Join(want, "|") {
		t.Errorf("owner lines %q, want %q", owners, want)
	}
	run(t, env, "", "demo", "--by", "team").must(t, cli.ExitUsage, "-by", "by owner")
}

// --only takes outcome/reason as the summary prints it; a region filtered
// to nothing says so, and a region that failed says it failed.
func TestOnlyTakesReasons(t *testing.T) {
	env := map[string]string{"REAPER_MAX_RELEASE_PERCENT": "100", "REAPER_OWNER_TAG": "owner"}
	r := run(t, env, "", "demo", "--fleet", ownedFleet(t), "--only", "skipped/invalid-expiry", "--region", "eu-central-1,eu-west-1,eu-nowhere-9")
	r.must(t, cli.ExitFailed, "i-alice-bad00001", "i-bob-bad000003", "none of its 1 opted-in instances matches --only skipped/invalid-expiry",
		"Region eu-nowhere-9: 0 seen, 0 opted in, FAILED", "the region failed (the error above)")
	tables, _, _ := strings.Cut(r.stdout, "The ECS double released")
	for _, not := range []string{"i-bob-running04", "i-carol-gone005", "no opted-in instances"} {
		if strings.Contains(tables, not) {
			t.Errorf("--only skipped/invalid-expiry shows %q:\n%s", not, r.stdout)
		}
	}
	run(t, env, "", "demo", "--only", "skipped/").must(t, cli.ExitUsage, "no reason after the slash")
	run(t, env, "", "demo", "--only", "gone/invalid-expiry").must(t, cli.ExitUsage, `unknown outcome "gone"`)
}

// The confirmation's plan cuts a long name and owner too: its rows fit
// 80 columns.
func TestPlanSummaryFits(t *testing.T) {
	srv, env := account(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100"})
	srv.Mutate("i-bp1demostoprfc0001", func(in *ecsdouble.Instance) {
		in.Name = strings.Repeat("a-very-long-name-", 8)
		in.Tags["owner"] = strings.Repeat("owner", 12)
	})
	r := runOnTerminal(t, map[string]string{"REAPER_REGIONS": "cn-hangzhou", "REAPER_MAX_RELEASE_PERCENT": "100", "REAPER_OWNER_TAG": "owner",
		"ALIBABA_CLOUD_ACCESS_KEY_ID": env["ALIBABA_CLOUD_ACCESS_KEY_ID"], "ALIBABA_CLOUD_ACCESS_KEY_SECRET": env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"],
		"ALIBABA_CLOUD_SECURITY_TOKEN": env["ALIBABA_CLOUD_SECURITY_TOKEN"], "REAPER_ECS_ENDPOINT": env["REAPER_ECS_ENDPOINT"]}, "no\n", "run")
	plan, _, _ := strings.Cut(r.stderr, "Type the region")
	if !strings.Contains(plan, "i-bp1demostoprfc0001") || !strings.Contains(plan, "…") {
		t.Fatalf("the plan:\n%s", plan)
	}
	if n, line := longest(plan); n >= 80 {
		t.Errorf("a plan row of %d columns:\n%s", n, line)
	}
}
