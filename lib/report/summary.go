package report

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// SummarySchemaVersion is the version of the function's answer
// (docs/summary.schema.json): 2 adds the accounts of a run over several.
const SummarySchemaVersion = 2

// Bounds of the summary: it stays a few KB whatever the fleet, because it
// is the FC invocation's answer (FC 3.0 takes at most 32 MB synchronously,
// and the function has 128 MB to build it in).
const (
	// MaxSummaryBytes is what a summary's JSON never exceeds (a test
	// builds the worst case).
	MaxSummaryBytes = 16 << 10
	// SummaryFailures is how many failed resources the summary names.
	SummaryFailures = 20
	// SummaryRegions is how many regions the summary lists (the ones not
	// complete first).
	SummaryRegions = 32
	// SummaryAccounts is how many accounts the summary lists (the ones
	// not swept first).
	SummaryAccounts = 32
	summaryText     = 1024 // an error, a warning
	summaryName     = 64   // a region, an account, a run or request ID
	summaryField    = 128  // a resource ID, a code
	summaryOwners   = 5    // unsent owners named
	summaryOwner    = 64
)

// KindInstances is what the summary calls instances; the other kinds
// are named by their sections.
const KindInstances = "instances"

// Outcomes of a run as a whole.
const (
	RunOK         = "ok"         // the run did its job
	RunIncomplete = "incomplete" // held back by the deadline; the next run continues
	RunFailed     = "failed"     // the invocation failed
	// RunInterrupted: the operator stopped the run (Ctrl-C, the command
	// line only); the next run re-reads everything.
	RunInterrupted = "interrupted"
)

// Summary is the function's answer: what the run did, in a bounded size,
// and where its whole report is (the log, in records Log wrote).
type Summary struct {
	SchemaVersion int       `json:"schemaVersion"`
	RunID         string    `json:"runId"`
	RequestID     string    `json:"requestId,omitempty"`
	Outcome       string    `json:"outcome"`
	DryRun        bool      `json:"dryRun"`
	Complete      bool      `json:"complete"`
	StartedAt     time.Time `json:"startedAt"`
	FinishedAt    time.Time `json:"finishedAt"`
	DurationMS    int64     `json:"durationMs"`
	Error         string    `json:"error,omitempty"`
	Warning       string    `json:"warning,omitempty"`
	Seen          int       `json:"seen"`
	OptedIn       int       `json:"optedIn"`
	// Totals counts each kind's resources by "outcome" and
	// "outcome/reason", as a region's counts do.
	Totals  map[string]map[string]int `json:"totals"`
	Batches int                       `json:"batches"`
	Calls   map[string]int            `json:"calls"`
	// RegionStatus counts the regions by status; Regions lists the first
	// SummaryRegions, those not complete first.
	RegionStatus   map[string]int  `json:"regionStatus"`
	Regions        []SummaryRegion `json:"regions"`
	RegionsOmitted int             `json:"regionsOmitted"`
	Cap            *CapCheck       `json:"cap,omitempty"`
	// AccountStatus counts the accounts by status, and Accounts lists the
	// first SummaryAccounts, those not swept first, when the run swept
	// several accounts.
	AccountStatus   map[string]int   `json:"accountStatus,omitempty"`
	Accounts        []SummaryAccount `json:"accounts,omitempty"`
	AccountsOmitted int              `json:"accountsOmitted,omitempty"`
	Failures        []SummaryFailure `json:"failures"`
	// FailuresOmitted counts the failed resources beyond Failures.
	FailuresOmitted int              `json:"failuresOmitted"`
	Notices         *Notices         `json:"notices,omitempty"`
	Leftovers       *LeftoverSummary `json:"leftovers,omitempty"`
	Report          Location         `json:"report"`
}

// Region statuses in a summary.
const (
	RegionComplete   = "complete"
	RegionFailed     = "failed"     // a listing or write failed: see its code
	RegionIncomplete = "incomplete" // stopped before the end (the deadline)
	// RegionInterrupted: the operator's interruption stopped it.
	RegionInterrupted = "interrupted"
)

// SummaryRegion is one region's status and its instances' outcomes.
type SummaryRegion struct {
	Account  string         `json:"account,omitempty"`
	Region   string         `json:"region"`
	Status   string         `json:"status"`
	Code     string         `json:"code,omitempty"`
	Seen     int            `json:"seen"`
	OptedIn  int            `json:"optedIn"`
	Outcomes map[string]int `json:"outcomes"`
}

// SummaryAccount is one account's status and its instances' outcomes.
type SummaryAccount struct {
	Account string `json:"account"`
	Status  string `json:"status"`
	// Code is why it is unreachable or failed (the first failure's code),
	// or which cap held it.
	Code        string         `json:"code,omitempty"`
	Regions     int            `json:"regions"`
	Seen        int            `json:"seen"`
	OptedIn     int            `json:"optedIn"`
	Outcomes    map[string]int `json:"outcomes"`
	CapExceeded bool           `json:"capExceeded,omitempty"`
}

