package syncer

import (
	"github.com/caisse-coop/caisse/ledger"
)

// schedule offers parked entries again after a save (or, whatever
// happened, after AntiEntropyTicks: a node may find an entry pending for
// reasons of its own, as a clock behind it), then starts pulls for
// the logs that a connected peer holds further than this node, within the
// limits: one pull per log, MaxInflightPulls in all, MaxPullEntries each,
// and no more than the buffer can take when the range lands past a gap.
// The authors are visited from a cursor that turns, so that no log starves
// when pulls are scarce.
func (s *Syncer) schedule() {
	for _, a := range s.authors {
		l := s.logs[a]
		if l.parked != nil && (l.parkedGen < s.saveGen || s.now >= l.parkedAt+uint64(s.cfg.AntiEntropyTicks)) {
			it := *l.parked
			l.parked = nil
			s.parked--
			s.c.Retries++
			if s.extend(l, it) {
				s.drain(l)
			}
		}
	}
	for _, a := range s.authors {
		// Look for a fork below a known one: ask every connected peer
		// for its entry before the fork point, less and less often,
		// until a proof there arrives.
		l := s.logs[a]
		if l.fork == 0 || s.now < l.belowAt || !l.forksBelow() {
			continue
		}
		l.belowEvery = min(max(2*l.belowEvery, uint64(s.cfg.AntiEntropyTicks)), uint64(max(s.cfg.ForkRecheckTicks, s.cfg.AntiEntropyTicks)))
		l.belowAt = s.now + l.belowEvery
		for _, id := range s.peerIDs {
			if p := s.peers[id]; p.up && p.known[a].Seq >= l.fork-1 {
				s.probe(id, a, l.fork-1)
			}
		}
	}
	n := len(s.authors)
	for i := range n {
		if len(s.pulls)-s.probes >= s.cfg.MaxInflightPulls {
			break
		}
		s.schedulePull(s.logs[s.authors[(s.cursor+i)%n]])
	}
	if n > 0 {
		s.cursor = (s.cursor + 1) % n
	}
}

// want returns the range of l to pull next: from the first seq missing
// past the chain (and past the parked entry and the buffered ones that
// follow it) to the last one before the next buffered entry, the fork
// point, or MaxPullEntries. It is empty when from > to.
func (s *Syncer) want(l *authorLog) (from, to ledger.Seq) {
	from = l.end() + 1
	if l.parked != nil {
		from = l.parked.e.Seq() + 1
	}
	for {
		if _, ok := l.ahead[from]; !ok {
			break
		}
		from++
	}
	to = from + ledger.Seq(s.cfg.MaxPullEntries) - 1
	for seq := range l.ahead {
		if seq > from && seq <= to {
			to = seq - 1
		}
	}
	if l.fork != 0 && to >= l.fork {
		to = l.fork - 1
	}
	if from > l.end()+1 && from <= to {
		// The range lands in the buffer: no more than it has room for.
		room := s.cfg.MaxBuffered - s.buffered
		if room <= 0 {
			return from, from - 1
		}
		to = min(to, from+ledger.Seq(room)-1)
	}
	return from, to
}

// schedulePull starts a pull of l, if a peer has what it lacks.
func (s *Syncer) schedulePull(l *authorLog) {
	if l.pull != 0 || l.coolUntil > s.now {
		return
	}
	from, to := s.want(l)
	if from > to {
		return
	}
	var cands []*peer
	for _, id := range s.peerIDs {
		p := s.peers[id]
		if !p.up || p.retryAt > s.now || p.known[l.a].Seq < from {
			continue
		}
		if r, ok := p.refusedFrom(l.a, s.now); ok && r <= from {
			continue
		}
		cands = append(cands, p)
	}
	if len(cands) > 1 && l.lastFailed != "" {
		// Retry with another peer than the one that failed last.
		others := cands[:0:0]
		for _, p := range cands {
			if p.id != l.lastFailed {
				others = append(others, p)
			}
		}
		if len(others) > 0 {
			cands = others
		}
	}
	if len(cands) == 0 {
		return
	}
	p := cands[s.rnd.IntN(len(cands))]
	to = min(to, p.known[l.a].Seq)
	if r, ok := p.refusedFrom(l.a, s.now); ok {
		to = min(to, r-1)
	}
	l.pull = s.startPull(p, l.a, from, to, false)
}

// probe asks a peer for its entry at one seq, where a fork shows: the
// entry comes back as Entries and meets the Syncer's or the store's.
func (s *Syncer) probe(id PeerID, a ledger.Author, seq ledger.Seq) {
	if seq == 0 {
		return
	}
	for _, in := range s.pulls {
		if in.probe && in.p.Peer == id && in.p.Author == a && in.p.From == seq {
			return
		}
	}
	if s.probes >= s.cfg.MaxInflightPulls {
		s.c.Dropped.Probe++
		return
	}
	s.startPull(s.peerFor(id), a, seq, seq, true)
	s.probes++
}

func (s *Syncer) startPull(p *peer, a ledger.Author, from, to ledger.Seq, probe bool) uint64 {
	s.nextID++
	pl := Pull{ID: s.nextID, Peer: p.id, Author: a, From: from, To: to}
	s.pulls[pl.ID] = &inflight{p: pl, probe: probe, deadline: s.now + uint64(s.cfg.PullTimeoutTicks), got: from - 1}
	p.pulls++
	s.out.pulls = append(s.out.pulls, pl)
	if probe {
		s.c.Probes++
	} else {
		s.c.Pulls++
	}
	return pl.ID
}

// endPull finishes a pull. A pull that ended well but served nothing shows
// that the peer holds less than the Syncer thought (a stale hint, a store
// restored from a backup): what it is known to hold is lowered. A failed
// one is retried with another peer, and its peer is left alone for
// RetryTicks.
func (s *Syncer) endPull(in *inflight, how pullEnd) {
	delete(s.pulls, in.p.ID)
	p := s.peers[in.p.Peer]
	p.pulls--
	if in.probe {
		s.probes--
		return
	}
	l := s.logs[in.p.Author]
	if l.pull == in.p.ID {
		l.pull = 0
	}
	switch how {
	case pullDone:
		if in.got < in.p.From {
			s.c.EmptyPulls++
			if k := p.known[in.p.Author]; k.Seq >= in.p.From {
				if in.p.From == 1 {
					delete(p.known, in.p.Author)
				} else {
					p.known[in.p.Author] = ledger.Head{Seq: in.p.From - 1}
				}
			}
		}
		return
	case pullFailed:
		s.c.PullFailures++
	case pullTimedOut:
		s.c.PullTimeouts++
	}
	l.lastFailed = in.p.Peer
	p.failures++
	p.retryAt = s.now + uint64(s.cfg.RetryTicks)
}

// pullEnd says how a pull ended.
type pullEnd int

const (
	pullDone     pullEnd = iota // the stream ended well
	pullFailed                  // the node reported a failure
	pullTimedOut                // no progress for PullTimeoutTicks
	pullPeerDown                // its peer went down
)
