// Package syncertest is the seeded simulation of caisse's replication: N
// nodes, each a syncer.Syncer with a ledger/memstore store, a
// federation.State and a signing key, driven exactly as the real node
// drives its Syncer (see the loop in node/syncer's doc), over an in-memory
// network that drops, duplicates, delays, reorders and partitions
// messages, flips bytes of the entries they carry, and crashes, restarts
// and restores nodes from old backups. One seed drives everything.
//
// Each node drives its federation.State as node.ingest and node.replay
// do. An entry of Ready.Save is checked (State.Check), stored, applied,
// and the held entries settled; ledger.ErrDuplicate is a rejection, a
// ledger.ErrFork a proof built from the stored entry, and an error that
// wraps federation.ErrPending (or ledger.ErrGap, federation.ErrNoGenesis) a
// pending rejection. Every proof kept (from Save, Check, Proofs or a
// peer's Forks) goes to the store and to State.ApplyFork, which freezes
// the author; ledger.ErrDuplicate and ErrPending from ApplyFork leave the
// proof in the store, applied at replay. A (re)start replays the store:
// the genesis, every log (holding what cannot apply yet), every stored
// proof, then State.Settle.
//
// A run has two phases. In the chaotic one, nodes append contributions and
// disbursements (when their Syncer allows it: CheckAppend), and faults
// strike at rates drawn from the seed: messages dropped, duplicated,
// delayed (so reordered) or forged (one byte flipped: the receiver's
// ledger.Decode must refuse it); partitions that split the nodes in two and
// heal; crashes that lose a node's Syncer, federation state and calls in
// flight but not its store; restores that restart a node on a random
// prefix of each log of its store, and sometimes make it append at once
// over the entries of its own log that it lost (an equivocation: a fork);
// pushes of entries signed by a non-member; and "pending" answers from the
// federation (wrapping federation.ErrPending) on top of its own. Then the faults stop (but delays and pending answers), the
// partition heals, every node restarts, and the run goes on until the
// nodes agree, within a bound.
//
// The check then holds the run to the invariants of DESIGN.md:
//
//   - convergence: every node holds the same logs (for an author that
//     forked, the same log below the fork), the same fork points, and a
//     live federation state (the one it drove all along, forks applied)
//     of the same hash, which is the hash its store replays to; every
//     node's Syncer is idle, nothing is held, and it may append again
//     (unless its own log forked);
//   - no loss: every entry acknowledged (stored by its author's node before
//     the append returned) is in every store, unless its author forked at
//     or below it, or it was lost with the store of a node restored from a
//     backup when no other store held it;
//   - no forgery: every stored entry verifies and was signed by a member
//     (forged bytes and non-members' entries are never stored);
//   - forks: wherever two stores hold different entries at one author and
//     seq, every node holds a proof of a fork of that author at or below
//     that seq, and every proof held is genuine;
//   - conservation of entries: each store's count and vector agree, and
//     its federation state applied exactly its entries but a forked
//     author's from the fork on (the founder keeps its genesis).
//
// A failure prints the seed and the command that replays it, with a trace:
//
//	go test ./node/syncer/syncertest -run 'TestSim$' -seed=N -v
//
// TestSim runs 200 seeds (30 with -short); more with
//
//	go test ./node/syncer/syncertest -run 'TestSim$' -seeds=N [-seedbase=B]
//
// or SIM_SEEDS=N (and SIM_SEEDBASE, SIM_SEED) in the environment. Options
// can break a run on purpose (LoseAcked, NeverPull, SkipApplyFork): the
// tests that do so expect the check to fail, so that a checker that checks
// nothing fails too.
package syncertest
