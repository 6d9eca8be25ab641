package settings

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/notify"
)

func TestNoticeSettings(t *testing.T) {
	const token = "tok-9f8e7d6c5b4a"
	const secret = "SECsecret-do-not-show"
	for _, tc := range []struct {
		name    string
		env     []string
		check   func(Settings) bool
		wantErr []string
	}{
		{name: "no channel: no grace", env: nil, check: func(s Settings) bool { return s.Grace == 0 && !s.GraceOn() && s.Running == RunningSkip }},
		{name: "a channel brings a day of grace", env: []string{EnvNotifyURL, "https://oapi.dingtalk.com/robot/send?access_token=" + token},
			check: func(s Settings) bool {
				return s.NotifyKind == notify.DingTalk && s.Grace == DefaultGrace && s.GraceOn()
			}},
		{name: "lark by host", env: []string{EnvNotifyURL, "https://open.larksuite.com/open-apis/bot/v2/hook/" + token}, check: func(s Settings) bool { return s.NotifyKind == notify.Lark }},
		{name: "feishu by host", env: []string{EnvNotifyURL, "https://open.feishu.cn/open-apis/bot/v2/hook/" + token}, check: func(s Settings) bool { return s.NotifyKind == notify.Lark }},
		{name: "slack by host", env: []string{EnvNotifyURL, "https://hooks.slack.com/services/T1/B2/" + token}, check: func(s Settings) bool { return s.NotifyKind == notify.Slack }},
		{name: "kind forced", env: []string{EnvNotifyURL, "http://127.0.0.1:9000/hook", EnvNotifyKind, "JSON"}, check: func(s Settings) bool { return s.NotifyKind == notify.JSON }},
		{name: "grace set explicitly", env: []string{EnvNotifyURL, "https://hooks.slack.com/services/x", EnvGrace, "2d"}, check: func(s Settings) bool { return s.Grace == 48*time.Hour }},
		{name: "grace without a channel", env: []string{EnvGrace, "6h"}, check: func(s Settings) bool { return s.Grace == 6*time.Hour && s.GraceOn() }},
		{name: "grace zero with a channel", env: []string{EnvNotifyURL, "https://hooks.slack.com/services/x", EnvGrace, "0s"}, check: func(s Settings) bool { return s.Grace == 0 }},
		{name: "notice in days", env: []string{EnvNotifyURL, "https://hooks.slack.com/services/x", EnvNotice, "3d"}, check: func(s Settings) bool { return s.Notice == 72*time.Hour }},
		{name: "notice with grace, without a channel", env: []string{EnvGrace, "6h", EnvNotice, "3d"}, check: func(s Settings) bool { return s.Notice == 72*time.Hour && s.GraceOn() }},
		{name: "notice without a channel", env: []string{EnvNotice, "3d"}, wantErr: []string{"REAPER_NOTICE is set without a usable REAPER_NOTIFY_URL"}},
		{name: "notice with a blank channel", env: []string{EnvNotice, "3d", EnvNotifyURL, "  \t "}, wantErr: []string{"REAPER_NOTICE is set without a usable REAPER_NOTIFY_URL"}},
		{name: "kind without a channel", env: []string{EnvNotifyKind, "slack"}, wantErr: []string{`REAPER_NOTIFY_KIND "slack" is set without a usable REAPER_NOTIFY_URL`}},
		{name: "kind with a blank channel", env: []string{EnvNotifyKind, "dingtalk", EnvNotifyURL, " "}, wantErr: []string{`REAPER_NOTIFY_KIND "dingtalk" is set without a usable REAPER_NOTIFY_URL`}},
		{name: "opt-in tag is the stop mark", env: []string{EnvTagKey, "reaper-notified-stopped"}, wantErr: []string{`REAPER_MARK_TAG "reaper-notified" makes the stop mark "reaper-notified-stopped", the same key as REAPER_TAG_KEY`}},
		{name: "keep tag is the EIP hand-over mark", env: []string{EnvKeepTag, "reaper-notified-released-with"}, wantErr: []string{"the EIP hand-over mark", "the same key as REAPER_KEEP_TAG"}},
		{name: "owner tag is the stop mark", env: []string{EnvOwnerTag, "m-stopped", EnvMarkTag, "m"}, wantErr: []string{"the same key as REAPER_OWNER_TAG"}},
		{name: "mark tag too long for its derived keys", env: []string{EnvMarkTag, strings.Repeat("m", 120)}, wantErr: []string{"REAPER_MARK_TAG", "must be at most 128 characters", "shorten REAPER_MARK_TAG"}},
		{name: "mark tag at the longest its derived keys allow", env: []string{EnvMarkTag, strings.Repeat("m", 128-len("-released-with"))}, check: func(s Settings) bool { return len(s.EIPMarkTag()) == 128 }},
		{name: "force is an alias", env: []string{EnvForce, "true"}, check: func(s Settings) bool { return s.Running == RunningForce && s.Force }},
		{name: "running stop", env: []string{EnvRunning, "stop"}, check: func(s Settings) bool {
			return s.Running == RunningStop && !s.Force && s.Lifecycle().Stop && !s.Lifecycle().Force
		}},
		{name: "running force", env: []string{EnvRunning, "force"}, check: func(s Settings) bool { return s.Force && s.Lifecycle().Force && !s.Lifecycle().Stop }},
		{name: "alias and setting agree", env: []string{EnvForce, "true", EnvRunning, "force"}, check: func(s Settings) bool { return s.Force }},
		{name: "alias contradicts", env: []string{EnvForce, "true", EnvRunning, "stop"}, wantErr: []string{"REAPER_FORCE=true contradicts REAPER_RUNNING=stop"}},
		{name: "running unknown", env: []string{EnvRunning, "hibernate"}, wantErr: []string{"REAPER_RUNNING", "skip, stop or force"}},
		{name: "unknown host without a kind", env: []string{EnvNotifyURL, "https://chat.example.com/hook/" + token}, wantErr: []string{"REAPER_NOTIFY_KIND"}},
		{name: "plain http to a real host", env: []string{EnvNotifyURL, "http://oapi.dingtalk.com/robot/send?access_token=" + token}, wantErr: []string{"REAPER_NOTIFY_URL=<redacted>", "https://"}},
		{name: "https to the link-local metadata", env: []string{EnvNotifyURL, "https://169.254.169.254/robot/send?access_token=" + token, EnvNotifyKind, "dingtalk"}, wantErr: []string{"REAPER_NOTIFY_URL=<redacted>", "link-local"}},
		{name: "https to alibaba's metadata", env: []string{EnvNotifyURL, "https://100.100.100.200/latest/meta-data/" + token, EnvNotifyKind, "json"}, wantErr: []string{"metadata"}},
		{name: "https to the unspecified address", env: []string{EnvNotifyURL, "https://0.0.0.0:8443/hook/" + token, EnvNotifyKind, "json"}, wantErr: []string{"unspecified"}},
		{name: "https to the unspecified v6 address", env: []string{EnvNotifyURL, "https://[::]/hook/" + token, EnvNotifyKind, "json"}, wantErr: []string{"unspecified"}},
		{name: "https to a v6 link-local with a zone", env: []string{EnvNotifyURL, "https://[fe80::1%25eth0]/hook/" + token, EnvNotifyKind, "json"}, wantErr: []string{"link-local"}},
		{name: "https to a mapped metadata address", env: []string{EnvNotifyURL, "https://[::ffff:100.100.100.200]/hook/" + token, EnvNotifyKind, "json"}, wantErr: []string{"metadata"}},
		{name: "https to a numeric form of an address", env: []string{EnvNotifyURL, "https://1684300999/hook/" + token, EnvNotifyKind, "json"}, wantErr: []string{"plain IP address"}},
		{name: "https to a hex form of an address", env: []string{EnvNotifyURL, "https://0x64.0x64.0x64.0xc8/hook/" + token, EnvNotifyKind, "json"}, wantErr: []string{"plain IP address"}},
		{name: "https to a plain public address", env: []string{EnvNotifyURL, "https://203.0.113.7/hook/" + token, EnvNotifyKind, "json"}, check: func(s Settings) bool { return s.NotifyKind == notify.JSON }},
		{name: "secret without a channel", env: []string{EnvNotifySecret, secret}, wantErr: []string{"REAPER_NOTIFY_SECRET is set without REAPER_NOTIFY_URL"}},
		{name: "slack is not signed", env: []string{EnvNotifyURL, "https://hooks.slack.com/services/x", EnvNotifySecret, secret}, wantErr: []string{"not signed"}},
		{name: "mark tag equal to the opt-in tag", env: []string{EnvMarkTag, "reaper-expires"}, wantErr: []string{"REAPER_MARK_TAG", "must differ"}},
		{name: "bad kind", env: []string{EnvNotifyURL, "https://hooks.slack.com/services/x", EnvNotifyKind, "teams"}, wantErr: []string{"REAPER_NOTIFY_KIND"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromEnv(env(append([]string{EnvMarkSecret, testMarkSecret}, tc.env...)...))
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("FromEnv = %+v, want an error", s)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if strings.Contains(err.Error(), token) || strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a credential", err)
				}
				return
			}
			if err != nil || !tc.check(s) {
				t.Fatalf("FromEnv = %+v, %v", s, err)
			}
			for _, a := range s.Describe() {
				if v := a.Value.String(); strings.Contains(v, token) || strings.Contains(v, secret) {
					t.Errorf("Describe shows a credential in %s: %q", a.Key, v)
				}
			}
		})
	}
}

