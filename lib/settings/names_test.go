package settings

import (
	"strings"
	"testing"
)

func TestCheckNamesRefusesUnknownReaperVariables(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string // in the error; nil means no error
	}{
		{name: "known names only", environ: []string{"REAPER_DRY_RUN=true", "PATH=/bin", "REAPER_REGIONS=all"}},
		{name: "not ours", environ: []string{"REAPERX=1", "MY_REAPER_DRYRUN=1", "DEBUG=x"}},
		{name: "misspelt dry run", environ: []string{"REAPER_DRYRUN=true"}, want: []string{"REAPER_DRYRUN is not a setting", "did you mean REAPER_DRY_RUN?"}},
		{name: "misspelt max release", environ: []string{"REAPER_MAX_RELESE=5"}, want: []string{"REAPER_MAX_RELESE", "REAPER_MAX_RELEASE?"}},
		{name: "wrong case", environ: []string{"reaper_dry_run=true"}, want: []string{"reaper_dry_run", "REAPER_DRY_RUN?"}},
		{name: "several", environ: []string{"REAPER_DRYRUN=1", "REAPER_FORSE=1"}, want: []string{"REAPER_DRYRUN", "REAPER_FORSE", "REAPER_FORCE?"}},
		{name: "a value is never shown", environ: []string{"REAPER_SECRET=hunter2"}, want: []string{"REAPER_SECRET is not a setting"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckNames(tc.environ)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("CheckNames(%q) = %v, want nil", tc.environ, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckNames(%q) = nil, want an error", tc.environ)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows a value", err)
			}
		})
	}
}

func TestNarrowOnlyNarrows(t *testing.T) {
	yes, no := true, false
	five, fifty, hundred := 5, 50, 100
	dry := Default()
	dry.DryRun = true
	listed := Default()
	listed.Regions = []string{"cn-hangzhou", "cn-shanghai"}
	all := Default()
	all.AllRegions = true
	for _, tc := range []struct {
		name    string
		base    Settings
		own     string
		o       Overrides
		wantErr []string
		check   func(Settings) bool
	}{
		{name: "dry run on over a real run", base: Default(), o: Overrides{DryRun: &yes}, check: func(s Settings) bool { return s.DryRun }},
		{name: "dry run off over a real run", base: Default(), o: Overrides{DryRun: &no}, check: func(s Settings) bool { return !s.DryRun }},
		{name: "dry run stays on", base: dry, o: Overrides{DryRun: &yes}, check: func(s Settings) bool { return s.DryRun }},
		{name: "dry run cannot be turned off", base: dry, o: Overrides{DryRun: &no}, wantErr: []string{`"dryRun"`, "REAPER_DRY_RUN=true", "only turn a dry run on"}},
		{name: "max release lowered", base: Default(), o: Overrides{MaxRelease: &five}, check: func(s Settings) bool { return s.MaxRelease == 5 }},
		{name: "max release equal", base: Default(), o: Overrides{MaxRelease: &hundred}, check: func(s Settings) bool { return s.MaxRelease == 100 }},
		{name: "max release raised", base: func() Settings { s := Default(); s.MaxRelease = 10; return s }(), o: Overrides{MaxRelease: &fifty},
			wantErr: []string{`"maxRelease"`, "50 exceeds REAPER_MAX_RELEASE=10"}},
		{name: "regions within the list", base: listed, o: Overrides{Regions: []string{"cn-shanghai"}}, check: func(s Settings) bool { return len(s.Regions) == 1 && s.Regions[0] == "cn-shanghai" }},
		{name: "regions outside the list", base: listed, o: Overrides{Regions: []string{"cn-shanghai", "cn-beijing"}},
			wantErr: []string{`"regions"`, "cn-beijing not within REAPER_REGIONS=cn-hangzhou,cn-shanghai"}},
		{name: "any region under all", base: all, o: Overrides{Regions: []string{"eu-central-1"}}, check: func(s Settings) bool { return !s.AllRegions && s.Regions[0] == "eu-central-1" }},
		{name: "own region when unset", base: Default(), own: "cn-hangzhou", o: Overrides{Regions: []string{"cn-hangzhou"}}, check: func(s Settings) bool { return s.Regions[0] == "cn-hangzhou" }},
		{name: "another region when unset", base: Default(), own: "cn-hangzhou", o: Overrides{Regions: []string{"cn-beijing"}},
			wantErr: []string{"cn-beijing not within REAPER_REGIONS unset", `"cn-hangzhou"`}},
		{name: "every widening at once", base: dry, own: "cn-hangzhou", o: Overrides{DryRun: &no, MaxRelease: func() *int { n := 101; return &n }(), Regions: []string{"us-west-1"}},
			wantErr: []string{"dryRun", "maxRelease", "regions"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.base.Narrow(tc.o, tc.own)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Narrow = %+v, want an error", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || !tc.check(got) {
				t.Fatalf("Narrow = %+v, %v", got, err)
			}
		})
	}
}
