// Package federation is caisse's federation state machine: a State built by
// applying verified entries one at a time, and pure queries over it
// (members, heads, balances, the state hash).
//
// Invariants:
//   - The State is a pure function of the set of entries applied. Each
//     author's entries are applied in chain order (ledger.CheckNext decides),
//     the genesis first; apart from that, any interleaving of the authors'
//     logs gives the same State and the same Hash. No map order, clock or
//     arrival order reaches an output: every list is sorted.
//   - Apply either applies one entry or changes nothing and returns an
//     error: every sum is computed, checked for overflow (ledger.ErrOverflow),
//     into temporaries before anything is changed.
//   - The federation id is the hash of the genesis; the members are the
//     genesis's author (the founder) and its co-founders. Every later entry
//     names the federation and is written by a member.
//   - A correction reverses exactly one earlier contribution or
//     disbursement of its own author, named by seq and hash, at most once,
//     in exactly the buckets (period, direction, category) its target went
//     into. No bucket goes below zero; a balance may (a contribution
//     recorded after the payment it funded).
//
// The package does no I/O, reads no clock, starts no goroutine and does
// not log. It keeps, per applied entry, its hash and what a correction
// needs (48 bytes), and per caisse a fixed array of buckets per period, so
// that Apply costs the same at the millionth entry as at the first.
//
// The node drives it so that whatever is applied is durable. At start, it
// replays its store, the genesis (the entry whose hash is the federation
// id) first, since a store scans author by author:
//
//	st := federation.New()
//	err := st.Apply(genesis)
//	err = store.ScanAll(func(e ledger.Entry) error {
//		if err := st.Apply(e); err != nil && !errors.Is(err, ledger.ErrDuplicate) {
//			return err
//		}
//		return nil
//	})
//
// Then, for each entry received or recorded (signature verified, each
// author's entries in seq order):
//
//	if err := st.Check(e); err != nil {
//		return err // ErrDuplicate: already have it; ErrGap: pull first; others: refuse
//	}
//	if err := store.Append(e); err != nil { // durable before it counts
//		return err
//	}
//	if err := st.Apply(e); err != nil { // cannot fail after Check: a bug
//		return fmt.Errorf("node: apply after check: %w", err)
//	}
//
// Errors wrap this package's sentinels (ErrNoGenesis, ErrGenesisExists,
// ErrUnknownAuthor, ErrBadCorrection, ErrAlreadyCorrected) and the ledger's
// (ErrWrongFederation, ErrGap, ErrBadPrev, ErrClockRegressed, ErrDuplicate,
// ErrFork, ErrOverflow) with the author and seq: test them with errors.Is.
package federation
