package report

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Recorder builds one run's report while the engine works: it owns the
// report and its lock, and logs each decision as it records it. During a
// sweep the engine only writes to it. The engine reads reports twice:
// the finished one, for the run's error and warnings, and, for a
// confirmed run, the dry run's report it confirms, which bounds what the
// run may write.
type Recorder struct {
	mu       sync.Mutex
	rep      *Report
	regions  map[cloud.Scope]*ScopeRecorder
	log      *slog.Logger
	logsInfo bool // skips building per-instance records nobody reads
	now      func() time.Time
}

// NewRecorder starts the report of a run. A nil logger discards logs.
func NewRecorder(runID string, dryRun bool, now func() time.Time, logger *slog.Logger) *Recorder {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Recorder{
		rep:      &Report{SchemaVersion: SchemaVersion, RunID: runID, DryRun: dryRun, StartedAt: now().UTC(), Regions: []*Region{}},
		regions:  map[cloud.Scope]*ScopeRecorder{},
		log:      logger,
		logsInfo: logger.Enabled(context.Background(), slog.LevelInfo),
		now:      now,
	}
}

// Call counts an API call made outside any scope (resolving regions).
func (r *Recorder) Call(action string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.rep.Calls == nil {
		r.rep.Calls = map[string]int{}
	}
	r.rep.Calls[action]++
}

// Scope returns the recorder of one scope, adding its region to the report
// in the order scopes are first asked for.
func (r *Recorder) Scope(s cloud.Scope) *ScopeRecorder {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sr := r.regions[s]; sr != nil {
		return sr
	}
	region := NewRegion(s.Region)
	region.Account = s.Account
	region.started = time.Now() // a measurement, not a decision: the real clock
	sr := &ScopeRecorder{r: r, scope: s, region: region}
	r.regions[s] = sr
	r.rep.Regions = append(r.rep.Regions, region)
	return sr
}

// Account records what only the run knows of an account: a status its
// regions do not say (unreachable, held-by-cap, or failed before any
// region was listed) with its failure, and its own cap check. An empty
// status or a nil failure or check keeps what was recorded before.
func (r *Recorder) Account(id, status string, f *verdict.Failure, capCheck *CapCheck) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var a *Account
	for _, x := range r.rep.Accounts {
		if x.Account == id {
			a = x
		}
	}
	if a == nil {
		a = &Account{Account: id}
		r.rep.Accounts = append(r.rep.Accounts, a)
	}
	if status != "" {
		a.Status = status
	}
	if f != nil {
		a.Error = f
	}
	if capCheck != nil {
		a.Cap = capCheck
	}
}

// Finish closes the report: durations, sorted groups, totals, the cap
// check and the run's error. The recorder must not be used after.
func (r *Recorder) Finish(capCheck *CapCheck, runErr string) *Report {
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := r.rep
	rep.Cap = capCheck
	for _, region := range rep.Regions {
		region.Finish()
	}
	rep.FinishedAt = r.now().UTC()
	rep.DurationMS = rep.FinishedAt.Sub(rep.StartedAt).Milliseconds()
	rep.Error = runErr
	rep.Total()
	return rep
}

// ScopeRecorder records one scope's part of the run. It is safe for
// concurrent use.
type ScopeRecorder struct {
	r       *Recorder
	scope   cloud.Scope
	region  *Region
	section string // outcomes go to this resource section of the region
}

// Section returns the recorder whose outcomes go to a resource section.
func (s *ScopeRecorder) Section(name string) *ScopeRecorder {
	c := *s
	c.section = name
	return &c
}

// Call counts one API call (retries included).
func (s *ScopeRecorder) Call(action string) {
	s.r.mu.Lock()
	s.region.Calls[action]++
	s.r.mu.Unlock()
}

// Outcome records one instance's outcome and logs it (at WARN for a
// failed or held-back instance).
func (s *ScopeRecorder) Outcome(o verdict.Outcome, reason verdict.Reason, item Item) {
	if s.section != "" {
		s.resource(s.section, o, reason, item)
		return
	}
	s.r.mu.Lock()
	s.region.Add(o, reason, item)
	s.r.mu.Unlock()
	if level := o.Level(); s.r.logsInfo || level > slog.LevelInfo {
		s.r.log.Log(context.Background(), level, "decision", "region", s.scope.Region, "account", s.scope.Account,
			"instance_id", item.ID, "outcome", string(o), "reason", string(reason), "detail", item.Detail,
			"code", item.Code, "message", item.Message)
	}
}

// ListedSkips bounds the instances a region's report lists by ID for
// each reason the listing skipped them for (not-expired, no-opt-in,
// excluded, …): the rest are counted (Region.Counts, Region.Unlisted),
// and each one's decision is in the log (the "page decisions" records).
// A million-instance region would otherwise keep a record per instance
// it leaves alone. Data problems (AlwaysListed) are listed in full.
const ListedSkips = 100

// AlwaysListed: skips that say the data could not be trusted are listed
// in the report whatever their number.
func AlwaysListed(reason verdict.Reason) bool {
	switch reason {
	case verdict.InvalidData, verdict.InvalidExpiry, verdict.UnverifiedMark, verdict.StaleMark:
		return true
	}
	return false
}

