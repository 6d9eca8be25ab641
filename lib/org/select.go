package org

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
)

// The settings this package reads, as the function's environment names them.
const (
	EnvAccounts        = "REAPER_ACCOUNTS"
	EnvAccountTag      = "REAPER_ACCOUNT_TAG"
	EnvAccountsExclude = "REAPER_ACCOUNTS_EXCLUDE"
)

// Selection is which accounts a run sweeps, as configured.
type Selection struct {
	// Self: the function's own account ("" or "self", alone or listed).
	Self bool
	// IDs are the accounts named by ID, sorted and distinct.
	IDs []string
	// RD: the Resource Directory's members ("rd"), under Folder when set
	// ("rd:<folder-id>").
	RD     bool
	Folder string
	// TagKey and TagValue: with RD, only members carrying this tag.
	TagKey, TagValue string
	// Exclude are accounts never swept, sorted and distinct.
	Exclude []string
}

// Multi reports whether the run sweeps other accounts than its own (or
// names its own by ID): anything but "" and "self".
func (s Selection) Multi() bool { return s.RD || len(s.IDs) > 0 }

// String spells the selection as REAPER_ACCOUNTS would.
func (s Selection) String() string {
	var parts []string
	if s.Self {
		parts = append(parts, "self")
	}
	if s.RD {
		parts = append(parts, "rd"+map[bool]string{true: ":" + s.Folder}[s.Folder != ""])
	}
	parts = append(parts, s.IDs...)
	return strings.Join(parts, ",")
}

// Parse reads the three settings. REAPER_ACCOUNTS is "" or "self" (the
// own account), or a comma-separated list of account IDs, "self", and at
// most one "rd" or "rd:<folder-id>". Members of a directory opt in: rd
// needs a tag or exclusions.
func Parse(accounts, tag, exclude string) (Selection, error) {
	s, errs := parseAccounts(accounts)
	if tag = strings.TrimSpace(tag); tag != "" {
		key, value, err := parseTag(tag)
		if err != nil {
			errs = append(errs, err)
		}
		s.TagKey, s.TagValue = key, value
		if !s.RD {
			errs = append(errs, fmt.Errorf("%s selects members of a Resource Directory: it needs %s=rd (or rd:<folder-id>)", EnvAccountTag, EnvAccounts))
		}
	}
	if strings.TrimSpace(exclude) != "" {
		ids, err := ParseIDs(exclude)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", EnvAccountsExclude, err))
		}
		s.Exclude = ids
		if !s.Multi() {
			errs = append(errs, fmt.Errorf("%s excludes accounts of a run over several: %s is the function's own account only", EnvAccountsExclude, EnvAccounts))
		}
	}
	if s.RD && s.TagKey == "" && len(s.Exclude) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s=rd would sweep every member: accounts opt in, so set %s (key=value) or %s", EnvAccounts, EnvAccountTag, EnvAccountsExclude))
	}
	if len(errs) > 0 {
		return Selection{}, errors.Join(errs...)
	}
	return s, nil
}

// CheckAccounts returns what is wrong with REAPER_ACCOUNTS on its own, or "".
func CheckAccounts(v string) string { _, errs := parseAccounts(v); return joined(errs) }

// CheckTag returns what is wrong with REAPER_ACCOUNT_TAG on its own, or "".
func CheckTag(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	_, _, err := parseTag(v)
	return joined([]error{err})
}

// CheckExclude returns what is wrong with REAPER_ACCOUNTS_EXCLUDE on its own, or "".
func CheckExclude(v string) string {
	if strings.TrimSpace(v) == "" {
		return ""
	}
	_, err := ParseIDs(v)
	return joined([]error{err})
}

