// Package settings reads the function's settings from environment variables
// and the timer trigger's payload. The variable names, defaults and accepted
// formats are a public contract: deployment files are checked against Names.
//
// Common rules for every variable: surrounding white space is ignored, and
// an unset, empty or blank variable takes its default. Each variable's
// entry in the table (table.go) declares what it accepts and checks it;
// docs/settings.md, generated from the table, lists them all.
//
// Any other REAPER_* variable is an error (CheckNames): a misspelt switch
// must not be ignored.
package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones must load even where the runtime has no zoneinfo
	"unicode"
	"unicode/utf8"

	"github.com/ecs-reaper/ecs-reaper/lib/cloud"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/org"
)

// Environment variable names.
const (
	EnvRegions           = "REAPER_REGIONS"
	EnvTagKey            = "REAPER_TAG_KEY"
	EnvKeepTag           = "REAPER_KEEP_TAG"
	EnvDryRun            = "REAPER_DRY_RUN"
	EnvForce             = "REAPER_FORCE"
	EnvForceStop         = "REAPER_FORCE_STOP"
	EnvMaxRelease        = "REAPER_MAX_RELEASE"
	EnvMaxReleasePercent = "REAPER_MAX_RELEASE_PERCENT"
	EnvPercentCapFrom    = "REAPER_PERCENT_CAP_MIN_ELIGIBLE"
	EnvTimezone          = "REAPER_TIMEZONE"
	EnvEndpoint          = "REAPER_ECS_ENDPOINT"
	EnvFreshness         = "REAPER_FRESHNESS"
	EnvDeadlineMargin    = "REAPER_DEADLINE_MARGIN"
	EnvRegionConcurrency = "REAPER_REGION_CONCURRENCY"
	EnvBatchConcurrency  = "REAPER_BATCH_CONCURRENCY"
	EnvLocalRelease      = "REAPER_LOCAL_RELEASE"
	EnvOwnerTag          = "REAPER_OWNER_TAG"
	EnvNotifyURL         = "REAPER_NOTIFY_URL"
	EnvNotifyKind        = "REAPER_NOTIFY_KIND"
	EnvNotifySecret      = "REAPER_NOTIFY_SECRET"
	EnvNotice            = "REAPER_NOTICE"
	EnvGrace             = "REAPER_GRACE"
	EnvMarkTag           = "REAPER_MARK_TAG"
	EnvRunning           = "REAPER_RUNNING"
	EnvReleaseEIPs       = "REAPER_RELEASE_EIPS"
	EnvVPCEndpoint       = "REAPER_VPC_ENDPOINT"
	EnvResources         = "REAPER_RESOURCES"
	EnvMarkSecret        = "REAPER_MARK_SECRET"
	EnvMarkSecretPrev    = "REAPER_MARK_SECRET_PREVIOUS"

	// Several accounts (lib/org).
	EnvAccounts                = org.EnvAccounts
	EnvAccountTag              = org.EnvAccountTag
	EnvAccountsExclude         = org.EnvAccountsExclude
	EnvRoleName                = org.EnvRoleName
	EnvRoleExternalID          = org.EnvRoleExternalID
	EnvOrgMaxRelease           = "REAPER_ORG_MAX_RELEASE"
	EnvOrgMaxReleasePercent    = "REAPER_ORG_MAX_RELEASE_PERCENT"
	EnvSTSEndpoint             = "REAPER_STS_ENDPOINT"
	EnvResourceManagerEndpoint = "REAPER_RESOURCEMANAGER_ENDPOINT"
)

// GenerateMarkSecret is how the help and the errors say to make a
// REAPER_MARK_SECRET.
const GenerateMarkSecret = "openssl rand -base64 48"

// What happens to an instance that is due but Running (REAPER_RUNNING).
const (
	RunningSkip  = "skip"  // never touched while Running
	RunningStop  = "stop"  // stopped after its grace, released once it stayed stopped for the grace
	RunningForce = "force" // released with Force=true (REAPER_FORCE=true, kept as an alias)
)

// The channel kinds of REAPER_NOTIFY_KIND, their hosts and which take a
// secret are notify's (notify.Kinds): listed nowhere else.

// DefaultGrace is REAPER_GRACE when a channel is set and the grace is not.
const DefaultGrace = 24 * time.Hour

