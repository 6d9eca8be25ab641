package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/fanout"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/org"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// ErrWorker marks a worker invocation that could not do its phase: the
// flow retries it (Plan, Execute) or fails the execution.
var ErrWorker = errors.New("fan-out worker")

// Serve is the FC handler of both functions: a worker payload (a JSON
// object with a "phase") runs one phase of the fan-out; anything else is
// a timer event (Invoke).
func (h *Handler) Serve(ctx context.Context, event []byte) (any, error) {
	if IsWorkerPayload(event) {
		return h.Work(ctx, event)
	}
	return h.Invoke(ctx, event)
}

// IsWorkerPayload tells a worker payload from a timer event: a timer
// event has no "phase" (FC writes triggerTime, triggerName, payload).
func IsWorkerPayload(event []byte) bool {
	var fields map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(event), &fields) != nil {
		return false
	}
	_, ok := fields["phase"]
	return ok
}

// coordinate is the timer function's part when the run fans out: the
// run's accounts are recorded once and the run's execution started. A
// repeated tick (same trigger time) starts nothing new.
func (h *Handler) coordinate(ctx context.Context, ev TimerEvent, runID string, cfg settings.Settings, region string, creds ecsapi.Credentials, accounts org.Plan, now func() time.Time, logger *slog.Logger) (*report.Report, error) {
	run, err := fanout.RunIDFromTrigger(*ev.TriggerTime)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	store, starter, err := fanoutClients(cfg, region, creds)
	if err != nil {
		return nil, err
	}
	outcome, m, err := fanout.Coordinate(ctx, store, starter, run, accounts.IDs(), skippedAccounts(accounts)...)
	rep := failedReport(runID, now, err)
	rep.DryRun = cfg.DryRun
	rep.Settings = settingsMap(cfg)
	if err != nil {
		return rep, err
	}
	where := "oss://" + cfg.ResultBucket + "/" + store.Key(run, fanout.OrgAccount, fanout.DocReport)
	switch outcome {
	case fanout.Started:
		rep.Warning = fmt.Sprintf("fanned out: CloudFlow execution %s of flow %s runs over %d accounts; its report will be %s", run.ExecutionName(), cfg.FlowName, len(m.Accounts), where)
	default:
		rep.Warning = fmt.Sprintf("fanned out: CloudFlow execution %s already finished; nothing new was started; its report is %s", run.ExecutionName(), where)
	}
	logger.Info("fan-out", "run", string(run), "execution", run.ExecutionName(), "outcome", string(outcome), "accounts", len(m.Accounts))
	return rep, nil
}

func fanoutClients(cfg settings.Settings, region string, creds ecsapi.Credentials) (*fanout.Store, *fanout.Starter, error) {
	get := func() (ecsapi.Credentials, error) { return creds, nil }
	store, err := fanout.NewStore(fanout.StoreConfig{Bucket: cfg.ResultBucket, Prefix: cfg.ResultPrefix, Region: region, Endpoint: cfg.OSSEndpoint, Credentials: get})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	starter, err := fanout.NewStarter(fanout.StarterConfig{FlowName: cfg.FlowName, Region: region, Endpoint: cfg.FNFEndpoint, Credentials: get})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	return store, starter, nil
}

// Work runs one phase of the fan-out for the flow and answers its small
// summary; the phase's document goes to the result store.
func (h *Handler) Work(ctx context.Context, event []byte) (any, error) {
	fctx, _ := fccontext.FromContext(ctx)
	if fctx == nil {
		fctx = &fccontext.FcContext{}
	}
	logger := h.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("request_id", fctx.RequestID)
	p, err := fanout.ParsePayload(event)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrBadEvent, err)
		logger.Error("invocation failed", "error", err.Error())
		return nil, err
	}
	runID := string(p.Run)
	if p.Account != "" {
		runID = p.Run.WorkerRunID(p.Account)
	}
	base := logger
	logger = logger.With("run_id", runID, "phase", string(p.Phase))
	answer, err := h.work(ctx, fctx, p, base, logger)
	if err != nil {
		logger.Error("invocation failed", "error", err.Error(), "retry_count", fctx.RetryCount)
		return nil, err
	}
	logger.Info("worker answer", "answer", answer)
	return answer, nil
}

