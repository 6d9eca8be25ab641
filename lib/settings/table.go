package settings

import (
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/kinds"
	"github.com/ecs-reaper/ecs-reaper/lib/mark"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
	"github.com/ecs-reaper/ecs-reaper/lib/org"
)

// spec declares one setting, once: its variable, its key in logs and the
// report, its help, what it accepts, its default (as the variable would
// spell it), how a value is parsed into Settings, the rules its value
// must keep, and how the effective value reads. The table drives FromEnv,
// Default, Validate, Names, Describe (the log line and the report's
// settings block), the --help listing and docs/settings.md.
type spec struct {
	// secret: the value is a credential; it is never shown.
	secret bool
	name   string
	key    string
	// field names the Settings field(s) in Validate's errors.
	field   string
	help    string
	accepts string
	def     string
	// parse reads v into s: its type and syntax. It returns the problem, or "".
	parse func(s *Settings, v string) string
	// check holds the value's own rules (range, format, allowed words),
	// for a parsed variable and for settings built in code alike. It
	// returns the problem, or "". nil: every value parse reads is valid.
	check func(s Settings) string
	get   func(s Settings) slog.Value
	// redact shows a variable's raw value in an error; nil: quoted.
	redact func(v string) string
}

// set parses v into s and checks it. s changes only when v is valid, so a
// bad value leaves the default for the cross-field checks.
func (sp spec) set(s *Settings, v string) string {
	t := *s
	if problem := sp.parse(&t, v); problem != "" {
		return problem
	}
	if problem := sp.problem(t); problem != "" {
		return problem
	}
	*s = t
	return ""
}

// problem is the setting's own rules on s's value.
func (sp spec) problem(s Settings) string {
	if sp.check == nil {
		return ""
	}
	return sp.check(s)
}

// showRaw shows a variable's value in an error without its credentials.
func (sp spec) showRaw(v string) string {
	switch {
	case sp.secret:
		return "<redacted>"
	case sp.redact != nil:
		return show(sp.redact(v))
	}
	return show(v)
}

// showValue shows the effective value in an error as Describe reads it:
// never a credential.
func (sp spec) showValue(s Settings) string {
	v := sp.get(s)
	if v.Kind() == slog.KindString {
		return show(v.String())
	}
	return v.String()
}

// Spec is a setting as --help and docs/settings.md list it.
type Spec struct {
	Name, Help, Default string
	// Accepts says what a value may be.
	Accepts string
	// Secret: a credential, never shown.
	Secret bool
}

// Specs lists every setting in the table's order.
func Specs() []Spec {
	out := make([]Spec, len(table))
	for i, sp := range table {
		out[i] = Spec{Name: sp.name, Help: sp.help, Default: sp.def, Accepts: sp.accepts, Secret: sp.secret}
	}
	return out
}

