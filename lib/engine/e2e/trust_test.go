package e2e_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ecs-reaper/ecs-reaper/lib/decide"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsapi"
	"github.com/ecs-reaper/ecs-reaper/lib/ecsdouble"
	"github.com/ecs-reaper/ecs-reaper/lib/engine"
	"github.com/ecs-reaper/ecs-reaper/lib/report"
)

// A retried DeleteInstances is checked for freshness like the first
// attempt: a batch whose first attempt failed after the data outgrew the
// window is re-read, and an instance that gained the keep tag meanwhile is
// not in the retry.
func TestEveryAttemptIsFresh(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "a", 3)}
	ids := ids(f.Instances)
	h := newHarness(t, f, harnessConfig{})
	var elapsed atomic.Int64
	var deletes atomic.Int32
	h.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDeleteInstances && deletes.Add(1) == 1 {
			// The first attempt hangs past the window and fails; the
			// owner keeps one instance meanwhile.
			elapsed.Add(int64(2 * time.Minute))
			h.srv.Mutate(ids[1], func(in *ecsdouble.Instance) { in.Tags[keep] = "" })
			return ecsdouble.Unavailable()
		}
		return nil
	})
	opts := sequential()
	opts.Freshness = time.Minute
	opts.Now = func() time.Time { return testNow.Add(time.Duration(elapsed.Load())) }
	rep, err := h.run(opts, "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := h.srv.Released(); !slices.Equal(got, []string{ids[0], ids[2]}) {
		t.Fatalf("released %v, want %v: the instance kept during the failed attempt must stay", got, []string{ids[0], ids[2]})
	}
	if got := rep.Regions[0].Counts["skipped/"+string(decide.ReasonExcluded)]; got != 1 {
		t.Errorf("counts %v: want the kept instance skipped as excluded", rep.Regions[0].Counts)
	}
	calls := h.srv.Calls()
	firstDelete := slices.IndexFunc(calls, func(c ecsdouble.Call) bool { return c.Action == ecsapi.ActionDeleteInstances })
	reread := slices.IndexFunc(calls[firstDelete:], func(c ecsdouble.Call) bool {
		return c.Action == ecsapi.ActionDescribeInstances && c.Params["InstanceIds"] != ""
	})
	if reread < 0 {
		t.Fatal("no re-read between the failed attempt and the retry")
	}
}

// When the re-read before a retry keeps every ID, the retry goes on under
// the same ClientToken: ECS may have acted on the first attempt.
func TestFreshRetryKeepsTheClientToken(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "b", 2)}
	h := newHarness(t, f, harnessConfig{})
	var elapsed atomic.Int64
	var deletes atomic.Int32
	h.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDeleteInstances && deletes.Add(1) == 1 {
			elapsed.Add(int64(2 * time.Minute))
			return ecsdouble.Unavailable()
		}
		return nil
	})
	opts := sequential()
	opts.Freshness = time.Minute
	opts.Now = func() time.Time { return testNow.Add(time.Duration(elapsed.Load())) }
	rep, err := h.run(opts, "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	dels := deleteCalls(h.srv)
	if len(dels) != 2 || dels[0].Params["ClientToken"] != dels[1].Params["ClientToken"] {
		t.Fatalf("DeleteInstances calls %d with tokens %v: want 2 under one token", len(dels), tokensOf(dels))
	}
	rereads := 0
	for _, c := range h.srv.Calls() {
		if c.Action == ecsapi.ActionDescribeInstances && c.Params["InstanceIds"] != "" {
			rereads++
		}
	}
	if rereads != 1 {
		t.Errorf("%d re-reads, want 1 (before the retry)", rereads)
	}
	if b := rep.Regions[0].Batches; len(b) != 1 || b[0].Attempts != 2 {
		t.Errorf("batches %+v: want one batch of two attempts", b)
	}
}

func tokensOf(calls []ecsdouble.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Params["ClientToken"])
	}
	return out
}