// Names lists every environment variable the program reads, in the
// table's order (deployment files are checked against it).
var Names = func() []string {
	out := make([]string, len(table))
	for i, sp := range table {
		out[i] = sp.name
	}
	return out
}()

// Limits on the settings.
const (
	MaxTagKeyLen         = 128 // characters, Alibaba's tag key limit
	MaxRegionConcurrency = 64
	MaxBatchConcurrency  = 32
	// MinDeadlineMargin keeps the deadline rail on: below it a run has no
	// time left to stop its calls and still log and return its report.
	MinDeadlineMargin = 5 * time.Second
	// MaxFreshness bounds how old listing data may be when a release is
	// sent: beyond it the re-read before release would be switched off.
	MaxFreshness = 5 * time.Minute
	// MinWorkingTime is the least time a function's timeout should leave
	// beyond the deadline margin: listing a few regions and releasing a
	// few batches. The deployment checks warn below it.
	MinWorkingTime = 60 * time.Second
)

// Settings is the function's effective configuration.
type Settings struct {
	Regions           []string       // explicit list; empty with AllRegions=false means "the function's own region"
	AllRegions        bool           // REAPER_REGIONS=all
	TagKey            string         // opt-in tag key, default "reaper-expires"
	KeepTag           string         // exclusion tag key, default "reaper-keep"
	DryRun            bool           // default false
	Force             bool           // release Running instances; default false
	ForceStop         bool           // DeleteInstances ForceStop when Force; default true
	MaxRelease        int            // default 100; >= 0 (0 means release nothing)
	MaxReleasePercent float64        // default 50; 0 < p <= 100 — share of opted-in instances seen
	PercentCapFrom    int            // default 10; the percent cap applies from this many eligible instances
	Location          *time.Location // REAPER_TIMEZONE, IANA, default UTC
	Endpoint          string         // REAPER_ECS_ENDPOINT; "" = SDK default per region
	Freshness         time.Duration  // REAPER_FRESHNESS, default 60s, 0 < f <= MaxFreshness
	DeadlineMargin    time.Duration  // REAPER_DEADLINE_MARGIN, default 30s, >= MinDeadlineMargin
	RegionConcurrency int            // default 20, 1..64: ECS throttles per region, so regions do not compete
	BatchConcurrency  int            // default 16, 1..32: the most; writes start at the listing's bound
	LocalRelease      bool           // REAPER_LOCAL_RELEASE: a local build may release
	OwnerTag          string         // REAPER_OWNER_TAG: the tag naming an instance's owner, default "owner"
	NotifyURL         string         // REAPER_NOTIFY_URL: the chat webhook; "" = no notices. A credential: never shown
	NotifyKind        string         // the channel kind: REAPER_NOTIFY_KIND, or from the URL's host
	NotifySecret      string         // REAPER_NOTIFY_SECRET: the signing secret. A credential: never shown
	Notice            time.Duration  // REAPER_NOTICE: owners are told this long before expiry, default 24h
	Grace             time.Duration  // REAPER_GRACE: least time from notice to release; 24h with a channel, else 0 (off)
	MarkTag           string         // REAPER_MARK_TAG: the tag recording the notice time, default "reaper-notified"
	Running           string         // REAPER_RUNNING: skip (default), stop or force
	ReleaseEIPs       bool           // REAPER_RELEASE_EIPS: release the EIPs of released instances
	VPCEndpoint       string         // REAPER_VPC_ENDPOINT: the VPC API's endpoint override (EIPs)
	Resources         []string       // REAPER_RESOURCES: instances and the kinds' names (package kinds); default instances
	MarkSecret        string         // REAPER_MARK_SECRET: signs the marks. A credential: never shown
	MarkSecretPrev    string         // REAPER_MARK_SECRET_PREVIOUS: accepted when reading marks, for a rotation. Never shown

	// The fan-out (docs/fanout.md).
	Fanout            string // REAPER_FANOUT: off (default), flow or auto
	FanoutMinAccounts int    // REAPER_FANOUT_MIN_ACCOUNTS: auto fans out above this many accounts
	FlowName          string // REAPER_FLOW_NAME: the CloudFlow flow
	ResultBucket      string // REAPER_RESULT_BUCKET: the OSS bucket of the run's documents
	ResultPrefix      string // REAPER_RESULT_PREFIX: their key prefix, default ecs-reaper/
	FNFEndpoint       string // REAPER_FNF_ENDPOINT: the CloudFlow API's endpoint override
	OSSEndpoint       string // REAPER_OSS_ENDPOINT: the OSS endpoint override
	// Several accounts: Accounts() reads the first three as an org.Selection.
	AccountsSpec            string  // REAPER_ACCOUNTS: "" or self, account IDs, rd, rd:<folder-id>
	AccountTag              string  // REAPER_ACCOUNT_TAG: key=value, with rd
	AccountsExclude         string  // REAPER_ACCOUNTS_EXCLUDE: account IDs never swept
	RoleName                string  // REAPER_ROLE_NAME: the member role, default ecs-reaper-member
	RoleExternalID          string  // REAPER_ROLE_EXTERNAL_ID: sent with AssumeRole when set. Never shown
	OrgMaxRelease           int     // REAPER_ORG_MAX_RELEASE: the run's cap over every account, default 500
	OrgMaxReleasePercent    float64 // REAPER_ORG_MAX_RELEASE_PERCENT: of every account's opted-in, default 50
	STSEndpoint             string  // REAPER_STS_ENDPOINT: AssumeRole's endpoint override
	ResourceManagerEndpoint string  // REAPER_RESOURCEMANAGER_ENDPOINT: ListAccounts' endpoint override
	// NarrowAccounts is the run's subset of the accounts (a timer
	// payload's "accounts", the CLI's --accounts), checked against them
	// once they are resolved; nil: all of them.
	NarrowAccounts []string

	// Which of the aliased settings the environment set.
	forceSet, runningSet, graceSet, noticeSet bool
}

