package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// progress is a slog handler that turns the sweep's records into one
// status line on a terminal: regions listed, instances seen, batches
// sent, and what was released. It prints nothing else, and is used only
// when stderr is a terminal, so pipes and logs stay clean.
type progress struct {
	mu                 sync.Mutex
	w                  io.Writer
	regions, total     int
	seen, batches      int
	pages              int
	released, failed   int
	last               time.Time
	printed, dryRunTag bool
}

func newProgress(w io.Writer, regions int, dryRun bool) *progress {
	return &progress{w: w, total: regions, dryRunTag: dryRun}
}

func (p *progress) Enabled(context.Context, slog.Level) bool { return true }
func (p *progress) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *progress) WithGroup(string) slog.Handler            { return p }

func (p *progress) Handle(_ context.Context, r slog.Record) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch r.Message {
	case "page":
		p.pages++
	case "region listed":
		p.regions++
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "seen" {
				p.seen += int(a.Value.Int64())
			}
			return true
		})
	case "batch":
		p.batches++
		var n int
		var result string
		r.Attrs(func(a slog.Attr) bool {
			switch a.Key {
			case "instances":
				n = int(a.Value.Int64())
			case "result":
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
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
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
	fmt.Fprintf(p.w, "\r\033[K  regions listed %d/%s, pages %d, instances seen %d, batches %d, %s %d, failed %d", p.regions, total, p.pages, p.seen, p.batches, verb, p.released, p.failed)
	p.printed = true
}

// done draws the final counts and ends the line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw()
	fmt.Fprintln(p.w)
}
