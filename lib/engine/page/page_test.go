package page_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
)

// tokenServer serves a NextToken listing from a script: pages[i] answers
// the i-th call (then the last one again, for a listing that never ends).
type tokenServer struct {
	pages  []page.Page
	tokens []string // the token each call was read at
	fail   map[int]error
}

func (s *tokenServer) fetch(_ context.Context, token string) (page.Page, error) {
	n := len(s.tokens)
	s.tokens = append(s.tokens, token)
	if err := s.fail[n]; err != nil {
		return page.Page{}, err
	}
	return s.pages[min(n, len(s.pages)-1)], nil
}

// full is a page of 100 new entries whose next token is next.
func full(next string) page.Page { return page.Page{Next: next, Items: 100, Fresh: 100} }

func TestTokens(t *testing.T) {
	errAPI := errors.New("InternalError")
	endless := func(fresh int) []page.Page {
		var ps []page.Page
		for i := range 200 {
			ps = append(ps, page.Page{Next: "t" + strconv.Itoa(i+1), Items: fresh, Fresh: fresh})
		}
		return ps
	}
	cases := []struct {
		name  string
		pages []page.Page
		fail  map[int]error
		calls int
		guard page.Guard // "" = ends normally
		err   error
	}{
		{name: "one page", pages: []page.Page{{Items: 3, Fresh: 3}}, calls: 1},
		{name: "three pages", pages: []page.Page{full("a"), full("b"), {Items: 7, Fresh: 7}}, calls: 3},
		{name: "an empty region", pages: []page.Page{{}}, calls: 1},
		{name: "an empty last page", pages: []page.Page{full("a"), {}}, calls: 2},
		{name: "a token that repeats itself", pages: []page.Page{full("a"), full("a")}, calls: 2, guard: page.Cycle},
		{name: "a cycle of period 2", pages: []page.Page{full("a"), full("b"), full("a")}, calls: 3, guard: page.Cycle},
		{name: "an empty page with a token", pages: []page.Page{full("a"), {Next: "b"}}, calls: 2, guard: page.NothingNew},
		{name: "a repeated page with a fresh token", pages: []page.Page{full("a"), {Next: "b", Items: 100}}, calls: 2, guard: page.NothingNew},
		{name: "pages that trickle one entry each", pages: endless(1), calls: 8, guard: page.Bound},
		{name: "half-full pages are fine", pages: append(endless(50)[:20], page.Page{Items: 50, Fresh: 50}), calls: 21},
		{name: "an error mid-way", pages: []page.Page{full("a"), full("b"), {}}, fail: map[int]error{1: errAPI}, calls: 2, err: errAPI},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &tokenServer{pages: tc.pages, fail: tc.fail}
			err := page.Listing{Name: "DescribeDisks", PageSize: 100}.Tokens().Run(t.Context(), s.fetch)
			if len(s.tokens) != tc.calls {
				t.Errorf("%d calls (%q), want %d", len(s.tokens), s.tokens, tc.calls)
			}
			checkErr(t, err, tc.guard, tc.err)
			if tc.guard == "" && tc.err == nil && s.tokens[0] != "" {
				t.Errorf("first page read at %q", s.tokens[0])
			}
		})
	}
}

// The token read after each page is the one it handed out.
func TestTokensFollowTheNextToken(t *testing.T) {
	s := &tokenServer{pages: []page.Page{full("a"), full("b"), {Items: 1, Fresh: 1}}}
	if err := (page.Listing{Name: "DescribeInstances", PageSize: 100}).Tokens().Run(t.Context(), s.fetch); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.tokens, ","); got != ",a,b" {
		t.Errorf("read at %q, want \",a,b\"", got)
	}
}

// A page read before (discovery's probe) is taken, then the listing
// resumes at its token, with its token counted as handed out.
func TestTokensResumeAfterATakenPage(t *testing.T) {
	pages := page.Listing{Name: "DescribeInstances", PageSize: 100}.Tokens()
	if err := pages.Take(full("a")); err != nil {
		t.Fatal(err)
	}
	s := &tokenServer{pages: []page.Page{full("a")}}
	err := pages.Run(t.Context(), s.fetch)
	checkErr(t, err, page.Cycle, nil)
	if got := strings.Join(s.tokens, ","); got != "a" {
		t.Errorf("read at %q, want a", got)
	}
}

// Without a page size (the server chooses it) only the ceiling bounds a
// listing whose every page adds something.
func TestTokensCeiling(t *testing.T) {
	n := 0
	err := page.Listing{Name: "ListTagResources"}.Tokens().Run(t.Context(), func(context.Context, string) (page.Page, error) {
		n++
		return page.Page{Next: strconv.Itoa(n), Items: 1, Fresh: 1}, nil
	})
	checkErr(t, err, page.Ceiling, nil)
	if n != page.MaxPages {
		t.Errorf("%d calls, want %d", n, page.MaxPages)
	}
}

