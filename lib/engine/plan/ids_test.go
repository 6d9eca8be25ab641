package plan

import (
	"fmt"
	"runtime"
	"testing"
)

// Packing is exact: IDs that differ in a character, in length, or only by
// a trailing "0" never share a key, and an ID outside the packed form is
// kept as it is.
func TestIDSetTellsEveryIDApart(t *testing.T) {
	s := newIDSet()
	ids := []string{"i-", "i-0", "i-00", "i-a", "i-a0", "i-0a", "i-bp1f3g5h7j9k1l3m5n7p", "i-bp1f3g5h7j9k1l3m5n7q",
		"i-bp1f3g5h7j9k1l3m5n7", "I-bp1", "i-BP1", "i-bp1f3g5h7j9k1l3m5n7pq", "d-bp1", "i-z", "i-9", "i-zzzzzzzzzzzzzzzzzzzz"}
	for i := range 10_000 {
		ids = append(ids, fmt.Sprintf("i-%x", i), fmt.Sprintf("i-%d", i))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		if s.has(id) || !s.add(id) {
			t.Fatalf("%s: taken for a repeat of another ID", id)
		}
		if !s.has(id) || s.add(id) {
			t.Fatalf("%s: not found again", id)
		}
	}
}

// A listed ID costs the set a 16-byte map entry (20 to 40 bytes with the
// map's free slots), not a string and an entry for it (about 60).
// Measured with runtime.MemStats.
func TestIDSetRetainsLittlePerID(t *testing.T) {
	const n = 200_000
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	s := newIDSet()
	for i := range n {
		s.add(fmt.Sprintf("i-bp1%017d", i)) // as a listed page's: referenced by nothing else
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	perID := float64(int64(ms.HeapAlloc)-int64(before)) / n
	runtime.KeepAlive(s)
	t.Logf("%.1f bytes per ID", perID)
	if perID > 45 {
		t.Errorf("%.0f bytes retained per ID, want at most 45", perID)
	}
}