// SummaryFailure is one failed resource.
type SummaryFailure struct {
	Kind    string `json:"kind"`
	Account string `json:"account,omitempty"`
	Region  string `json:"region"`
	ID      string `json:"id"`
	Code    string `json:"code,omitempty"`
}

// Location says where the whole report is: in the function's log, in
// Records records carrying the run ID (Log's "report", "report instances",
// "report batches", "report leftovers"), which ReadLog puts back together.
type Location struct {
	Log     bool   `json:"log"`
	Records int    `json:"records"`
	Query   string `json:"query"`
	Read    string `json:"read"`
}

// Summarise is rep's summary. records is what Log returned for it.
func Summarise(rep *Report, requestID string, records int) *Summary {
	s := &Summary{
		SchemaVersion: SummarySchemaVersion, RunID: clip(rep.RunID, 2*summaryName), RequestID: clip(requestID, summaryName),
		DryRun: rep.DryRun, Complete: rep.Complete,
		StartedAt: rep.StartedAt, FinishedAt: rep.FinishedAt, DurationMS: rep.DurationMS,
		Error: clip(rep.Error, summaryText), Warning: clip(rep.Warning, summaryText),
		Seen: rep.Totals.Seen, OptedIn: rep.Totals.OptedIn, Batches: rep.Totals.Batches,
		Calls:        maps.Clone(rep.Totals.Calls),
		Totals:       map[string]map[string]int{KindInstances: instanceCounts(rep.Totals)},
		RegionStatus: map[string]int{RegionComplete: 0, RegionFailed: 0, RegionIncomplete: 0},
		Regions:      []SummaryRegion{}, Failures: []SummaryFailure{},
		Cap: rep.Cap, Leftovers: rep.Leftovers, Notices: boundNotices(rep.Notices),
		Report: Location{Log: records > 0, Records: records,
			Query: fmt.Sprintf("%q and %q", "report", rep.RunID),
			Read: fmt.Sprintf("save the log's lines to a file and run: go run ./function report --logs FILE --run-id %q --request-id %q",
				clip(rep.RunID, 2*summaryName), clip(requestID, summaryName))},
	}
	if s.Calls == nil {
		s.Calls = map[string]int{}
	}
	switch {
	case Interrupted(rep):
		s.Outcome = RunInterrupted
	case rep.Error != "":
		s.Outcome = RunFailed
	case rep.Warning != "" || !rep.Complete:
		s.Outcome = RunIncomplete
	default:
		s.Outcome = RunOK
	}
	for kind, counts := range rep.Totals.Kinds {
		if counts != nil {
			s.Totals[kind] = maps.Clone(counts)
		}
	}
	var later []SummaryRegion // the complete ones, listed after the others
	for _, r := range rep.Regions {
		sr := SummaryRegion{Account: clip(r.Account, summaryName), Region: clip(r.Region, summaryName), Status: RegionComplete,
			Seen: r.Seen, OptedIn: r.OptedIn, Outcomes: map[string]int{}}
		for _, o := range verdict.Outcomes {
			if n := r.Counts[string(o)]; n > 0 {
				sr.Outcomes[string(o)] = n
			}
		}
		switch failedCode, failedWrite := firstFailedWrite(r); {
		case r.Error != nil && r.Error.Code == string(verdict.Interrupted):
			sr.Status = RegionInterrupted
		case r.Error != nil:
			sr.Status, sr.Code = RegionFailed, clip(r.Error.Code, summaryField)
		case failedWrite:
			sr.Status, sr.Code = RegionFailed, clip(failedCode, summaryField)
		case regionInterrupted(r):
			sr.Status = RegionInterrupted
		case !r.Complete:
			sr.Status = RegionIncomplete
		}
		s.RegionStatus[sr.Status]++
		if sr.Status == RegionComplete {
			later = append(later, sr)
		} else {
			s.Regions = append(s.Regions, sr)
		}
		s.addFailures(KindInstances, r, r.Groups)
		for _, kind := range r.Sections.Names() {
			s.addFailures(kind, r, r.Sections[kind].Groups)
		}
	}
	s.Regions = append(s.Regions, later...)
	if len(s.Regions) > SummaryRegions {
		s.RegionsOmitted = len(s.Regions) - SummaryRegions
		s.Regions = s.Regions[:SummaryRegions]
	}
	s.addAccounts(rep)
	s.fit()
	return s
}

// Interrupted reports whether the operator interrupted the run: a region
// or a write of any kind says so.
func Interrupted(rep *Report) bool {
	for _, r := range rep.Regions {
		if (r.Error != nil && r.Error.Code == string(verdict.Interrupted)) || regionInterrupted(r) {
			return true
		}
	}
	return false
}

func regionInterrupted(r *Region) bool {
	if r.Counts[string(verdict.Interrupted)] > 0 {
		return true
	}
	for _, sec := range r.Sections {
		if sec != nil && sec.Counts[string(verdict.Interrupted)] > 0 {
			return true
		}
	}
	return false
}

