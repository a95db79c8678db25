package federation

// logChunk is the number of entries in each full chunk of a member's log.
const logChunk = 4096

// entryLog is a member's log as applied: logEntry i is the entry at seq
// i+1. It is kept in chunks of logChunk entries, so that a long log grows
// without copying what it holds and holds little spare room: a plain slice
// grows by a quarter (and more while small) and copies itself each time,
// which at a million entries is tens of MiB at the peak. Its first chunk
// grows as a slice does, so that the many short logs of a federation cost
// no more than their entries.
type entryLog struct {
	chunks [][]logEntry
	n      int
}

// makeEntryLog returns a log of n zero entries, filled in by the caller.
func makeEntryLog(n int) entryLog {
	l := entryLog{n: n}
	for left := n; left > 0; left -= logChunk {
		l.chunks = append(l.chunks, make([]logEntry, min(left, logChunk)))
	}
	return l
}

func (l *entryLog) len() int { return l.n }

// at returns the entry at index i (seq i+1), for reading or updating.
func (l *entryLog) at(i int) *logEntry { return &l.chunks[i/logChunk][i%logChunk] }

// last returns the last entry; the log must not be empty.
func (l *entryLog) last() *logEntry { return l.at(l.n - 1) }

func (l *entryLog) push(le logEntry) {
	if l.n%logChunk == 0 {
		c := []logEntry(nil)
		if l.n > 0 {
			c = make([]logEntry, 0, logChunk)
		}
		l.chunks = append(l.chunks, c)
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, le)
	l.n++
}

// truncate keeps the first n entries.
func (l *entryLog) truncate(n int) {
	if n >= l.n {
		return
	}
	full := (n + logChunk - 1) / logChunk
	clear(l.chunks[full:])
	l.chunks = l.chunks[:full]
	if full > 0 {
		l.chunks[full-1] = l.chunks[full-1][:n-(full-1)*logChunk]
	}
	l.n = n
}