// StopMarkTag is the tag recording when the reaper stopped an instance
// (REAPER_RUNNING=stop): REAPER_MARK_TAG with "-stopped".
func (s Settings) StopMarkTag() string { return s.MarkTag + "-stopped" }

// EIPMarkTag is the tag on an EIP whose instance was released but which
// was not yet Available: its value is the instance's ID, and the next run
// releases the EIP once it is Available (REAPER_MARK_TAG with
// "-released-with").
func (s Settings) EIPMarkTag() string { return s.MarkTag + "-released-with" }

// DerivedTags are the tag keys the tool writes under names derived from
// REAPER_MARK_TAG, by what they record. Every key derived from the mark
// tag is listed here, so the settings check covers it.
func (s Settings) DerivedTags() []DerivedTag {
	return []DerivedTag{
		{"the stop mark", s.StopMarkTag()},
		{"the EIP hand-over mark", s.EIPMarkTag()},
	}
}

// DerivedTag is a tag key derived from REAPER_MARK_TAG.
type DerivedTag struct{ What, Key string }

// checkDerivedTags: a key derived from REAPER_MARK_TAG must be a valid tag
// key (ECS's 128 characters) and must not be one of the keys the user sets
// (writing it would overwrite an expiry, a keep or an owner), nor another
// mark.
func (s Settings) checkDerivedTags() []error {
	if checkTagKey(s.MarkTag) != "" {
		return nil // already reported
	}
	var errs []error
	users := []struct{ name, key string }{{EnvTagKey, s.TagKey}, {EnvKeepTag, s.KeepTag}, {EnvOwnerTag, s.OwnerTag}, {EnvMarkTag, s.MarkTag}}
	derived := s.DerivedTags()
	for i, d := range derived {
		if p := checkTagKey(d.Key); p != "" {
			errs = append(errs, fmt.Errorf("%s %s makes %s %s, which %s: shorten %s", EnvMarkTag, show(s.MarkTag), d.What, show(d.Key), p, EnvMarkTag))
			continue
		}
		for _, u := range users {
			if d.Key == u.key {
				errs = append(errs, fmt.Errorf("%s %s makes %s %s, the same key as %s: the mark would overwrite it; choose keys that differ", EnvMarkTag, show(s.MarkTag), d.What, show(d.Key), u.name))
			}
		}
		for _, o := range derived[:i] {
			if d.Key == o.Key {
				errs = append(errs, fmt.Errorf("%s %s makes %s and %s the same key %s", EnvMarkTag, show(s.MarkTag), o.What, d.What, show(d.Key)))
			}
		}
	}
	return errs
}

// GraceOn reports whether releases wait for a notice and its grace.
func (s Settings) GraceOn() bool { return s.NotifyURL != "" || s.Grace > 0 }