const testMarkSecret = "settings-test-mark-secret-0123456789abcdef"

func TestMarkSecret(t *testing.T) {
	const short = "too-short-secret-0123456789"
	const previous = "previous-mark-secret-0123456789abcdefgh"
	for _, tc := range []struct {
		name    string
		env     []string
		wantErr []string
	}{
		{name: "no marks: no secret needed", env: nil},
		{name: "notices need one", env: []string{EnvNotifyURL, "https://hooks.slack.com/services/x"}, wantErr: []string{"REAPER_MARK_SECRET is required", "REAPER_NOTIFY_URL", "openssl rand -base64 48"}},
		{name: "a grace without a channel needs one", env: []string{EnvGrace, "6h"}, wantErr: []string{"REAPER_MARK_SECRET is required", "REAPER_GRACE"}},
		{name: "the stop mark needs one", env: []string{EnvRunning, "stop"}, wantErr: []string{"REAPER_MARK_SECRET is required", "REAPER_RUNNING=stop"}},
		{name: "the EIP hand-over needs one", env: []string{EnvReleaseEIPs, "true"}, wantErr: []string{"REAPER_MARK_SECRET is required", "REAPER_RELEASE_EIPS=true"}},
		{name: "resource notices need one", env: []string{EnvResources, "disks,snapshots", EnvGrace, "1d"}, wantErr: []string{"REAPER_MARK_SECRET is required"}},
		{name: "set", env: []string{EnvReleaseEIPs, "true", EnvRunning, "stop", EnvGrace, "1d", EnvMarkSecret, testMarkSecret}},
		{name: "too short", env: []string{EnvGrace, "1d", EnvMarkSecret, short}, wantErr: []string{"REAPER_MARK_SECRET is 27 characters", "at least 32", "openssl rand"}},
		{name: "too short even when unused", env: []string{EnvMarkSecret, short}, wantErr: []string{"at least 32"}},
		{name: "a rotation", env: []string{EnvGrace, "1d", EnvMarkSecret, testMarkSecret, EnvMarkSecretPrev, previous}},
		{name: "a previous without a current", env: []string{EnvMarkSecretPrev, previous}, wantErr: []string{"REAPER_MARK_SECRET_PREVIOUS is set without REAPER_MARK_SECRET"}},
		{name: "a short previous", env: []string{EnvMarkSecret, testMarkSecret, EnvMarkSecretPrev, short}, wantErr: []string{"REAPER_MARK_SECRET_PREVIOUS is 27 characters"}},
		{name: "the same twice", env: []string{EnvMarkSecret, testMarkSecret, EnvMarkSecretPrev, testMarkSecret}, wantErr: []string{"REAPER_MARK_SECRET_PREVIOUS equals"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromEnv(env(tc.env...))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				if err == nil {
					t.Fatal("no error")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
			}
			shown := fmt.Sprintf("%v", err) + fmt.Sprint(s.Describe()) + fmt.Sprint(s.Lifecycle())
			for _, secret := range []string{testMarkSecret, short, previous} {
				if strings.Contains(shown, secret) {
					t.Errorf("a mark secret is shown: %s", shown)
				}
			}
		})
	}
}

// Every kind notify knows is a REAPER_NOTIFY_KIND word, every host it
// names selects its kind, and a kind that takes no secret refuses one:
// the settings hold no list of their own.
func TestEveryChannelOfNotifyIsASetting(t *testing.T) {
	const token = "tok-9f8e7d6c5b4a"
	for _, host := range notify.Hosts() {
		want, _ := notify.KindOfHost(host)
		s, err := FromEnv(env(EnvNotifyURL, "https://"+host+"/hook/"+token, EnvMarkSecret, testMarkSecret))
		if err != nil || s.NotifyKind != want {
			t.Errorf("host %s: kind %q, %v; want %s", host, s.NotifyKind, err, want)
		}
	}
	for _, kind := range notify.Kinds() {
		_, err := FromEnv(env(EnvNotifyURL, "https://203.0.113.7/hook/"+token, EnvNotifyKind, strings.ToUpper(kind), EnvNotifySecret, "SECsecret", EnvMarkSecret, testMarkSecret))
		if notify.Signed(kind) != (err == nil) {
			t.Errorf("kind %s with a secret: %v; notify says signed=%t", kind, err, notify.Signed(kind))
		}
	}
}
