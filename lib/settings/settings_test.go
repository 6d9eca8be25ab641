package settings

import (
	"errors"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefault(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v", err)
	}
	got, err := FromEnv(env())
	if err != nil {
		t.Fatalf("FromEnv(empty) error = %v", err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("FromEnv(empty) = %+v, want Default() %+v", got, d)
	}
	want := Settings{TagKey: "reaper-expires", KeepTag: "reaper-keep", ForceStop: true, MaxRelease: 100, MaxReleasePercent: 50, PercentCapFrom: 10,
		OwnerTag: "owner", Notice: 24 * time.Hour, MarkTag: "reaper-notified", Running: RunningSkip, Resources: []string{"instances"},
		Location: time.UTC, Freshness: time.Minute, DeadlineMargin: 30 * time.Second, RegionConcurrency: 20, BatchConcurrency: 16,
		Fanout: FanoutOff, FanoutMinAccounts: DefaultFanoutMinAccounts, ResultPrefix: "ecs-reaper/",
		RoleName: "ecs-reaper-member", OrgMaxRelease: 500, OrgMaxReleasePercent: 50}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("Default() = %+v, want %+v", d, want)
	}
}

func TestNames(t *testing.T) {
	want := []string{"REAPER_REGIONS", "REAPER_TAG_KEY", "REAPER_KEEP_TAG", "REAPER_DRY_RUN", "REAPER_FORCE", "REAPER_FORCE_STOP", "REAPER_MAX_RELEASE", "REAPER_MAX_RELEASE_PERCENT", "REAPER_PERCENT_CAP_MIN_ELIGIBLE", "REAPER_TIMEZONE", "REAPER_ECS_ENDPOINT", "REAPER_FRESHNESS", "REAPER_DEADLINE_MARGIN", "REAPER_REGION_CONCURRENCY", "REAPER_BATCH_CONCURRENCY", "REAPER_LOCAL_RELEASE",
		"REAPER_OWNER_TAG", "REAPER_NOTIFY_URL", "REAPER_NOTIFY_KIND", "REAPER_NOTIFY_SECRET", "REAPER_NOTICE", "REAPER_GRACE", "REAPER_MARK_TAG", "REAPER_RUNNING", "REAPER_RESOURCES", "REAPER_RELEASE_EIPS", "REAPER_MARK_SECRET", "REAPER_MARK_SECRET_PREVIOUS", "REAPER_VPC_ENDPOINT",
		"REAPER_ACCOUNTS", "REAPER_ACCOUNT_TAG", "REAPER_ACCOUNTS_EXCLUDE", "REAPER_ROLE_NAME", "REAPER_ROLE_EXTERNAL_ID", "REAPER_ORG_MAX_RELEASE", "REAPER_ORG_MAX_RELEASE_PERCENT",
		"REAPER_STS_ENDPOINT", "REAPER_RESOURCEMANAGER_ENDPOINT",
		"REAPER_FANOUT", "REAPER_FANOUT_MIN_ACCOUNTS", "REAPER_FLOW_NAME", "REAPER_RESULT_BUCKET", "REAPER_RESULT_PREFIX", "REAPER_FNF_ENDPOINT", "REAPER_OSS_ENDPOINT"}
	if !reflect.DeepEqual(Names, want) {
		t.Fatalf("Names = %q, want %q", Names, want)
	}
	// Every name is read: a junk value for each must be reported.
	for _, n := range Names {
		if _, err := FromEnv(env(n, "\x01junk\x01")); err == nil || !strings.Contains(err.Error(), n) {
			t.Errorf("FromEnv with junk %s: error %v does not name it", n, err)
		}
	}
}