// Default returns the settings used when no variable is set: each
// setting's default, as the table declares it.
func Default() Settings {
	var s Settings
	for _, sp := range table {
		if sp.def == "" {
			continue
		}
		if problem := sp.set(&s, sp.def); problem != "" {
			panic(fmt.Sprintf("settings: the default of %s (%q) is invalid: %s", sp.name, sp.def, problem))
		}
	}
	s.forceSet, s.runningSet, s.graceSet, s.noticeSet = false, false, false, false // defaults, not the environment's
	return s
}

// FromEnv reads the settings through lookup (os.LookupEnv in production).
// An unset or blank variable keeps its default. Every invalid variable is
// reported, joined with errors.Join, each naming the variable, its value and
// the problem, e.g. `REAPER_MAX_RELEASE="-3": must be a whole number >= 0`.
// A nil error guarantees that Validate passes.
func FromEnv(lookup func(string) (string, bool)) (Settings, error) {
	s := Default()
	var errs []error
	for _, sp := range table {
		v, ok := lookup(sp.name)
		v = strings.TrimSpace(v)
		if !ok || v == "" {
			continue
		}
		if problem := sp.set(&s, v); problem != "" {
			errs = append(errs, fmt.Errorf("%s=%s: %s", sp.name, sp.showRaw(v), problem))
		}
	}
	errs = append(errs, s.resolve()...)
	if len(errs) == 0 {
		if err := s.Validate(); err != nil {
			return s, err
		}
	} else {
		if s.TagKey == s.KeepTag {
			errs = append(errs, fmt.Errorf("%s and %s are both %s: the opt-in and exclusion tag keys must differ", EnvTagKey, EnvKeepTag, show(s.TagKey)))
		}
		errs = append(errs, s.checkDerivedTags()...)
	}
	return s, errors.Join(errs...)
}

// resolve settles the settings that depend on each other: REAPER_FORCE as
// an alias of REAPER_RUNNING=force, the channel kind from the URL's host,
// and the grace's default when a channel is set.
func (s *Settings) resolve() []error {
	var errs []error
	switch {
	case s.forceSet && s.runningSet && s.Force != (s.Running == RunningForce):
		errs = append(errs, fmt.Errorf("%s=%t contradicts %s=%s: %s is kept as an alias of %s=force; set only %s", EnvForce, s.Force, EnvRunning, s.Running, EnvForce, EnvRunning, EnvRunning))
	case s.forceSet && s.Force:
		s.Running = RunningForce
	}
	s.Force = s.Running == RunningForce
	if s.NotifyURL != "" && s.NotifyKind == "" {
		kind, ok := kindOfHost(s.NotifyURL)
		if !ok {
			errs = append(errs, fmt.Errorf("%s names a host that is not a known chat webhook (%s): set %s to %s", EnvNotifyURL, strings.Join(notify.Hosts(), ", "), EnvNotifyKind, notify.KindChoices()))
		}
		s.NotifyKind = kind
	}
	if s.NotifyURL != "" && !s.graceSet {
		s.Grace = DefaultGrace
	}
	if s.noticeSet && s.NotifyURL == "" && s.Grace <= 0 {
		// Without a channel nobody is told and grace is off: the notice
		// period would silently do nothing. (With REAPER_GRACE it still
		// times the marks written without a notice.)
		errs = append(errs, fmt.Errorf("%s is set without a usable %s (unset or blank): nobody would be told and grace would be off; set %s (or %s for marks without notices), or leave %s unset", EnvNotice, EnvNotifyURL, EnvNotifyURL, EnvGrace, EnvNotice))
	}
	return errs
}

// Validate checks s, reporting all problems with the field's name: each
// setting's own rules (the table's), then the rules between settings. Use
// it on settings built in code or changed by Apply.
func (s Settings) Validate() error {
	var errs []error
	for _, sp := range table {
		if p := sp.problem(s); p != "" {
			errs = append(errs, fmt.Errorf("%s %s (%s): %s", sp.field, sp.showValue(s), sp.name, p))
		}
	}
	errs = append(errs, s.checkEndpointRegions()...)
	errs = append(errs, s.checkTagKeysDiffer()...)
	errs = append(errs, s.checkDerivedTags()...)
	errs = append(errs, s.checkRunning()...)
	errs = append(errs, s.checkChannel()...)
	errs = append(errs, s.checkMarkSecret()...)
	errs = append(errs, s.checkFanout()...)
	errs = append(errs, s.checkAccounts()...)
	return errors.Join(errs...)
}