var table = append([]spec{
	{name: EnvRegions, key: "regions", field: "Regions", help: `"" = own region (FC_REGION); "all"; or a list, e.g. cn-hangzhou,ap-southeast-1`,
		accepts: `"all" (any case), or a comma-separated list of distinct region IDs (lowercase letters, digits and hyphens, e.g. cn-hangzhou); unset: the function's own region`,
		parse: func(s *Settings, v string) string {
			if strings.EqualFold(v, "all") {
				s.AllRegions, s.Regions = true, nil
				return ""
			}
			regions, problem := parseRegionList(v)
			if problem == "" {
				s.Regions, s.AllRegions = regions, false
			}
			return problem
		},
		check: func(s Settings) string {
			if s.AllRegions && len(s.Regions) > 0 {
				return fmt.Sprintf("AllRegions is set together with Regions %q: use one or the other", s.Regions)
			}
			if err := checkRegions(s.Regions); err != nil {
				return strings.ReplaceAll(err.Error(), "\n", "; ")
			}
			return ""
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.describeRegions()) }},
	tagKey(EnvTagKey, "tag_key", "TagKey", "opt-in tag key whose value is the expiry", "reaper-expires", func(s *Settings) *string { return &s.TagKey }),
	tagKey(EnvKeepTag, "keep_tag", "KeepTag", "tag key that exempts an instance", "reaper-keep", func(s *Settings) *string { return &s.KeepTag }),
	boolean(EnvDryRun, "dry_run", "DryRun", "true: decide and ask ECS with DryRun, release nothing", "false", func(s *Settings) *bool { return &s.DryRun }),
	{name: EnvForce, key: "force", field: "Force", help: "alias of REAPER_RUNNING=force (kept working): true releases Running instances", def: "false",
		accepts: boolAccepts,
		parse: func(s *Settings, v string) string {
			x, ok := parseBool(v)
			if !ok {
				return boolProblem
			}
			s.Force, s.forceSet = x, true
			return ""
		},
		get: func(s Settings) slog.Value { return slog.BoolValue(s.Force) }},
	boolean(EnvForceStop, "force_stop", "ForceStop", "ForceStop sent with forced releases", "true", func(s *Settings) *bool { return &s.ForceStop }),
	integer(EnvMaxRelease, "max_release", "MaxRelease", "release nothing if more than this many are eligible", "100", 0, -1,
		func(s *Settings) *int { return &s.MaxRelease }),
	{name: EnvMaxReleasePercent, key: "max_release_percent", field: "MaxReleasePercent", help: "release nothing if more than this % of opted-in are eligible", def: "50",
		accepts: "a number greater than 0 and at most 100",
		parse: func(s *Settings, v string) string {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return percentProblem
			}
			s.MaxReleasePercent = p
			return ""
		},
		check: func(s Settings) string {
			if p := s.MaxReleasePercent; !(p > 0 && p <= 100) {
				return percentProblem
			}
			return ""
		},
		get: func(s Settings) slog.Value { return slog.Float64Value(s.MaxReleasePercent) }},
	integer(EnvPercentCapFrom, "percent_cap_min_eligible", "PercentCapFrom", "the percent cap applies only from this many eligible instances", "10", 0, -1,
		func(s *Settings) *int { return &s.PercentCapFrom }),
	{name: EnvTimezone, key: "timezone", field: "Location", help: "IANA zone for date-only expiries", def: "UTC",
		accepts: `an IANA time zone such as Asia/Shanghai (not "Local")`,
		parse: func(s *Settings, v string) string {
			loc, err := loadLocation(v)
			if err != nil {
				return "must be an IANA time zone such as Asia/Shanghai: " + err.Error()
			}
			s.Location = loc
			return ""
		},
		check: func(s Settings) string {
			if s.Location == nil {
				return "is nil: use time.UTC for UTC"
			}
			return ""
		},
		get: func(s Settings) slog.Value {
			if s.Location == nil {
				return slog.StringValue("unset")
			}
			return slog.StringValue(s.Location.String())
		}},
	endpoint(EnvEndpoint, "endpoint", "Endpoint", "ECS endpoint URL override for one region (https://; http:// on loopback only); default: the SDK's regional HTTPS endpoint",
		func(s *Settings) *string { return &s.Endpoint }),
	duration(EnvFreshness, "freshness", "Freshness", "re-read a batch's instances before any attempt when the data is older (at most 5m)", "60s", 0, MaxFreshness,
		"must be a Go duration greater than 0 and at most 5m, e.g. 60s (a longer window would release on stale data)", func(s *Settings) *time.Duration { return &s.Freshness }),
	duration(EnvDeadlineMargin, "deadline_margin", "DeadlineMargin", "start no API call this close to the deadline (at least 5s)", "30s", MinDeadlineMargin, 0,
		"must be a Go duration of at least 5s, e.g. 30s (less leaves no time to return the report)", func(s *Settings) *time.Duration { return &s.DeadlineMargin }),
	integer(EnvRegionConcurrency, "region_concurrency", "RegionConcurrency", "regions swept at once", "20", 1, MaxRegionConcurrency,
		func(s *Settings) *int { return &s.RegionConcurrency }),
	integer(EnvBatchConcurrency, "batch_concurrency", "BatchConcurrency", "the most write batches (DeleteInstances, StopInstances, TagResources) at once per region: they start at the pages at once the listing ended with, halve on throttling and grow back up to this", "16", 1, MaxBatchConcurrency,
		func(s *Settings) *int { return &s.BatchConcurrency }),
	boolean(EnvLocalRelease, "local_release", "LocalRelease", "true: a local build (s local invoke) may release; otherwise it dry-runs", "false", func(s *Settings) *bool { return &s.LocalRelease }),
	tagKey(EnvOwnerTag, "owner_tag", "OwnerTag", "tag whose value names the instance's owner (mentioned in notices)", "owner", func(s *Settings) *string { return &s.OwnerTag }),
	{name: EnvNotifyURL, key: "notify_url", field: "NotifyURL", help: "chat webhook for owner notices (" + notify.KindChoices() + "); unset: no notices", secret: true,
		accepts: "an https:// URL with a host (plain http:// on a loopback address only), without user information, white space or control characters, never a link-local, metadata-service or unspecified address",
		parse: func(s *Settings, v string) string {
			s.NotifyURL = v
			return ""
		},
		check: func(s Settings) string {
			if s.NotifyURL == "" {
				return ""
			}
			return checkNotifyURL(s.NotifyURL)
		},
		get: func(s Settings) slog.Value { return slog.StringValue(RedactURL(s.NotifyURL)) }},
	{name: EnvNotifyKind, key: "notify_kind", field: "NotifyKind", help: notify.KindChoices() + "; default: from the webhook's host",
		accepts: notify.KindChoices() + " (any case)",
		parse: func(s *Settings, v string) string {
			s.NotifyKind = strings.ToLower(v)
			return ""
		},
		check: func(s Settings) string {
			if s.NotifyKind == "" || notify.IsKind(s.NotifyKind) {
				return ""
			}
			return "must be " + notify.KindChoices()
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.NotifyKind) }},
	{name: EnvNotifySecret, key: "notify_secret", field: "NotifySecret", help: "the webhook's signing secret (" + strings.Join(notify.SignedKinds(), ", ") + "); never shown", secret: true,
		accepts: "any text",
		parse: func(s *Settings, v string) string {
			s.NotifySecret = v
			return ""
		},
		get: func(s Settings) slog.Value {
			if s.NotifySecret == "" {
				return slog.StringValue("unset")
			}
			return slog.StringValue("set")
		}},
	span(EnvNotice, "notice", "Notice", "owners are told this long before expiry (Go duration, or days: 2d)", "24h",
		func(s *Settings) (*time.Duration, *bool) { return &s.Notice, &s.noticeSet }),
	span(EnvGrace, "grace", "Grace", "least time from an owner's notice to the release (Go duration, or days); default 24h with a channel, else off", "",
		func(s *Settings) (*time.Duration, *bool) { return &s.Grace, &s.graceSet }),
	tagKey(EnvMarkTag, "mark_tag", "MarkTag", "tag written after a delivered notice; its value is the notice time (RFC 3339, UTC)", "reaper-notified", func(s *Settings) *string { return &s.MarkTag }),
	{name: EnvRunning, key: "running", field: "Running", help: "what happens to a due Running instance: skip, stop (then release once stopped for the grace) or force", def: RunningSkip,
		accepts: "skip, stop or force (any case)",
		parse: func(s *Settings, v string) string {
			s.Running, s.runningSet = strings.ToLower(v), true
			return ""
		},
		check: func(s Settings) string {
			switch s.Running {
			case RunningSkip, RunningStop, RunningForce:
				return ""
			}
			return "must be skip, stop or force"
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.Running) }},
	{name: EnvResources, key: "resources", field: "Resources", help: "what the sweep covers, comma-separated: " + strings.Join(resourceWords, ", ") + " (each by its own opt-in tag)", def: "instances",
		accepts: "a comma-separated list of distinct words among " + andList(resourceWords) + " (any case)",
		parse: func(s *Settings, v string) string {
			parts := strings.Split(v, ",")
			out := make([]string, len(parts))
			for i, part := range parts {
				out[i] = strings.ToLower(strings.TrimSpace(part))
			}
			s.Resources = out
			return ""
		},
		check: func(s Settings) string {
			if len(s.Resources) == 0 {
				return "must list at least one of " + strings.Join(resourceWords, ", ")
			}
			for i, k := range s.Resources {
				if !slices.Contains(resourceWords, k) {
					return "must list some of " + andList(resourceWords) + ", comma-separated; " + strconv.Quote(k) + " is none of them"
				}
				if slices.Contains(s.Resources[:i], k) {
					return strconv.Quote(k) + " is listed twice"
				}
			}
			return ""
		},
		get: func(s Settings) slog.Value { return slog.StringValue(strings.Join(s.Resources, ",")) }},
	boolean(EnvReleaseEIPs, "release_eips", "ReleaseEIPs", "true: release the EIPs of the instances a run released, once Available (unless kept by tag, protected or bound again)", "false", func(s *Settings) *bool { return &s.ReleaseEIPs }),
	markSecret(EnvMarkSecret, "mark_secret", "MarkSecret", "signs every mark the reaper writes (at least 32 characters; generate one with `"+GenerateMarkSecret+"`); required when marks are written (notices, REAPER_RUNNING=stop, REAPER_RELEASE_EIPS); never shown",
		"; generate one with `"+GenerateMarkSecret+"`", func(s *Settings) *string { return &s.MarkSecret }),
	markSecret(EnvMarkSecretPrev, "mark_secret_previous", "MarkSecretPrev", "the previous REAPER_MARK_SECRET during a rotation: its marks still verify (keep it at least REAPER_GRACE); never shown",
		"", func(s *Settings) *string { return &s.MarkSecretPrev }),
	endpoint(EnvVPCEndpoint, "vpc_endpoint", "VPCEndpoint", "VPC API endpoint override (EIPs), with REAPER_ECS_ENDPOINT's rules; default: the SDK's",
		func(s *Settings) *string { return &s.VPCEndpoint }),
	text(EnvAccounts, "accounts", "AccountsSpec", `the accounts swept: "" or self = the function's own; account IDs, comma-separated; rd = the Resource Directory's members; rd:<folder-id> = those under a folder (see docs/many-accounts.md)`, "",
		`"self", "rd", "rd:<folder-id>" or account IDs (digits), comma-separated, each at most once; unset: the function's own account`,
		org.CheckAccounts, func(s *Settings) *string { return &s.AccountsSpec }),
	text(EnvAccountTag, "account_tag", "AccountTag", "with rd: only members carrying this tag (key=value) are swept", "",
		"key=value, both non-empty, at most 128 characters each, without control characters; only with REAPER_ACCOUNTS=rd",
		org.CheckTag, func(s *Settings) *string { return &s.AccountTag }),
	text(EnvAccountsExclude, "accounts_exclude", "AccountsExclude", "account IDs never swept, comma-separated; wins over every other account setting", "",
		"account IDs (digits), comma-separated",
		org.CheckExclude, func(s *Settings) *string { return &s.AccountsExclude }),
	text(EnvRoleName, "role_name", "RoleName", "the RAM role assumed in each member account: acs:ram::<account>:role/<name>", org.DefaultRoleName,
		"a RAM role name: 1 to 64 letters, digits, '.' and '-'",
		org.CheckRoleName, func(s *Settings) *string { return &s.RoleName }),
	{name: EnvRoleExternalID, key: "role_external_id", field: "RoleExternalID", help: "the ExternalId the member role's trust policy requires; sent with every AssumeRole when set; never shown", secret: true,
		accepts: "2 to 1224 letters, digits and + = , . @ : / - _",
		parse: func(s *Settings, v string) string {
			s.RoleExternalID = v
			return ""
		},
		check: func(s Settings) string {
			if s.RoleExternalID == "" {
				return ""
			}
			return org.CheckExternalID(s.RoleExternalID)
		},
		get: func(s Settings) slog.Value {
			if s.RoleExternalID == "" {
				return slog.StringValue("unset")
			}
			return slog.StringValue("set")
		}},
	integer(EnvOrgMaxRelease, "org_max_release", "OrgMaxRelease", "with several accounts: release nothing anywhere if more than this many are eligible in all (REAPER_MAX_RELEASE then caps each account)", "500", 0, -1,
		func(s *Settings) *int { return &s.OrgMaxRelease }),
	percent(EnvOrgMaxReleasePercent, "org_max_release_percent", "OrgMaxReleasePercent", "with several accounts: release nothing anywhere if more than this % of all opted-in are eligible (REAPER_MAX_RELEASE_PERCENT then caps each account)", "50",
		func(s *Settings) *float64 { return &s.OrgMaxReleasePercent }),
	endpoint(EnvSTSEndpoint, "sts_endpoint", "STSEndpoint", "STS endpoint override (AssumeRole into member accounts), with REAPER_ECS_ENDPOINT's rules; default: sts.aliyuncs.com over HTTPS",
		func(s *Settings) *string { return &s.STSEndpoint }),
	endpoint(EnvResourceManagerEndpoint, "resourcemanager_endpoint", "ResourceManagerEndpoint", "ResourceManager endpoint override (ListAccounts, with rd), with REAPER_ECS_ENDPOINT's rules; default: resourcemanager.aliyuncs.com over HTTPS",
		func(s *Settings) *string { return &s.ResourceManagerEndpoint }),
}, fanoutSpecs...)