func TestNumbers(t *testing.T) {
	errAPI := errors.New("Throttling")
	p := func(total, items, fresh int) page.Page { return page.Page{Total: total, Items: items, Fresh: fresh} }
	cases := []struct {
		name  string
		pages []page.Page
		fail  map[int]error
		calls int
		guard page.Guard
		err   error
	}{
		{name: "none", pages: []page.Page{p(0, 0, 0)}, calls: 1},
		{name: "one page", pages: []page.Page{p(42, 42, 42)}, calls: 1},
		{name: "exactly two pages", pages: []page.Page{p(200, 100, 100), p(200, 100, 100)}, calls: 2},
		{name: "three pages", pages: []page.Page{p(250, 100, 100), p(250, 100, 100), p(250, 50, 50)}, calls: 3},
		{name: "one gone between pages", pages: []page.Page{p(201, 100, 100), p(200, 100, 100)}, calls: 2},
		{name: "an empty page before the total", pages: []page.Page{p(250, 100, 100), p(250, 0, 0)}, calls: 2, guard: page.Short},
		{name: "a repeated page", pages: []page.Page{p(250, 100, 100), p(250, 100, 0)}, calls: 2, guard: page.NothingNew},
		{name: "pages that trickle past the total's pages", pages: []page.Page{p(150, 1, 1)}, calls: 5, guard: page.Bound},
		{name: "an error mid-way", pages: []page.Page{p(250, 100, 100)}, fail: map[int]error{2: errAPI}, calls: 2, err: errAPI},
		// An answer that contradicts itself would end the listing as if whole.
		{name: "a page over its own total", pages: []page.Page{p(0, 100, 100), p(250, 100, 100)}, calls: 1, guard: page.Overfull},
		{name: "a negative total", pages: []page.Page{p(-1, 100, 100), p(250, 100, 100)}, calls: 1, guard: page.Overfull},
		{name: "a later page over its own total", pages: []page.Page{p(250, 100, 100), p(50, 100, 100)}, calls: 2, guard: page.Overfull},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var read []int
			err := page.Listing{Name: "DescribeEipAddresses", PageSize: 100}.Numbers(t.Context(), func(_ context.Context, n int) (page.Page, error) {
				read = append(read, n)
				if err := tc.fail[n]; err != nil {
					return page.Page{}, err
				}
				return tc.pages[min(n, len(tc.pages))-1], nil
			})
			if len(read) != tc.calls {
				t.Errorf("%d calls (%v), want %d", len(read), read, tc.calls)
			}
			for i, n := range read {
				if n != i+1 {
					t.Fatalf("read pages %v, want 1, 2, …", read)
				}
			}
			checkErr(t, err, tc.guard, tc.err)
		})
	}
}

// A TotalCount that grows with every page is stopped by the ceiling.
func TestNumbersCeiling(t *testing.T) {
	calls := 0
	err := page.Listing{Name: "DescribeEipAddresses", PageSize: 100}.Numbers(t.Context(), func(_ context.Context, n int) (page.Page, error) {
		calls++
		return page.Page{Total: n*100 + 1, Items: 100, Fresh: 100}, nil
	})
	checkErr(t, err, page.Ceiling, nil)
	if calls != page.MaxPages {
		t.Errorf("%d calls, want %d", calls, page.MaxPages)
	}
}

// A canceled context stops either form before its next call.
func TestCancellationStopsTheListing(t *testing.T) {
	for _, form := range []string{"tokens", "numbers"} {
		t.Run(form, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			calls := 0
			l := page.Listing{Name: "DescribeSnapshots", PageSize: 100}
			var err error
			if form == "tokens" {
				err = l.Tokens().Run(ctx, func(context.Context, string) (page.Page, error) {
					calls++
					cancel()
					return full("t" + strconv.Itoa(calls)), nil
				})
			} else {
				err = l.Numbers(ctx, func(context.Context, int) (page.Page, error) {
					calls++
					cancel()
					return page.Page{Total: 1000, Items: 100, Fresh: 100}, nil
				})
			}
			if calls != 1 || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "DescribeSnapshots") {
				t.Fatalf("%d calls, err %v; want 1 call and the listing canceled", calls, err)
			}
			if f := page.Failure(err); f.Code != ecsapi.CodeCanceled {
				t.Errorf("failure %+v, want code %s", f, ecsapi.CodeCanceled)
			}
		})
	}
}

// A guard's failure names the listing and the guard, as a bad response.
func TestFailureNamesTheListingAndTheGuard(t *testing.T) {
	s := &tokenServer{pages: []page.Page{full("x"), full("x")}}
	err := page.Listing{Name: "DescribeDisks", PageSize: 500}.Tokens().Run(t.Context(), s.fetch)
	f := page.Failure(err)
	if f.Code != ecsapi.CodeBadResponse || !strings.Contains(f.Message, "DescribeDisks pagination cycles") || !strings.Contains(f.Message, string(page.Cycle)) {
		t.Errorf("failure %+v", f)
	}
}

func checkErr(t *testing.T, err error, guard page.Guard, want error) {
	t.Helper()
	var ge *page.Error
	switch {
	case want != nil:
		if !errors.Is(err, want) {
			t.Errorf("err %v, want %v", err, want)
		}
	case guard == "":
		if err != nil {
			t.Errorf("err %v, want the listing to end", err)
		}
	case !errors.As(err, &ge) || ge.Guard != guard:
		t.Errorf("err %v, want guard %s", err, guard)
	default:
		if !strings.Contains(err.Error(), ge.Listing) || ge.Listing == "" {
			t.Errorf("%q does not name the listing", err)
		}
	}
}
