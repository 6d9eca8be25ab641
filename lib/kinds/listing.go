package kinds

import (
	"context"

	"github.com/ecs-reaper/ecs-reaper/lib/engine/call"
	"github.com/ecs-reaper/ecs-reaper/lib/engine/page"
	"github.com/ecs-reaper/ecs-reaper/lib/verdict"
)

// answer is one page of a listing as a kind's API returned it: by
// NextToken (next) or by page number (total, the API's TotalCount).
type answer[T any] struct {
	items []T
	next  string
	total int
}

// collect runs a kind's listing through the shared pager, by page number
// or by NextToken as the API pages, keeping each resource once by its ID.
// fetch reads one page: the token or the number is the one its form uses.
func collect[T any](ctx context.Context, c *call.Caller, l page.Listing, byNumber bool, id func(T) string,
	fetch func(ctx context.Context, token string, number int) (answer[T], error)) ([]T, *verdict.Failure) {
	var out []T
	seen := page.Seen{}
	read := func(ctx context.Context, token string, number int) (page.Page, error) {
		var a answer[T]
		err := c.Do(ctx, l.Name, nil, func() error {
			var err error
			a, err = fetch(ctx, token, number)
			return err
		})
		fresh := 0
		for _, it := range a.items {
			if seen.Add(id(it)) {
				out = append(out, it)
				fresh++
			}
		}
		return page.Page{Next: a.next, Total: a.total, Items: len(a.items), Fresh: fresh}, err
	}
	var err error
	if byNumber {
		err = l.Numbers(ctx, func(ctx context.Context, n int) (page.Page, error) { return read(ctx, "", n) })
	} else {
		err = l.Tokens().Run(ctx, func(ctx context.Context, token string) (page.Page, error) { return read(ctx, token, 0) })
	}
	if err != nil {
		return out, page.Failure(err)
	}
	return out, nil
}

// resources is the Resources of a listing's or a re-read's answers.
func resources[T any](items []T, of func(T) Resource) []Resource {
	out := make([]Resource, len(items))
	for i, it := range items {
		out[i] = of(it)
	}
	return out
}
