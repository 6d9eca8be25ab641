package settings

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
)

// The fan-out's settings (docs/fanout.md): an organisation's sweep on
// CloudFlow, one worker invocation per account.
const (
	EnvFanout            = "REAPER_FANOUT"
	EnvFanoutMinAccounts = "REAPER_FANOUT_MIN_ACCOUNTS"
	EnvFlowName          = "REAPER_FLOW_NAME"
	EnvResultBucket      = "REAPER_RESULT_BUCKET"
	EnvResultPrefix      = "REAPER_RESULT_PREFIX"
	EnvFNFEndpoint       = "REAPER_FNF_ENDPOINT"
	EnvOSSEndpoint       = "REAPER_OSS_ENDPOINT"
)

// REAPER_FANOUT's values.
const (
	FanoutOff  = "off"  // every account in one invocation
	FanoutFlow = "flow" // the timer starts the CloudFlow flow
	FanoutAuto = "auto" // flow when more accounts than REAPER_FANOUT_MIN_ACCOUNTS
)

// DefaultFanoutMinAccounts: one invocation of accounts of 20 regions ×
// 500 opted-in instances peaks at 79 to 86 MiB with 10 accounts, 104 MiB
// with 15 and 137 to 142 MiB with 20, over 128 MB (docs/BENCHMARKS.md, "One
// invocation or the fan-out"); 10 keeps a third of the memory free.
const DefaultFanoutMinAccounts = 10

// UsesFlow reports whether a run over accounts many accounts goes through
// the flow.
func (s Settings) UsesFlow(accounts int) bool {
	return s.Fanout == FanoutFlow || (s.Fanout == FanoutAuto && accounts > s.FanoutMinAccounts)
}

var (
	// Flow names: letters, digits, _ and -, starting with a letter or _,
	// 1 to 128 characters (CloudFlow's naming rules).
	flowName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)
	// Bucket names: 3 to 63 lowercase letters, digits and hyphens,
	// starting and ending with a letter or digit (OSS's rules).
	bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
)

var fanoutSpecs = []spec{
	{name: EnvFanout, key: "fanout", field: "Fanout", def: FanoutOff,
		help:    "off: every account in one invocation; flow: the organisation's sweep runs on CloudFlow, one worker per account; auto: flow when more accounts than REAPER_FANOUT_MIN_ACCOUNTS",
		accepts: "off, flow or auto (any case)",
		parse: func(s *Settings, v string) string {
			s.Fanout = strings.ToLower(v)
			return ""
		},
		check: func(s Settings) string {
			switch s.Fanout {
			case FanoutOff, FanoutFlow, FanoutAuto:
				return ""
			}
			return "must be off, flow or auto"
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.Fanout) }},
	integer(EnvFanoutMinAccounts, "fanout_min_accounts", "FanoutMinAccounts", "with REAPER_FANOUT=auto, fan out when more accounts than this are swept; the default suits accounts of up to about 10,000 opted-in instances (one invocation holds about 100,000 in 128 MB)", fmt.Sprint(DefaultFanoutMinAccounts), 1, 400,
		func(s *Settings) *int { return &s.FanoutMinAccounts }),
	{name: EnvFlowName, key: "flow_name", field: "FlowName",
		help:    "the CloudFlow flow the timer function starts (REAPER_FANOUT flow or auto)",
		accepts: "a flow name: 1 to 128 letters, digits, _ and -, starting with a letter or _",
		parse:   func(s *Settings, v string) string { s.FlowName = v; return "" },
		check: func(s Settings) string {
			if s.FlowName == "" || flowName.MatchString(s.FlowName) {
				return ""
			}
			return "must be 1 to 128 letters, digits, _ and -, starting with a letter or _"
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.FlowName) }},
	{name: EnvResultBucket, key: "result_bucket", field: "ResultBucket",
		help:    "the OSS bucket, in the function's region, holding each fanned-out run's plans, decision and report",
		accepts: "an OSS bucket name: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit",
		parse:   func(s *Settings, v string) string { s.ResultBucket = v; return "" },
		check: func(s Settings) string {
			if s.ResultBucket == "" || bucketName.MatchString(s.ResultBucket) {
				return ""
			}
			return "must be an OSS bucket name: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit"
		},
		get: func(s Settings) slog.Value { return slog.StringValue(s.ResultBucket) }},
	{name: EnvResultPrefix, key: "result_prefix", field: "ResultPrefix", def: "ecs-reaper/",
		help:    "the key prefix of the run's documents: <prefix><run>/<account>/<phase>.json",
		accepts: "1 to 200 characters ending in /, not starting with /, without \\, .. segments, white space or control characters",
		parse:   func(s *Settings, v string) string { s.ResultPrefix = v; return "" },
		check:   func(s Settings) string { return checkResultPrefix(s.ResultPrefix) },
		get:     func(s Settings) slog.Value { return slog.StringValue(s.ResultPrefix) }},
	endpoint(EnvFNFEndpoint, "fnf_endpoint", "FNFEndpoint", "CloudFlow API endpoint override, with REAPER_ECS_ENDPOINT's rules; default: <region>.fnf.aliyuncs.com",
		func(s *Settings) *string { return &s.FNFEndpoint }),
	endpoint(EnvOSSEndpoint, "oss_endpoint", "OSSEndpoint", "OSS endpoint override for the result bucket, with REAPER_ECS_ENDPOINT's rules; default: the OSS SDK's for the region",
		func(s *Settings) *string { return &s.OSSEndpoint }),
}

func checkResultPrefix(p string) string {
	switch {
	case p == "" || len(p) > 200:
		return "must be 1 to 200 characters"
	case !strings.HasSuffix(p, "/"):
		return "must end with / (the run's keys go under it)"
	case strings.HasPrefix(p, "/"):
		return "must not start with / (an OSS key does not)"
	case strings.Contains(p, `\`):
		return `must not contain \`
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "must not contain . or .. segments"
		}
	}
	for _, r := range p {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "must not contain white space or control characters"
		}
	}
	return ""
}

// checkFanout: flow and auto need the flow and the bucket.
func (s Settings) checkFanout() []error {
	if s.Fanout != FanoutFlow && s.Fanout != FanoutAuto {
		return nil
	}
	var errs []error
	for _, need := range []struct{ name, v string }{{EnvFlowName, s.FlowName}, {EnvResultBucket, s.ResultBucket}} {
		if need.v == "" {
			errs = append(errs, fmt.Errorf("%s=%s needs %s: the timer function starts that flow and the workers keep the run's results in that bucket (docs/fanout.md)", EnvFanout, s.Fanout, need.name))
		}
	}
	return errs
}
