package main

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The invocation's answer against docs/summary.schema.json; its JSON
// report, put back together from the log, against docs/report.schema.json,
// and the flat instance list as jq reads it:
// '.instances[] | select(.outcome==X)'.

func reportSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return loadSchema(t, "report.schema.json")
}

func summarySchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	return loadSchema(t, "summary.schema.json")
}

func loadSchema(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	raw, err := os.ReadFile("../docs/" + name)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(name, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(name)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

type flatInstance struct {
	ID, Name, Region, Status, ChargeType, ExpiresAt, Owner, Outcome, Reason, Detail string
}

func checkSchema(t *testing.T, sch *jsonschema.Schema, body []byte) []flatInstance {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if err := sch.Validate(doc); err != nil {
		t.Fatalf("report does not match docs/report.schema.json: %v\n%s", err, body)
	}
	var rep struct {
		Instances []flatInstance `json:"instances"`
	}
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatal(err)
	}
	return rep.Instances
}

// reportBody checks the invocation's answer against the summary's schema
// and returns the JSON of its whole report, put back together from the log.
func reportBody(t *testing.T, res answer) []byte {
	t.Helper()
	rep := decodeReport(t, res)
	checkSummarySchema(t, res.Body)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkSummarySchema(t *testing.T, body []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("summary is not JSON: %v", err)
	}
	if err := summarySchema(t).Validate(doc); err != nil {
		t.Fatalf("summary does not match docs/summary.schema.json: %v\n%s", err, body)
	}
}

func selectOutcome(list []flatInstance, outcome string) []string {
	var ids []string
	for _, in := range list {
		if in.Outcome == outcome {
			ids = append(ids, in.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

func TestReportMatchesSchema(t *testing.T) {
	sch := reportSchema(t)
	s := startStack(t)

	dry := s.invoke(t, "schema-dry", timerEvent(`{"dryRun": true}`))
	list := checkSchema(t, sch, reportBody(t, dry))
	if len(list) != 9 {
		t.Fatalf("%d instance records, want the fleet's 9", len(list))
	}
	if got := selectOutcome(list, "would-release"); !slices.Equal(got, eligible) {
		t.Errorf("would-release %v, want %v", got, eligible)
	}
	byID := map[string]flatInstance{}
	for _, in := range list {
		byID[in.ID] = in
	}
	if p := byID["i-hz-prepaid-exp03"]; p.ChargeType != "PrePaid" || p.Status != "Stopped" || p.Region != "cn-hangzhou" || p.ExpiresAt != "2025-03-01T00:00:00Z" || p.Detail == "" {
		t.Errorf("the subscription's record %+v", p)
	}
	if k := byID["i-hz-kepttag0006"]; k.Outcome != "skipped" || k.Reason != "excluded" {
		t.Errorf("the kept instance's record %+v", k)
	}

	live := s.invoke(t, "schema-live", timerEvent(""))
	list = checkSchema(t, sch, reportBody(t, live))
	if got := selectOutcome(list, "released"); !slices.Equal(got, eligible) {
		t.Errorf("released %v, want %v", got, eligible)
	}
}

func TestLeftoverReportMatchesSchema(t *testing.T) {
	sch := reportSchema(t)
	s := startFleetStack(t, binary(t), leftoverFleet,
		"REAPER_REGIONS=cn-hangzhou", "REAPER_RELEASE_EIPS=true", "REAPER_RESOURCES=instances,disks", "REAPER_MARK_SECRET="+fnMarkSecret)
	list := checkSchema(t, sch, reportBody(t, s.invoke(t, "schema-leftovers", timerEvent(""))))
	if got := selectOutcome(list, "released"); !slices.Equal(got, []string{"i-bp1left00000001"}) {
		t.Errorf("released %v", got)
	}
}
