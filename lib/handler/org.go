package handler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/org"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// Caller is what a sweep of several accounts needs from the caller's own
// client: the directory's members and the member roles.
type Caller interface {
	org.Lister
	org.AssumeAPI
}

// Org is how a sweep of several accounts reaches them.
type Org struct {
	// Own is the caller's account ID (FC's context, or the CLI's
	// GetCallerIdentity); OwnAPI its client, for its own account.
	Own    string
	OwnAPI API
	Caller Caller
	// Member builds the client of a member account, signing with the
	// assumed role's credentials.
	Member func(src ecsapi.CredentialSource) (API, error)
}

// SDKOrg is Org over the Alibaba Cloud SDK with the settings' endpoints.
func SDKOrg(own string, creds ecsapi.Credentials, cfg settings.Settings) (Org, error) {
	c, err := ecsapi.NewClient(ecsapi.Config{Credentials: creds, Endpoint: cfg.Endpoint, VPCEndpoint: cfg.VPCEndpoint,
		STSEndpoint: cfg.STSEndpoint, ResourceManagerEndpoint: cfg.ResourceManagerEndpoint})
	if err != nil {
		return Org{}, err
	}
	return Org{Own: own, OwnAPI: c, Caller: c, Member: func(src ecsapi.CredentialSource) (API, error) {
		return ecsapi.NewClient(ecsapi.Config{Source: src, Endpoint: cfg.Endpoint, VPCEndpoint: cfg.VPCEndpoint})
	}}, nil
}

// ErrAccounts marks a run whose accounts could not be resolved (the
// directory could not be listed) or were asked beyond the configured.
var ErrAccounts = errors.New("accounts")

// reachConcurrency bounds the accounts whose roles are assumed and
// regions listed at once (the assumer paces AssumeRole itself).
const reachConcurrency = 8

// Accounts resolves the settings' accounts (ListAccounts under rd, the
// exclusions, the run's narrowing): the plan, or an error naming why.
func Accounts(ctx context.Context, o Org, cfg settings.Settings, count func(action string)) (org.Plan, error) {
	sel, err := cfg.Accounts()
	if err != nil {
		return org.Plan{}, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	plan, err := org.Resolve(ctx, sel, o.Own, countingLister{o.Caller, count})
	if err != nil {
		return org.Plan{}, fmt.Errorf("%w: %w", ErrAccounts, err)
	}
	if plan, err = org.Narrow(plan, cfg.NarrowAccounts); err != nil {
		return org.Plan{}, fmt.Errorf("%w: %w", ErrAccounts, err)
	}
	return plan, nil
}

// SweepOrg sweeps several accounts (REAPER_ACCOUNTS other than self): it
// resolves them, assumes the member role in each (the caller's own
// account with its own credentials), lists each account's regions and
// sweeps them all in one run with the accounts' caps and the
// organisation's. An account whose role cannot be assumed is
// unreachable: nothing is written there, the others are swept, the run
// fails.
func SweepOrg(ctx context.Context, o Org, cfg settings.Settings, defaultRegion, runID string, now func() time.Time, logger *slog.Logger, tweak ...func(*engine.Options)) (*report.Report, error) {
	opts, err := engineOptions(ctx, cfg, runID, now, logger, tweak)
	if err != nil {
		return nil, err
	}
	if !cfg.AllRegions && len(cfg.Regions) == 0 && defaultRegion == "" {
		return nil, fmt.Errorf("%w: no region: set REAPER_REGIONS or run where FC_REGION is set", ErrSettings)
	}
	eng := engine.New(opts, logger)
	plan, err := Accounts(ctx, o, cfg, eng.Call)
	if err != nil {
		rep := eng.Abort(err)
		rep.Settings = settingsMap(cfg)
		return rep, err
	}
	assumer, err := org.NewAssumer(countingAssumer{o.Caller, eng.Call}, org.RoleConfig{RoleName: cfg.RoleName, ExternalID: cfg.RoleExternalID, RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSettings, err)
	}
	logger.Info("accounts", "swept", plan.IDs(), "skipped", len(plan.Skipped), "session_name", assumer.SessionName())
	targets := make([][]engine.Target, len(plan.Targets))
	sem := make(chan struct{}, reachConcurrency)
	var wg sync.WaitGroup
	var mu sync.Mutex // the engine's account records
	for i, t := range plan.Targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ts, unreachable, failed := reach(ctx, o, assumer, eng, t, cfg, defaultRegion)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case unreachable != nil:
				logger.Error("account unreachable: nothing is written there", "account", t.ID, "error", unreachable.Error())
				eng.Unreachable(t.ID, unreachable)
			case failed != nil:
				logger.Error("account's regions could not be listed: nothing is written there", "account", t.ID, "error", failed.Error())
				eng.AccountFailed(t.ID, failed)
			}
			targets[i] = ts
		}()
	}
	wg.Wait()
	rep, err := eng.Run(ctx, slices.Concat(targets...))
	if rep != nil {
		rep.Settings = settingsMap(cfg)
		rep.AccountsSkipped = skippedAccounts(plan)
	}
	return finish(rep, err, logger)
}