// An answer that does not say its region is not trusted: invalid-data, and
// it does not count toward the opted-in total the percent cap divides by.
func TestAnswerWithoutRegionIsNotTrusted(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "n", 4)}
	ids := ids(f.Instances)
	rw := rewriter{edit: editInstances(func(id string, in map[string]any) {
		switch id {
		case ids[0]:
			delete(in, "RegionId")
		case ids[1]:
			in["RegionId"] = "cn-beijing"
		}
	})}
	h := newHarness(t, f, harnessConfig{transport: func(base http.RoundTripper) http.RoundTripper { rw.base = base; return rw }})
	rep, err := h.run(options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	got := reported(t, rep)
	for _, id := range ids[:2] {
		if e := got[id]; e.outcome != report.OutcomeSkipped || e.reason != string(decide.ReasonInvalidData) {
			t.Errorf("%s: %s/%s (%s), want skipped/invalid-data", id, e.outcome, e.reason, e.item.Detail)
		}
	}
	if !strings.Contains(got[ids[0]].item.Detail, "no RegionId") {
		t.Errorf("detail %q does not say the region is missing", got[ids[0]].item.Detail)
	}
	if released := h.srv.Released(); !slices.Equal(released, ids[2:]) {
		t.Errorf("released %v, want %v", released, ids[2:])
	}
	if rep.Cap.OptedIn != 2 || rep.Regions[0].OptedIn != 2 {
		t.Errorf("opted in %d (region %d), want 2: untrusted answers do not dilute the percent cap", rep.Cap.OptedIn, rep.Regions[0].OptedIn)
	}
}

// pageRewriter edits the NextToken of DescribeInstances answers in one
// region: next(n, token) returns the token to hand out with page n (1-based).
type pageRewriter struct {
	base   http.RoundTripper
	region string
	mu     sync.Mutex
	pages  int
	next   func(n int, token string) string
}

func (p *pageRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	if !isAction(r, ecsapi.ActionDescribeInstances) || !strings.Contains(requestParams(r), "RegionId="+p.region) {
		return p.base.RoundTrip(r)
	}
	rw := rewriter{base: p.base, edit: func(m map[string]any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.pages++
		token, _ := m["NextToken"].(string)
		m["NextToken"] = p.next(p.pages, token)
	}}
	return rw.RoundTrip(r)
}

func requestParams(r *http.Request) string {
	s := r.URL.RawQuery
	if r.GetBody != nil {
		if b, err := r.GetBody(); err == nil {
			var buf strings.Builder
			_, _ = fmt.Fprint(&buf, readAll(b))
			s += "&" + buf.String()
		}
	}
	return s
}

func readAll(b interface{ Read([]byte) (int, error) }) string {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := b.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return string(out)
		}
	}
}

// Pagination that never ends fails its region closed within a few calls,
// whatever the cycle's period; the other region is not held.
func TestPaginationThatNeverEndsIsCaught(t *testing.T) {
	cases := []struct {
		name string
		next func(firstTokens *[]string) func(n int, token string) string
		want string
	}{
		{name: "period 2 (A, B, A)", next: func(seen *[]string) func(int, string) string {
			return func(n int, token string) string {
				*seen = append(*seen, token)
				if n == 3 {
					return (*seen)[0]
				}
				return token
			}
		}, want: "cycles"},
		{name: "period 1", next: func(seen *[]string) func(int, string) string {
			return func(n int, token string) string {
				*seen = append(*seen, token)
				if n == 2 {
					return (*seen)[0]
				}
				return token
			}
		}, want: "cycles"},
		{name: "fresh tokens over the same pages", next: func(seen *[]string) func(int, string) string {
			return func(n int, token string) string { return fmt.Sprintf("fresh-token-%d", n) }
		}, want: ""}, // the double refuses a token it did not hand out: closed all the same
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := ecsdouble.Fleet{Instances: slices.Concat(stopped("cn-hangzhou", "p", 450), stopped("cn-shanghai", "q", 3))}
			var seen []string
			pr := &pageRewriter{region: "cn-hangzhou", next: tc.next(&seen)}
			h := newHarness(t, f, harnessConfig{transport: func(base http.RoundTripper) http.RoundTripper { pr.base = base; return pr }})
			refusePageNumber(h.srv) // NextTokens exist only on the token chain
			start := time.Now()
			rep, err := h.run(options(), "cn-hangzhou", "cn-shanghai")
			if !errors.Is(err, engine.ErrRegionFailed) {
				t.Fatalf("err %v, want the region failed", err)
			}
			hz := regionOf(rep, "cn-hangzhou")
			if hz.Complete || hz.Error == nil || !strings.Contains(hz.Error.Message, tc.want) {
				t.Fatalf("cn-hangzhou complete=%v error=%+v; want closed (%q)", hz.Complete, hz.Error, tc.want)
			}
			if n := hz.Calls[ecsapi.ActionDescribeInstances]; n > 6 {
				t.Errorf("%d DescribeInstances calls before the cycle was caught", n)
			}
			for _, id := range h.srv.Released() {
				if strings.HasPrefix(id, "i-p") {
					t.Fatalf("released %s in the region whose listing never ended", id)
				}
			}
			if sh := regionOf(rep, "cn-shanghai"); !sh.Complete || sh.Count(report.OutcomeReleased) != 3 {
				t.Errorf("cn-shanghai %+v: the other region must finish", sh.Counts)
			}
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v: the cycle held the run", d)
			}
		})
	}
}

