// Package ledger holds what is true of caisse entries by themselves:
// encoding, ed25519 signing and verification, per-author hash chains,
// hybrid logical clocks, checked money arithmetic and the Store contract.
//
// Invariants:
//   - An Entry value is either signed here (Sign) or decoded and verified
//     (Decode). Its hash and signature are computed on the exact body bytes
//     it was signed over, which it keeps; nothing is ever re-serialized.
//   - An author's log is a hash chain: seq starts at 1 and is contiguous,
//     prev is the hash of the entry at seq-1, and times strictly increase.
//     CheckNext is the one place that decides whether an entry extends a log.
//   - Amounts are int64 minor units; every operation on them is checked and
//     an overflow is ErrOverflow, never a wrap.
//
// The package does no network I/O, reads no clock and starts no goroutine:
// time comes in as arguments (see Clock), so callers can drive it
// deterministically. Errors callers branch on are sentinels (ErrFork,
// ErrGap, ...) wrapped with context; test them with errors.Is.
//
// A typical append, as the node does it:
//
//	head, err := store.Head(author)            // ErrNotFound on an empty log
//	body := &caissev1.EntryBody{Seq: uint64(head.Seq) + 1, Prev: head.Hash[:], ...}
//	body.Time = clock.Now(nowMillis).Proto()
//	e, err := ledger.Sign(key, body)
//	err = store.Append(e)                       // durable when it returns nil
//
// and an ingest of bytes received from elsewhere:
//
//	e, err := ledger.Decode(raw)               // size, shape, signature
//	err = clock.Observe(e.Time(), nowMillis)   // refuses absurd clocks
//	err = store.Append(e)                       // chain checked again, atomically
package ledger