// Accounts is the run's accounts as configured (REAPER_ACCOUNTS,
// REAPER_ACCOUNT_TAG, REAPER_ACCOUNTS_EXCLUDE); Multi() is false for the
// function's own account alone.
func (s Settings) Accounts() (org.Selection, error) {
	return org.Parse(s.AccountsSpec, s.AccountTag, s.AccountsExclude)
}

// checkAccounts: the rules between the three account settings (rd needs
// a tag or exclusions, a tag needs rd), once each is valid on its own.
func (s Settings) checkAccounts() []error {
	if org.CheckAccounts(s.AccountsSpec) != "" || org.CheckTag(s.AccountTag) != "" || org.CheckExclude(s.AccountsExclude) != "" {
		return nil // reported by the variables' own checks
	}
	if _, err := s.Accounts(); err != nil {
		return []error{err}
	}
	return nil
}

// checkEndpointRegions: a real endpoint is one region's. Every region's
// calls would go to it, and listings would come back from the wrong
// region; a loopback endpoint (the doubles) serves every region.
func (s Settings) checkEndpointRegions() []error {
	if !s.AllRegions && len(s.Regions) <= 1 {
		return nil
	}
	var errs []error
	for _, e := range []struct{ name, v, unset string }{
		{EnvEndpoint, s.Endpoint, " for the SDK's regional endpoints"},
		{EnvVPCEndpoint, s.VPCEndpoint, ""},
	} {
		if e.v == "" || checkEndpoint(e.v) != "" || IsLoopbackEndpoint(e.v) {
			continue // unset, already reported, or the doubles
		}
		errs = append(errs, fmt.Errorf("%s %s serves one region, but %s names %s: sweep one region per endpoint, or leave %s unset%s",
			e.name, show(redactEndpoint(e.v)), EnvRegions, s.describeRegions(), e.name, e.unset))
	}
	return errs
}

// checkTagKeysDiffer: the keys the user sets are distinct, so no tag
// means two things.
func (s Settings) checkTagKeysDiffer() []error {
	var errs []error
	if s.TagKey == s.KeepTag {
		errs = append(errs, fmt.Errorf("%s and %s are both %s: the opt-in and exclusion tag keys must differ", EnvTagKey, EnvKeepTag, show(s.TagKey)))
	}
	if s.MarkTag == s.TagKey || s.MarkTag == s.KeepTag || s.MarkTag == s.OwnerTag {
		errs = append(errs, fmt.Errorf("%s %s must differ from %s, %s and %s", EnvMarkTag, show(s.MarkTag), EnvTagKey, EnvKeepTag, EnvOwnerTag))
	}
	if s.OwnerTag == s.TagKey || s.OwnerTag == s.KeepTag {
		errs = append(errs, fmt.Errorf("%s %s must differ from %s and %s", EnvOwnerTag, show(s.OwnerTag), EnvTagKey, EnvKeepTag))
	}
	return errs
}

// checkRunning: REAPER_FORCE is an alias of REAPER_RUNNING=force.
func (s Settings) checkRunning() []error {
	if s.Force != (s.Running == RunningForce) {
		return []error{fmt.Errorf("the fields Force (%t) and Running (%s) disagree: Force is set exactly when %s is %s", s.Force, show(s.Running), EnvRunning, RunningForce)}
	}
	return nil
}

// checkChannel: the channel's kind and secret go with its URL.
func (s Settings) checkChannel() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch {
	case s.NotifyURL != "" && !notify.IsKind(s.NotifyKind):
		bad("%s %s: must be %s", EnvNotifyKind, show(s.NotifyKind), notify.KindChoices())
	case s.NotifyURL != "" && !notify.Signed(s.NotifyKind) && s.NotifySecret != "":
		bad("%s is set, but %s are not signed: leave it unset for %s", EnvNotifySecret, notify.Label(s.NotifyKind), s.NotifyKind)
	case s.NotifyURL == "":
		if s.NotifySecret != "" {
			bad("%s is set without %s", EnvNotifySecret, EnvNotifyURL)
		}
		if s.NotifyKind != "" {
			bad("%s %s is set without a usable %s (unset or blank): no notice would be sent and grace would be off; set %s, or leave %s unset", EnvNotifyKind, show(s.NotifyKind), EnvNotifyURL, EnvNotifyURL, EnvNotifyKind)
		}
	}
	return errs
}

