package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/engine"
)

// progress is a slog handler that turns the sweep's records into one
// status line on a terminal: the phase (listing, notices, writes,
// leftovers), regions listed, pages and instances seen (per page, not
// only when a region ends), batches sent, and what was released. It
// prints nothing else, and is used only when stderr is a terminal, so
// pipes and logs stay clean. The line is cut to the terminal's width.
type progress struct {
	mu                 sync.Mutex
	w                  io.Writer
	width              int
	phase              string
	regions, total     int
	seen, batches      int
	pages              int
	released, failed   int
	last               time.Time
	printed, dryRunTag bool
}

func newProgress(w io.Writer, width, regions int, dryRun bool) *progress {
	return &progress{w: w, width: width, total: regions, dryRunTag: dryRun, phase: "starting"}
}

func (p *progress) Enabled(context.Context, slog.Level) bool { return true }
func (p *progress) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *progress) WithGroup(string) slog.Handler            { return p }

func (p *progress) Handle(_ context.Context, r slog.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	intAttr := func(key string) int {
		n := 0
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				n = int(a.Value.Int64())
			}
			return true
		})
		return n
	}
	force := false
	switch r.Message {
	case "phase":
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "phase" {
				p.phase = a.Value.String()
			}
			return true
		})
		force = true // a new phase shows at once
	case "page":
		p.pages++
		p.seen += intAttr("instances")
	case "region listed":
		p.regions++
	case "batch":
		p.batches++
		n := intAttr("instances")
		var result string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "result" {
				result = a.Value.String()
			}
			return true
		})
		switch result {
		case "released", "would-release":
			p.released += n
		case "failed":
			p.failed += n
		}
	default:
		return nil
	}
	if now := time.Now(); force || now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.draw()
	}
	return nil
}

func (p *progress) draw() {
	total := "?"
	if p.total > 0 {
		total = fmt.Sprint(p.total)
	}
	verb := "released"
	if p.dryRunTag {
		verb = "would release"
	}
	line := fmt.Sprintf("  %s: regions %d/%s, pages %d, seen %d", p.phase, p.regions, total, p.pages, p.seen)
	if p.phase == engine.PhaseWrites || p.phase == engine.PhaseLeftovers || p.batches > 0 {
		line += fmt.Sprintf(", batches %d, %s %d", p.batches, verb, p.released)
	}
	if p.failed > 0 {
		line += fmt.Sprintf(", FAILED %d", p.failed)
	}
	fmt.Fprintf(p.w, "\r\033[K%s", cut(line, p.width-1))
	p.printed = true
}

// done draws the final counts and ends the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.phase = "done"
	p.draw()
	fmt.Fprintln(p.w)
}
