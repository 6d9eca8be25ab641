package report

import (
	"context"
	"encoding/json"
	"log/slog"
)

// MaxLogRecordBytes bounds the instance and batch lists of one log record.
// The whole report of a large run is megabytes; log services cut or drop a
// line that long, and a timer-triggered run's log is often the only copy
// of its report.
const MaxLogRecordBytes = 32 << 10

// Log writes rep to logger as several records, none much over
// MaxLogRecordBytes: first "report", the run without its instance and batch
// lists (totals, cap check, and each region's counts, calls and errors;
// when that is over the bound, its accounts and regions follow in parts,
// "report accounts" and "report regions"); then "report instances", each region's groups in parts, "report
// resources", each region's groups of every other kind in parts (with
// their kind), "report batches", each region's write calls in parts, and
// "report leftovers". Every record
// carries the run ID, and each part says which part of how many it is, so
// the lists can be put back together. A failed run's summary, its failed
// and held-back instances and its failed batches are logged at WARN, so
// that an alert on the level finds them. It returns the number of
// records written (0: the report was not logged).
func Log(ctx context.Context, logger *slog.Logger, rep *Report) int {
	if rep == nil || !logger.Enabled(ctx, slog.LevelWarn) {
		return 0
	}
	records := 1
	run := slog.String("run_id", rep.RunID)
	level := slog.LevelInfo
	if rep.Error != "" || rep.Warning != "" {
		level = slog.LevelWarn
	}
	h := head(rep)
	var accountParts [][]*Account
	var regionParts [][]RegionHead
	if b, err := json.Marshal(h); err == nil && len(b) > MaxLogRecordBytes {
		// Many accounts or regions (an organisation's report): their heads
		// go in parts too, and the head says how many there are.
		accountParts, regionParts = split(rep.Accounts, jsonSize[*Account]), split(h.Regions, jsonSize[RegionHead])
		h.Accounts, h.LoggedAccounts = nil, len(rep.Accounts)
		h.Regions, h.LoggedRegions = []RegionHead{}, len(rep.Regions)
	}
	logger.LogAttrs(ctx, level, "report", run, slog.Any("report", h))
	for i, part := range accountParts {
		records++
		logger.LogAttrs(ctx, level, "report accounts", run, slog.Int("part", i+1), slog.Int("parts", len(accountParts)), slog.Any("accounts", part))
	}
	for i, part := range regionParts {
		records++
		logger.LogAttrs(ctx, level, "report regions", run, slog.Int("part", i+1), slog.Int("parts", len(regionParts)), slog.Any("regions", part))
	}
	for _, r := range rep.Regions {
		// A region is named with its account where there is one, so that
		// ReadLog tells two accounts' regions apart.
		where := slog.String("region", r.Region)
		if r.Account != "" {
			where = slog.Group("", slog.String("account", r.Account), where)
		}
		for _, g := range r.Groups {
			parts := split(g.Instances, itemSize)
			level := g.Outcome.Level()
			for i, items := range parts {
				records++
				logger.LogAttrs(ctx, level, "report instances", run, where,
					slog.String("outcome", string(g.Outcome)), slog.String("reason", string(g.Reason)),
					slog.Int("part", i+1), slog.Int("parts", len(parts)), slog.Any("items", items))
			}
		}
		for _, kind := range r.Sections.Names() {
			sec := r.Sections[kind]
			for _, g := range sec.Groups {
				parts := split(g.Instances, itemSize)
				for i, items := range parts {
					records++
					logger.LogAttrs(ctx, g.Outcome.Level(), "report resources", run, where, slog.String("kind", kind),
						slog.String("outcome", string(g.Outcome)), slog.String("reason", string(g.Reason)),
						slog.Int("part", i+1), slog.Int("parts", len(parts)), slog.Any("items", items))
				}
			}
		}
		parts := split(r.Batches, batchSize)
		level := slog.LevelInfo
		for _, b := range r.Batches {
			if b.Result == "failed" {
				level = slog.LevelWarn
			}
		}
		for i, batches := range parts {
			records++
			logger.LogAttrs(ctx, level, "report batches", run, where,
				slog.Int("part", i+1), slog.Int("parts", len(parts)), slog.Any("batches", batches))
		}
		left := split(r.Leftovers, leftoverSize)
		for i, part := range left {
			records++
			logger.LogAttrs(ctx, slog.LevelInfo, "report leftovers", run, where,
				slog.Int("part", i+1), slog.Int("parts", len(left)), slog.Any("leftovers", part))
		}
	}
	return records
}

