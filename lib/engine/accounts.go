package engine

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/plan"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// ErrAccountUnreachable is returned (wrapped, naming the accounts and
// their codes) when an account's role could not be assumed: nothing was
// written there; the other accounts were swept.
var ErrAccountUnreachable = errors.New("accounts unreachable")

// DefaultAccountConcurrency is how many accounts are swept at once when
// Options leave it unset.
const DefaultAccountConcurrency = 4

// Caps are blast-radius caps (the organisation's, in Options.OrgCaps).
type Caps = plan.Caps

// notSwept is an account the run could not sweep at all.
type notSwept struct {
	account string
	status  string // report.AccountUnreachable or report.AccountFailed
	failure *verdict.Failure
}

// Unreachable records an account whose role could not be assumed (err is
// the AssumeRole's failure): nothing is written there, the others are
// swept, and the run fails naming it. Call it before Run.
func (e *Engine) Unreachable(account string, err error) {
	f := call.Failure(err)
	f.Message = err.Error() // the whole error: which role, and why (denied, role-missing, ...)
	e.notSwept = append(e.notSwept, notSwept{account, report.AccountUnreachable, f})
}

// AccountFailed records an account reached but not swept (its regions
// could not be listed): nothing is written there, and the run fails
// naming it. Call it before Run.
func (e *Engine) AccountFailed(account string, err error) {
	e.notSwept = append(e.notSwept, notSwept{account, report.AccountFailed, call.Failure(err)})
}

// Call counts an API call made for the run outside any scope (resolving
// the accounts, assuming their roles) in the report.
func (e *Engine) Call(action string) { e.rec.Call(action) }

// notSweptError names the accounts not swept at all, nil when none.
func (e *Engine) notSweptError() error {
	var unreachable, failed []string
	for _, n := range e.notSwept {
		what := n.account + " (" + n.failure.Code + ")"
		if n.status == report.AccountUnreachable {
			unreachable = append(unreachable, what)
		} else {
			failed = append(failed, what)
		}
	}
	var errs []error
	if len(unreachable) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s: their roles could not be assumed, nothing was written there", ErrAccountUnreachable, strings.Join(unreachable, ", ")))
	}
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%w: accounts %s: their regions could not be listed, nothing was written there", ErrRegionFailed, strings.Join(failed, ", ")))
	}
	return errors.Join(errs...)
}

// accountRuns groups the scopes by account, in the order the accounts
// first appear.
func accountRuns(runs []*scopeRun) [][]*scopeRun {
	index := map[string]int{}
	var groups [][]*scopeRun
	for _, sr := range runs {
		i, ok := index[sr.Scope.Account]
		if !ok {
			i = len(groups)
			index[sr.Scope.Account] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], sr)
	}
	return groups
}

// severalAccounts: the run sweeps (or failed to reach) more than one
// account, so the caps apply per account and the organisation's caps
// to the whole run.
func (e *Engine) severalAccounts(runs []*scopeRun) bool {
	seen := map[string]bool{}
	for _, sr := range runs {
		seen[sr.Scope.Account] = true
	}
	for _, n := range e.notSwept {
		seen[n.account] = true
	}
	return len(seen) > 1
}

// capResult is the caps' verdict: the report's cap check, the error
// naming every cap exceeded, and the scopes still to write to.
type capResult struct {
	check   *report.CapCheck
	err     error
	live    []*scopeRun
	tripped bool
}

// checkCaps checks the blast-radius caps on the plan. One account: its
// caps, as ever, and over them nothing is written. Several (or accounts
// configured, OrgCaps set, though one is swept): each
// account's own caps (REAPER_MAX_RELEASE, REAPER_MAX_RELEASE_PERCENT),
// and over them nothing is written in that account while the others
// proceed; then the organisation's caps over what the accounts within
// their own caps would write, and over them nothing is written anywhere.
func (e *Engine) checkCaps(runs []*scopeRun) capResult {
	caps := plan.Caps{MaxRelease: e.opts.MaxRelease, MaxReleasePercent: e.opts.MaxReleasePercent, PercentCapFrom: e.opts.PercentCapFrom}
	if !e.severalAccounts(runs) && e.opts.OrgCaps == nil {
		check := plan.Check(plans(runs), caps)
		if !check.Exceeded {
			return capResult{check: check, live: runs}
		}
		err := fmt.Errorf("%w: %s; nothing was released", ErrCapExceeded, check.Explain())
		e.logCap("", check)
		for _, sr := range runs {
			hold(sr, verdict.CapExceeded, err.Error())
		}
		if len(runs) > 0 {
			e.rec.Account(runs[0].Scope.Account, report.AccountHeldByCap, nil, nil)
		}
		return capResult{check: check, err: err, tripped: true}
	}
	var res capResult
	var over []string
	for _, group := range accountRuns(runs) {
		account := group[0].Scope.Account
		check := plan.Check(plans(group), caps)
		e.rec.Account(account, "", nil, check)
		if !check.Exceeded {
			res.live = append(res.live, group...)
			continue
		}
		res.tripped = true
		why := fmt.Sprintf("account %s: %s", account, check.Explain())
		over = append(over, why)
		e.logCap(account, check)
		e.rec.Account(account, report.AccountHeldByCap, nil, nil)
		for _, sr := range group {
			hold(sr, verdict.CapExceeded, "over the account's cap ("+why+"); nothing was written in this account")
		}
	}
	var errs []error
	if len(over) > 0 {
		errs = append(errs, fmt.Errorf("%w: %s; nothing was written in those accounts, the others were swept", ErrCapExceeded, strings.Join(over, "; ")))
	}
	if org := e.opts.OrgCaps; org != nil {
		orgCaps := *org
		orgCaps.PercentCapFrom = e.opts.PercentCapFrom
		res.check = plan.Check(plans(res.live), orgCaps)
		if res.check.Exceeded {
			res.tripped = true
			err := fmt.Errorf("%w: the organisation's cap: %s (the accounts within their own caps together); nothing was written in any account", ErrCapExceeded, res.check.Explain())
			errs = append(errs, err)
			e.logCap("organisation", res.check)
			for _, group := range accountRuns(res.live) {
				e.rec.Account(group[0].Scope.Account, report.AccountHeldByCap, nil, nil)
				for _, sr := range group {
					hold(sr, verdict.CapExceeded, err.Error())
				}
			}
			res.live = nil
		}
	}
	res.err = errors.Join(errs...)
	return res
}

func (e *Engine) logCap(account string, c *report.CapCheck) {
	e.log.Error("cap exceeded", "account", account, "eligible", c.Eligible, "opted_in", c.OptedIn,
		"max_release", c.MaxRelease, "max_release_percent", c.MaxReleasePercent)
}

func plans(runs []*scopeRun) []*plan.Scope {
	out := make([]*plan.Scope, len(runs))
	for i, sr := range runs {
		out[i] = sr.plan
	}
	return out
}
