package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Record is one instance of the JSON report's flat list: what the listing
// said of it and what the run did, so that
// jq '.instances[] | select(.outcome=="failed")' finds the failures.
// The first nine fields and outcome are always present ("" when unknown);
// owner only when the instance has one, so that a missing owner tag is
// told apart from one whose value is empty by nothing but its absence.
type Record struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Region     string  `json:"region"`
	Status     string  `json:"status"`
	ChargeType string  `json:"chargeType"`
	ExpiresAt  string  `json:"expiresAt"`
	Owner      string  `json:"owner,omitempty"`
	Outcome    Outcome `json:"outcome"`
	Reason     Reason  `json:"reason"`
	Detail     string  `json:"detail"`
	Account    string  `json:"account,omitempty"`
	Code       string  `json:"code,omitempty"`
	Message    string  `json:"message,omitempty"`
	RequestID  string  `json:"requestId,omitempty"`
	NotifiedAt string  `json:"notifiedAt,omitempty"`
	MarkedAt   string  `json:"markedAt,omitempty"`
	StoppedAt  string  `json:"stoppedAt,omitempty"`
	ReleasedAt string  `json:"releasedAt,omitempty"`
}

func record(r *Region, g *Group, it *Item) Record {
	f := it.Facts.get()
	marked, stopped, released := it.writtenAt(g.Outcome)
	return Record{
		ID: it.ID, Name: f.Name, Region: r.Region, Status: f.Status, ChargeType: f.ChargeType,
		ExpiresAt: it.Facts.Expires(), Owner: it.Owner, Outcome: g.Outcome, Reason: g.Reason, Detail: it.Detail,
		Account: r.Account, Code: it.Code, Message: it.Message, RequestID: it.RequestID,
		NotifiedAt: it.NotifiedAt, MarkedAt: marked, StoppedAt: stopped, ReleasedAt: released,
	}
}

func (rec Record) item() Item {
	var facts *Facts
	if rec.Name != "" || rec.Status != "" || rec.ChargeType != "" || rec.ExpiresAt != "" {
		facts = &Facts{Name: rec.Name, Status: rec.Status, ChargeType: rec.ChargeType}
		if t, err := time.Parse(time.RFC3339, rec.ExpiresAt); err == nil {
			facts.ExpiresAt = t.Unix()
		}
	}
	return Item{
		ID: rec.ID, Facts: facts,
		Detail: rec.Detail, Code: rec.Code, Message: rec.Message, RequestID: rec.RequestID, Owner: rec.Owner,
		NotifiedAt: rec.NotifiedAt, WrittenAt: unixOf(rec.MarkedAt + rec.StoppedAt + rec.ReleasedAt),
	}
}

// Records is the report's flat instance list. It is written from the
// regions' groups, region by region in outcome order, so a large run's
// instances are not held twice; a decoded report keeps what it read.
type Records struct {
	regions []*Region
	decoded []Record
}

// All returns every record.
func (rs Records) All() []Record {
	if rs.regions == nil {
		return rs.decoded
	}
	var out []Record
	for _, r := range rs.regions {
		for _, g := range r.Groups {
			for i := range g.Instances {
				out = append(out, record(r, g, &g.Instances[i]))
			}
		}
	}
	return out
}

