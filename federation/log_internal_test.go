package federation

import (
	"math/rand/v2"
	"testing"
)

// TestEntryLog checks the chunked log against a plain slice through pushes
// and truncations across chunk boundaries, and that its full chunks hold no
// spare room.
func TestEntryLog(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var l entryLog
	var want []logEntry
	check := func(step string) {
		t.Helper()
		if l.len() != len(want) {
			t.Fatalf("%s: len %d, want %d", step, l.len(), len(want))
		}
		for i := range want {
			if *l.at(i) != want[i] {
				t.Fatalf("%s: entry %d is %+v, want %+v", step, i, *l.at(i), want[i])
			}
		}
		for i, c := range l.chunks[:max(len(l.chunks)-1, 0)] {
			if len(c) != logChunk {
				t.Fatalf("%s: chunk %d of %d holds %d entries, want %d", step, i, len(l.chunks), len(c), logChunk)
			}
			if i > 0 && cap(c) != logChunk {
				t.Fatalf("%s: chunk %d has room for %d entries, want %d", step, i, cap(c), logChunk)
			}
		}
	}
	next := uint64(0)
	push := func(k int) {
		for range k {
			next++
			le := logEntry{wall: next, amount: 3}
			l.push(le)
			want = append(want, le)
		}
	}
	push(3*logChunk + 17)
	check("pushed")
	for _, n := range []int{3 * logChunk, 2*logChunk + 1, logChunk, logChunk - 1, 5, 0} {
		l.truncate(n)
		want = want[:n]
		check("truncated")
		push(rnd.IntN(2*logChunk) + 1)
		check("pushed again")
	}
	l.at(7).amount = 9
	want[7].amount = 9
	check("updated")

	m := makeEntryLog(2*logChunk + 3)
	if m.len() != 2*logChunk+3 || len(m.chunks) != 3 || len(m.chunks[2]) != 3 {
		t.Fatalf("makeEntryLog: %d entries in %d chunks", m.len(), len(m.chunks))
	}
	m.push(logEntry{wall: 1})
	if m.last().wall != 1 || m.len() != 2*logChunk+4 {
		t.Fatalf("push after makeEntryLog: last %+v, len %d", *m.last(), m.len())
	}
}