// InvalidInstanceId.NotFound is believed only when the re-read agrees: a
// one-ID batch answered NotFound for an instance the re-read still finds is
// failed, not released-elsewhere.
func TestNotFoundIsBelievedOnlyWhenTheReReadAgrees(t *testing.T) {
	f := ecsdouble.Fleet{Instances: stopped("cn-hangzhou", "z", 1)}
	id := f.Instances[0].ID
	h := newHarness(t, f, harnessConfig{})
	h.srv.Inject(ecsdouble.Rule{Action: ecsapi.ActionDeleteInstances, Fault: ecsdouble.Error(404, "InvalidInstanceId.NotFound")})
	rep, err := h.run(options(), "cn-hangzhou")
	if !errors.Is(err, engine.ErrReleaseFailed) {
		t.Fatalf("err %v, want the release failed", err)
	}
	e := reported(t, rep)[id]
	if e.outcome != report.OutcomeFailed || e.item.Code != "InvalidInstanceId.NotFound" || !strings.Contains(e.item.Message, "re-read") {
		t.Fatalf("%s: %s/%s %q, want failed with the NotFound code, saying the re-read found it", id, e.outcome, e.reason, e.item.Message)
	}

	// And when the re-read agrees (the instance is gone), it is released elsewhere.
	g := newHarness(t, f, harnessConfig{})
	g.srv.OnRequest(func(c *ecsdouble.Call) *ecsdouble.Fault {
		if c.Action == ecsapi.ActionDeleteInstances {
			g.srv.Remove(id)
			return ecsdouble.Error(404, "InvalidInstanceId.NotFound")
		}
		return nil
	})
	rep, err = g.run(options(), "cn-hangzhou")
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if e := reported(t, rep)[id]; e.outcome != report.OutcomeGone {
		t.Fatalf("%s: %s, want released-elsewhere", id, e.outcome)
	}
}

// The percent cap applies from PercentCapFrom eligible instances, so a
// pilot's first sweep (one expired of one) and ordinary runs pass while a
// mass event is refused.
func TestPercentCapAppliesFromAMinimumOfEligible(t *testing.T) {
	for _, tc := range []struct {
		name              string
		eligible, optedIn int
		refuse            bool
	}{
		{"one of one", 1, 1, false},
		{"five of eight", 5, 8, false},
		{"nine of nine", 9, 9, false},
		{"thirty of a hundred", 30, 100, false},
		{"twelve of sixteen", 12, 16, true},
		{"ninety of a hundred", 90, 100, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fleet := stopped("cn-hangzhou", "c", tc.optedIn)
			for i := tc.eligible; i < tc.optedIn; i++ {
				fleet[i].Tags[optIn] = "2099-01-01"
			}
			h := newHarness(t, ecsdouble.Fleet{Instances: fleet}, harnessConfig{})
			opts := options()
			opts.MaxRelease, opts.MaxReleasePercent, opts.PercentCapFrom = 100, 50, 10
			rep, err := h.run(opts, "cn-hangzhou")
			if !tc.refuse {
				if err != nil || len(h.srv.Released()) != tc.eligible {
					t.Fatalf("err %v, released %d: want all %d released", err, len(h.srv.Released()), tc.eligible)
				}
				return
			}
			if !errors.Is(err, engine.ErrCapExceeded) || len(h.srv.Released()) != 0 || !rep.Cap.PercentExceeded {
				t.Fatalf("err %v, released %d, cap %+v: want the percent cap to refuse", err, len(h.srv.Released()), rep.Cap)
			}
			if !strings.Contains(err.Error(), "over the percent cap of 50% (which applies from 10 eligible)") {
				t.Errorf("error %q does not explain the cap", err)
			}
		})
	}
}
