package ecsdouble

import (
	"encoding/json"
	"testing"
)

// The hand-written encoder must produce exactly what encoding/json makes of
// the same answer, for every kind of instance the double serves.
func TestAppendPageMatchesEncodingJSON(t *testing.T) {
	fleet := GenerateFleet(GenConfig{Seed: 3, Instances: 300, Regions: 2, NonEligibleShare: 0.3, PrePaidShare: 0.5, Untagged: 20, ExtraTags: 2, LabelKinds: true})
	odd := Instance{ID: "i-odd\"<&>\u00e9\x01", Region: "cn-hangzhou", Status: "Stopped", LockReasons: []string{"financial", "security"},
		Tags: map[string]string{"k\\ey": "va\"lue\n", "": ""}}
	fleet.Instances = append(fleet.Instances, odd)
	st := newStore(Fleet{})
	var page []*rec
	for _, in := range fleet.Instances {
		page = append(page, st.toRec(in))
	}
	head := describeJSON{RequestID: "REQ-1", NextToken: "tok\"", TotalCount: len(page), PageSize: 100, PageNumber: 1}
	want := head
	want.Instances.Instance = make([]instJSON, len(page))
	for i, r := range page {
		want.Instances.Instance[i] = render(r)
	}
	wantBytes, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendPage(nil, head, page); string(got) != string(wantBytes) {
		t.Fatalf("hand-written page differs from encoding/json:\n got %.300s\nwant %.300s", got, wantBytes)
	}
	empty := appendPage(nil, describeJSON{RequestID: "R"}, nil)
	var back describeJSON
	if err := json.Unmarshal(empty, &back); err != nil || back.RequestID != "R" {
		t.Fatalf("empty page %s: %v", empty, err)
	}
}
