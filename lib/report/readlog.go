package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// logRecord is one record Log wrote (and the fields the function's logger
// adds: run_id, and request_id under FC).
type logRecord struct {
	Msg       string      `json:"msg"`
	RunID     string      `json:"run_id"`
	RequestID string      `json:"request_id"`
	Account   string      `json:"account"`
	Region    string      `json:"region"`
	Kind      string      `json:"kind"`
	Outcome   Outcome     `json:"outcome"`
	Reason    Reason      `json:"reason"`
	Part      int         `json:"part"`
	Parts     int         `json:"parts"`
	Items     []Item      `json:"items"`
	Batches   []*Batch    `json:"batches"`
	Leftovers []*Leftover `json:"leftovers"`
	Report    *Head       `json:"report"`
	// The heads of a report's accounts and regions, when logged in parts.
	Accounts    []*Account   `json:"accounts"`
	RegionHeads []RegionHead `json:"regions"`
}

// ReadLog puts back together the report that Log wrote, from a log of
// JSON records, one a line (other lines are skipped): the run's "report"
// record and its parts. runID "" takes the only run in the log; requestID,
// when not "", picks one invocation (an FC retry runs the same run ID
// again). It fails when the log holds no such report, several, or one
// with a part missing or whose items disagree with its counts.
func ReadLog(r io.Reader, runID, requestID string) (*Report, error) {
	var heads, parts []*logRecord
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		if bytes.Contains(line, []byte(`"msg":"report`)) {
			var rec logRecord
			if json.Unmarshal(line, &rec) == nil && (runID == "" || rec.RunID == runID) && (requestID == "" || rec.RequestID == requestID) {
				if rec.Msg == "report" && rec.Report != nil {
					heads = append(heads, &rec)
				} else if strings.HasPrefix(rec.Msg, "report ") {
					parts = append(parts, &rec)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read the log: %w", err)
		}
	}
	what := "run " + runID
	if runID == "" {
		what = "any run"
	}
	if requestID != "" {
		what += ", request " + requestID
	}
	switch len(heads) {
	case 0:
		return nil, fmt.Errorf("the log has no report of %s (no \"report\" record)", what)
	case 1:
	default:
		var ids []string
		for _, h := range heads {
			ids = append(ids, h.RunID+" (request "+h.RequestID+")")
		}
		return nil, fmt.Errorf("the log has %d reports of %s: %s; name the run ID and the request ID", len(heads), what, strings.Join(ids, ", "))
	}
	return assemble(heads[0], parts)
}

type scopeKey struct{ account, region string }

type partKey struct {
	msg, kind string
	scope     scopeKey
	group     groupKey
}

func assemble(head *logRecord, parts []*logRecord) (*Report, error) {
	rep := head.Report.Report
	regionHeads, err := headsInParts(head, parts)
	if err != nil {
		return nil, err
	}
	regions := map[scopeKey]*Region{}
	batches := map[scopeKey]int{}
	rep.Regions = make([]*Region, 0, len(regionHeads))
	for _, rh := range regionHeads {
		r := rh.Region
		if r == nil {
			return nil, errors.New("the logged report has an empty region")
		}
		r.Groups, r.Batches, r.Leftovers = []*Group{}, []*Batch{}, nil
		if r.Counts == nil {
			r.Counts = map[string]int{}
		}
		r.Sections = nil
		for kind, h := range rh.Sections {
			if h != nil {
				sec := r.section(kind)
				sec.Counts, sec.Unlisted = h.Counts, h.Unlisted
			}
		}
		k := scopeKey{r.Account, r.Region}
		if regions[k] != nil {
			return nil, fmt.Errorf("the logged report has region %s (account %q) twice", r.Region, r.Account)
		}
		regions[k], batches[k] = r, rh.Batches
		rep.Regions = append(rep.Regions, r)
	}
	seen := map[partKey]int{}
	for _, p := range parts {
		if p.RunID != head.RunID || p.RequestID != head.RequestID || p.Msg == "report accounts" || p.Msg == "report regions" {
			continue // another invocation's, or a head's part
		}
		k := scopeKey{p.Account, p.Region}
		r := regions[k]
		if r == nil {
			return nil, fmt.Errorf("the log's %q record names region %s (account %q), which the report does not have", p.Msg, p.Region, p.Account)
		}
		pk := partKey{msg: p.Msg, kind: p.Kind, scope: k, group: groupKey{p.Outcome, p.Reason}}
		if seen[pk]++; p.Part != seen[pk] || p.Part > p.Parts {
			return nil, fmt.Errorf("the log's %q records of %s are out of order: part %d of %d where part %d was due", p.Msg, p.Region, p.Part, p.Parts, seen[pk])
		}
		if p.Part == p.Parts {
			seen[pk] = -1 << 30 // complete: one more would be out of order
		}
		switch p.Msg {
		case "report instances":
			for _, it := range p.Items {
				r.group(p.Outcome, p.Reason, it)
			}
		case "report resources":
			sec := r.Section(p.Kind)
			if sec == nil {
				return nil, fmt.Errorf("the log's %q record names kind %q, which region %s of the report does not have", p.Msg, p.Kind, p.Region)
			}
			for _, it := range p.Items {
				sec.group(p.Outcome, p.Reason, it)
			}
		case "report batches":
			r.Batches = append(r.Batches, p.Batches...)
		case "report leftovers":
			r.Leftovers = append(r.Leftovers, p.Leftovers...)
		}
	}
	for k, n := range seen {
		if n > 0 {
			return nil, fmt.Errorf("the log's %q records of %s stop at part %d: the log misses the rest", k.msg, k.scope.region, n)
		}
	}
	for _, r := range rep.Regions {
		k := scopeKey{r.Account, r.Region}
		for _, o := range verdict.Outcomes {
			got := 0
			for _, g := range r.Groups {
				if g.Outcome == o {
					got += len(g.Instances)
				}
			}
			// The instances counted and not listed are in the log's page
			// decisions, not in the report's records.
			if want := r.Counts[string(o)] - r.unlistedOf(o); got != want {
				return nil, fmt.Errorf("the log has %d %s instances of %s, where the report lists %d: records are missing", got, o, r.Region, want)
			}
		}
		for _, kind := range r.Sections.Names() {
			sec := r.Sections[kind]
			for _, o := range verdict.Outcomes {
				got := 0
				for _, g := range sec.Groups {
					if g.Outcome == o {
						got += len(g.Instances)
					}
				}
				if want := sec.Counts[string(o)] - sec.unlistedOf(o); got != want {
					return nil, fmt.Errorf("the log has %d %s %s of %s, where the report counts %d: records are missing", got, o, kind, r.Region, want)
				}
			}
		}
		if len(r.Batches) != batches[k] {
			return nil, fmt.Errorf("the log has %d batches of %s, where the report counts %d: records are missing", len(r.Batches), r.Region, batches[k])
		}
		if s := r.LeftoverSummary; s != nil && (s.Unlisted < 0 || s.Instances != len(r.Leftovers)+s.Unlisted) {
			return nil, fmt.Errorf("the log has the leftovers of %d instances of %s, where the report counts %d: records are missing", len(r.Leftovers), r.Region, s.Instances-s.Unlisted)
		}
	}
	rep.Instances = Records{regions: rep.Regions}
	return rep, nil
}

// headsInParts puts back the report's accounts (into the head's report)
// and returns its regions' heads: from the head, or from the "report
// accounts" and "report regions" parts when the head was too large for
// one record.
func headsInParts(head *logRecord, parts []*logRecord) ([]RegionHead, error) {
	h := head.Report
	if h.LoggedAccounts == 0 && h.LoggedRegions == 0 {
		return h.Regions, nil
	}
	var accounts []*Account
	var regions []RegionHead
	next := map[string]int{}
	for _, p := range parts {
		if p.RunID != head.RunID || p.RequestID != head.RequestID || (p.Msg != "report accounts" && p.Msg != "report regions") {
			continue
		}
		if next[p.Msg]++; p.Part != next[p.Msg] || p.Part > p.Parts {
			return nil, fmt.Errorf("the log's %q records are out of order: part %d of %d where part %d was due", p.Msg, p.Part, p.Parts, next[p.Msg])
		}
		if p.Msg == "report accounts" {
			accounts = append(accounts, p.Accounts...)
		} else {
			regions = append(regions, p.RegionHeads...)
		}
	}
	if len(accounts) != h.LoggedAccounts || len(regions) != h.LoggedRegions {
		return nil, fmt.Errorf("the log has %d accounts and %d regions of the report, where its head counts %d and %d: records are missing",
			len(accounts), len(regions), h.LoggedAccounts, h.LoggedRegions)
	}
	h.Report.Accounts, h.Accounts = accounts, accounts
	return regions, nil
}