// worker is what every phase needs.
type worker struct {
	h      *Handler
	fctx   *fccontext.FcContext
	cfg    settings.Settings
	region string
	creds  ecsapi.Credentials
	store  *fanout.Store
	now    func() time.Time
	log    *slog.Logger
	base   *slog.Logger // without the run ID: the report's records carry their own
}

func (h *Handler) work(ctx context.Context, fctx *fccontext.FcContext, p fanout.Payload, base, logger *slog.Logger) (any, error) {
	lookup := h.Lookup
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	var environ []string
	if h.Environ != nil {
		environ = h.Environ()
	}
	cfg, err := settings.FromEnv(lookup)
	if err = errors.Join(err, settings.CheckNames(environ)); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	if cfg.Fanout == settings.FanoutOff || cfg.ResultBucket == "" {
		return nil, fmt.Errorf("%w: a worker payload, but %s=%s: the worker runs only with %s=%s or %s and %s set", ErrSettings, settings.EnvFanout, cfg.Fanout,
			settings.EnvFanout, settings.FanoutFlow, settings.FanoutAuto, settings.EnvResultBucket)
	}
	if sel, _ := cfg.Accounts(); !sel.Multi() {
		return nil, fmt.Errorf("%w: a worker payload, but %s does not name several accounts: the fan-out sweeps an organisation", ErrSettings, settings.EnvAccounts)
	}
	if h.LocalBuild && !cfg.DryRun && !cfg.LocalRelease {
		cfg.DryRun = true
	}
	region := fctx.Region
	if region == "" {
		region, _ = lookup("FC_REGION")
	}
	creds, _ := h.credentials(fctx, lookup)
	if creds.AccessKeyID == "" || creds.AccessKeySecret == "" {
		return nil, fmt.Errorf("%w: no credentials: give the function a role (FC passes its STS credentials with each invocation)", ErrSettings)
	}
	store, _, err := fanoutClients(cfg, region, creds)
	if err != nil {
		return nil, err
	}
	now := h.Now
	if now == nil {
		now = time.Now
	}
	w := &worker{h: h, fctx: fctx, cfg: cfg, region: region, creds: creds, store: store, now: now, log: logger, base: base}
	switch p.Phase {
	case fanout.PhasePlan:
		return w.plan(ctx, p.Run, p.Account)
	case fanout.PhaseDecide:
		return w.decide(ctx, p.Run)
	case fanout.PhaseNotify:
		return w.notify(ctx, p.Run)
	case fanout.PhaseExecute:
		return w.execute(ctx, p.Run, p.Account)
	default:
		return w.report(ctx, p.Run)
	}
}

// inManifest refuses an account the coordinator did not record for the
// run: a payload never widens the run.
func (w *worker) inManifest(ctx context.Context, run fanout.RunID, account string) error {
	var m fanout.Manifest
	found, err := w.store.Get(ctx, run, fanout.OrgAccount, fanout.DocManifest, &m)
	switch {
	case err != nil:
		return fmt.Errorf("%w: read the run's accounts: %w", ErrWorker, err)
	case !found || m.Run != run:
		return fmt.Errorf("%w: run %s has no accounts recorded: the coordinator did not start it", ErrWorker, run)
	case !slices.Contains(m.Accounts, account):
		return fmt.Errorf("%w: account %s is not one of run %s's accounts: nothing is done there", ErrWorker, account, run)
	}
	return nil
}

