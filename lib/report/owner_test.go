package report_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// TestNoOwnerIsNeverEmptyString: the notices left unsent name owners, and
// the channel's notice without an owner tag is a flag of its own, in the
// report and in the summary; never "" in a list of owners.
func TestNoOwnerIsNeverEmptyString(t *testing.T) {
	rep := sampleReport()
	rep.Notices = &report.Notices{Owed: 3, Owners: 3}
	rep.Notices.AddUnsent("", "deadline")
	rep.Notices.AddUnsent("bob", "deadline")
	rep.Notices.AddUnsent("", "deadline")
	for name, v := range map[string]any{"report": rep, "summary": report.Summarise(rep, "req-1", 1)} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Notices map[string]json.RawMessage `json:"notices"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		if got := string(doc.Notices["unsent"]); got != `["bob"]` {
			t.Errorf("%s: unsent %s, want [\"bob\"]", name, got)
		}
		if got := string(doc.Notices["unsentNoOwner"]); got != "true" {
			t.Errorf("%s: unsentNoOwner %s, want true", name, got)
		}
		if got := string(doc.Notices["unsentOwners"]); got != "2" {
			t.Errorf("%s: unsentOwners %s, want 2 (the channel counts as one)", name, got)
		}
	}
	if got := rep.Notices.Explain(); !strings.HasSuffix(got, "to 2 of 3 owners: bob, (no owner tag)") {
		t.Errorf("Explain() = %q", got)
	}
	// Without an ownerless notice left, there is no flag at all.
	n := &report.Notices{Owed: 1, Owners: 1}
	n.AddUnsent("ana", "deadline")
	if b, _ := json.Marshal(n); strings.Contains(string(b), "unsentNoOwner") || strings.Contains(string(b), `""`) {
		t.Errorf("notices %s", b)
	}
}

// TestRecordOwnerAbsentWithoutOne: an instance record has an owner field
// only when the instance has an owner.
func TestRecordOwnerAbsentWithoutOne(t *testing.T) {
	for _, c := range []struct {
		owner string
		want  string
	}{{"", ""}, {"ana@example.com", `"owner":"ana@example.com"`}} {
		b, err := json.Marshal(report.Record{ID: "i-1", Region: "cn-hangzhou", Owner: c.owner, Outcome: "released"})
		if err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(string(b), `"owner"`)
		if (c.want == "") == has || (c.want != "" && !strings.Contains(string(b), c.want)) {
			t.Errorf("owner %q: %s", c.owner, b)
		}
	}
}