func joined(errs []error) string {
	if err := errors.Join(errs...); err != nil {
		return strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return ""
}

func parseAccounts(accounts string) (Selection, []error) {
	var s Selection
	var errs []error
	if strings.TrimSpace(accounts) == "" {
		s.Self = true
		return s, nil
	}
	for _, entry := range strings.Split(accounts, ",") {
		entry = strings.TrimSpace(entry)
		lower := strings.ToLower(entry)
		switch {
		case entry == "":
			errs = append(errs, fmt.Errorf("%s %q has an empty entry (a stray comma?)", EnvAccounts, accounts))
		case lower == "self":
			s.Self = true
		case lower == "rd" || strings.HasPrefix(lower, "rd:"):
			if s.RD {
				errs = append(errs, fmt.Errorf("%s names rd more than once", EnvAccounts))
				continue
			}
			s.RD = true
			if lower != "rd" {
				s.Folder = strings.TrimSpace(entry[len("rd:"):])
				if !validFolderID(s.Folder) {
					errs = append(errs, fmt.Errorf("%s: %q is not a folder ID (rd:fd-xxxx: letters, digits and hyphens, at most 64)", EnvAccounts, s.Folder))
				}
			}
		case ecsapi.ValidAccountID(entry):
			if slices.Contains(s.IDs, entry) {
				errs = append(errs, fmt.Errorf("%s names account %s twice", EnvAccounts, entry))
			}
			s.IDs = append(s.IDs, entry)
		default:
			errs = append(errs, fmt.Errorf("%s: %q is neither an account ID (digits), self, rd nor rd:<folder-id>", EnvAccounts, entry))
		}
	}
	slices.Sort(s.IDs)
	s.IDs = slices.Compact(s.IDs)
	return s, errs
}

func parseTag(tag string) (key, value string, err error) {
	key, value, ok := strings.Cut(strings.TrimSpace(tag), "=")
	key, value = strings.TrimSpace(key), strings.TrimSpace(value)
	switch {
	case !ok || key == "" || value == "":
		return "", "", fmt.Errorf("%s must be key=value, both non-empty, e.g. ecs-reaper=on", EnvAccountTag)
	case len(key) > 128 || len(value) > 128 || strings.ContainsFunc(key+value, isControl):
		return "", "", fmt.Errorf("%s: a tag key and value have at most 128 characters and no control characters", EnvAccountTag)
	}
	return key, value, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// validFolderID: Resource Directory folder IDs look like fd-bZr1Ex****.
func validFolderID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// ParseIDs reads a comma-separated list of account IDs (a payload's or
// --accounts' narrowing, REAPER_ACCOUNTS_EXCLUDE), sorted and distinct;
// "self" is kept as it is.
func ParseIDs(v string) ([]string, error) {
	var ids []string
	for _, entry := range strings.Split(v, ",") {
		entry = strings.TrimSpace(entry)
		switch {
		case strings.EqualFold(entry, "self"):
			ids = append(ids, "self")
		case ecsapi.ValidAccountID(entry):
			ids = append(ids, entry)
		default:
			return nil, fmt.Errorf("%q is not an account ID (digits only)", entry)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// Target is one account a run sweeps.
type Target struct {
	ID   string
	Name string // the directory's display name, when listed
	// Self: the caller's own account, swept with its own credentials.
	Self bool
}

// Why a member is left out.
const (
	SkipExcluded  = "excluded"   // in REAPER_ACCOUNTS_EXCLUDE
	SkipNotJoined = "not-joined" // its Status is not a finished join
	SkipUntagged  = "untagged"   // the answer shows it without the tag
	SkipSelf      = "self"       // the own account under rd, not named by ID
	// SkipNotRequested: configured, but the run's payload or --accounts
	// named other accounts.
	SkipNotRequested = "not-requested"
)

// Skipped is an account discovery left out, and why.
type Skipped struct {
	ID, Name string
	Status   string // the member's Status, for SkipNotJoined
	Reason   string
}

// Plan is the accounts of one run.
type Plan struct {
	Targets []Target // sorted by ID
	Skipped []Skipped
}

// IDs are the targets' account IDs.
func (p Plan) IDs() []string {
	out := make([]string, len(p.Targets))
	for i, t := range p.Targets {
		out[i] = t.ID
	}
	return out
}

// JoinedStatuses are the member statuses of a finished join: created in
// the directory, invited and accepted, or promoted to a cloud account.
var JoinedStatuses = []string{"CreateSuccess", "InviteSuccess", "PromoteSuccess"}

// Lister reads the directory's members (*ecsapi.Client).
type Lister interface {
	ListAccounts(ctx context.Context, in ecsapi.ListAccountsInput) (ecsapi.AccountsPage, error)
}

// Resolve lists the accounts of sel. own is the caller's account ID,
// required when sel.Multi(); lister is asked only under rd.
func Resolve(ctx context.Context, sel Selection, own string, lister Lister) (Plan, error) {
	if !sel.Multi() {
		return Plan{Targets: []Target{{ID: own, Self: true}}}, nil
	}
	if !ecsapi.ValidAccountID(own) {
		return Plan{}, fmt.Errorf("accounts: the caller's own account ID is unknown (%q): it is needed to keep it out of rd and to sweep it as itself", own)
	}
	var plan Plan
	// Leading zeros aside, an ID is the same account: an exclusion written
	// "0123" still keeps out the member ListAccounts names "123".
	excluded := func(id string) bool {
		return slices.ContainsFunc(sel.Exclude, func(x string) bool { return sameAccount(x, id) })
	}
	add := func(t Target) {
		if excluded(t.ID) {
			plan.Skipped = append(plan.Skipped, Skipped{ID: t.ID, Name: t.Name, Reason: SkipExcluded})
			return
		}
		if !slices.ContainsFunc(plan.Targets, func(x Target) bool { return x.ID == t.ID }) {
			plan.Targets = append(plan.Targets, t)
		}
	}
	if sel.Self {
		add(Target{ID: own, Self: true})
	}
	for _, id := range sel.IDs {
		add(Target{ID: id, Self: id == own})
	}
	if sel.RD {
		members, err := listMembers(ctx, sel, lister)
		if err != nil {
			return Plan{}, err
		}
		for _, m := range members {
			switch {
			case sel.Folder != "" && !inFolder(m, sel.Folder):
				continue // outside the folder: not part of the selection at all
			case m.ID == own:
				if !slices.Contains(sel.IDs, own) && !sel.Self {
					plan.Skipped = append(plan.Skipped, Skipped{ID: m.ID, Name: m.Name, Status: m.Status, Reason: SkipSelf})
				}
			case !slices.Contains(JoinedStatuses, m.Status):
				plan.Skipped = append(plan.Skipped, Skipped{ID: m.ID, Name: m.Name, Status: m.Status, Reason: SkipNotJoined})
			case sel.TagKey != "" && !hasTag(m.Tags, sel.TagKey, sel.TagValue):
				plan.Skipped = append(plan.Skipped, Skipped{ID: m.ID, Name: m.Name, Status: m.Status, Reason: SkipUntagged})
			default:
				add(Target{ID: m.ID, Name: m.Name})
			}
		}
	}
	slices.SortFunc(plan.Targets, func(a, b Target) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(plan.Skipped, func(a, b Skipped) int { return strings.Compare(a.ID, b.ID) })
	return plan, nil
}

// sameAccount compares two account IDs as numbers.
func sameAccount(a, b string) bool {
	return strings.TrimLeft(a, "0") == strings.TrimLeft(b, "0")
}

func hasTag(tags map[string]string, key, value string) bool {
	v, ok := tags[key]
	return ok && v == value
}

// inFolder: the member sits in folder, directly (FolderId) or below it
// (a segment of its ResourceDirectoryPath).
func inFolder(m ecsapi.Account, folder string) bool {
	if m.FolderID == folder {
		return true
	}
	return slices.Contains(strings.Split(m.Path, "/"), folder)
}

// listMembers reads every page of ListAccounts, the tag filter sent,
// through the shared pager (its guards: more pages than the TotalCount
// needs, an answer over its own total, the ceiling). A member listed twice
// or an empty page before the total fails the listing here.
func listMembers(ctx context.Context, sel Selection, lister Lister) ([]ecsapi.Account, error) {
	if lister == nil {
		return nil, errors.New("accounts: rd needs ResourceManager ListAccounts, and no client was given")
	}
	var out []ecsapi.Account
	seen := map[string]bool{}
	l := page.Listing{Name: ecsapi.ActionListAccounts, PageSize: ecsapi.MaxAccountsPage}
	err := l.Numbers(ctx, func(ctx context.Context, n int) (page.Page, error) {
		resp, err := lister.ListAccounts(ctx, ecsapi.ListAccountsInput{PageNumber: n, PageSize: ecsapi.MaxAccountsPage, TagKey: sel.TagKey, TagValue: sel.TagValue})
		if err != nil {
			return page.Page{}, fmt.Errorf("accounts: listing the Resource Directory's members (page %d): %w", n, err)
		}
		if resp.TotalCount < 0 || resp.TotalCount > 1_000_000 {
			return page.Page{}, fmt.Errorf("accounts: ListAccounts answered TotalCount %d", resp.TotalCount)
		}
		for _, a := range resp.Accounts {
			if seen[a.ID] {
				return page.Page{}, fmt.Errorf("accounts: ListAccounts listed member %s twice (the directory changed while it was read?); nothing is swept", a.ID)
			}
			seen[a.ID] = true
			out = append(out, a)
		}
		if len(resp.Accounts) == 0 && len(out) < resp.TotalCount {
			return page.Page{}, fmt.Errorf("accounts: ListAccounts page %d is empty after %d of %d members; nothing is swept", n, len(out), resp.TotalCount)
		}
		return page.Page{Total: resp.TotalCount, Items: len(resp.Accounts), Fresh: len(resp.Accounts)}, nil
	})
	if err != nil {
		var ge *page.Error
		if errors.As(err, &ge) {
			return nil, fmt.Errorf("accounts: %w; nothing is swept", err)
		}
		return nil, err
	}
	return out, nil
}

// Narrow keeps the requested accounts of plan ("self" is the caller's own
// target). Every one must be a target already: a payload or --accounts
// narrows the configured accounts, never widens them. An empty request
// keeps the plan.
func Narrow(plan Plan, requested []string) (Plan, error) {
	if len(requested) == 0 {
		return plan, nil
	}
	out := Plan{Skipped: plan.Skipped}
	var unknown []string
	for _, id := range requested {
		i := slices.IndexFunc(plan.Targets, func(t Target) bool { return t.ID == id || id == "self" && t.Self })
		if i < 0 {
			unknown = append(unknown, id)
			continue
		}
		if !slices.Contains(out.Targets, plan.Targets[i]) {
			out.Targets = append(out.Targets, plan.Targets[i])
		}
	}
	if len(unknown) > 0 {
		return Plan{}, fmt.Errorf("accounts %s are not among the configured accounts (%s): a request may narrow them, never widen them",
			strings.Join(unknown, ", "), strings.Join(plan.IDs(), ", "))
	}
	for _, t := range plan.Targets {
		if !slices.Contains(out.Targets, t) {
			out.Skipped = append(slices.Clip(out.Skipped), Skipped{ID: t.ID, Name: t.Name, Reason: SkipNotRequested})
		}
	}
	slices.SortFunc(out.Targets, func(a, b Target) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}
