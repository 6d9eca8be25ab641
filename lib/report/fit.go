package report

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// table is rows of cells fitted to a width: the flexible column (the
// detail) gives up room first, then the droppable columns go, in order;
// every cut cell ends in "…". Wide keeps every cell whole.
type table struct {
	indent string
	head   []string
	rows   [][]string
	flex   int   // the column that takes what is left
	drop   []int // columns dropped, in this order, when the rest does not fit
	// flexLast: drop the columns before cutting the flexible one (it
	// matters more than they do).
	flexLast bool
}

// minFlex is the least room the flexible column keeps before columns are
// dropped.
const minFlex = 16

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer, width int, wide bool) {
	n := len(t.head)
	natural := make([]int, n)
	for i, h := range t.head {
		natural[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			natural[i] = max(natural[i], utf8.RuneCountInString(c))
		}
	}
	widths := append([]int(nil), natural...)
	shown := make([]bool, n)
	for i := range shown {
		shown[i] = true
	}
	if !wide && width > 0 {
		avail := width - len(t.indent) - 1 // a full last column wraps on some terminals
		used := func() int {
			u := 0
			for i := range widths {
				if shown[i] {
					u += widths[i] + 2
				}
			}
			return u - 2
		}
		shrink := func() {
			widths[t.flex] = natural[t.flex]
			if over := used() - avail; over > 0 {
				widths[t.flex] = max(min(minFlex, natural[t.flex]), natural[t.flex]-over)
			}
		}
		for i, d := range append([]int{-1}, t.drop...) {
			if d >= 0 {
				shown[d] = false
			}
			if !t.flexLast || i == len(t.drop) {
				shrink()
			}
			if used() <= avail {
				break
			}
		}
	}
	last := -1
	for i := range shown {
		if shown[i] {
			last = i
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString(t.indent)
		for i, c := range cells {
			if !shown[i] {
				continue
			}
			c = cut(c, widths[i])
			b.WriteString(c)
			if i != last {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
	line(t.head)
	for _, r := range t.rows {
		line(r)
	}
}

// fit cuts s to width columns (after indent), unless wide.
func fit(s string, width int, wide bool) string {
	if wide || width <= 0 {
		return s
	}
	return cut(s, width)
}
