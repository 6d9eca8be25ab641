package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// validate from the built binary alone: no clone, no Go toolchain on
// PATH, only the deployment files an operator keeps.
func TestValidateFromBuiltBinary(t *testing.T) {
	bin := cliBinary(t)
	dir := t.TempDir()
	for _, f := range []string{"s.yaml", "template.yaml", "docs/ram-policy.json"} {
		b, err := os.ReadFile(filepath.Join("..", f))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(f))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	validate := func(wd string, env ...string) (string, error) {
		cmd := exec.Command(bin, "validate")
		cmd.Dir = wd
		cmd.Env = append([]string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := validate(dir)
	if err != nil {
		t.Fatalf("validate in a directory with the deployment files: %v\n%s", err, out)
	}
	for _, want := range []string{"template.yaml Resources.ReaperTimer", "Deployment files (s.yaml, template.yaml, docs/ram-policy.json, docs/member-role.yaml):\n  ok", "validate: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	// A broken template is caught the same way.
	tpl := filepath.Join(dir, "template.yaml")
	b, _ := os.ReadFile(tpl)
	if err := os.WriteFile(tpl, []byte(strings.Replace(string(b), "'ALIYUN::FC3::Trigger'", "'ALIYUN::FC::Trigger'", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := validate(dir); err == nil || !strings.Contains(out, `is "ALIYUN::FC::Trigger"`) {
		t.Errorf("a broken template passed (%v):\n%s", err, out)
	}

	// An empty directory: the settings are still checked, and the missing
	// files are named.
	empty := t.TempDir()
	out, err = validate(empty, "REAPER_MAX_RELEASE=-1")
	if err == nil || !strings.Contains(out, "REAPER_MAX_RELEASE") || !strings.Contains(out, "no s.yaml") {
		t.Errorf("validate in an empty directory (%v):\n%s", err, out)
	}
}

// validate names a missing or short REAPER_MARK_SECRET, says how to make
// one, and never shows it.
func TestValidateMarkSecret(t *testing.T) {
	bin := cliBinary(t)
	validate := func(env ...string) (string, error) {
		cmd := exec.Command(bin, "validate")
		cmd.Dir = t.TempDir()
		cmd.Env = append([]string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}, env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := validate("REAPER_GRACE=1d")
	if err == nil || !strings.Contains(out, "REAPER_MARK_SECRET is required") || !strings.Contains(out, "openssl rand -base64 48") {
		t.Errorf("validate without a mark secret (%v):\n%s", err, out)
	}
	const short = "short-mark-secret-SHOWN"
	out, err = validate("REAPER_RELEASE_EIPS=true", "REAPER_MARK_SECRET="+short, "REAPER_MARK_SECRET_PREVIOUS="+fnMarkSecret+"-old")
	if err == nil || !strings.Contains(out, "at least 32") || strings.Contains(out, short) || strings.Contains(out, fnMarkSecret) {
		t.Errorf("validate with a short mark secret (%v):\n%s", err, out)
	}
	out, _ = validate("REAPER_RUNNING=stop", "REAPER_MARK_SECRET="+fnMarkSecret)
	if strings.Contains(out, "REAPER_MARK_SECRET is") || strings.Contains(out, fnMarkSecret) {
		t.Errorf("validate with a good mark secret:\n%s", out)
	}
}
