package syncer

import (
	"cmp"
	"maps"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
)

// Status is the Syncer's state for the operator view. Every list is
// sorted: authors in byte order, peers by id, pulls by id.
type Status struct {
	// Tick is the number of ticks since New.
	Tick uint64
	// Vector is the stored head of every log.
	Vector []AuthorHead
	Self   SelfStatus
	Peers  []PeerStatus
	// Gaps are the logs with entries buffered past a gap.
	Gaps []Gap
	// Parked are the entries the federation found pending, kept aside.
	Parked []Parked
	// Pulls are the pulls in flight, fork probes included.
	Pulls []Pull
	// Forks are the fork proofs reported, by author and seq.
	Forks    []Fork
	Counters Counters
}

// SelfStatus is what the Syncer knows of this node's own log.
type SelfStatus struct {
	// Head is the stored seq of the node's own log.
	Head ledger.Seq
	// Highest is the highest seq of it that a peer holds, and Peer that
	// peer; Highest > Head means the node restarted from an older copy.
	Highest ledger.Seq
	Peer    PeerID
	// Confirmed says that a peer told its frontier since New.
	Confirmed bool
	// Forked is the seq where the own log forks, 0 if it does not.
	Forked ledger.Seq
}

// PeerStatus is what the Syncer knows of one peer.
type PeerStatus struct {
	Peer PeerID
	Up   bool
	// Known is the peer's frontier as last told, raised by gossip and by
	// the entries it sent.
	Known []AuthorHead
	// Lag is how many entries the peer holds that this node lacks; Ahead,
	// how many this node holds that the peer lacks (as far as it knows).
	Lag, Ahead uint64
	// Synced says that a vector came from the peer; LastSync is the tick
	// of the last one.
	Synced   bool
	LastSync uint64
	// Pulls counts the pulls in flight from the peer; Failures, the
	// pulls and exchanges with it that failed.
	Pulls    int
	Failures uint64
	// Forks is the number of fork proofs the peer said it holds.
	Forks uint32
	// Refused lists, per author, the seq from which the peer is not asked:
	// it sent an entry there that the node refused (until it comes up
	// again), or one that does not follow this node's log (for
	// AntiEntropyTicks).
	Refused []AuthorSeq
}

// AuthorSeq is a position in an author's log.
type AuthorSeq struct {
	Author ledger.Author
	Seq    ledger.Seq
}

// Gap is a log with entries waiting past a gap: Next is the first seq
// missing; Buffered entries wait, the last at Last.
type Gap struct {
	Author   ledger.Author
	Next     ledger.Seq
	Buffered int
	Last     ledger.Seq
}

// Parked is an entry the federation found pending, from Peer.
type Parked struct {
	Author ledger.Author
	Seq    ledger.Seq
	Peer   PeerID
}

// Fork is where an author's log forks, as a proof shows.
type Fork struct {
	Author ledger.Author
	Seq    ledger.Seq
}

// Counters count what the Syncer did and dropped since New.
type Counters struct {
	Saved    uint64 // entries of Ready.Save reported saved
	Appended uint64 // own entries appended
	// Duplicates: entries received that the node held or had queued.
	Duplicates uint64
	// Checks: entries handed to the node to compare with its store.
	Checks uint64
	// Proofs: forks the Syncer saw between two entries it held.
	Proofs uint64
	// Forks: distinct fork proofs reported with Forked.
	Forks uint64
	// BadPrev: entries whose prev was not the hash of the log's tip,
	// each followed by a fork probe.
	BadPrev uint64
	// Invalid: entries that could not extend their log for another reason
	// (a time that does not increase).
	Invalid uint64
	// Frozen: entries of a forked author at or past the fork, ignored.
	Frozen uint64
	// Pending, Retries: rejections as pending, and offers again.
	Pending, Retries uint64
	// Refused: rejections not pending; RefusedEntries: entries ignored
	// from a peer after one of its was refused; Discarded: buffered
	// entries that followed a refused one.
	Refused, RefusedEntries, Discarded uint64
	// Pulls and Probes started; pulls that timed out, failed, ended
	// without serving anything, or ended after they were given up.
	Pulls, Probes, PullTimeouts, PullFailures, EmptyPulls, StalePulls uint64
	// Exchanges started; ExchangeFailures reported; ForkFetches asked.
	Exchanges, ExchangeFailures, ForkFetches uint64
	// Unreported: Ready.Save entries not reported by Advance.
	Unreported uint64
	// Dropped counts what bounded queues dropped.
	Dropped Drops
}