// reachAccount assumes the account's role (its own credentials for the
// function's account) and lists its regions.
func (w *worker) reachAccount(ctx context.Context, run fanout.RunID, account string, eng *engine.Engine) ([]engine.Target, error, error) {
	newOrg := w.h.NewOrg
	if newOrg == nil {
		newOrg = SDKOrg
	}
	o, err := newOrg(w.fctx.AccountId, w.creds, w.cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	assumer, err := org.NewAssumer(countingAssumer{o.Caller, eng.Call}, org.RoleConfig{RoleName: w.cfg.RoleName, ExternalID: w.cfg.RoleExternalID, RunID: string(run)})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	return reach(ctx, o, assumer, eng, org.Target{ID: account, Self: account == o.Own}, w.cfg, w.region)
}

// plan lists the account read-only and writes its plan: everything the
// account would write, without the caps (Decide applies them, per account
// and for the organisation, over every plan).
func (w *worker) plan(ctx context.Context, run fanout.RunID, account string) (any, error) {
	if err := w.inManifest(ctx, run, account); err != nil {
		return nil, err
	}
	opts := w.cfg.Engine(run.WorkerRunID(account), w.now)
	opts.DryRun, opts.PlanOnly, opts.OrgCaps, opts.Notifier = true, true, nil, nil
	opts.MaxRelease, opts.MaxReleasePercent = math.MaxInt32, 0
	var regions []fanout.RegionPlan
	var due []engine.Notice
	opts.Planned = func(p []engine.Planned) { regions, due = RegionPlans(p), engine.PlannedNotices(p) }
	eng := engine.New(opts, w.log)
	targets, unreachable, failed := w.reachAccount(ctx, run, account, eng)
	switch {
	case errors.Is(unreachable, ErrSettings):
		return nil, unreachable
	case unreachable != nil:
		w.log.Error("account unreachable: nothing is written there", "account", account, "error", unreachable.Error())
		p := fanout.Plan{Run: run, Account: account, Status: fanout.PlanUnreachable, Problem: oneLine(unreachable), Regions: []fanout.RegionPlan{},
			Part: unreachablePart(account, unreachable)}
		if err := w.store.Put(ctx, run, account, fanout.DocPlan, p); err != nil {
			return nil, fmt.Errorf("%w: write the plan: %w", ErrWorker, err)
		}
		return fanout.Summary{Phase: fanout.PhasePlan, Account: account, Status: fanout.PlanUnreachable}, nil
	case failed != nil:
		return nil, fmt.Errorf("%w: account %s's regions could not be listed: %w", ErrWorker, account, failed)
	}
	rep, err := eng.Run(ctx, targets)
	if rep == nil {
		return nil, fmt.Errorf("%w: plan account %s: %w", ErrWorker, account, err)
	}
	if errors.Is(err, engine.ErrNoTime) {
		return nil, fmt.Errorf("%w: plan account %s: %w", ErrWorker, account, err)
	}
	if regions == nil && len(targets) > 0 {
		// Never "nothing to do" for an account whose plan was not made.
		return nil, fmt.Errorf("%w: plan account %s: the engine gave no plan", ErrWorker, account)
	}
	p := PlanOf(run, account, rep, regions)
	if len(rep.Accounts) == 1 && rep.Accounts[0].Account == account {
		p.Part = rep.Accounts[0] // the organisation's report shows it if the account is not executed
	}
	withNotices(&p, due, opts.Lifecycle.MarkKey)
	if err := w.store.Put(ctx, run, account, fanout.DocPlan, p); err != nil {
		return nil, fmt.Errorf("%w: write the plan: %w", ErrWorker, err)
	}
	return fanout.Summary{Phase: fanout.PhasePlan, Account: account, Status: fanout.PlanPlanned}, nil
}

// RegionPlans is what the engine's cap check counted in a dry run
// (Options.Planned), per region: the opted-in instances, the releases by
// their DeleteInstances flags, the stops, the EIPs handed over by earlier
// runs and those released with their instances, and each kind's deletes.
// Decide then counts what one invocation's caps count.
func RegionPlans(planned []engine.Planned) []fanout.RegionPlan {
	out := make([]fanout.RegionPlan, 0, len(planned))
	for _, sp := range planned {
		s := sp.Plan
		rp := fanout.RegionPlan{Region: s.Scope.Region, OptedIn: s.OptedIn, Closed: s.Closed}
		if s.Closed {
			out = append(out, rp)
			continue
		}
		byFlags := map[decide.Flags]plan.Candidates{}
		for _, c := range s.Eligible {
			byFlags[c.Flags] = append(byFlags[c.Flags], c)
		}
		for _, f := range slices.SortedFunc(maps.Keys(byFlags), compareFlags) {
			rp.Release = append(rp.Release, fanout.Group{Flags: f, IDs: byFlags[f].IDs()})
		}
		if len(s.Stops) > 0 {
			rp.Stop = plan.Candidates(s.Stops).IDs()
		}
		rp.HandOvers, rp.InstanceEIPs = sortedCopy(sp.HandOvers), sortedCopy(sp.InstanceEIPs)
		// Marks release nothing and no cap counts them, but an account with
		// only marks to write must still be executed: its owners told, the
		// hand-over marks of EIPs bound again removed.
		rp.Notices = len(s.Notices) + len(s.StopMarks) + sp.EndedHandOvers
		for kind, r := range s.Resources {
			if rp.Kinds == nil {
				rp.Kinds = map[string]fanout.KindPlan{}
			}
			rp.Kinds[kind] = fanout.KindPlan{OptedIn: r.OptedIn, Eligible: plan.Candidates(r.Eligible).IDs()}
		}
		out = append(out, rp)
	}
	return out
}

// PlanOf is one account's plan from its regions' plans (RegionPlans) and
// the dry run's report: a region whose report says it failed is closed,
// and nothing is planned there.
func PlanOf(run fanout.RunID, account string, rep *report.Report, regions []fanout.RegionPlan) fanout.Plan {
	p := fanout.Plan{Run: run, Account: account, Status: fanout.PlanPlanned, Regions: []fanout.RegionPlan{}}
	failed := map[string]bool{}
	for _, r := range rep.Regions {
		if r.Error != nil {
			failed[r.Region] = true
		}
	}
	for _, rp := range regions {
		if rp.Closed || failed[rp.Region] {
			rp = fanout.RegionPlan{Region: rp.Region, OptedIn: rp.OptedIn, Closed: true}
		}
		p.Regions = append(p.Regions, rp)
	}
	return p
}

func compareFlags(a, b decide.Flags) int {
	key := func(f decide.Flags) int {
		n := 0
		if f.TerminateSubscription {
			n += 2
		}
		if f.Force {
			n++
		}
		return n
	}
	return key(a) - key(b)
}

func sortedCopy(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// Caps maps the settings onto the fan-out's caps: REAPER_MAX_RELEASE and
// _PERCENT per account, REAPER_ORG_MAX_RELEASE and _PERCENT for the
// organisation, as the one-invocation mode applies them.
func Caps(cfg settings.Settings) fanout.Caps {
	return fanout.Caps{
		Account: plan.Caps{MaxRelease: cfg.MaxRelease, MaxReleasePercent: cfg.MaxReleasePercent, PercentCapFrom: cfg.PercentCapFrom},
		Org:     plan.Caps{MaxRelease: cfg.OrgMaxRelease, MaxReleasePercent: cfg.OrgMaxReleasePercent, PercentCapFrom: cfg.PercentCapFrom},
	}
}

func (w *worker) decide(ctx context.Context, run fanout.RunID) (any, error) {
	answer, d, err := fanout.RunDecide(ctx, w.store, run, Caps(w.cfg))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorker, err)
	}
	w.log.Info("decision", "status", d.Status, "reason", d.Reason, "execute", len(d.Execute), "accounts", len(d.Accounts), "plan_failures", d.PlanFailures)
	if len(d.Execute) == 0 {
		if err := w.reportEarly(ctx, run); err != nil {
			return nil, err
		}
	}
	return answer, nil
}