// text: a string whose rules check gives (the problem, or "").
func text(name, key, field, help, def, accepts string, check func(string) string, at func(*Settings) *string) spec {
	return spec{name: name, key: key, field: field, help: help, def: def, accepts: accepts,
		parse: func(s *Settings, v string) string {
			*at(s) = v
			return ""
		},
		check: func(s Settings) string { return check(*at(&s)) },
		get:   func(s Settings) slog.Value { return slog.StringValue(*at(&s)) }}
}

// percent: a number greater than 0 and at most 100.
func percent(name, key, field, help, def string, at func(*Settings) *float64) spec {
	return spec{name: name, key: key, field: field, help: help, def: def,
		accepts: "a number greater than 0 and at most 100",
		parse: func(s *Settings, v string) string {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return percentProblem
			}
			*at(s) = p
			return ""
		},
		check: func(s Settings) string {
			if p := *at(&s); !(p > 0 && p <= 100) {
				return percentProblem
			}
			return ""
		},
		get: func(s Settings) slog.Value { return slog.Float64Value(*at(&s)) }}
}

// resourceWords are REAPER_RESOURCES's words: instances, and each kind's
// name in the kinds' order.
var resourceWords = append([]string{"instances"}, kinds.Names()...)

// andList is "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

const (
	boolAccepts    = "true or false (any case), or 1 or 0"
	boolProblem    = "must be true or false (or 1 or 0)"
	percentProblem = "must be a number greater than 0 and at most 100"
)