// Skipped records one instance the listing left alone: counted, listed
// while its reason has fewer than ListedSkips listed in the region (or
// always, for AlwaysListed reasons), and logged, one record per instance
// for an AlwaysListed reason, otherwise by the page's Decisions record.
func (s *ScopeRecorder) Skipped(reason verdict.Reason, item Item) {
	if AlwaysListed(reason) {
		s.Outcome(verdict.Skipped, reason, item)
		return
	}
	s.r.mu.Lock()
	s.region.skip(reason, item)
	s.r.mu.Unlock()
}

// PageDecisions logs one page's decisions in one record (at INFO): the
// IDs of the instances to write to by step (release, stop, notify, …),
// and of those the listing left alone by reason. With the report's counts
// and records, it explains every decision without a record per instance
// left alone; each write's outcome has its own record.
func (s *ScopeRecorder) PageDecisions(eligible map[string][]string, skipped map[verdict.Reason][]string) {
	if !s.r.logsInfo || len(eligible)+len(skipped) == 0 {
		return
	}
	attrs := []slog.Attr{slog.String("region", s.scope.Region), slog.String("account", s.scope.Account)}
	if len(eligible) > 0 {
		steps := make([]slog.Attr, 0, len(eligible))
		for step, ids := range eligible {
			steps = append(steps, slog.Any(step, ids))
		}
		attrs = append(attrs, slog.Any("eligible", slog.GroupValue(steps...)))
	}
	if len(skipped) > 0 {
		reasons := make([]slog.Attr, 0, len(skipped))
		for reason, ids := range skipped {
			reasons = append(reasons, slog.Any(string(reason), ids))
		}
		attrs = append(attrs, slog.Any("skipped", slog.GroupValue(reasons...)))
	}
	s.r.log.LogAttrs(context.Background(), slog.LevelInfo, "page decisions", attrs...)
}

// Page logs one listed page at DEBUG (progress lines count them).
func (s *ScopeRecorder) Page(instances int) {
	if ctx := context.Background(); s.r.log.Enabled(ctx, slog.LevelDebug) {
		s.r.log.Log(ctx, slog.LevelDebug, "page", "region", s.scope.Region, "instances", instances)
	}
}

// Batch records one write call with its retries, and logs it (at WARN
// when it failed).
func (s *ScopeRecorder) Batch(b *Batch) {
	s.r.mu.Lock()
	s.region.Batches = append(s.region.Batches, b)
	s.r.mu.Unlock()
	level := slog.LevelInfo
	if b.Result == string(verdict.Failed) {
		level = slog.LevelWarn
	}
	attrs := []any{"region", s.scope.Region, "account", s.scope.Account, "action", b.Action, "instances", len(b.InstanceIDs),
		"dry_run", b.DryRun, "client_token", b.ClientToken, "attempts", b.Attempts, "request_ids", b.RequestIDs,
		"result", b.Result, "code", b.Code}
	if b.Flags != nil {
		attrs = append(attrs, "terminate_subscription", b.Flags.TerminateSubscription, "force", b.Flags.Force)
	}
	s.r.log.Log(context.Background(), level, "batch", attrs...)
}

// Listed records how the scope was listed; complete says the listing ran
// to its end and is trusted.
func (s *ScopeRecorder) Listed(discovery string, seen, optedIn int, complete bool) {
	s.r.mu.Lock()
	s.region.Discovery, s.region.Seen, s.region.OptedIn = discovery, seen, optedIn
	s.region.Complete = complete && s.region.Error == nil
	s.r.mu.Unlock()
}

// Fail records the scope's failure (the first one wins): the listing
// failed, or a credential error stopped it. The scope is incomplete.
func (s *ScopeRecorder) Fail(f *verdict.Failure) {
	s.r.mu.Lock()
	if s.region.Error == nil {
		s.region.Error = f
	}
	s.region.Complete = false
	s.r.mu.Unlock()
}

// Incomplete marks the scope as not swept to the end (the deadline).
func (s *ScopeRecorder) Incomplete() {
	s.r.mu.Lock()
	s.region.Complete = false
	s.r.mu.Unlock()
}

// Done records the time the scope's work took.
func (s *ScopeRecorder) Done() {
	s.r.mu.Lock()
	s.region.DurationMS = time.Since(s.region.started).Milliseconds()
	s.r.mu.Unlock()
}

// Leftover records what an instance about to be released leaves billed;
// only the instances the run releases (or would) stay in the report.
func (s *ScopeRecorder) Leftover(l *Leftover) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.region.leftovers == nil {
		s.region.leftovers = map[string]*Leftover{}
	}
	s.region.leftovers[l.InstanceID] = l
}

// LeftoversListed records whether the leftover listings completed.
func (s *ScopeRecorder) LeftoversListed(failure *verdict.Failure) {
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	sum := &LeftoverSummary{Complete: failure == nil}
	if failure != nil {
		sum.Error = failure.Code + ": " + failure.Message
	}
	s.region.LeftoverSummary = sum
}

// resource records one resource's outcome in its section of the region.
func (s *ScopeRecorder) resource(section string, o verdict.Outcome, reason verdict.Reason, item Item) {
	s.r.mu.Lock()
	sec := s.region.section(section)
	sec.Add(o, reason, item)
	s.r.mu.Unlock()
	s.r.log.Log(context.Background(), o.Level(), "decision", "region", s.scope.Region, "account", s.scope.Account,
		"resource", section, "id", item.ID, "outcome", string(o), "reason", string(reason), "detail", item.Detail, "code", item.Code)
}
