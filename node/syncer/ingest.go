package syncer

import (
	"errors"

	"github.com/caisse-coop/caisse/ledger"
)

// ingest places one verified entry received from a peer: a duplicate is
// counted, a fork is proved or handed to the node to prove, the next entry
// of its log joins the chain to save, and an entry past a gap waits in the
// bounded buffer while the gap is pulled.
func (s *Syncer) ingest(from PeerID, e ledger.Entry) {
	a, seq := e.Author(), e.Seq()
	p := s.peerFor(from)
	p.saw(a, e.Head())
	l := s.logFor(a)
	if l.pull != 0 {
		// The pull's stream makes progress: entries in seq order from
		// its start. Others (a push, a probe's answer) do not count.
		if in := s.pulls[l.pull]; in.p.Peer == from && seq == in.got+1 && seq <= in.p.To {
			in.got = seq
			in.deadline = s.now + uint64(s.cfg.PullTimeoutTicks)
		}
	}
	if l.fork != 0 && seq >= l.fork {
		s.c.Frozen++
		return
	}
	if r, ok := p.refusedFrom(a, s.now); ok && seq >= r {
		s.c.RefusedEntries++
		return
	}
	switch {
	case seq <= l.have.Seq:
		if h, ok := l.recentHash(seq); ok && h == e.Hash() {
			s.c.Duplicates++
			return
		}
		s.check(from, e)
	case seq <= l.end():
		s.compare(from, l.chain[seq-l.have.Seq-1], e)
	case l.parked != nil && seq == l.parked.e.Seq():
		s.compare(from, *l.parked, e)
	default:
		if it, ok := l.ahead[seq]; ok {
			s.compare(from, it, e)
			return
		}
		if seq == l.end()+1 && l.parked == nil {
			s.extend(l, item{e, from, s.now})
			s.drain(l)
			return
		}
		s.buffer(l, item{e, from, s.now})
	}
}

// extend appends it to l's chain if it extends it. An entry whose prev is
// not the hash of the chain's tip shows a fork at the tip's seq: the peer
// that sent it is asked for its entry there.
func (s *Syncer) extend(l *authorLog, it item) bool {
	err := ledger.CheckNext(l.tip(), it.e)
	switch {
	case err == nil:
		l.chain = append(l.chain, it)
		l.progress = s.now
		return true
	case errors.Is(err, ledger.ErrBadPrev):
		// Its author signed another entry before it than the one this
		// node holds: get the peer's, to prove the fork. The peer's
		// branch is not pulled further for a while: it cannot extend
		// this log. If the probe is lost, the next pull tries again.
		s.c.BadPrev++
		s.probe(it.from, l.a, it.e.Seq()-1)
		s.peerFor(it.from).refuse(l.a, it.e.Seq(), s.now+uint64(s.cfg.AntiEntropyTicks))
	default:
		s.c.Invalid++
	}
	return false
}

// drain moves to the chain the buffered entries that now extend it.
func (s *Syncer) drain(l *authorLog) {
	for l.parked == nil {
		next := l.end() + 1
		it, ok := l.ahead[next]
		if !ok {
			return
		}
		delete(l.ahead, next)
		s.buffered--
		if !s.extend(l, it) {
			return
		}
	}
}

// buffer keeps an entry past a gap, if there is room.
func (s *Syncer) buffer(l *authorLog, it item) {
	if _, ok := l.ahead[it.e.Seq()]; ok {
		return
	}
	if s.buffered >= s.cfg.MaxBuffered {
		s.c.Dropped.Buffer++
		return
	}
	l.ahead[it.e.Seq()] = it
	s.buffered++
}

// compare sees a duplicate or a fork between an entry the Syncer holds and
// one received at the same author and seq.
func (s *Syncer) compare(from PeerID, held item, e ledger.Entry) {
	if held.e.Hash() == e.Hash() {
		s.c.Duplicates++
		return
	}
	proof, err := ledger.NewForkProof(held.e, e)
	if err != nil {
		return // cannot happen: same author and seq, different hashes
	}
	for _, f := range s.out.proofs {
		if f.Proof.A.Hash() == proof.A.Hash() && f.Proof.B.Hash() == proof.B.Hash() {
			return
		}
	}
	if len(s.out.proofs) >= s.cfg.MaxChecks {
		s.c.Dropped.Check++
		return
	}
	s.c.Proofs++
	s.out.proofs = append(s.out.proofs, Forked{Peer: from, Proof: proof})
}

// check hands the node an entry at or below the stored head to compare
// with the stored one.
func (s *Syncer) check(from PeerID, e ledger.Entry) {
	if len(s.out.checks) >= s.cfg.MaxChecks {
		s.c.Dropped.Check++
		return
	}
	for _, c := range s.out.checks {
		if c.Entry.Hash() == e.Hash() {
			s.c.Duplicates++
			return
		}
	}
	s.c.Checks++
	s.out.checks = append(s.out.checks, Check{Peer: from, Entry: e})
}
