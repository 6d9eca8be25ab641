// Package page is the one pager every listing goes through, in both forms
// the APIs use: NextToken (ECS) and PageNumber with TotalCount (the VPC
// API's DescribeEipAddresses). It stops a listing it cannot trust to end
// or to be whole: a token that was handed out before, a page that lists
// nothing new, more pages than what the API said can need, an empty page
// before the announced total, and, as a last resort, an absolute ceiling.
// A stopped listing is an error naming the listing and the guard; the
// caller fails its region or kind closed.
package page

import (
	"context"
	"errors"
	"fmt"

	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// Guard names the check that stopped a listing.
type Guard string

// The guards.
const (
	Cycle      Guard = "token-cycle"  // a NextToken handed out before
	NothingNew Guard = "nothing-new"  // a page, not the last, that added nothing
	Bound      Guard = "page-bound"   // more pages than the API's answers can need
	Short      Guard = "short"        // an empty page before the announced total
	Overfull   Guard = "over-total"   // a page holding more than its own TotalCount
	Ceiling    Guard = "page-ceiling" // the absolute ceiling
)

// MaxPages is the last resort for a listing the derived bounds cannot
// bound (a token listing whose page size is the server's, or a TotalCount
// that grows page after page): 10 million resources at 100 a page.
const MaxPages = 100_000

// Bounds on pages, from what the API said. A NextToken listing may read at
// most tokenFactor × the pages its entries fill, plus tokenSlack (ECS
// documents TotalCount as meaningless under NextToken, so the entries are
// what it said): pages on average less than a quarter full are taken as a
// listing that trickles. A PageNumber listing may read at most
// numberFactor × the pages its TotalCount needs, plus numberSlack (pages
// shift when resources come and go between calls).
const (
	tokenFactor  = 4
	tokenSlack   = 4
	numberFactor = 2
	numberSlack  = 1
)

// Listing names one paged listing and its page size.
type Listing struct {
	// Name is the action (e.g. DescribeDisks), named in every error.
	Name string
	// PageSize is the most entries one page holds, as asked; 0 when the
	// server chooses it (then only MaxPages bounds a token listing).
	PageSize int
}

// Page is what one answer said, for the guards.
type Page struct {
	Next  string // NextToken form: the next page's token; "" ends the listing
	Total int    // PageNumber form: the TotalCount the answer announced
	Items int    // entries the page carried
	Fresh int    // of them, how many the listing had not seen before
}

// Error is a listing stopped by a guard.
type Error struct {
	Listing string
	Guard   Guard
	Detail  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s pagination %s (guard %s)", e.Listing, e.Detail, e.Guard)
}

// Failure reports a listing's error: a guard is a bad response, anything
// else is classified as the call's.
func Failure(err error) *verdict.Failure {
	var ge *Error
	if errors.As(err, &ge) {
		return &verdict.Failure{Code: ecsapi.CodeBadResponse, Message: ge.Error()}
	}
	return call.Failure(err)
}

// Seen counts the fresh IDs of a page.
type Seen map[string]bool

// Add records id and reports whether it is new.
func (s Seen) Add(id string) bool {
	if s[id] {
		return false
	}
	s[id] = true
	return true
}

// Tokens pages a NextToken listing.
type Tokens struct {
	l      Listing
	token  string          // the token the next page is read at
	handed map[string]bool // every token handed out so far
	pages  int
	items  int
	done   bool
}

// Tokens starts the listing at its first page.
func (l Listing) Tokens() *Tokens {
	return &Tokens{l: l, handed: map[string]bool{}}
}

// Done reports whether the listing reached its end.
func (t *Tokens) Done() bool { return t.done }

// Take checks the page read at the current token and moves to the next.
func (t *Tokens) Take(p Page) error {
	t.pages++
	t.items += p.Items
	if p.Next == "" {
		t.done = true
		return nil
	}
	switch {
	case p.Next == t.token || t.handed[p.Next]:
		return &Error{t.l.Name, Cycle, fmt.Sprintf("cycles: NextToken %q was handed out before", shorten(p.Next))}
	case p.Fresh == 0:
		return &Error{t.l.Name, NothingNew, fmt.Sprintf("did not advance: page %d has a NextToken but listed nothing new", t.pages)}
	case t.l.PageSize > 0 && t.pages >= tokenFactor*ceilDiv(t.items, t.l.PageSize)+tokenSlack:
		return &Error{t.l.Name, Bound, fmt.Sprintf("trickles: %d pages listed %d entries, at up to %d a page", t.pages, t.items, t.l.PageSize)}
	case t.pages >= MaxPages:
		return &Error{t.l.Name, Ceiling, fmt.Sprintf("runs past %d pages", MaxPages)}
	}
	t.handed[p.Next] = true
	t.token = p.Next
	return nil
}

// Run reads the listing from the current token to its end; fetch reads
// the page at token ("" is the first).
func (t *Tokens) Run(ctx context.Context, fetch func(ctx context.Context, token string) (Page, error)) error {
	for !t.done {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s stopped after %d pages: %w", t.l.Name, t.pages, err)
		}
		p, err := fetch(ctx, t.token)
		if err != nil {
			return err
		}
		if err := t.Take(p); err != nil {
			return err
		}
	}
	return nil
}

// Numbers reads a PageNumber listing to its end: until it has listed the
// TotalCount the last page announced. fetch reads page n (1-based).
func (l Listing) Numbers(ctx context.Context, fetch func(ctx context.Context, n int) (Page, error)) error {
	listed := 0
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s stopped after %d pages: %w", l.Name, n-1, err)
		}
		p, err := fetch(ctx, n)
		if err != nil {
			return err
		}
		if err := overfull(l, n, p); err != nil {
			return err
		}
		listed += p.Fresh
		switch {
		case listed >= p.Total:
			return nil
		case p.Items == 0:
			return &Error{l.Name, Short, fmt.Sprintf("ended early: page %d is empty after %d of the %d it announced", n, listed, p.Total)}
		case p.Fresh == 0:
			return &Error{l.Name, NothingNew, fmt.Sprintf("did not advance: page %d listed nothing new", n)}
		case l.PageSize > 0 && n >= numberFactor*ceilDiv(p.Total, l.PageSize)+numberSlack:
			return &Error{l.Name, Bound, fmt.Sprintf("runs past the pages %d entries need: %d pages of up to %d listed %d", p.Total, n, l.PageSize, listed)}
		case n >= MaxPages:
			return &Error{l.Name, Ceiling, fmt.Sprintf("runs past %d pages", MaxPages)}
		}
	}
}

// overfull refuses an answer that contradicts itself: a negative
// TotalCount, or a page holding more entries than the TotalCount it
// announced. Taken as said, it would end the listing early, as if whole.
func overfull(l Listing, n int, p Page) error {
	if p.Total < 0 || p.Items > p.Total {
		return &Error{l.Name, Overfull, fmt.Sprintf("contradicts itself: page %d holds %d entries and announces a TotalCount of %d", n, p.Items, p.Total)}
	}
	return nil
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func shorten(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
