package htmlreport_test

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromiumPath finds headless Chromium. Absent, the test skips on a
// developer's machine and fails in CI (CI is set), where .ci/run installs it.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); CI runs this test")
	return ""
}

// inChromium runs headless Chromium on the page with the extra flags and
// returns its standard output. Nothing goes to the network: the page
// loads nothing, and Chromium's own background traffic is off.
func inChromium(t *testing.T, bin, pagePath string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--force-color-profile=srgb", "--hide-scrollbars", "--user-data-dir=" + filepath.Join(dir, "profile")}, extra...)
	args = append(args, "file://"+pagePath)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.String())
	}
	return string(out)
}

// TestPageRendersInChromium renders the page in headless Chromium: the
// screenshot is not blank and shows the charts' colours, and the DOM
// Chromium built holds every chart element (and no element made of an
// owner tag).
func TestPageRendersInChromium(t *testing.T) {
	bin := chromiumPath(t)
	dir := t.TempDir()
	htmlPath := filepath.Join(dir, "plan.html")
	if err := os.WriteFile(htmlPath, []byte(render(t, fixturePage())), 0o644); err != nil {
		t.Fatal(err)
	}

	shot := filepath.Join(dir, "plan.png")
	dom := inChromium(t, bin, htmlPath, "--screenshot="+shot, "--dump-dom", "--window-size=1200,2400")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	painted, colours := 0, map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := rgba(img, x, y)
			colours[c] = true
			if c != (color.RGBA{255, 255, 255, 255}) {
				painted++
			}
		}
	}
	total := b.Dx() * b.Dy()
	if painted < total/50 || len(colours) < 20 {
		t.Errorf("the screenshot looks blank: %d of %d pixels painted, %d colours", painted, total, len(colours))
	}
	// Each chart's colours cover a bar's worth of pixels: alice's timeline
	// segments, the unowned release, the leftover snapshots bar.
	for name, want := range map[string]color.RGBA{
		"alice's segments (#4e79a7)":         {0x4e, 0x79, 0xa7, 255},
		"the unowned release (#e15759)":      {0xe1, 0x57, 0x59, 255},
		"the leftover snapshots (#59a14f)":   {0x59, 0xa1, 0x4f, 255},
		"the hostile owner's bars (#f28e2b)": {0xf2, 0x8e, 0x2b, 255},
	} {
		if n := countNear(img, want); n < 200 {
			t.Errorf("%s: %d pixels, want a bar's worth", name, n)
		}
	}

	for what, want := range map[string]int{
		`<svg class="timeline timeline-`:     4,
		`<svg class="leftovers"`:             1,
		`<rect class="seg"`:                  6,
		`<rect class="bar bar-`:              4,
		`<tr class="kind-`:                   11,
		`data-owner="(no owner tag)"`:        1,
		`<text class="date"`:                 32,
		"<script":                            0,
		"&lt;script&gt;alert(\"owned\")&lt;": 3, // attention, legend, segment titles (data-owner is an attribute)
	} {
		if n := strings.Count(dom, what); n < want || want == 0 && n > 0 {
			t.Errorf("the rendered DOM holds %q %d times, want %d", what, n, want)
		}
	}
}

func rgba(img image.Image, x, y int) color.RGBA {
	r, g, b, a := img.At(x, y).RGBA()
	return color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
}

// countNear counts the pixels within a small distance of c (Chromium may
// round a colour by a step).
func countNear(img image.Image, c color.RGBA) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			p := rgba(img, x, y)
			if near(p.R, c.R) && near(p.G, c.G) && near(p.B, c.B) {
				n++
			}
		}
	}
	return n
}

func near(a, b uint8) bool { return max(a, b)-min(a, b) <= 3 }