// execute writes in one account what its plan holds and a fresh read
// still finds eligible (the engine's confirmation), with the account's
// own caps, under the run's ClientTokens (a retry resends the same).
func (w *worker) execute(ctx context.Context, run fanout.RunID, account string) (any, error) {
	var d fanout.Decision
	found, err := w.store.Get(ctx, run, fanout.OrgAccount, fanout.DocDecision, &d)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: read the decision: %w", ErrWorker, err)
	case !found || d.Run != run:
		return nil, fmt.Errorf("%w: run %s has no decision: Decide did not finish", ErrWorker, run)
	case d.Status != fanout.DecisionProceed || !slices.Contains(d.Execute, account):
		return nil, fmt.Errorf("%w: the decision of run %s does not allow account %s: nothing is written there", ErrWorker, run, account)
	}
	p, err := w.countedPlan(ctx, run, d, account)
	if err != nil {
		return nil, err
	}
	notices, err := fanout.ReadNotices(ctx, w.store, run, w.cfg.MarkSecret, w.cfg.MarkSecretPrev)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWorker, err)
	}
	opts := w.cfg.Engine(run.WorkerRunID(account), w.now)
	// The owners were told by Notify, across accounts: this worker marks
	// what was delivered and sends no notice.
	opts.OrgCaps, opts.Confirmed, opts.Delivered = nil, ConfirmationOfPlan(p), deliveredBy(notices)
	notifier, err := w.cfg.Notifier()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	if notifier != nil {
		opts.Notifier = notifier
	}
	eng := engine.New(opts, w.log)
	targets, unreachable, failed := w.reachAccount(ctx, run, account, eng)
	if err := errors.Join(unreachable, failed); err != nil {
		return nil, fmt.Errorf("%w: account %s: %w", ErrWorker, account, err)
	}
	rep, runErr := eng.Run(ctx, targets)
	if rep == nil {
		return nil, fmt.Errorf("%w: execute account %s: %w", ErrWorker, account, runErr)
	}
	rep.Settings = settingsMap(w.cfg)
	rep, runErr = finish(rep, runErr, w.log)
	report.Log(ctx, w.base, rep) // the account's whole report
	// The account's whole report in its own key: the organisation's report
	// takes its regions from it, and an operator reads it there.
	if err := w.store.Put(ctx, run, account, fanout.DocReport, rep); err != nil {
		return nil, fmt.Errorf("%w: write the account's report: %w", ErrWorker, err)
	}
	res := fanout.ExecuteResult{Run: run, Account: account, Status: fanout.Executed, Released: len(rep.IDs(verdict.Released)),
		IDs: rep.IDs(verdict.Released), DryRun: rep.DryRun, Warning: rep.Warning}
	if len(rep.Accounts) > 0 {
		res.Part = rep.Accounts[0]
	}
	if runErr != nil {
		res.Failed = []string{oneLine(runErr)}
	}
	if err := w.store.Put(ctx, run, account, fanout.DocExecute, res); err != nil {
		return nil, fmt.Errorf("%w: write the result: %w", ErrWorker, err)
	}
	if runErr != nil {
		// Fail the invocation: the flow retries it once, with the same
		// ClientTokens; the result says what failed if the retry fails too.
		return nil, fmt.Errorf("%w: account %s: %w", ErrWorker, account, runErr)
	}
	return fanout.Summary{Phase: fanout.PhaseExecute, Account: account, Status: fanout.Executed}, nil
}

