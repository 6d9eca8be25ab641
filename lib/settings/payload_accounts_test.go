package settings_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/settings"
)

// A timer payload's "accounts" narrows REAPER_ACCOUNTS, never widens it:
// what can be checked before the accounts are listed is checked here (rd's
// members once listed, by lib/org).
func TestPayloadNarrowsAccounts(t *testing.T) {
	const a, b, c = "1000000000000111", "1000000000000222", "1000000000000333"
	for _, tc := range []struct {
		name, accounts, payload string
		want                    []string
		wantErr                 []string
	}{
		{name: "a subset of a list", accounts: a + "," + b, payload: `{"accounts": ["` + b + `"]}`, want: []string{b}},
		{name: "rd: checked once listed", accounts: "rd", payload: `{"accounts": ["` + c + `"]}`, want: []string{c}},
		{name: "outside the list", accounts: a + "," + b, payload: `{"accounts": ["` + a + `", "` + c + `"]}`, wantErr: []string{c, "never widen", settings.EnvAccounts}},
		{name: "the own account alone", accounts: "", payload: `{"accounts": ["` + a + `"]}`, wantErr: []string{a, "never widen"}},
		{name: "self of the own account", accounts: "self", payload: `{"accounts": ["self"]}`, want: []string{"self"}},
		{name: "self not in the list", accounts: a, payload: `{"accounts": ["self"]}`, wantErr: []string{"self", "never widen"}},
		{name: "empty", accounts: a, payload: `{"accounts": []}`, wantErr: []string{`"accounts" must not be empty`}},
		{name: "not an ID", accounts: a, payload: `{"accounts": ["prod"]}`, wantErr: []string{`"prod" is not an account ID`}},
		{name: "a comma inside", accounts: a + "," + b, payload: `{"accounts": ["` + a + `,` + b + `"]}`, wantErr: []string{"is not an account ID"}},
		{name: "not strings", accounts: a, payload: `{"accounts": [111]}`, wantErr: []string{`"accounts" must be an array of account ID strings`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{settings.EnvAccounts: tc.accounts}
			if tc.accounts == "rd" {
				env[settings.EnvAccountTag] = "reaper=on"
			}
			cfg, err := settings.FromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
			if err != nil {
				t.Fatal(err)
			}
			o, err := settings.ParsePayload(tc.payload)
			if err == nil {
				cfg, err = cfg.Narrow(o, "cn-hangzhou")
			}
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("accepted: %v", cfg.NarrowAccounts)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || !slices.Equal(cfg.NarrowAccounts, tc.want) {
				t.Fatalf("narrowed to %v, %v; want %v", cfg.NarrowAccounts, err, tc.want)
			}
		})
	}
}
