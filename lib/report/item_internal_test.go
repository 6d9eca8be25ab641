package report

import (
	"testing"
	"time"
	"unsafe"
)

// A report item is compact: the time of its write is one number, written
// out as markedAt, stoppedAt or releasedAt by its outcome when the report
// is encoded, so stamping a released instance allocates nothing.
func TestItemStaysCompact(t *testing.T) {
	if size := unsafe.Sizeof(Item{}); size > 128 {
		t.Errorf("an item is %d bytes, want at most 128", size)
	}
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	var it Item
	if n := testing.AllocsPerRun(100, func() { it.Stamp(OutcomeReleased, at) }); n != 0 {
		t.Errorf("stamping an item allocates %.0f times, want none", n)
	}
	r := NewRegion("cn-hangzhou")
	it.ID = "i-1"
	r.Add(OutcomeReleased, "", it)
	rec := record(r, r.Groups[0], &r.Groups[0].Instances[0])
	if rec.ReleasedAt != "2026-12-01T08:00:00Z" || rec.StoppedAt != "" || rec.MarkedAt != "" {
		t.Errorf("record %+v: want releasedAt 2026-12-01T08:00:00Z alone", rec)
	}
	if back := rec.item(); back.WrittenAt != at.Unix() {
		t.Errorf("read back, the write's time is %d, want %d", back.WrittenAt, at.Unix())
	}
}