// WritesMarks reports a configuration that writes marks: notices and the
// grace (REAPER_NOTIFY_URL or REAPER_GRACE; every resource kind's notice
// too), REAPER_RUNNING=stop (the stop mark) and REAPER_RELEASE_EIPS (the
// hand-over).
func (s Settings) WritesMarks() bool {
	return s.GraceOn() || s.Running == RunningStop || s.ReleaseEIPs
}

// checkMarkSecret: marks written need a secret to sign them, and the
// previous secret of a rotation goes beside a different current one.
func (s Settings) checkMarkSecret() []error {
	var errs []error
	if s.MarkSecret == "" && s.WritesMarks() {
		errs = append(errs, fmt.Errorf("%s is required: this configuration writes marks (%s), and every mark is signed so that nobody who may tag a resource can forge one; generate one with `%s` and keep it only in the function's settings",
			EnvMarkSecret, s.markWriters(), GenerateMarkSecret))
	}
	switch {
	case s.MarkSecretPrev != "" && s.MarkSecret == "":
		errs = append(errs, fmt.Errorf("%s is set without %s: the previous secret is only accepted beside the current one", EnvMarkSecretPrev, EnvMarkSecret))
	case s.MarkSecretPrev != "" && s.MarkSecretPrev == s.MarkSecret:
		errs = append(errs, fmt.Errorf("%s equals %s: after a rotation it holds the old secret", EnvMarkSecretPrev, EnvMarkSecret))
	}
	return errs
}

// markWriters names the settings that write marks.
func (s Settings) markWriters() string {
	var w []string
	if s.GraceOn() {
		w = append(w, "notices and the grace: "+EnvNotifyURL+" or "+EnvGrace)
	}
	if s.Running == RunningStop {
		w = append(w, EnvRunning+"=stop")
	}
	if s.ReleaseEIPs {
		w = append(w, EnvReleaseEIPs+"=true")
	}
	return strings.Join(w, ", ")
}

// Describe returns the effective configuration as log attributes, in the
// table's order, for the line logged at the start of every run and the
// report's settings block. Regions reads "own" (the function's region),
// "all" or the list; Endpoint reads "default" or the URL with any user
// information removed; durations read as the report writes them ("1m0s").
func (s Settings) Describe() []slog.Attr {
	out := make([]slog.Attr, 0, len(table))
	for _, sp := range table {
		out = append(out, slog.Attr{Key: sp.key, Value: sp.get(s)})
	}
	return out
}

func (s Settings) describeRegions() string {
	switch {
	case s.AllRegions:
		return "all"
	case len(s.Regions) == 0:
		return "own"
	}
	return strings.Join(s.Regions, ",")
}

// parseBool accepts true/false in any case, and 1/0.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// loadLocation loads an IANA zone, refusing "Local" (it depends on the host).
func loadLocation(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`"Local" depends on the host`)
	}
	return time.LoadLocation(name)
}