// MarshalJSON writes the records one at a time.
func (rs Records) MarshalJSON() ([]byte, error) {
	if rs.regions == nil {
		if rs.decoded == nil {
			return []byte("[]"), nil
		}
		return json.Marshal(rs.decoded)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	buf.WriteByte('[')
	first := true
	for _, r := range rs.regions {
		for _, g := range r.Groups {
			for i := range g.Instances {
				if !first {
					buf.WriteByte(',')
				}
				first = false
				if err := enc.Encode(record(r, g, &g.Instances[i])); err != nil {
					return nil, err
				}
				buf.Truncate(buf.Len() - 1) // the encoder's newline
			}
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

// UnmarshalJSON keeps the records; Report.UnmarshalJSON puts them back
// into their regions' groups.
func (rs *Records) UnmarshalJSON(b []byte) error {
	rs.regions = nil
	return json.Unmarshal(b, &rs.decoded)
}

// UnmarshalJSON reads a report and rebuilds each region's groups from the
// flat instance list, so a decoded report answers IDs and Groups as the
// one that was written.
func (rep *Report) UnmarshalJSON(b []byte) error {
	type plain Report // without this method
	if err := json.Unmarshal(b, (*plain)(rep)); err != nil {
		return err
	}
	type scopeKey struct{ account, region string }
	regions := map[scopeKey]*Region{}
	for _, r := range rep.Regions {
		regions[scopeKey{r.Account, r.Region}] = r
	}
	for _, rec := range rep.Instances.decoded {
		r := regions[scopeKey{rec.Account, rec.Region}]
		if r == nil {
			return fmt.Errorf("report: instance %s names region %q (account %q), which the report does not have", rec.ID, rec.Region, rec.Account)
		}
		r.group(rec.Outcome, rec.Reason, rec.item())
	}
	rep.Instances = Records{regions: rep.Regions}
	return nil
}

// UnmarshalJSON reads a logged head (Report's own decoder would be
// promoted here and expects a whole report).
func (s *Head) UnmarshalJSON(b []byte) error {
	type plain Report
	s.Report = new(Report)
	var shell struct {
		*plain
		Regions        []RegionHead    `json:"regions"`
		Instances      json.RawMessage `json:"instances"`
		LoggedAccounts int             `json:"loggedAccounts"`
		LoggedRegions  int             `json:"loggedRegions"`
	}
	shell.plain = (*plain)(s.Report)
	if err := json.Unmarshal(b, &shell); err != nil {
		return err
	}
	s.Regions, s.Accounts = shell.Regions, s.Report.Accounts
	s.LoggedAccounts, s.LoggedRegions = shell.LoggedAccounts, shell.LoggedRegions
	return nil
}

// Only is a view of rep whose regions list only the instances and the
// resources of every kind matching one of outcomes: an outcome ("failed") or
// an outcome and its reason ("skipped/invalid-expiry"), as the summary
// prints them. The counts and totals stay whole.
func Only(rep *Report, outcomes []Outcome) *Report {
	if rep == nil || len(outcomes) == 0 {
		return rep
	}
	match := func(g *Group) bool {
		return slices.Contains(outcomes, g.Outcome) || (g.Reason != "" && slices.Contains(outcomes, Outcome(string(g.Outcome)+"/"+string(g.Reason))))
	}
	section := func(sec *Section) *Section {
		if sec == nil {
			return nil
		}
		v := *sec
		v.Groups = nil
		for _, g := range sec.Groups {
			if match(g) {
				v.Groups = append(v.Groups, g)
			}
		}
		return &v
	}
	view := *rep
	view.Regions = make([]*Region, len(rep.Regions))
	for i, r := range rep.Regions {
		rv := *r
		rv.Groups = nil
		for _, g := range r.Groups {
			if match(g) {
				rv.Groups = append(rv.Groups, g)
			}
		}
		if r.Sections != nil {
			rv.Sections = Sections{}
			for name, sec := range r.Sections {
				rv.Sections[name] = section(sec)
			}
		}
		view.Regions[i] = &rv
	}
	view.Instances = Records{regions: view.Regions}
	return &view
}

// ParseOutcomes reads a comma-separated list (--only) of outcomes, each
// alone or with a reason as the summary prints them ("failed",
// "skipped/invalid-expiry"). The outcome must be one the report knows; a
// reason may be any (a failure's is the API's error code).
func ParseOutcomes(list string) ([]Outcome, error) {
	var out []Outcome
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		outcome, reason, withReason := strings.Cut(part, "/")
		if !slices.Contains(verdict.Outcomes, Outcome(outcome)) {
			names := make([]string, len(verdict.Outcomes))
			for i, v := range verdict.Outcomes {
				names[i] = string(v)
			}
			return nil, fmt.Errorf("unknown outcome %q in %q (outcomes: %s; each alone or as outcome/reason, e.g. skipped/invalid-expiry)", outcome, part, strings.Join(names, ", "))
		}
		if withReason && strings.TrimSpace(reason) == "" {
			return nil, fmt.Errorf("%q: no reason after the slash (e.g. skipped/invalid-expiry)", part)
		}
		out = append(out, Outcome(part))
	}
	return out, nil
}

// unixOf reads a report time (RFC 3339), 0 when there is none.
func unixOf(ts string) int64 {
	t, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return 0
	}
	return t.Unix()
}

// itemJSON is an item with its listing facts, as the logged parts write it.
type itemJSON struct {
	plainItem
	Name       string `json:"name,omitempty"`
	Status     string `json:"status,omitempty"`
	ChargeType string `json:"chargeType,omitempty"`
	ExpiresAt  string `json:"expiresAt,omitempty"`
	// WrittenAt: when the mark, stop or release was written (the part's
	// outcome says which).
	WrittenAt string `json:"writtenAt,omitempty"`
}

type plainItem Item // without the methods

// MarshalJSON writes an item with its listing facts (the logged parts).
func (it Item) MarshalJSON() ([]byte, error) {
	f := it.Facts.get()
	written := ""
	if it.WrittenAt != 0 {
		written = Time(time.Unix(it.WrittenAt, 0))
	}
	return json.Marshal(itemJSON{plainItem(it), f.Name, f.Status, f.ChargeType, it.Facts.Expires(), written})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (it *Item) UnmarshalJSON(b []byte) error {
	var j itemJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*it = Item(j.plainItem)
	it.Facts = Record{Name: j.Name, Status: j.Status, ChargeType: j.ChargeType, ExpiresAt: j.ExpiresAt}.item().Facts
	it.WrittenAt = unixOf(j.WrittenAt)
	return nil
}