// addAccounts lists the accounts of a run over several, those not swept
// first.
func (s *Summary) addAccounts(rep *Report) {
	if len(rep.Accounts) < 2 {
		return
	}
	s.AccountStatus = map[string]int{}
	var later []SummaryAccount
	regions := map[string][]*Region{}
	for _, r := range rep.Regions {
		regions[r.Account] = append(regions[r.Account], r)
	}
	for _, a := range rep.Accounts {
		sa := SummaryAccount{Account: clip(a.Account, summaryName), Status: a.Status, Regions: len(a.Regions),
			Seen: a.Seen, OptedIn: a.OptedIn, Outcomes: maps.Clone(a.Outcomes), CapExceeded: a.Cap != nil && a.Cap.Exceeded}
		if sa.Outcomes == nil {
			sa.Outcomes = map[string]int{}
		}
		switch {
		case a.Error != nil:
			sa.Code = clip(a.Error.Code, summaryField)
		case a.Status == AccountHeldByCap:
			sa.Code = string(verdict.CapExceeded)
		case a.Status == AccountFailed:
			for _, r := range regions[a.Account] {
				code, failed := firstFailedWrite(r)
				if r.Error != nil {
					code, failed = r.Error.Code, true
				}
				if failed {
					sa.Code = clip(code, summaryField)
					break
				}
			}
		}
		s.AccountStatus[sa.Status]++
		if sa.Status == AccountSwept {
			later = append(later, sa)
		} else {
			s.Accounts = append(s.Accounts, sa)
		}
	}
	s.Accounts = append(s.Accounts, later...)
	if len(s.Accounts) > SummaryAccounts {
		s.AccountsOmitted = len(s.Accounts) - SummaryAccounts
		s.Accounts = s.Accounts[:SummaryAccounts]
	}
}

// fit names fewer accounts, regions and failures (counting them as omitted), and
// then cuts the error and warning shorter, until the JSON is within
// MaxSummaryBytes: the lists' bounds hold for plain values, this holds
// for any (long names, text that JSON escapes).
func (s *Summary) fit() {
	for {
		b, err := json.Marshal(s)
		if err != nil || len(b) <= MaxSummaryBytes {
			return
		}
		switch {
		case len(s.Accounts) > 0 && len(s.Accounts) >= len(s.Regions) && len(s.Accounts) >= len(s.Failures):
			s.Accounts = s.Accounts[:len(s.Accounts)-1]
			s.AccountsOmitted++
		case len(s.Regions) > 0 && len(s.Regions) >= len(s.Failures):
			s.Regions = s.Regions[:len(s.Regions)-1]
			s.RegionsOmitted++
		case len(s.Failures) > 0:
			s.Failures = s.Failures[:len(s.Failures)-1]
			s.FailuresOmitted++
		case len(s.Error) > summaryText/4 || len(s.Warning) > summaryText/4:
			s.Error, s.Warning = clip(s.Error, summaryText/4), clip(s.Warning, summaryText/4)
		default:
			return // only the fixed vocabularies are left
		}
	}
}

// instanceCounts merges the instances' outcomes and reasons.
func instanceCounts(t Totals) map[string]int {
	out := make(map[string]int, len(t.Outcomes)+len(t.Reasons))
	maps.Copy(out, t.Outcomes)
	maps.Copy(out, t.Reasons)
	return out
}

func (s *Summary) addFailures(kind string, r *Region, groups []*Group) {
	for _, g := range groups {
		if g.Outcome != verdict.Failed {
			continue
		}
		for _, it := range g.Instances {
			if len(s.Failures) == SummaryFailures {
				s.FailuresOmitted++
				continue
			}
			s.Failures = append(s.Failures, SummaryFailure{Kind: kind, Account: clip(r.Account, summaryName),
				Region: clip(r.Region, summaryName), ID: clip(it.ID, summaryField), Code: clip(it.Code, summaryField)})
		}
	}
}

// boundNotices is n with at most summaryOwners owners named.
func boundNotices(n *Notices) *Notices {
	if n == nil {
		return nil
	}
	b := *n
	b.seen = nil
	b.Reasons = maps.Clone(n.Reasons)
	b.Unsent = nil
	for _, o := range n.Unsent[:min(len(n.Unsent), summaryOwners)] {
		b.Unsent = append(b.Unsent, clip(o, summaryOwner))
	}
	return &b
}

// clip cuts s to at most n bytes, on a rune boundary, and says so.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const more = "… (cut; the log has it whole)"
	cut := n - len(more)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strings.ToValidUTF8(s[:cut], "") + more
}

// firstFailedWrite reports whether a region has a failed item of any
// kind, with the first one's code: a region whose listing held but whose
// writes failed is failed, not complete.
func firstFailedWrite(r *Region) (string, bool) {
	groups := [][]*Group{r.Groups}
	for _, kind := range r.Sections.Names() {
		groups = append(groups, r.Sections[kind].Groups)
	}
	for _, gs := range groups {
		for _, g := range gs {
			if g.Outcome != verdict.Failed || len(g.Instances) == 0 {
				continue
			}
			if code := g.Instances[0].Code; code != "" {
				return code, true
			}
			return string(g.Reason), true
		}
	}
	return "", false
}
