package ledger

// Store holds entries durably: one hash-chained log per author.
//
// Implementations: ledger/badgerstore (on disk) and ledger/memstore (in
// memory, with fault switches for tests). Both pass ledgertest.Store.
// A Store is safe for concurrent use.
type Store interface {
	// Append stores entries atomically: all of them or none. Each must
	// extend its author's log as stored, or as extended by the entries
	// before it in the same call (CheckNext). An entry already stored is
	// ErrDuplicate; a different one at a stored seq is a *ForkError. When
	// Append returns nil, the entries are durable: they survive a crash of
	// the process or of the machine.
	Append(entries ...Entry) error
	// Get returns the entry at author and seq, or ErrNotFound.
	Get(a Author, s Seq) (Entry, error)
	// Head returns the head of the author's log, or ErrNotFound if the
	// author has no entry.
	Head(a Author) (Head, error)
	// Vector returns the head of every log.
	Vector() (Vector, error)
	// Scan calls fn with the author's entries from seq from on, in seq
	// order, until fn returns an error or the log ends. An error from fn is
	// returned as is.
	Scan(a Author, from Seq, fn func(Entry) error) error
	// ScanAll calls fn with every entry, author by author in byte order,
	// each log in seq order.
	ScanAll(fn func(Entry) error) error
	// Count returns the number of entries stored.
	Count() (uint64, error)
	// MaxTime returns the latest time of any stored entry: the high-water
	// mark a Clock restarts from.
	MaxTime() (HLC, error)
	// AddFork stores a fork proof durably. One proof is kept per author
	// and seq: the two entries with the lowest hashes among all the proofs
	// given for that place (ForkProof.Lowest), so that every node keeps the
	// same one whatever order proofs came in.
	AddFork(p ForkProof) error
	// Forks returns every proof held, by author in byte order, then seq.
	Forks() ([]ForkProof, error)
	// Close releases the store. Every call after the first returns
	// ErrClosed, as does every other method.
	Close() error
}