// ValidRegionID reports whether id looks like an Alibaba Cloud region ID:
// lowercase letters, digits and single hyphens, starting with a letter,
// with at least one hyphen and at most 64 characters, e.g. cn-hangzhou,
// ap-southeast-1, cn-shanghai-finance-1.
func ValidRegionID(id string) bool {
	if len(id) < 3 || len(id) > 64 || id[0] < 'a' || id[0] > 'z' || id[len(id)-1] == '-' || !strings.Contains(id, "-") || strings.Contains(id, "--") {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// checkRegions validates a region list: every entry a region ID, no
// duplicates. An empty list is fine here (it means "own region").
func checkRegions(regions []string) error {
	seen := map[string]bool{}
	var errs []error
	for _, r := range regions {
		switch {
		case !ValidRegionID(r):
			errs = append(errs, fmt.Errorf("%s is not a region ID (lowercase letters, digits and hyphens, e.g. cn-hangzhou)", show(r)))
		case seen[r]:
			errs = append(errs, fmt.Errorf("%s is listed twice", show(r)))
		}
		seen[r] = true
	}
	return errors.Join(errs...)
}

// parseRegionList splits a comma-separated REAPER_REGIONS value.
func parseRegionList(v string) ([]string, string) {
	parts := strings.Split(v, ",")
	regions := make([]string, 0, len(parts))
	var problems []string
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			problems = append(problems, fmt.Sprintf("entry %d is empty", i+1))
			continue
		}
		if strings.EqualFold(p, "all") {
			problems = append(problems, `"all" must be the whole value, not part of a list`)
			continue
		}
		regions = append(regions, p)
	}
	if err := checkRegions(regions); err != nil {
		problems = append(problems, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if len(problems) > 0 {
		return nil, "must be \"all\" or a comma-separated list of region IDs: " + strings.Join(problems, "; ")
	}
	return regions, ""
}

// checkTagKey applies Alibaba's tag key rules; it returns the problem or "".
func checkTagKey(k string) string {
	lower := strings.ToLower(k)
	switch {
	case k == "":
		return "must not be empty"
	case !utf8.ValidString(k):
		return "must be valid UTF-8"
	case utf8.RuneCountInString(k) > MaxTagKeyLen:
		return fmt.Sprintf("must be at most %d characters", MaxTagKeyLen)
	case strings.HasPrefix(lower, "aliyun"), strings.HasPrefix(lower, "acs:"):
		return `must not start with "aliyun" or "acs:" (reserved by Alibaba Cloud)`
	case strings.Contains(lower, "http://"), strings.Contains(lower, "https://"):
		return `must not contain "http://" or "https://"`
	case strings.TrimSpace(k) != k:
		return "must not start or end with white space"
	}
	for _, r := range k {
		if unicode.IsControl(r) {
			return "must not contain control characters"
		}
	}
	return ""
}

// checkEndpoint validates REAPER_ECS_ENDPOINT; it returns the problem or "".
func checkEndpoint(v string) string {
	if _, _, err := cloud.ParseEndpoint(v); err != nil {
		return err.Error()
	}
	return ""
}

// IsLoopbackEndpoint reports whether an endpoint URL names this machine:
// the test doubles, which serve every region.
func IsLoopbackEndpoint(v string) bool { return cloud.IsLoopbackEndpoint(v) }

func redactEndpoint(v string) string { return cloud.RedactEndpoint(v) }

// checkNotifyURL validates REAPER_NOTIFY_URL: https://, or plain http://
// on a loopback address (the webhook double); a host; no user information.
// It returns the problem, never repeating the URL: its path or query holds
// the webhook's token.
func checkNotifyURL(v string) string {
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return "must be an absolute https:// URL"
	case u.Scheme != "https" && u.Scheme != "http":
		return "must be an absolute https:// URL"
	case u.Hostname() == "":
		return "must name a host"
	case u.User != nil:
		return "must not contain user information"
	case u.Scheme == "http" && !cloud.IsLoopbackHost(u.Hostname()):
		return "must use https://: plain http:// is allowed on a loopback address only, for the test doubles"
	case internalAddress(u.Hostname()):
		return "must not name a link-local, metadata-service or unspecified address (169.254.0.0/16, fe80::/10, 100.100.100.200, 0.0.0.0, ::)"
	case numericHost.MatchString(u.Hostname()) && !isIP(u.Hostname()):
		return "must name its host by name or as a plain IP address"
	}
	for _, r := range v {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must not contain white space or control characters"
		}
	}
	return ""
}

// internalAddress reports a webhook host that is a literal internal
// address (notify.InternalAddress); names are checked when dialled.
func internalAddress(host string) bool {
	a, err := netip.ParseAddr(host)
	return err == nil && notify.InternalAddress(a)
}

func isIP(host string) bool {
	_, err := netip.ParseAddr(host)
	return err == nil
}

// numericHost is a host of digits, dots and hex: a resolver may read
// 0x64.0x64.0x64.0xc8 or 1684300999 as an address that ParseIP does not.
var numericHost = regexp.MustCompile(`^(?i)(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$`)

// kindOfHost derives the channel kind from the webhook's host.
func kindOfHost(v string) (string, bool) {
	u, err := url.Parse(v)
	if err != nil {
		return "", false
	}
	return notify.KindOfHost(u.Hostname())
}

// RedactURL shows a credential-bearing URL as its scheme and host only:
// the path and query of a chat webhook hold its token.
func RedactURL(v string) string {
	if v == "" {
		return "unset"
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return "<redacted>"
	}
	return u.Scheme + "://" + u.Host + "/<redacted>"
}

// show quotes a value for an error message, shortening long ones.
func show(v string) string {
	const max = 80
	if utf8.RuneCountInString(v) > max {
		r := []rune(v)
		return strconv.Quote(string(r[:max])) + "..."
	}
	return strconv.Quote(v)
}