// skippedAccounts are the accounts the selection left out, for the report.
func skippedAccounts(plan org.Plan) []report.SkippedAccount {
	var out []report.SkippedAccount
	for _, s := range plan.Skipped {
		out = append(out, report.SkippedAccount{Account: s.ID, Name: s.Name, Reason: s.Reason, Status: s.Status})
	}
	return out
}

// reach assumes the role of one account (its own credentials for the
// caller's account) and lists its regions when the settings say all.
func reach(ctx context.Context, o Org, assumer *org.Assumer, eng *engine.Engine, t org.Target, cfg settings.Settings, defaultRegion string) (targets []engine.Target, unreachable, failed error) {
	api := o.OwnAPI
	if !t.Self {
		session, err := assumer.Assume(ctx, t.ID)
		if err != nil {
			return nil, err, nil
		}
		if api, err = o.Member(session); err != nil {
			return nil, err, nil
		}
	}
	regions := cfg.Regions
	switch {
	case cfg.AllRegions:
		var err error
		if regions, err = eng.Regions(ctx, api); err != nil {
			return nil, nil, err
		}
	case len(regions) == 0:
		regions = []string{defaultRegion}
	}
	for _, r := range regions {
		targets = append(targets, engine.Target{Scope: cloud.Scope{Account: t.ID, Region: r}, API: api})
	}
	return targets, nil, nil
}

// finish turns the engine's error into the run's: incomplete is a
// warning, a cap names the settings to raise.
func finish(rep *report.Report, err error, logger *slog.Logger) (*report.Report, error) {
	switch {
	case errors.Is(err, engine.ErrIncomplete):
		logger.Warn("sweep incomplete", "error", err.Error())
		if rep != nil && rep.Warning != "" {
			rep.Warning = err.Error() + "; " + rep.Warning
		} else if rep != nil {
			rep.Warning = err.Error()
		}
		return rep, nil
	case errors.Is(err, engine.ErrCapExceeded) && rep != nil && slices.ContainsFunc(rep.Accounts, func(a *report.Account) bool { return a.Cap != nil }):
		// Caps per account and the organisation's.
		err = fmt.Errorf("%w. Every run will refuse until an operator raises %s", err, orgCapAdvice(rep))
		rep.Error = err.Error()
	case errors.Is(err, engine.ErrCapExceeded) && rep != nil && rep.Cap != nil:
		err = fmt.Errorf("%w. Every run will refuse until an operator raises %s", err, capAdvice(rep.Cap))
		rep.Error = err.Error()
	case errors.Is(err, engine.ErrNoTime):
		err = fmt.Errorf("%w (%s)", err, settings.EnvDeadlineMargin)
		rep.Error = err.Error()
	}
	return rep, err
}

// orgCapAdvice names the caps a run over several accounts tripped.
func orgCapAdvice(rep *report.Report) string {
	var raise []string
	for _, a := range rep.Accounts {
		if a.Cap != nil && a.Cap.Exceeded {
			raise = append(raise, "in account "+a.Account+" "+capAdvice(a.Cap))
		}
	}
	if c := rep.Cap; c != nil && c.Exceeded {
		var org []string
		if c.CountExceeded {
			org = append(org, fmt.Sprintf("%s to %d", settings.EnvOrgMaxRelease, c.Eligible))
		}
		if c.PercentExceeded {
			org = append(org, fmt.Sprintf("%s to %.4g", settings.EnvOrgMaxReleasePercent, c.NeededPercent()))
		}
		raise = append(raise, strings.Join(org, " and ")+" for the organisation")
	}
	return strings.Join(raise, "; ")
}

// countingLister and countingAssumer count the directory's and STS's
// calls in the run's report.
type countingLister struct {
	org.Lister
	count func(string)
}

func (c countingLister) ListAccounts(ctx context.Context, in ecsapi.ListAccountsInput) (ecsapi.AccountsPage, error) {
	if c.count != nil {
		c.count(ecsapi.ActionListAccounts)
	}
	return c.Lister.ListAccounts(ctx, in)
}

type countingAssumer struct {
	org.AssumeAPI
	count func(string)
}

func (c countingAssumer) AssumeRole(ctx context.Context, in ecsapi.AssumeRoleInput) (ecsapi.AssumeRoleOutput, error) {
	c.count(ecsapi.ActionAssumeRole)
	return c.AssumeAPI.AssumeRole(ctx, in)
}