// parseSpan reads a span: a Go duration, or whole days and weeks ("2d",
// "1w"). Its sign is the check's.
func parseSpan(v string) (time.Duration, string) {
	if d, err := time.ParseDuration(v); err == nil {
		return d, ""
	}
	if d, err := decide.ParseTTL(v); err == nil {
		return d, ""
	}
	return 0, "must be a Go duration (e.g. 24h) or whole days (e.g. 2d)"
}

// span is a non-negative Go duration or days; set records that the
// environment set it.
func span(name, key, field, help, def string, value func(*Settings) (*time.Duration, *bool)) spec {
	return spec{name: name, key: key, field: field, help: help, def: def,
		accepts: "a Go duration (e.g. 24h) or whole days or weeks (e.g. 2d, 1w), not negative",
		parse: func(s *Settings, v string) string {
			d, problem := parseSpan(v)
			if problem == "" {
				at, set := value(s)
				*at, *set = d, true
			}
			return problem
		},
		check: func(s Settings) string {
			if at, _ := value(&s); *at < 0 {
				return "must not be negative"
			}
			return ""
		},
		get: func(s Settings) slog.Value { at, _ := value(&s); return slog.StringValue(at.String()) }}
}

func tagKey(name, key, field, help, def string, at func(*Settings) *string) spec {
	return spec{name: name, key: key, field: field, help: help, def: def,
		accepts: fmt.Sprintf(`a tag key: at most %d characters, not starting with "aliyun" or "acs:", without "http://", "https://", control characters or surrounding white space`, MaxTagKeyLen),
		parse: func(s *Settings, v string) string {
			*at(s) = v
			return ""
		},
		check: func(s Settings) string { return checkTagKey(*at(&s)) },
		get:   func(s Settings) slog.Value { return slog.StringValue(*at(&s)) }}
}

