package federation

import (
	"fmt"
	"unsafe"

	"github.com/caisse-coop/caisse/ledger"
)

// NumCategories is the number of category values a caisse has buckets for.
const NumCategories = numCategories

// LogEntrySize is what the State keeps of each applied entry, in bytes.
var LogEntrySize = unsafe.Sizeof(logEntry{})

// Preset records amount for member a in period p, direction in (else out)
// and category cat, through the same checked sums as an entry but without
// one and with no limit on the amount: it brings a caisse near the int64
// limit without signing thousands of entries.
func Preset(s *State, a ledger.Author, p ledger.Period, in bool, cat uint8, amount ledger.Amount) error {
	m := s.authors[a]
	if m == nil {
		return fmt.Errorf("preset %s: %w", a.Short(), ErrUnknownAuthor)
	}
	ch := change{m: m, dir: dirOut, cat: cat, amount: amount, counts: true}
	if in {
		ch.dir = dirIn
	}
	idx, ok := m.byPeriod[p]
	if !ok {
		idx = uint32(len(m.periods))
	}
	ch.pidx, ch.period = idx, p
	var err error
	if ch.all, err = m.all.plan(idx, ch.dir, cat, amount, false); err != nil {
		return err
	}
	if m.counted != nil {
		if ch.cnt, err = m.counted.plan(idx, ch.dir, cat, amount, false); err != nil {
			return err
		}
	}
	m.commitMovement(ch)
	return nil
}

// HashTweaks change one governance field of a State each, behind the
// entries' back: the Hash must see every one. Each finds the first
// proposal, admitted member, excluded member, fork or applicant; it
// reports false if there is none.
var HashTweaks = map[string]func(s *State) bool{
	"outcome":          tweakProposal(func(ps *proposalState) { ps.outcome = OutcomeOpen }),
	"eligible":         tweakProposal(func(ps *proposalState) { ps.weight[ledger.Author{0xff}] = 0 }),
	"yes members":      tweakProposal(func(ps *proposalState) { ps.yesW++ }),
	"eligible members": tweakProposal(func(ps *proposalState) { ps.eligibleW++ }),
	"yes":              tweakProposal(func(ps *proposalState) { ps.yes++ }),
	"no":               tweakProposal(func(ps *proposalState) { ps.no++ }),
	"abstain":          tweakProposal(func(ps *proposalState) { ps.abstain++ }),
	"decided":          tweakProposal(func(ps *proposalState) { ps.decided.time.Logical++ }),
	"decided author":   tweakProposal(func(ps *proposalState) { ps.decided.author[0] ^= 1 }),
	"decided seq":      tweakProposal(func(ps *proposalState) { ps.decided.seq++ }),
	"ballot choice": tweakProposal(func(ps *proposalState) {
		for k, b := range ps.votes {
			b.choice = b.choice%3 + 1
			ps.votes[k] = b
			return
		}
	}),
	"ballot seq": tweakProposal(func(ps *proposalState) {
		for k, b := range ps.votes {
			b.seq++
			ps.votes[k] = b
			return
		}
	}),
	"ballot time": tweakProposal(func(ps *proposalState) {
		for k, b := range ps.votes {
			b.time.Wall++
			ps.votes[k] = b
			return
		}
	}),
	"since":       tweakStanding(func(st *standing) bool { return !st.founding }, func(st *standing) { st.since.time.Wall++ }),
	"admitted by": tweakStanding(func(st *standing) bool { return !st.founding }, func(st *standing) { st.admittedBy[0] ^= 1 }),
	"until":       tweakStanding(func(st *standing) bool { return st.excluded }, func(st *standing) { st.until.seq++ }),
	"excluded by": tweakStanding(func(st *standing) bool { return st.excluded }, func(st *standing) { st.excludedBy[0] ^= 1 }),
	"excluded":    tweakStanding(func(st *standing) bool { return st.excluded }, func(st *standing) { st.excluded = false }),
	"fork seq":    tweakMember(func(m *member) bool { return m.fork != nil }, func(m *member) { m.fork.seq++ }),
	"fork hashes": tweakMember(func(m *member) bool { return m.fork != nil }, func(m *member) {
		m.fork.first, m.fork.second = m.fork.second, m.fork.first
	}),
	"applicant name": tweakMember(func(m *member) bool { return m.role == roleApplicant }, func(m *member) { m.name += "!" }),
	"applicant note": tweakMember(func(m *member) bool { return m.role == roleApplicant }, func(m *member) { m.note += "!" }),
	"applied":        tweakMember(func(m *member) bool { return m.role == roleApplicant }, func(m *member) { m.applied.Logical++ }),
	"role":           tweakMember(func(m *member) bool { return m.role == roleCofounder }, func(m *member) { m.role = roleApplicant }),
}

func tweakProposal(f func(*proposalState)) func(*State) bool {
	return func(s *State) bool {
		for _, ps := range s.gov.f.order {
			if ps.outcome == OutcomeAdopted && len(ps.votes) > 0 {
				f(ps)
				return true
			}
		}
		return false
	}
}

func tweakStanding(which func(*standing) bool, f func(*standing)) func(*State) bool {
	return func(s *State) bool {
		for _, k := range s.order {
			if st := s.gov.f.standing[k]; st != nil && which(st) {
				f(st)
				return true
			}
		}
		return false
	}
}

func tweakMember(which func(*member) bool, f func(*member)) func(*State) bool {
	return func(s *State) bool {
		for _, k := range s.order {
			if m := s.authors[k]; which(m) {
				f(m)
				return true
			}
		}
		return false
	}
}