// countedPlan reads account's plan and returns it only if it is valid
// and the very plan Decide counted (not one written since).
func (w *worker) countedPlan(ctx context.Context, run fanout.RunID, d fanout.Decision, account string) (fanout.Plan, error) {
	var p fanout.Plan
	found, err := w.store.Get(ctx, run, account, fanout.DocPlan, &p)
	switch {
	case err != nil:
		return p, fmt.Errorf("%w: read account %s's plan: %w", ErrWorker, account, err)
	case !found:
		return p, fmt.Errorf("%w: account %s has no plan", ErrWorker, account)
	}
	if err := p.Validate(run, account); err != nil {
		return p, fmt.Errorf("%w: account %s's plan is not trusted: %w", ErrWorker, account, err)
	}
	if err := d.Counted(account, &p); err != nil {
		return p, fmt.Errorf("%w: %w", ErrWorker, err)
	}
	return p, nil
}

// ConfirmationOfPlan is what an Execute worker may write: exactly the
// plan's releases (each with the flags it was planned with), stops,
// deletes and EIPs released with instances, so that nothing the caps did
// not count is written.
func ConfirmationOfPlan(p fanout.Plan) *engine.Confirmation {
	c := &engine.Confirmation{Release: map[string]bool{}, Flags: map[string]decide.Flags{}, Stop: map[string]bool{}, EIPMarks: map[string]bool{},
		Resources: map[string]map[string]bool{}}
	for _, k := range kinds.All {
		c.Resources[k.Name] = map[string]bool{}
	}
	for _, r := range p.Regions {
		for _, g := range r.Release {
			for _, id := range g.IDs {
				c.Release[id], c.Flags[id] = true, g.Flags
			}
		}
		for _, id := range r.Stop {
			c.Stop[id] = true
		}
		for kind, k := range r.Kinds {
			if c.Resources[kind] == nil {
				continue // Validate refuses unknown kinds
			}
			for _, id := range k.Eligible {
				c.Resources[kind][id] = true
			}
		}
		// Released, or tagged for a later run when not yet Available.
		for _, id := range slices.Concat(r.HandOvers, r.InstanceEIPs) {
			c.Resources[kinds.EIPs.Name][id] = true
		}
	}
	return c
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
