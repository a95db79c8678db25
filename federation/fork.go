package federation

import (
	"bytes"
	"fmt"

	"github.com/caisse-coop/caisse/ledger"
)

// fork is the proof that an author signed two entries with the same seq:
// of all the entries at the lowest such seq known, the two with the lowest
// hashes, so that the proof kept is a function of the proofs applied.
type fork struct {
	seq           ledger.Seq
	first, second ledger.Entry // first.Hash() < second.Hash()
}

// CheckFork reports whether ApplyFork(a, b) would change the state, and
// why not. It changes nothing.
func (s *State) CheckFork(a, b ledger.Entry) error {
	if _, err := s.checkFork(a, b); err != nil {
		return fmt.Errorf("federation: check fork %s: %w", where(a), err)
	}
	return nil
}

// ApplyFork applies the proof that a and b, two valid entries of this
// federation signed by the same author with the same seq, are a fork
// (ledger.CheckStored returns them as a *ledger.ForkError). It verifies
// both signatures: a proof freezes an author, it must not be forgeable.
//
// The author is frozen at the lowest seq where a fork is known: its
// entries from that seq on are taken out of the state if they were
// applied (from its log, its caisse, the proposals and the votes) and
// refused from then on with ErrForked. Its entries before that seq still
// apply. The genesis stays: a founder forked at seq 1 keeps its charter.
//
// A fork proof about a key the state does not know waits for its
// application (ErrNoApplication, ErrPending); one that adds nothing (the
// author is frozen at a lower seq, or at this seq by entries with lower
// hashes) is ledger.ErrDuplicate.
//
// Taking out a voter's entries may change a decision, even one on which
// the state already accepted an admitted member's entries: those stay and
// count for nothing if the admission falls. A node that learned the fork
// before the admission was final holds them aside instead: the states of
// the two nodes then differ until the members decide again. This is the
// one way known in which nodes that hold the same entries and proofs may
// not converge; it takes an equivocation, which the views show.
func (s *State) ApplyFork(a, b ledger.Entry) error {
	f, err := s.checkFork(a, b)
	if err != nil {
		return fmt.Errorf("federation: apply fork %s: %w", where(a), err)
	}
	s.commitFork(f)
	return nil
}

func (s *State) checkFork(a, b ledger.Entry) (*fork, error) {
	switch {
	case a.IsZero() || b.IsZero():
		return nil, fmt.Errorf("zero entry: %w", ledger.ErrMalformed)
	case s.charter == nil:
		return nil, fmt.Errorf("fork proof before the genesis: %w", ErrNoGenesis)
	case a.Author() != b.Author() || a.Seq() != b.Seq():
		return nil, fmt.Errorf("%s and %s: not the same author and seq: %w", a, b, ErrBadForkProof)
	case a.Hash() == b.Hash():
		return nil, fmt.Errorf("%s twice: %w", a, ErrBadForkProof)
	}
	for _, e := range []ledger.Entry{a, b} {
		if err := ledger.CheckFederation(s.fed, e); err != nil {
			return nil, err
		}
		if err := e.Verify(); err != nil {
			return nil, err
		}
	}
	m := s.authors[a.Author()]
	if m == nil {
		return nil, fmt.Errorf("%w: %w", ErrNoApplication, ErrPending)
	}
	if compareHashes(a.Hash(), b.Hash()) > 0 {
		a, b = b, a
	}
	f := &fork{seq: a.Seq(), first: a, second: b}
	if old := m.fork; old != nil {
		switch {
		case old.seq < f.seq:
			return nil, fmt.Errorf("frozen from seq %d already: %w", old.seq, ledger.ErrDuplicate)
		case old.seq == f.seq:
			f = lowestTwo(old, f)
			if f.first.Hash() == old.first.Hash() && f.second.Hash() == old.second.Hash() {
				return nil, fmt.Errorf("fork at seq %d known already: %w", old.seq, ledger.ErrDuplicate)
			}
		}
	}
	return f, nil
}

// lowestTwo returns the proof made of the two entries with the lowest
// hashes among those of x and y, which share their author and seq.
func lowestTwo(x, y *fork) *fork {
	all := []ledger.Entry{x.first, x.second, y.first, y.second}
	var out []ledger.Entry
	for len(out) < 2 {
		best := -1
		for i, e := range all {
			if e.IsZero() || len(out) == 1 && e.Hash() == out[0].Hash() {
				continue
			}
			if best < 0 || compareHashes(e.Hash(), all[best].Hash()) < 0 {
				best = i
			}
		}
		out = append(out, all[best])
		all[best] = ledger.Entry{}
	}
	return &fork{seq: x.seq, first: out[0], second: out[1]}
}

func (s *State) commitFork(f *fork) {
	m := s.authors[f.first.Author()]
	m.fork = f
	keep := int(f.seq) - 1
	if m.role == roleFounder && keep < 1 {
		keep = 1 // the genesis founded the federation: it stays
	}
	if m.log.len() > keep {
		s.count -= uint64(m.log.len() - keep)
		m.truncate(keep)
		s.truncateSettlements(m, keep)
		if s.gov.remove(m.key, ledger.Seq(keep+1)) {
			s.gov.refold()
		}
	}
	// Heads went back, the fold may have changed: finality is computed
	// again, windows are checked again.
	s.foldChanged()
	if m.role == roleApplicant && m.log.len() == 0 {
		// Its application is gone: the name shown is the proof's, not
		// that of whichever application came first.
		m.name, m.note, m.applied = f.first.Body().GetApplication().GetName(), "", ledger.HLC{}
	}
}

// truncate keeps the first n entries of m's log and rebuilds m's sums
// from them.
func (m *member) truncate(n int) {
	m.log.truncate(n)
	for target, by := range m.correctedBy {
		if int(by) > n {
			delete(m.correctedBy, target)
		}
	}
	for per, c := range m.closes {
		if int(c.seq) > n {
			delete(m.closes, per)
		}
	}
	// The periods in order of first use in what is left, so that the
	// state does not remember what was taken out.
	old := m.periods
	m.periods, m.byPeriod = nil, nil
	m.all = sums{}
	for i := range m.log.len() {
		le := m.log.at(i)
		switch le.kind {
		case kindContribution, kindDisbursement:
			per := old[le.period]
			idx, ok := m.byPeriod[per]
			if !ok {
				if m.byPeriod == nil {
					m.byPeriod = make(map[ledger.Period]uint32)
				}
				idx = uint32(len(m.periods))
				m.byPeriod[per] = idx
				m.periods = append(m.periods, per)
				m.all.periods = append(m.all.periods, periodSums{})
			}
			le.period = uint16(idx)
			m.all.mustMove(idx, dirOf(le.kind), le.cat, le.amount, false)
		case kindCorrection:
			t := m.log.at(int(le.target() - 1))
			m.all.mustMove(uint32(t.period), dirOf(t.kind), t.cat, t.amount, true)
		}
	}
	m.rebuildCounted()
}

// remove takes out the proposals and votes of author from seq on; it
// reports whether there were any.
func (g *governance) remove(author ledger.Author, from ledger.Seq) bool {
	n := len(g.entries)
	kept := g.entries[:0]
	for _, e := range g.entries {
		if e.pos.author == author && e.pos.seq >= from {
			if e.kind == govProposal {
				delete(g.proposals, e.hash)
			}
			continue
		}
		kept = append(kept, e)
	}
	clear(g.entries[len(kept):])
	g.entries = kept
	return len(kept) != n
}

func compareHashes(a, b ledger.Hash) int { return bytes.Compare(a[:], b[:]) }