func boolean(name, key, field, help, def string, at func(*Settings) *bool) spec {
	return spec{name: name, key: key, field: field, help: help, def: def, accepts: boolAccepts,
		parse: func(s *Settings, v string) string {
			x, ok := parseBool(v)
			if !ok {
				return boolProblem
			}
			*at(s) = x
			return ""
		},
		get: func(s Settings) slog.Value { return slog.BoolValue(*at(&s)) }}
}

// integer: a whole number lo..hi, with hi < 0 meaning no upper bound.
func integer(name, key, field, help, def string, lo, hi int, at func(*Settings) *int) spec {
	accepts := fmt.Sprintf("a whole number from %d to %d", lo, hi)
	if hi < 0 {
		accepts = fmt.Sprintf("a whole number >= %d", lo)
	}
	problem := "must be " + accepts
	return spec{name: name, key: key, field: field, help: help, def: def, accepts: accepts,
		parse: func(s *Settings, v string) string {
			x, err := strconv.Atoi(v)
			if err != nil {
				return problem
			}
			*at(s) = x
			return ""
		},
		check: func(s Settings) string {
			if x := *at(&s); x < lo || (hi >= 0 && x > hi) {
				return problem
			}
			return ""
		},
		get: func(s Settings) slog.Value { return slog.IntValue(*at(&s)) }}
}

