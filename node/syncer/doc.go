// Package syncer is caisse's replication state machine: it decides what to
// pull, from whom, and what is ready to save in chain order, so that every
// node of a federation converges to the same set of entries (issue
// "Federation across nodes"). It does no I/O, starts no goroutine, reads no
// clock and does not log: time passes in Ticks, randomness comes from
// Config.Rand, inputs come through Step, and every effect is returned in a
// Ready, as raft's RawNode does. node/syncer/syncertest runs many Syncers,
// their stores and federation states over a faulty simulated network from
// one seed, and checks the invariants of DESIGN.md.
//
// # What it does
//
//   - Sessions: when a peer comes up, and then with a random connected peer
//     every AntiEntropyTicks (jittered), the node exchanges frontier vectors
//     (author -> seq, head hash) with it (Ready.Exchanges, then Vector). Both
//     sides learn what the other holds, and each pulls what it lacks, so
//     nothing depends on a broadcast arriving. Its cost grows with the
//     number of members, not of entries.
//   - Pulls: for each log that a connected peer holds further, one pull at a
//     time (Ready.Pulls), of at most MaxPullEntries, at most
//     MaxInflightPulls in all, from a peer drawn among those that hold the
//     range. A pull that fails or makes no progress for PullTimeoutTicks is
//     retried with another peer; one that serves nothing lowers what the
//     peer is thought to hold.
//   - Pushes and heads: an entry the node appends is pushed to the connected
//     peers (Ready.Pushes); every new head is announced on gossip
//     (Ready.Heads), and a peer that hears of a head it lacks pulls it.
//   - Ingest: entries (verified by the node) that extend their log join its
//     chain and are handed to the node in chain order (Ready.Save); those
//     past a gap wait in a buffer bounded by MaxBuffered while the gap is
//     pulled, and are dropped (counted) if it overflows or if nobody fills
//     the gap in BufferTicks. Duplicates are counted and dropped.
//   - Rejections: an entry the federation finds pending (it may become
//     valid once other entries arrive) is parked, at most MaxParked, and
//     offered again after a later save (or AntiEntropyTicks). Any other
//     rejection marks the peer that sent it: it is not asked again for that
//     author from that seq on, until it comes up again.
//   - Restored nodes: CheckAppend refuses the node's own appends until a
//     peer has told it its frontier (unless Config.Alone) and while a peer
//     holds entries of its own log that it lacks, which it pulls back
//     first: a node restarted from an old backup does not fork its log.
//   - Forks: two entries of one author at one seq. Where the Syncer holds
//     both in memory, it returns the proof (Ready.Proofs). Where one is in
//     the store, it hands the other to the node to compare
//     (Ready.Check). Where a peer's head (gossip or vector) differs from
//     the Syncer's at the same seq, or an entry's prev is not the hash of
//     the entry before it, it pulls the peer's entry at that seq (a
//     one-entry "probe" pull), which then meets the other. The node keeps
//     every proof durably and steps it back (Forked); the Syncer then
//     freezes the author at the fork: it pulls, buffers and saves only the
//     entries below it, so that every node ends with the same log up to
//     the fork. When a proof's two entries do not share their prev, the
//     fork is lower: the Syncer probes the seq before, until it finds the
//     first entry that differs. So it does when their prev is not the hash
//     it holds there, or when it cannot tell: the node stores an entry there
//     whose hash the Syncer no longer remembers (after a restart, or past
//     its window of recent hashes); what the peers send back comes to the
//     node as a Check against the stored entry. Proofs spread with the Forks RPC: after an
//     exchange, a peer that holds more proofs (or any, once per session
//     and every ForkRecheckTicks) is asked for them (Ready.FetchForks).
//
// # Invariants
//
//   - The Syncer never hands the node an entry that does not extend its
//     author's log as stored and as extended by the entries before it in
//     Save; it forgets no entry it has not been told saved, rejected or
//     superseded.
//   - Every queue is bounded (MaxBuffered, MaxParked, MaxPushEntries,
//     MaxChecks, MaxInflightPulls); whatever a bound drops is counted in
//     Status().Counters.Dropped, and pulls and anti-entropy fetch it again.
//   - No map order reaches an output: authors are visited in byte order,
//     peers by id, pulls by id, and the random draws are made over sorted
//     candidates, so the same inputs and seed give the same Readys.
//   - Bad input (no peer, a zero entry, a head at seq 0, a proof that
//     proves nothing, a saved entry that does not extend its log) returns
//     an error wrapping ErrBadMsg or ErrNotNext and changes nothing.
//     Late answers (a pull that timed out, an entry saved twice) are not
//     bad input: they are counted, or ignored.
//
// # Driving it
//
// The node builds it on its store and steps the proofs it holds:
//
//	sy, err := syncer.New(cfg, store.Vector())
//	for _, p := range store.Forks() {
//		sy.Step(syncer.Forked{Proof: p})
//	}
//
// and then runs one loop, as raft's doc.go shows. Inputs come from gossip
// (PeerUp, PeerDown, Heads), from the sync RPCs, client and server side
// (Vector, ExchangeFailed, Entries after ledger.Decode, PullDone,
// PullFailed), and from the node's own appends (Appended, after
// CheckAppend allowed it and the entry is stored):
//
//	for {
//		select {
//		case <-ticker.C: // one tick; the Config's ticks are in its unit
//			sy.Tick()
//		case m := <-inbox:
//			if err := sy.Step(m); err != nil {
//				log.Warn("sync step", "err", err)
//			}
//		case <-ctx.Done():
//			return ctx.Err()
//		}
//		for sy.HasReady() {
//			rd := sy.Ready()
//			for _, e := range rd.Save { // in order; durable before anything below
//				err := n.ingest(e) // federation Check, store.Append, Apply
//				if err == nil {
//					sy.Step(syncer.Saved{Entry: e})
//					continue
//				}
//				var fe *ledger.ForkError
//				if errors.As(err, &fe) {
//					p, _ := fe.Proof()
//					n.keepProof(p) // store.AddFork, state.ApplyFork
//					sy.Step(syncer.Forked{Proof: p})
//				}
//				sy.Step(syncer.Rejected{Entry: e, Err: err,
//					Pending: errors.Is(err, federation.ErrPending)})
//			}
//			for _, c := range rd.Check {
//				stored, err := store.Get(c.Entry.Author(), c.Entry.Seq())
//				var fe *ledger.ForkError
//				if err == nil && errors.As(ledger.CheckStored(stored, c.Entry), &fe) {
//					p, _ := fe.Proof()
//					n.keepProof(p)
//					sy.Step(syncer.Forked{Peer: c.Peer, Proof: p})
//				}
//			}
//			for _, f := range rd.Proofs {
//				n.keepProof(f.Proof)
//				sy.Step(f)
//			}
//			n.pull(rd.Pulls)          // Sync.Pull streams: Entries..., then PullDone or PullFailed
//			n.exchange(rd.Exchanges)  // Sync.Exchange with store.Vector(), len(store.Forks()): Vector
//			n.fetchForks(rd.FetchForks) // Sync.Forks: ForkProofFromProto, keepProof, Forked{Peer: ...}
//			n.push(rd.Pushes)         // Sync.Push, fire and forget
//			n.announce(rd.Heads)      // memberlist broadcast
//			sy.Advance(rd)
//		}
//	}
//
// Save, Check and Proofs are done inline, in this order, before Advance:
// the Syncer counts on each entry of Save being reported, Saved or Rejected
// (after a rejection the node may skip the rest of that author's entries),
// and offers again in the next Ready those that were not. The RPCs run in
// goroutines of their own and send their results to the inbox. The server
// side of Exchange steps the caller's vector as Vector too, and the server
// side of Push steps the pushed entries as Entries; Pull and Forks are
// served from the store without the Syncer.
package syncer