// Drops counts what each bounded queue dropped. Anti-entropy and pulls
// repair every drop.
type Drops struct {
	Buffer uint64 // entries past a gap, MaxBuffered
	Parked uint64 // pending entries, MaxParked
	Push   uint64 // pushes, MaxPushEntries
	Check  uint64 // entries to compare with the store, and proofs, MaxChecks
	Probe  uint64 // fork probes, MaxInflightPulls
	// Expired: entries past a gap that nobody filled in BufferTicks.
	Expired uint64
}

// Status returns the Syncer's state for the operator view.
func (s *Syncer) Status() Status {
	st := Status{Tick: s.now, Counters: s.c, Forks: s.Forks()}
	for _, a := range s.authors {
		l := s.logs[a]
		if l.have.Seq > 0 {
			st.Vector = append(st.Vector, AuthorHead{Author: a, Head: l.have})
		}
		if len(l.ahead) > 0 {
			g := Gap{Author: a, Next: l.end() + 1, Buffered: len(l.ahead)}
			if l.parked != nil {
				g.Next = l.parked.e.Seq() + 1
			}
			for seq := range l.ahead {
				g.Last = max(g.Last, seq)
			}
			for {
				if _, ok := l.ahead[g.Next]; !ok {
					break
				}
				g.Next++
			}
			st.Gaps = append(st.Gaps, g)
		}
		if l.parked != nil {
			st.Parked = append(st.Parked, Parked{Author: a, Seq: l.parked.e.Seq(), Peer: l.parked.from})
		}
	}
	self := s.logs[s.cfg.Self]
	st.Self.Confirmed = s.selfConfirmed || s.cfg.Alone
	if self != nil {
		st.Self.Head, st.Self.Forked = self.have.Seq, self.fork
	}
	for _, id := range s.peerIDs {
		p := s.peers[id]
		ps := PeerStatus{Peer: id, Up: p.up, Synced: p.synced, LastSync: p.lastSync, Pulls: p.pulls,
			Failures: p.failures, Forks: p.forks}
		for _, a := range p.known.Authors() {
			k := p.known[a]
			ps.Known = append(ps.Known, AuthorHead{Author: a, Head: k})
			var have ledger.Seq
			if l := s.logs[a]; l != nil {
				have = l.have.Seq
				if l.fork != 0 && k.Seq >= l.fork {
					k.Seq = l.fork - 1
				}
			}
			if k.Seq > have {
				ps.Lag += uint64(k.Seq - have)
			}
		}
		for _, a := range s.authors {
			if have, k := s.logs[a].have.Seq, p.known[a].Seq; have > k {
				ps.Ahead += uint64(have - k)
			}
		}
		for _, a := range slices.SortedFunc(maps.Keys(p.refused), compareAuthors) {
			if r, ok := p.refusedFrom(a, s.now); ok {
				ps.Refused = append(ps.Refused, AuthorSeq{Author: a, Seq: r})
			}
		}
		if k := p.known[s.cfg.Self]; k.Seq > st.Self.Highest {
			st.Self.Highest, st.Self.Peer = k.Seq, id
		}
		st.Peers = append(st.Peers, ps)
	}
	for _, id := range slices.Sorted(maps.Keys(s.pulls)) {
		st.Pulls = append(st.Pulls, s.pulls[id].p)
	}
	return st
}

// Forks returns where each author's log forks, as the proofs reported with
// Forked show, by author then seq. The node sends len(Forks()) as its
// count of proofs in exchanges.
func (s *Syncer) Forks() []Fork {
	out := make([]Fork, 0, len(s.forks))
	for k := range s.forks {
		out = append(out, Fork{Author: k.a, Seq: k.s})
	}
	slices.SortFunc(out, func(x, y Fork) int {
		if c := compareAuthors(x.Author, y.Author); c != 0 {
			return c
		}
		return cmp.Compare(x.Seq, y.Seq)
	})
	return out
}
