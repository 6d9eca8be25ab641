package page

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// fleetPages serves total entries 10 a page; edit may change an answer.
func fleetPages(total int, edit func(n int, p *Page)) (NumberFetch, *sync.Map) {
	var read sync.Map
	return func(_ context.Context, n int) (Page, error) {
		read.Store(n, true)
		items := min(max(total-(n-1)*10, 0), 10)
		p := Page{Total: total, Items: items, Fresh: items}
		if edit != nil {
			edit(n, &p)
		}
		return p, nil
	}, &read
}

// A first page that contradicts its own total (the one-page region ends
// there) is refused, not taken as the whole region.
func TestParallelRefusesAFirstPageOverItsTotal(t *testing.T) {
	l := Listing{Name: "DescribeInstances", PageSize: 10}
	for _, first := range []Page{{Total: 0, Items: 10, Fresh: 10}, {Total: -1, Items: 3, Fresh: 3}} {
		err := l.Parallel(t.Context(), 4, first, nil)
		var ge *Error
		if !errors.As(err, &ge) || ge.Guard != Overfull {
			t.Errorf("first page %+v: err %v, want guard %s", first, err, Overfull)
		}
	}
}

func TestParallelGuards(t *testing.T) {
	l := Listing{Name: "DescribeInstances", PageSize: 10}
	first := Page{Total: 95, Items: 10, Fresh: 10}
	for _, tc := range []struct {
		name  string
		edit  func(n int, p *Page)
		guard Guard
	}{
		{"every page", nil, ""},
		{"a short page", func(n int, p *Page) {
			if n == 4 {
				p.Items, p.Fresh = 9, 9
			}
		}, Short},
		{"an empty page before the total", func(n int, p *Page) {
			if n == 10 {
				p.Items, p.Fresh = 0, 0
			}
		}, Short},
		{"a full page of nothing new", func(n int, p *Page) {
			if n == 3 {
				p.Fresh = 0
			}
		}, NothingNew},
		{"the last page repeating what was read", func(n int, p *Page) {
			if n == 10 {
				p.Fresh = 0
			}
		}, ""},
		{"a total that keeps growing", func(n int, p *Page) { p.Total = 95 + 30*n; p.Items, p.Fresh = 10, 10 }, Bound},
		{"a page over its own total", func(n int, p *Page) {
			if n == 5 {
				p.Total = 5
			}
		}, Overfull},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fetch, read := fleetPages(95, tc.edit)
			err := l.Parallel(t.Context(), 4, first, fetch)
			var ge *Error
			switch {
			case tc.guard == "" && err != nil:
				t.Fatalf("err %v", err)
			case tc.guard != "" && (!errors.As(err, &ge) || ge.Guard != tc.guard):
				t.Fatalf("err %v, want guard %s", err, tc.guard)
			}
			if tc.guard == "" {
				for n := 2; n <= 10; n++ {
					if _, ok := read.Load(n); !ok {
						t.Errorf("page %d not read", n)
					}
				}
				if _, ok := read.Load(11); ok {
					t.Error("page 11 read past the total")
				}
			}
		})
	}
}