// Head is the report without its instance and batch lists (the "report"
// record): its Regions shadow the report's. When the head would be larger
// than a record should be (an organisation of hundreds of accounts), its
// accounts and regions are logged in parts too ("report accounts",
// "report regions"), and LoggedAccounts and LoggedRegions say how many.
type Head struct {
	*Report
	Regions        []RegionHead `json:"regions"`
	Instances      *struct{}    `json:"instances,omitempty"` // logged in parts
	Accounts       []*Account   `json:"accounts,omitempty"`
	LoggedAccounts int          `json:"loggedAccounts,omitempty"`
	LoggedRegions  int          `json:"loggedRegions,omitempty"`
}

// RegionHead is a region without its instance and batch lists: they
// are shadowed by an empty list and the number of batches.
type RegionHead struct {
	*Region
	Groups    []*Group    `json:"instances,omitempty"`
	Batches   int         `json:"batches"`
	Leftovers []*Leftover `json:"leftovers,omitempty"`
	// Sections are the resource sections' counts, by kind (a field each,
	// as the region's); their items are logged in parts.
	Sections map[string]*SectionHead `json:"-"`
}

// SectionHead is a resource section without its items.
type SectionHead struct {
	Counts   map[string]int `json:"counts"`
	Unlisted map[string]int `json:"unlisted,omitempty"`
}

func sectionHead(sec *Section) *SectionHead {
	if sec == nil {
		return nil
	}
	return &SectionHead{Counts: sec.Counts, Unlisted: sec.Unlisted}
}

func head(rep *Report) Head {
	s := Head{Report: rep, Regions: make([]RegionHead, 0, len(rep.Regions)), Accounts: rep.Accounts}
	for _, r := range rep.Regions {
		rh := RegionHead{Region: r, Batches: len(r.Batches)}
		for name, sec := range r.Sections {
			if rh.Sections == nil {
				rh.Sections = map[string]*SectionHead{}
			}
			rh.Sections[name] = sectionHead(sec)
		}
		s.Regions = append(s.Regions, rh)
	}
	return s
}

// split cuts list into parts whose estimated JSON size stays under
// MaxLogRecordBytes; a single element larger than that is a part of its own.
func split[T any](list []T, size func(T) int) [][]T {
	var parts [][]T
	start, bytes := 0, 0
	for i, x := range list {
		n := size(x)
		if i > start && bytes+n > MaxLogRecordBytes {
			parts = append(parts, list[start:i])
			start, bytes = i, 0
		}
		bytes += n
	}
	if start < len(list) {
		parts = append(parts, list[start:])
	}
	return parts
}

// itemSize and batchSize over-estimate an element's JSON: field names,
// quotes and escapes included.
func itemSize(it Item) int {
	n := 80 + 2*(len(it.ID)+len(it.Detail)+len(it.Code)+len(it.Message)+len(it.RequestID)+len(it.Owner))
	n += 40 * 4 // the lifecycle's times, when set
	if f := it.Facts; f != nil {
		n += 100 + 2*(len(f.Name)+len(f.Status)+len(f.ChargeType))
	}
	return n
}

// jsonSize is x's JSON size (for the few heads of accounts and regions).
func jsonSize[T any](x T) int {
	b, err := json.Marshal(x)
	if err != nil {
		return MaxLogRecordBytes
	}
	return len(b) + 1
}

func leftoverSize(l *Leftover) int {
	return 100 + 120*(len(l.EIPs)+len(l.Disks)+len(l.Snapshots)) + 2*len(l.InstanceID)
}

func batchSize(b *Batch) int {
	n := 200 + 2*(len(b.ClientToken)+len(b.Code)+len(b.Result))
	for _, id := range b.InstanceIDs {
		n += 3 + 2*len(id)
	}
	for _, id := range b.RequestIDs {
		n += 3 + 2*len(id)
	}
	return n
}