func TestFromEnv(t *testing.T) {
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	tests := []struct {
		name    string
		env     []string
		check   func(Settings) bool
		wantErr []string // substrings; nil means success
	}{
		// REAPER_REGIONS
		{name: "regions unset is own region", env: nil, check: func(s Settings) bool { return !s.AllRegions && s.Regions == nil }},
		{name: "regions blank is own region", env: []string{EnvRegions, "  "}, check: func(s Settings) bool { return !s.AllRegions && s.Regions == nil }},
		{name: "regions all", env: []string{EnvRegions, "all"}, check: func(s Settings) bool { return s.AllRegions && s.Regions == nil }},
		{name: "regions ALL any case", env: []string{EnvRegions, "ALL"}, check: func(s Settings) bool { return s.AllRegions }},
		{name: "regions list with spaces", env: []string{EnvRegions, "cn-hangzhou, ap-southeast-1 ,cn-shanghai-finance-1"},
			check: func(s Settings) bool {
				return reflect.DeepEqual(s.Regions, []string{"cn-hangzhou", "ap-southeast-1", "cn-shanghai-finance-1"})
			}},
		{name: "regions uppercase", env: []string{EnvRegions, "CN-HANGZHOU"}, wantErr: []string{`REAPER_REGIONS="CN-HANGZHOU"`, "not a region ID"}},
		{name: "regions duplicate", env: []string{EnvRegions, "cn-hangzhou,cn-hangzhou"}, wantErr: []string{"listed twice"}},
		{name: "regions empty entry", env: []string{EnvRegions, "cn-hangzhou,,cn-beijing"}, wantErr: []string{"entry 2 is empty"}},
		{name: "regions trailing comma", env: []string{EnvRegions, "cn-hangzhou,"}, wantErr: []string{"entry 2 is empty"}},
		{name: "regions all inside list", env: []string{EnvRegions, "all,cn-hangzhou"}, wantErr: []string{`"all" must be the whole value`}},
		{name: "regions no hyphen", env: []string{EnvRegions, "hangzhou"}, wantErr: []string{"not a region ID"}},
		{name: "regions underscore", env: []string{EnvRegions, "cn_hangzhou"}, wantErr: []string{"not a region ID"}},

		// Tag keys
		{name: "tag key custom", env: []string{EnvTagKey, "expires-at"}, check: func(s Settings) bool { return s.TagKey == "expires-at" }},
		{name: "keep tag custom", env: []string{EnvKeepTag, "do-not-reap"}, check: func(s Settings) bool { return s.KeepTag == "do-not-reap" }},
		{name: "tag key 128 chars", env: []string{EnvTagKey, strings.Repeat("k", 128)}, check: func(s Settings) bool { return len(s.TagKey) == 128 }},
		{name: "tag key 129 chars", env: []string{EnvTagKey, strings.Repeat("k", 129)}, wantErr: []string{"REAPER_TAG_KEY=", "at most 128"}},
		{name: "tag key 128 multibyte chars", env: []string{EnvTagKey, strings.Repeat("键", 128)}, check: func(s Settings) bool { return s.TagKey == strings.Repeat("键", 128) }},
		{name: "tag key aliyun prefix", env: []string{EnvTagKey, "aliyun-expiry"}, wantErr: []string{`must not start with "aliyun"`}},
		{name: "tag key Aliyun prefix any case", env: []string{EnvTagKey, "Aliyun-expiry"}, wantErr: []string{"aliyun"}},
		{name: "keep tag acs prefix", env: []string{EnvKeepTag, "acs:keep"}, wantErr: []string{"REAPER_KEEP_TAG=", `"acs:"`}},
		{name: "tag key with url", env: []string{EnvTagKey, "https://x"}, wantErr: []string{"http"}},
		{name: "tag key with control char", env: []string{EnvTagKey, "a\x00b"}, wantErr: []string{"control"}},
		{name: "tag key equals keep tag", env: []string{EnvTagKey, "same", EnvKeepTag, "same"}, wantErr: []string{"REAPER_TAG_KEY and REAPER_KEEP_TAG", "must differ"}},
		{name: "keep tag equals default tag key", env: []string{EnvKeepTag, "reaper-expires"}, wantErr: []string{"must differ"}},

		// Booleans
		{name: "dry run true", env: []string{EnvDryRun, "true"}, check: func(s Settings) bool { return s.DryRun }},
		{name: "dry run TRUE", env: []string{EnvDryRun, "TRUE"}, check: func(s Settings) bool { return s.DryRun }},
		{name: "dry run 1", env: []string{EnvDryRun, "1"}, check: func(s Settings) bool { return s.DryRun }},
		{name: "dry run False", env: []string{EnvDryRun, "False"}, check: func(s Settings) bool { return !s.DryRun }},
		{name: "dry run yes", env: []string{EnvDryRun, "yes"}, wantErr: []string{`REAPER_DRY_RUN="yes": must be true or false`}},
		{name: "dry run typo", env: []string{EnvDryRun, "ture"}, wantErr: []string{"REAPER_DRY_RUN"}},
		{name: "force true", env: []string{EnvForce, "true"}, check: func(s Settings) bool { return s.Force }},
		{name: "force on", env: []string{EnvForce, "on"}, wantErr: []string{"REAPER_FORCE="}},
		{name: "force stop false", env: []string{EnvForceStop, "false"}, check: func(s Settings) bool { return !s.ForceStop }},
		{name: "force stop 0", env: []string{EnvForceStop, "0"}, check: func(s Settings) bool { return !s.ForceStop }},
		{name: "force stop 2", env: []string{EnvForceStop, "2"}, wantErr: []string{"REAPER_FORCE_STOP"}},

		// Numbers
		{name: "max release 0", env: []string{EnvMaxRelease, "0"}, check: func(s Settings) bool { return s.MaxRelease == 0 }},
		{name: "max release 250", env: []string{EnvMaxRelease, "250"}, check: func(s Settings) bool { return s.MaxRelease == 250 }},
		{name: "max release negative", env: []string{EnvMaxRelease, "-3"}, wantErr: []string{`REAPER_MAX_RELEASE="-3": must be a whole number >= 0`}},
		{name: "max release fraction", env: []string{EnvMaxRelease, "1.5"}, wantErr: []string{"whole number"}},
		{name: "max release overflow", env: []string{EnvMaxRelease, "99999999999999999999"}, wantErr: []string{"whole number"}},
		{name: "max percent 12.5", env: []string{EnvMaxReleasePercent, "12.5"}, check: func(s Settings) bool { return s.MaxReleasePercent == 12.5 }},
		{name: "max percent 100", env: []string{EnvMaxReleasePercent, "100"}, check: func(s Settings) bool { return s.MaxReleasePercent == 100 }},
		{name: "max percent 0", env: []string{EnvMaxReleasePercent, "0"}, wantErr: []string{"REAPER_MAX_RELEASE_PERCENT", "greater than 0"}},
		{name: "max percent 101", env: []string{EnvMaxReleasePercent, "101"}, wantErr: []string{"at most 100"}},
		{name: "max percent NaN", env: []string{EnvMaxReleasePercent, "NaN"}, wantErr: []string{"REAPER_MAX_RELEASE_PERCENT"}},
		{name: "max percent with sign", env: []string{EnvMaxReleasePercent, "50%"}, wantErr: []string{"REAPER_MAX_RELEASE_PERCENT"}},
		{name: "region concurrency 64", env: []string{EnvRegionConcurrency, "64"}, check: func(s Settings) bool { return s.RegionConcurrency == 64 }},
		{name: "region concurrency 65", env: []string{EnvRegionConcurrency, "65"}, wantErr: []string{"REAPER_REGION_CONCURRENCY", "1 to 64"}},
		{name: "region concurrency 0", env: []string{EnvRegionConcurrency, "0"}, wantErr: []string{"1 to 64"}},
		{name: "batch concurrency 1", env: []string{EnvBatchConcurrency, "1"}, check: func(s Settings) bool { return s.BatchConcurrency == 1 }},
		{name: "batch concurrency 33", env: []string{EnvBatchConcurrency, "33"}, wantErr: []string{"REAPER_BATCH_CONCURRENCY", "1 to 32"}},

		// Time zone
		{name: "timezone shanghai", env: []string{EnvTimezone, "Asia/Shanghai"}, check: func(s Settings) bool { return s.Location.String() == shanghai.String() }},
		{name: "timezone UTC", env: []string{EnvTimezone, "UTC"}, check: func(s Settings) bool { return s.Location == time.UTC }},
		{name: "timezone unknown", env: []string{EnvTimezone, "Mars/Olympus"}, wantErr: []string{"REAPER_TIMEZONE", "IANA"}},
		{name: "timezone Local", env: []string{EnvTimezone, "Local"}, wantErr: []string{"depends on the host"}},
		{name: "timezone offset", env: []string{EnvTimezone, "+08:00"}, wantErr: []string{"REAPER_TIMEZONE"}},

		// Endpoint
		{name: "endpoint https", env: []string{EnvEndpoint, "https://ecs.cn-hangzhou.aliyuncs.com"}, check: func(s Settings) bool { return s.Endpoint == "https://ecs.cn-hangzhou.aliyuncs.com" }},
		{name: "endpoint http with port and slash", env: []string{EnvEndpoint, "http://127.0.0.1:8080/"}, check: func(s Settings) bool { return s.Endpoint == "http://127.0.0.1:8080/" }},
		{name: "endpoint ipv6", env: []string{EnvEndpoint, "http://[::1]:9000"}, check: func(s Settings) bool { return s.Endpoint != "" }},
		{name: "endpoint bare host", env: []string{EnvEndpoint, "ecs.aliyuncs.com"}, wantErr: []string{"REAPER_ECS_ENDPOINT", "http"}},
		{name: "endpoint ftp", env: []string{EnvEndpoint, "ftp://ecs.aliyuncs.com"}, wantErr: []string{"http"}},
		{name: "endpoint no host", env: []string{EnvEndpoint, "https://"}, wantErr: []string{"host"}},
		{name: "endpoint path", env: []string{EnvEndpoint, "https://ecs.aliyuncs.com/v1"}, wantErr: []string{"path"}},
		{name: "endpoint query", env: []string{EnvEndpoint, "https://ecs.aliyuncs.com/?a=b"}, wantErr: []string{"query"}},
		{name: "endpoint empty query", env: []string{EnvEndpoint, "https://ecs.aliyuncs.com?"}, wantErr: []string{"query"}},
		{name: "endpoint fragment", env: []string{EnvEndpoint, "https://ecs.aliyuncs.com#x"}, wantErr: []string{"fragment"}},
		{name: "endpoint bad port", env: []string{EnvEndpoint, "https://ecs.aliyuncs.com:0"}, wantErr: []string{"port"}},
		{name: "endpoint userinfo is redacted", env: []string{EnvEndpoint, "https://user:secret@ecs.aliyuncs.com"}, wantErr: []string{"user information"}},

		// Durations
		{name: "freshness 2m", env: []string{EnvFreshness, "2m"}, check: func(s Settings) bool { return s.Freshness == 2*time.Minute }},
		{name: "freshness 0", env: []string{EnvFreshness, "0s"}, wantErr: []string{`REAPER_FRESHNESS="0s"`, "greater than 0"}},
		{name: "freshness no unit", env: []string{EnvFreshness, "60"}, wantErr: []string{"REAPER_FRESHNESS"}},
		{name: "freshness negative", env: []string{EnvFreshness, "-1s"}, wantErr: []string{"REAPER_FRESHNESS"}},
		{name: "freshness at the ceiling", env: []string{EnvFreshness, "5m"}, check: func(s Settings) bool { return s.Freshness == 5*time.Minute }},
		{name: "freshness beyond the ceiling", env: []string{EnvFreshness, "5m1s"}, wantErr: []string{`REAPER_FRESHNESS="5m1s"`, "at most 5m"}},
		{name: "freshness of a day", env: []string{EnvFreshness, "24h"}, wantErr: []string{"REAPER_FRESHNESS", "stale data"}},
		{name: "deadline margin 0", env: []string{EnvDeadlineMargin, "0s"}, wantErr: []string{`REAPER_DEADLINE_MARGIN="0s"`, "at least 5s"}},
		{name: "deadline margin below the floor", env: []string{EnvDeadlineMargin, "4s"}, wantErr: []string{"REAPER_DEADLINE_MARGIN", "at least 5s"}},
		{name: "deadline margin at the floor", env: []string{EnvDeadlineMargin, "5s"}, check: func(s Settings) bool { return s.DeadlineMargin == 5*time.Second }},
		{name: "deadline margin 1m30s", env: []string{EnvDeadlineMargin, "1m30s"}, check: func(s Settings) bool { return s.DeadlineMargin == 90*time.Second }},
		{name: "deadline margin negative", env: []string{EnvDeadlineMargin, "-5s"}, wantErr: []string{"REAPER_DEADLINE_MARGIN", "at least 5s"}},

		// Percent cap floor and local release
		{name: "percent cap from 0", env: []string{EnvPercentCapFrom, "0"}, check: func(s Settings) bool { return s.PercentCapFrom == 0 }},
		{name: "percent cap from 25", env: []string{EnvPercentCapFrom, "25"}, check: func(s Settings) bool { return s.PercentCapFrom == 25 }},
		{name: "percent cap from negative", env: []string{EnvPercentCapFrom, "-1"}, wantErr: []string{"REAPER_PERCENT_CAP_MIN_ELIGIBLE", ">= 0"}},
		{name: "local release", env: []string{EnvLocalRelease, "true"}, check: func(s Settings) bool { return s.LocalRelease }},

		// A real endpoint is one region's; plain http only on loopback.
		{name: "endpoint plain http on a real host", env: []string{EnvEndpoint, "http://ecs.cn-hangzhou.aliyuncs.com"}, wantErr: []string{"REAPER_ECS_ENDPOINT", "https://", "loopback"}},
		{name: "endpoint plain http on a private address", env: []string{EnvEndpoint, "http://10.0.0.8:8080"}, wantErr: []string{"loopback"}},
		{name: "endpoint plain http on localhost", env: []string{EnvEndpoint, "http://localhost:8080"}, check: func(s Settings) bool { return s.Endpoint == "http://localhost:8080" }},
		{name: "endpoint with several regions", env: []string{EnvEndpoint, "https://ecs-vpc.cn-hangzhou.aliyuncs.com", EnvRegions, "cn-hangzhou,cn-shanghai"}, wantErr: []string{"REAPER_ECS_ENDPOINT", "serves one region", "REAPER_REGIONS"}},
		{name: "endpoint with all regions", env: []string{EnvEndpoint, "https://ecs-vpc.cn-hangzhou.aliyuncs.com", EnvRegions, "all"}, wantErr: []string{"serves one region"}},
		{name: "endpoint with one region", env: []string{EnvEndpoint, "https://ecs-vpc.cn-hangzhou.aliyuncs.com", EnvRegions, "cn-hangzhou"}, check: func(s Settings) bool { return len(s.Regions) == 1 }},
		{name: "loopback endpoint serves every region", env: []string{EnvEndpoint, "http://127.0.0.1:9000", EnvRegions, "all"}, check: func(s Settings) bool { return s.AllRegions }},

		// Several problems at once are all reported.
		{name: "all problems collected", env: []string{EnvMaxRelease, "-3", EnvDryRun, "maybe", EnvTimezone, "Nowhere", EnvBatchConcurrency, "99"},
			wantErr: []string{"REAPER_MAX_RELEASE", "REAPER_DRY_RUN", "REAPER_TIMEZONE", "REAPER_BATCH_CONCURRENCY"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := FromEnv(env(tt.env...))
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("FromEnv(%q) = %+v, want an error", tt.env, s)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("FromEnv(%q) error %q does not contain %q", tt.env, err, w)
					}
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error leaks user information: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromEnv(%q) error = %v", tt.env, err)
			}
			if tt.check != nil && !tt.check(s) {
				t.Errorf("FromEnv(%q) = %+v: check failed", tt.env, s)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate() after FromEnv = %v", err)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Settings)
		wantErr string
	}{
		{name: "default ok", edit: func(*Settings) {}},
		{name: "all regions and list", edit: func(s *Settings) { s.AllRegions = true; s.Regions = []string{"cn-hangzhou"} }, wantErr: "AllRegions"},
		{name: "bad region", edit: func(s *Settings) { s.Regions = []string{"Hangzhou"} }, wantErr: "Regions"},
		{name: "empty tag key", edit: func(s *Settings) { s.TagKey = "" }, wantErr: "TagKey"},
		{name: "same keys", edit: func(s *Settings) { s.KeepTag = s.TagKey }, wantErr: "must differ"},
		{name: "negative max release", edit: func(s *Settings) { s.MaxRelease = -1 }, wantErr: "MaxRelease -1"},
		{name: "percent zero", edit: func(s *Settings) { s.MaxReleasePercent = 0 }, wantErr: "MaxReleasePercent"},
		{name: "nil location", edit: func(s *Settings) { s.Location = nil }, wantErr: "Location"},
		{name: "endpoint with userinfo", edit: func(s *Settings) { s.Endpoint = "https://u:secret@h" }, wantErr: "user information"},
		{name: "zero freshness", edit: func(s *Settings) { s.Freshness = 0 }, wantErr: "Freshness"},
		{name: "negative margin", edit: func(s *Settings) { s.DeadlineMargin = -1 }, wantErr: "DeadlineMargin"},
		{name: "region concurrency", edit: func(s *Settings) { s.RegionConcurrency = 0 }, wantErr: "RegionConcurrency"},
		{name: "batch concurrency", edit: func(s *Settings) { s.BatchConcurrency = 33 }, wantErr: "BatchConcurrency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Default()
			tt.edit(&s)
			err := s.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error leaks user information: %v", err)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	s := Default()
	s.Endpoint = "https://user:secret@ecs.example.com" // not valid, but Describe must not leak it
	s.Regions = []string{"cn-hangzhou", "cn-beijing"}
	got := map[string]string{}
	for _, a := range s.Describe() {
		got[a.Key] = a.Value.String()
	}
	want := map[string]string{
		"regions": "cn-hangzhou,cn-beijing", "tag_key": "reaper-expires", "keep_tag": "reaper-keep",
		"dry_run": "false", "force": "false", "force_stop": "true", "max_release": "100", "max_release_percent": "50",
		"timezone": "UTC", "endpoint": "https://ecs.example.com", "freshness": "1m0s", "deadline_margin": "30s",
		"region_concurrency": "20", "batch_concurrency": "16", "percent_cap_min_eligible": "10", "local_release": "false",
		"owner_tag": "owner", "notify_url": "unset", "notify_kind": "", "notify_secret": "unset", "notice": "24h0m0s", "grace": "0s",
		"mark_tag": "reaper-notified", "running": "skip", "release_eips": "false", "vpc_endpoint": "default", "resources": "instances",
		"mark_secret": "unset", "mark_secret_previous": "unset",
		"fanout": "off", "fanout_min_accounts": "10", "flow_name": "", "result_bucket": "", "result_prefix": "ecs-reaper/",
		"fnf_endpoint": "default", "oss_endpoint": "default",
		"accounts": "", "account_tag": "", "accounts_exclude": "", "role_name": "ecs-reaper-member", "role_external_id": "unset",
		"org_max_release": "500", "org_max_release_percent": "50", "sts_endpoint": "default", "resourcemanager_endpoint": "default",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Describe() = %v, want %v", got, want)
	}
	for _, tc := range []struct {
		name string
		s    Settings
		want string
	}{
		{name: "own region", s: Default(), want: "own"},
		{name: "all regions", s: Settings{AllRegions: true}, want: "all"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attrs := tc.s.Describe()
			if attrs[0].Key != "regions" || attrs[0].Value.String() != tc.want {
				t.Fatalf("regions attr = %v, want %q", attrs[0], tc.want)
			}
			_ = slog.GroupValue(attrs...)
		})
	}
}

func TestParsePayload(t *testing.T) {
	tr, ten, zero := true, 10, 0
	tests := []struct {
		name    string
		payload string
		want    Overrides
		wantErr string
	}{
		{name: "empty", payload: ""},
		{name: "whitespace", payload: " \n\t "},
		{name: "empty object", payload: "{}"},
		{name: "dry run", payload: `{"dryRun": true}`, want: Overrides{DryRun: &tr}},
		{name: "regions", payload: `{"regions": ["cn-hangzhou"]}`, want: Overrides{Regions: []string{"cn-hangzhou"}}},
		{name: "max release", payload: `{"maxRelease": 10}`, want: Overrides{MaxRelease: &ten}},
		{name: "max release zero", payload: `{"maxRelease": 0}`, want: Overrides{MaxRelease: &zero}},
		{name: "all fields", payload: ` {"dryRun":true,"regions":["cn-hangzhou","ap-southeast-1"],"maxRelease":10} `,
			want: Overrides{DryRun: &tr, Regions: []string{"cn-hangzhou", "ap-southeast-1"}, MaxRelease: &ten}},
		{name: "dry run string", payload: `{"dryRun":"yes"}`, wantErr: `"dryRun" must be true or false, got "yes"`},
		{name: "unknown field", payload: `{"foo":1}`, wantErr: `"foo" is unknown`},
		{name: "wrong case field", payload: `{"DryRun":true}`, wantErr: `"DryRun" is unknown`},
		{name: "array", payload: `[1]`, wantErr: "must be a JSON object"},
		{name: "string", payload: `"dryRun"`, wantErr: "must be a JSON object"},
		{name: "top-level null", payload: `null`, wantErr: "got null"},
		{name: "not json", payload: `not json`, wantErr: "not JSON"},
		{name: "trailing object", payload: `{"dryRun":true}{}`, wantErr: "data after the JSON object"},
		{name: "trailing garbage", payload: `{"dryRun":true} x`, wantErr: "data after the JSON object"},
		{name: "unterminated", payload: `{"dryRun":true`, wantErr: "not valid JSON"},
		{name: "trailing comma", payload: `{"dryRun":true,}`, wantErr: "not valid JSON"},
		{name: "null dry run", payload: `{"dryRun":null}`, wantErr: `"dryRun" is null`},
		{name: "null regions", payload: `{"regions":null}`, wantErr: `"regions" is null`},
		{name: "duplicate field", payload: `{"dryRun":true,"dryRun":false}`, wantErr: "more than once"},
		{name: "regions empty", payload: `{"regions":[]}`, wantErr: "must not be empty"},
		{name: "regions not array", payload: `{"regions":"cn-hangzhou"}`, wantErr: "array of region ID strings"},
		{name: "regions with number", payload: `{"regions":["cn-hangzhou",1]}`, wantErr: "array of region ID strings"},
		{name: "regions invalid id", payload: `{"regions":["CN-Hangzhou"]}`, wantErr: "not a region ID"},
		{name: "regions all", payload: `{"regions":["all"]}`, wantErr: "not a region ID"},
		{name: "regions duplicate", payload: `{"regions":["cn-hangzhou","cn-hangzhou"]}`, wantErr: "listed twice"},
		{name: "max release negative", payload: `{"maxRelease":-1}`, wantErr: "whole number >= 0, got -1"},
		{name: "max release fraction", payload: `{"maxRelease":1.5}`, wantErr: "whole number"},
		{name: "max release exponent", payload: `{"maxRelease":1e2}`, wantErr: "whole number"},
		{name: "max release string", payload: `{"maxRelease":"10"}`, wantErr: "whole number"},
		{name: "max release huge", payload: `{"maxRelease":99999999999999999999}`, wantErr: "whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePayload(tt.payload)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParsePayload(%q) = %+v, %v; want error containing %q", tt.payload, got, err, tt.wantErr)
				}
				if !reflect.DeepEqual(got, Overrides{}) {
					t.Errorf("ParsePayload(%q) returned overrides %+v with an error", tt.payload, got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParsePayload(%q) = %+v, %v; want %+v", tt.payload, got, err, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	tr, five := true, 5
	base := Default()
	base.AllRegions = true
	tests := []struct {
		name string
		o    Overrides
		want func(Settings) bool
	}{
		{name: "no overrides", o: Overrides{}, want: func(s Settings) bool { return reflect.DeepEqual(s, base) }},
		{name: "dry run", o: Overrides{DryRun: &tr}, want: func(s Settings) bool { return s.DryRun && s.AllRegions }},
		{name: "regions replace all", o: Overrides{Regions: []string{"cn-beijing"}}, want: func(s Settings) bool {
			return !s.AllRegions && reflect.DeepEqual(s.Regions, []string{"cn-beijing"})
		}},
		{name: "max release", o: Overrides{MaxRelease: &five}, want: func(s Settings) bool { return s.MaxRelease == 5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base.Apply(tt.o)
			if !tt.want(got) {
				t.Fatalf("Apply(%+v) = %+v", tt.o, got)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Apply result invalid: %v", err)
			}
		})
	}
	t.Run("regions are copied", func(t *testing.T) {
		o := Overrides{Regions: []string{"cn-beijing"}}
		got := base.Apply(o)
		o.Regions[0] = "changed"
		if got.Regions[0] != "cn-beijing" {
			t.Fatal("Apply aliases the override's slice")
		}
	})
	t.Run("errors unwrap", func(t *testing.T) {
		_, err := FromEnv(env(EnvTimezone, "Nowhere/Land"))
		var target interface{ Unwrap() []error }
		if !errors.As(err, &target) {
			t.Fatalf("FromEnv error %v is not a joined error", err)
		}
	})
}

func TestValidRegionID(t *testing.T) {
	for _, tc := range []struct {
		id   string
		want bool
	}{
		{"cn-hangzhou", true}, {"ap-southeast-1", true}, {"cn-shanghai-finance-1", true}, {"us-west-1", true},
		{"", false}, {"cn", false}, {"cn-", false}, {"-cn", false}, {"cn--hz", false}, {"1cn-hz", false},
		{"Cn-hangzhou", false}, {"cn hangzhou", false}, {"cn_hangzhou", false}, {strings.Repeat("a-", 33), false},
	} {
		t.Run(tc.id, func(t *testing.T) {
			if got := ValidRegionID(tc.id); got != tc.want {
				t.Fatalf("ValidRegionID(%q) = %v, want %v", tc.id, got, tc.want)
			}
		})
	}
}
