package settings

import (
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// spec declares one setting, once: its variable, its key in logs and the
// report, its help, its default (as the variable would spell it), how a
// value is parsed into Settings, and how the effective value reads. The
// table drives FromEnv, Default, Names, Describe (the log line and the
// report's settings block) and the --help listing.
type spec struct {
	// secret: the value is a credential; it is never shown in errors.
	secret bool
	name   string
	key    string
	help   string
	def    string
	// set parses v into s; it returns the problem, or "".
	set func(s *Settings, v string) string
	get func(s Settings) slog.Value
}

// Spec is a setting as --help lists it.
type Spec struct {
	Name, Help, Default string
}

// Specs lists every setting in the table's order.
func Specs() []Spec {
	out := make([]Spec, len(table))
	for i, sp := range table {
		out[i] = Spec{Name: sp.name, Help: sp.help, Default: sp.def}
	}
	return out
}

// secretSetting is a credential: taken as given, shown only as set or unset.
func secretSetting(name, key, help string, field func(*Settings) *string) spec {
	return spec{name: name, key: key, help: help, secret: true,
		set: func(s *Settings, v string) string {
			*field(s) = v
			return ""
		},
		get: func(s Settings) slog.Value {
			if *field(&s) == "" {
				return slog.StringValue("unset")
			}
			return slog.StringValue("set")
		}}
}

var table = []spec{
	{name: EnvRegions, key: "regions", help: `"" = own region (FC_REGION); "all"; or a list, e.g. cn-hangzhou,ap-southeast-1`,
		set: func(s *Settings, v string) string {
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
		get: func(s Settings) slog.Value { return slog.StringValue(s.describeRegions()) }},
	tagKey(EnvTagKey, "tag_key", "opt-in tag key whose value is the expiry", "reaper-expires", func(s *Settings) *string { return &s.TagKey }),
	tagKey(EnvKeepTag, "keep_tag", "tag key that exempts an instance", "reaper-keep", func(s *Settings) *string { return &s.KeepTag }),
	boolean(EnvDryRun, "dry_run", "true: decide and ask ECS with DryRun, release nothing", "false", func(s *Settings) *bool { return &s.DryRun }),
	{name: EnvForce, key: "force", help: "alias of REAPER_RUNNING=force (kept working): true releases Running instances", def: "false",
		set: func(s *Settings, v string) string {
			x, ok := parseBool(v)
			if !ok {
				return "must be true or false (or 1 or 0)"
			}
			s.Force, s.forceSet = x, true
			return ""
		},
		get: func(s Settings) slog.Value { return slog.BoolValue(s.Force) }},
	boolean(EnvForceStop, "force_stop", "ForceStop sent with forced releases", "true", func(s *Settings) *bool { return &s.ForceStop }),
	integer(EnvMaxRelease, "max_release", "release nothing if more than this many are eligible", "100", 0, -1,
		"must be a whole number >= 0", func(s *Settings) *int { return &s.MaxRelease }),
	{name: EnvMaxReleasePercent, key: "max_release_percent", help: "release nothing if more than this % of opted-in are eligible", def: "50",
		set: func(s *Settings, v string) string {
			p, err := strconv.ParseFloat(v, 64)
			if err != nil || !(p > 0 && p <= 100) {
				return "must be a number greater than 0 and at most 100"
			}
			s.MaxReleasePercent = p
			return ""
		},
		get: func(s Settings) slog.Value { return slog.Float64Value(s.MaxReleasePercent) }},
	integer(EnvPercentCapFrom, "percent_cap_min_eligible", "the percent cap applies only from this many eligible instances", "10", 0, -1,
		"must be a whole number >= 0", func(s *Settings) *int { return &s.PercentCapFrom }),
	{name: EnvTimezone, key: "timezone", help: "IANA zone for date-only expiries", def: "UTC",
		set: func(s *Settings, v string) string {
			loc, err := loadLocation(v)
			if err != nil {
				return "must be an IANA time zone such as Asia/Shanghai: " + err.Error()
			}
			s.Location = loc
			return ""
		},
		get: func(s Settings) slog.Value {
			if s.Location == nil {
				return slog.StringValue("UTC")
			}
			return slog.StringValue(s.Location.String())
		}},
	{name: EnvEndpoint, key: "endpoint", help: "ECS endpoint URL override for one region (https://; http:// on loopback only); default: the SDK's regional HTTPS endpoint",
		set: func(s *Settings, v string) string {
			if problem := checkEndpoint(v); problem != "" {
				return problem
			}
			s.Endpoint = v
			return ""
		},
		get: func(s Settings) slog.Value {
			if s.Endpoint == "" {
				return slog.StringValue("default")
			}
			return slog.StringValue(redactEndpoint(s.Endpoint))
		}},
	duration(EnvFreshness, "freshness", "re-read a batch's instances before any attempt when the data is older (at most 5m)", "60s", 0, MaxFreshness,
		"must be a Go duration greater than 0 and at most 5m, e.g. 60s (a longer window would release on stale data)", func(s *Settings) *time.Duration { return &s.Freshness }),
	duration(EnvDeadlineMargin, "deadline_margin", "start no API call this close to the deadline (at least 5s)", "30s", MinDeadlineMargin, 0,
		"must be a Go duration of at least 5s, e.g. 30s (less leaves no time to return the report)", func(s *Settings) *time.Duration { return &s.DeadlineMargin }),
	integer(EnvRegionConcurrency, "region_concurrency", "regions swept at once", "20", 1, MaxRegionConcurrency,
		"must be a whole number from 1 to 64", func(s *Settings) *int { return &s.RegionConcurrency }),
	integer(EnvBatchConcurrency, "batch_concurrency", "DeleteInstances calls at once per region", "4", 1, MaxBatchConcurrency,
		"must be a whole number from 1 to 16", func(s *Settings) *int { return &s.BatchConcurrency }),
	boolean(EnvLocalRelease, "local_release", "true: a local build (s local invoke) may release; otherwise it dry-runs", "false", func(s *Settings) *bool { return &s.LocalRelease }),
	tagKey(EnvOwnerTag, "owner_tag", "tag whose value names the instance's owner (mentioned in notices)", "owner", func(s *Settings) *string { return &s.OwnerTag }),
	{name: EnvNotifyURL, key: "notify_url", help: "chat webhook for owner notices (" + notify.KindChoices() + "); unset: no notices", secret: true,
		set: func(s *Settings, v string) string {
			if problem := checkNotifyURL(v); problem != "" {
				return problem
			}
			s.NotifyURL = v
			return ""
		},
		get: func(s Settings) slog.Value { return slog.StringValue(RedactURL(s.NotifyURL)) }},
	{name: EnvNotifyKind, key: "notify_kind", help: notify.KindChoices() + "; default: from the webhook's host",
		set: func(s *Settings, v string) string {
			if k := strings.ToLower(v); notify.IsKind(k) {
				s.NotifyKind = k
				return ""
			}
			return "must be " + notify.KindChoices()
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.NotifyKind) }},
	{name: EnvNotifySecret, key: "notify_secret", help: "the webhook's signing secret (" + strings.Join(notify.SignedKinds(), ", ") + "); never shown", secret: true,
		set: func(s *Settings, v string) string {
			s.NotifySecret = v
			return ""
		},
		get: func(s Settings) slog.Value {
			if s.NotifySecret == "" {
				return slog.StringValue("unset")
			}
			return slog.StringValue("set")
		}},
	{name: EnvNotice, key: "notice", help: "owners are told this long before expiry (Go duration, or days: 2d)", def: "24h",
		set: func(s *Settings, v string) string {
			d, problem := parseSpan(v)
			if problem == "" {
				s.Notice, s.noticeSet = d, true
			}
			return problem
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.Notice.String()) }},
	{name: EnvGrace, key: "grace", help: "least time from an owner's notice to the release (Go duration, or days); default 24h with a channel, else off",
		set: func(s *Settings, v string) string {
			d, problem := parseSpan(v)
			if problem == "" {
				s.Grace, s.graceSet = d, true
			}
			return problem
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.Grace.String()) }},
	tagKey(EnvMarkTag, "mark_tag", "tag written after a delivered notice; its value is the notice time (RFC 3339, UTC)", "reaper-notified", func(s *Settings) *string { return &s.MarkTag }),
	{name: EnvRunning, key: "running", help: "what happens to a due Running instance: skip, stop (then release once stopped for the grace) or force", def: RunningSkip,
		set: func(s *Settings, v string) string {
			switch r := strings.ToLower(v); r {
			case RunningSkip, RunningStop, RunningForce:
				s.Running, s.runningSet = r, true
				return ""
			}
			return "must be skip, stop or force"
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.Running) }},
	{name: EnvResources, key: "resources", help: "what the sweep covers, comma-separated: instances, disks, snapshots, eips (each by its own opt-in tag)", def: "instances",
		set: func(s *Settings, v string) string {
			var out []string
			for _, part := range strings.Split(v, ",") {
				k := strings.ToLower(strings.TrimSpace(part))
				switch k {
				case "instances", "disks", "snapshots", "eips":
				default:
					return "must list some of instances, disks, snapshots and eips, comma-separated; " + strconv.Quote(part) + " is none of them"
				}
				if slices.Contains(out, k) {
					return strconv.Quote(k) + " is listed twice"
				}
				out = append(out, k)
			}
			s.Resources = out
			return ""
		},
		get: func(s Settings) slog.Value { return slog.StringValue(strings.Join(s.Resources, ",")) }},
	boolean(EnvReleaseEIPs, "release_eips", "true: release the EIPs of the instances a run released, once Available (unless kept by tag, protected or bound again)", "false", func(s *Settings) *bool { return &s.ReleaseEIPs }),
	secretSetting(EnvMarkSecret, "mark_secret", "signs every mark the reaper writes (at least 32 characters; generate one with `"+GenerateMarkSecret+"`); required when marks are written (notices, REAPER_RUNNING=stop, REAPER_RELEASE_EIPS); never shown",
		func(s *Settings) *string { return &s.MarkSecret }),
	secretSetting(EnvMarkSecretPrev, "mark_secret_previous", "the previous REAPER_MARK_SECRET during a rotation: its marks still verify (keep it at least REAPER_GRACE); never shown",
		func(s *Settings) *string { return &s.MarkSecretPrev }),
	{name: EnvVPCEndpoint, key: "vpc_endpoint", help: "VPC API endpoint override (EIPs), with REAPER_ECS_ENDPOINT's rules; default: the SDK's",
		set: func(s *Settings, v string) string {
			if problem := checkEndpoint(v); problem != "" {
				return problem
			}
			s.VPCEndpoint = v
			return ""
		},
		get: func(s Settings) slog.Value {
			if s.VPCEndpoint == "" {
				return slog.StringValue("default")
			}
			return slog.StringValue(redactEndpoint(s.VPCEndpoint))
		}},
}

