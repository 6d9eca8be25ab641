package settings

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

// Every entry is complete: what it fills, what it accepts, its help, and
// its default passes its own rules.
func TestTableEntries(t *testing.T) {
	fields := reflect.TypeFor[Settings]()
	keys := map[string]bool{}
	for _, sp := range table {
		if _, ok := fields.FieldByName(sp.field); !ok {
			t.Errorf("%s names field %q, which Settings lacks", sp.name, sp.field)
		}
		if sp.help == "" || sp.accepts == "" || sp.key == "" || sp.parse == nil || sp.get == nil {
			t.Errorf("%s lacks its help, what it accepts, its key, parse or get", sp.name)
		}
		if keys[sp.key] {
			t.Errorf("%s: key %q is used twice", sp.name, sp.key)
		}
		keys[sp.key] = true
		if p := sp.problem(Default()); p != "" {
			t.Errorf("%s: the default breaks its own rules: %s", sp.name, p)
		}
	}
}

// A setting is checked once: a value that parses but breaks the entry's
// rules is refused by FromEnv and, built in code, by Validate, with the
// same problem, each naming the setting.
func TestEachRuleAtBothDoors(t *testing.T) {
	for _, tc := range []struct{ name, value, problem string }{
		{EnvTagKey, "aliyun-expiry", `must not start with "aliyun"`},
		{EnvKeepTag, "acs:keep", `"acs:"`},
		{EnvOwnerTag, "https://owner", `must not contain "http://"`},
		{EnvMarkTag, strings.Repeat("m", 129), "at most 128"},
		{EnvMaxRelease, "-1", "must be a whole number >= 0"},
		{EnvMaxReleasePercent, "0", "greater than 0 and at most 100"},
		{EnvMaxReleasePercent, "NaN", "greater than 0 and at most 100"},
		{EnvMaxReleasePercent, "100.5", "greater than 0 and at most 100"},
		{EnvPercentCapFrom, "-1", "must be a whole number >= 0"},
		{EnvEndpoint, "ftp://ecs.aliyuncs.com", "http"},
		{EnvVPCEndpoint, "https://vpc.aliyuncs.com/v1", "path"},
		{EnvFreshness, "6m", "at most 5m"},
		{EnvDeadlineMargin, "4s", "at least 5s"},
		{EnvRegionConcurrency, "65", "from 1 to 64"},
		{EnvBatchConcurrency, "0", "from 1 to 32"},
		{EnvNotifyURL, "http://chat.example.com/hook", "must use https://"},
		{EnvNotifyKind, "teams", "must be " + notify.KindChoices()},
		{EnvNotice, "-1h", "must not be negative"},
		{EnvGrace, "-30m", "must not be negative"},
		{EnvRunning, "hibernate", "must be skip, stop or force"},
		{EnvResources, "instances,vms", `"vms" is none of them`},
		{EnvResources, "disks, DISKS", `"disks" is listed twice`},
		{EnvMarkSecret, "short-mark-secret-0123456789", "REAPER_MARK_SECRET is 28 characters: it must have at least 32; generate one with `openssl rand"},
		{EnvMarkSecretPrev, "short-mark-secret-0123456789", "REAPER_MARK_SECRET_PREVIOUS is 28 characters: it must have at least 32"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			sp := specOf(t, tc.name)
			_, err := FromEnv(env(tc.name, tc.value))
			if err == nil || !strings.Contains(err.Error(), tc.name+"=") || !strings.Contains(err.Error(), tc.problem) {
				t.Fatalf("FromEnv: %v; want %s= and %q", err, tc.name, tc.problem)
			}
			s := Default()
			if p := sp.parse(&s, tc.value); p != "" {
				t.Fatalf("the value does not parse (%s): the rule under test is not the check's", p)
			}
			err2 := s.Validate()
			if err2 == nil || !strings.Contains(err2.Error(), sp.field+" ") || !strings.Contains(err2.Error(), "("+tc.name+")") || !strings.Contains(err2.Error(), tc.problem) {
				t.Fatalf("Validate: %v; want %s, (%s) and %q", err2, sp.field, tc.name, tc.problem)
			}
			if sp.secret && (strings.Contains(err.Error(), tc.value) || strings.Contains(err2.Error(), tc.value)) {
				t.Errorf("a credential is shown: %v; %v", err, err2)
			}
		})
	}
}

// Rules reached only by settings built in code (FromEnv cannot make
// these values).
func TestValidateCodeOnlyRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Settings)
		want []string
	}{
		{"regions listed twice", func(s *Settings) { s.Regions = []string{"cn-hangzhou", "cn-hangzhou"} }, []string{"Regions", "(REAPER_REGIONS)", "listed twice"}},
		{"no resources", func(s *Settings) { s.Resources = nil }, []string{"Resources", "must list at least one of instances"}},
		{"running unset", func(s *Settings) { s.Running = "" }, []string{"Running", "must be skip, stop or force"}},
		{"a channel without a kind", func(s *Settings) { s.NotifyURL = "https://chat.example.com/hook" }, []string{`REAPER_NOTIFY_KIND "": must be ` + notify.KindChoices()}},
		{"force without running force", func(s *Settings) { s.Force = true }, []string{`Force (true) and Running ("skip") disagree`}},
		{"owner tag is the keep tag", func(s *Settings) { s.OwnerTag = s.KeepTag }, []string{"REAPER_OWNER_TAG", "must differ"}},
		{"vpc endpoint for several regions", func(s *Settings) {
			s.VPCEndpoint, s.Regions = "https://vpc.cn-hangzhou.aliyuncs.com", []string{"cn-hangzhou", "cn-beijing"}
		}, []string{"REAPER_VPC_ENDPOINT", "serves one region"}},
		{"a loopback vpc endpoint serves every region", func(s *Settings) { s.VPCEndpoint, s.AllRegions = "http://127.0.0.1:9000", true }, nil},
		{"the notice time zone nil", func(s *Settings) { s.Location = nil }, []string{`Location "unset" (REAPER_TIMEZONE): is nil`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Default()
			tc.edit(&s)
			err := s.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate passed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate: %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestResources(t *testing.T) {
	s, err := FromEnv(env(EnvResources, " Disks, EIPS ,instances"))
	if err != nil || !reflect.DeepEqual(s.Resources, []string{"disks", "eips", "instances"}) {
		t.Fatalf("FromEnv = %q, %v", s.Resources, err)
	}
	for _, v := range []string{"instances,", ",", "instances;disks"} {
		if _, err := FromEnv(env(EnvResources, v)); err == nil || !strings.Contains(err.Error(), "is none of them") {
			t.Errorf("%q: %v", v, err)
		}
	}
}

// An endpoint's user information is a credential: REAPER_VPC_ENDPOINT's
// errors hide it as REAPER_ECS_ENDPOINT's do.
func TestEndpointErrorsHideUserInformation(t *testing.T) {
	for _, name := range []string{EnvEndpoint, EnvVPCEndpoint} {
		_, err := FromEnv(env(name, "https://user:secret-pw@ecs.aliyuncs.com/x"))
		if err == nil || !strings.Contains(err.Error(), name+"=") {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("%s: error shows the password: %v", name, err)
		}
	}
}

func specOf(t *testing.T, name string) spec {
	t.Helper()
	for _, sp := range table {
		if sp.name == name {
			return sp
		}
	}
	t.Fatalf("no setting %s", name)
	return spec{}
}
