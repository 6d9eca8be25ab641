package settings

import (
	"reflect"
	"strings"
	"testing"
)

func TestAccountSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     []string
		wantErr []string // each must appear; none: valid
	}{
		{name: "unset is the own account", env: nil},
		{name: "self", env: []string{EnvAccounts, "self"}},
		{name: "list", env: []string{EnvAccounts, "1234567890123456, 2234567890123456", EnvAccountsExclude, "2234567890123456"}},
		{name: "rd with a tag", env: []string{EnvAccounts, "rd", EnvAccountTag, "ecs-reaper=on"}},
		{name: "rd under a folder with exclusions", env: []string{EnvAccounts, "rd:fd-bZr1Ex12", EnvAccountsExclude, "1234567890123456"}},
		{name: "rd alone is refused", env: []string{EnvAccounts, "rd"}, wantErr: []string{"REAPER_ACCOUNTS=rd would sweep every member", EnvAccountTag}},
		{name: "tag without rd", env: []string{EnvAccounts, "1234567890123456", EnvAccountTag, "a=b"}, wantErr: []string{"needs REAPER_ACCOUNTS=rd"}},
		{name: "tag without a value", env: []string{EnvAccounts, "rd", EnvAccountTag, "ecs-reaper"}, wantErr: []string{EnvAccountTag, "key=value"}},
		{name: "a name that is no account", env: []string{EnvAccounts, "prod-account"}, wantErr: []string{EnvAccounts, `"prod-account"`}},
		{name: "an account twice", env: []string{EnvAccounts, "12,12"}, wantErr: []string{"twice"}},
		{name: "exclude of the own account only", env: []string{EnvAccountsExclude, "12"}, wantErr: []string{EnvAccountsExclude, "own account only"}},
		{name: "exclude that is no account", env: []string{EnvAccounts, "12", EnvAccountsExclude, "x1"}, wantErr: []string{EnvAccountsExclude}},
		{name: "bad folder", env: []string{EnvAccounts, "rd:fd_1", EnvAccountTag, "a=b"}, wantErr: []string{"folder ID"}},
		{name: "role name", env: []string{EnvRoleName, "ecs reaper"}, wantErr: []string{EnvRoleName, "RAM role name"}},
		{name: "org cap", env: []string{EnvOrgMaxRelease, "-1"}, wantErr: []string{EnvOrgMaxRelease}},
		{name: "org percent", env: []string{EnvOrgMaxReleasePercent, "0"}, wantErr: []string{EnvOrgMaxReleasePercent}},
		{name: "sts over http elsewhere", env: []string{EnvSTSEndpoint, "http://sts.aliyuncs.com"}, wantErr: []string{EnvSTSEndpoint}},
		{name: "sts on loopback", env: []string{EnvSTSEndpoint, "http://127.0.0.1:8080"}},
		{name: "resourcemanager over http elsewhere", env: []string{EnvResourceManagerEndpoint, "http://resourcemanager.aliyuncs.com"}, wantErr: []string{EnvResourceManagerEndpoint}},
		{name: "resourcemanager https", env: []string{EnvResourceManagerEndpoint, "https://resourcemanager.aliyuncs.com"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromEnv(env(tc.env...))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("FromEnv = %v", err)
				}
				if _, err := s.Accounts(); err != nil {
					t.Fatalf("Accounts() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("FromEnv accepted %q", tc.env)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestAccountsSelection(t *testing.T) {
	s, err := FromEnv(env(EnvAccounts, "rd:fd-1,self", EnvAccountTag, "team = qa", EnvAccountsExclude, "3,1"))
	if err != nil {
		t.Fatal(err)
	}
	sel, err := s.Accounts()
	if err != nil {
		t.Fatal(err)
	}
	if !sel.Multi() || !sel.Self || !sel.RD || sel.Folder != "fd-1" || sel.TagKey != "team" || sel.TagValue != "qa" || !reflect.DeepEqual(sel.Exclude, []string{"1", "3"}) {
		t.Fatalf("Accounts() = %+v", sel)
	}
}

// The ExternalId is not a secret by the docs, but it is never shown.
func TestRoleExternalIDNeverShown(t *testing.T) {
	const id = "planted-external-id-\x01"
	_, err := FromEnv(env(EnvRoleExternalID, id))
	if err == nil || strings.Contains(err.Error(), "planted-external-id") || !strings.Contains(err.Error(), EnvRoleExternalID) {
		t.Fatalf("FromEnv with a bad ExternalId = %v", err)
	}
	s, err := FromEnv(env(EnvRoleExternalID, "planted-external-id"))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range s.Describe() {
		if strings.Contains(a.Value.String(), "planted-external-id") {
			t.Fatalf("Describe shows the ExternalId: %v", a)
		}
	}
}