// parseSpan reads a non-negative span: a Go duration, or whole days and
// weeks ("2d", "1w").
func parseSpan(v string) (time.Duration, string) {
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return 0, "must not be negative"
		}
		return d, ""
	}
	if d, err := decide.ParseTTL(v); err == nil {
		return d, ""
	}
	return 0, "must be a Go duration (e.g. 24h) or whole days (e.g. 2d)"
}

func tagKey(name, key, help, def string, field func(*Settings) *string) spec {
	return spec{name: name, key: key, help: help, def: def,
		set: func(s *Settings, v string) string {
			if problem := checkTagKey(v); problem != "" {
				return problem
			}
			*field(s) = v
			return ""
		},
		get: func(s Settings) slog.Value { return slog.StringValue(*field(&s)) }}
}

func boolean(name, key, help, def string, field func(*Settings) *bool) spec {
	return spec{name: name, key: key, help: help, def: def,
		set: func(s *Settings, v string) string {
			x, ok := parseBool(v)
			if !ok {
				return "must be true or false (or 1 or 0)"
			}
			*field(s) = x
			return ""
		},
		get: func(s Settings) slog.Value { return slog.BoolValue(*field(&s)) }}
}

// integer: lo..hi, with hi < 0 meaning no upper bound.
func integer(name, key, help, def string, lo, hi int, problem string, field func(*Settings) *int) spec {
	return spec{name: name, key: key, help: help, def: def,
		set: func(s *Settings, v string) string {
			x, err := strconv.Atoi(v)
			if err != nil || x < lo || (hi >= 0 && x > hi) {
				return problem
			}
			*field(s) = x
			return ""
		},
		get: func(s Settings) slog.Value { return slog.IntValue(*field(&s)) }}
}

// duration: above lo (at least lo when lo > 0), at most hi when hi > 0.
func duration(name, key, help, def string, lo, hi time.Duration, problem string, field func(*Settings) *time.Duration) spec {
	return spec{name: name, key: key, help: help, def: def,
		set: func(s *Settings, v string) string {
			x, err := time.ParseDuration(v)
			if err != nil || x < lo || (lo == 0 && x <= 0) || (hi > 0 && x > hi) {
				return problem
			}
			*field(s) = x
			return ""
		},
		// As the report writes durations ("1m0s"), not as nanoseconds.
		get: func(s Settings) slog.Value { return slog.StringValue(field(&s).String()) }}
}