// duration: a Go duration above lo (at least lo when lo > 0), at most hi
// when hi > 0; problem says so.
func duration(name, key, field, help, def string, lo, hi time.Duration, problem string, at func(*Settings) *time.Duration) spec {
	accepts := "a Go duration greater than 0"
	if lo > 0 {
		accepts = "a Go duration of at least " + shortDuration(lo)
	}
	if hi > 0 {
		accepts += " and at most " + shortDuration(hi)
	}
	return spec{name: name, key: key, field: field, help: help, def: def, accepts: accepts,
		parse: func(s *Settings, v string) string {
			x, err := time.ParseDuration(v)
			if err != nil {
				return problem
			}
			*at(s) = x
			return ""
		},
		check: func(s Settings) string {
			if x := *at(&s); x < lo || (lo == 0 && x <= 0) || (hi > 0 && x > hi) {
				return problem
			}
			return ""
		},
		// As the report writes durations ("1m0s"), not as nanoseconds.
		get: func(s Settings) slog.Value { return slog.StringValue(at(&s).String()) }}
}

// endpoint: an API endpoint URL override; unset: the SDK's. Errors show
// it without user information.
func endpoint(name, key, field, help string, at func(*Settings) *string) spec {
	return spec{name: name, key: key, field: field, help: help, redact: redactEndpoint,
		accepts: "an https:// URL with a host and nothing after it (plain http:// on a loopback address only, which serves every region); without user information",
		parse: func(s *Settings, v string) string {
			*at(s) = v
			return ""
		},
		check: func(s Settings) string {
			if *at(&s) == "" {
				return ""
			}
			return checkEndpoint(*at(&s))
		},
		get: func(s Settings) slog.Value {
			if *at(&s) == "" {
				return slog.StringValue("default")
			}
			return slog.StringValue(redactEndpoint(*at(&s)))
		}}
}

// markSecret: a credential of at least mark.MinSecretLen characters;
// unset when not needed. Shown only as set or unset.
func markSecret(name, key, field, help, hint string, at func(*Settings) *string) spec {
	return spec{name: name, key: key, field: field, help: help, secret: true,
		accepts: fmt.Sprintf("at least %d characters", mark.MinSecretLen),
		parse: func(s *Settings, v string) string {
			*at(s) = v
			return ""
		},
		check: func(s Settings) string {
			if n := len(*at(&s)); n > 0 && n < mark.MinSecretLen {
				return fmt.Sprintf("%s is %d characters: it must have at least %d%s", name, n, mark.MinSecretLen, hint)
			}
			return ""
		},
		get: func(s Settings) slog.Value {
			if *at(&s) == "" {
				return slog.StringValue("unset")
			}
			return slog.StringValue("set")
		}}
}

// shortDuration writes whole minutes and seconds as people do: 5m, 5s.
func shortDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatFloat(math.Round(d.Seconds()*1000)/1000, 'f', -1, 64) + "s"
}
