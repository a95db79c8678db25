package federation

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"maps"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
)

// hashVersion opens the state hash's encoding. Any change to the encoding
// below changes this string.
const hashVersion = "caisse/federation/state/v3\x00"

// Hash returns the state hash: SHA-256 over a canonical encoding of the
// federation id, every author (the charter's members and the applicants)
// with its standing, its fork and the head of its log, every caisse's
// totals and buckets that count and its period closes, and every proposal with its tally and
// outcome. Two States that applied the same entries and fork proofs have
// the same Hash, whatever order they came in; nodes compare it to check
// that they converged.
//
// The encoding, every integer fixed-width big-endian, every string and
// list prefixed with its uint32 length, a time as wall uint64 then logical
// uint32, a place (pos) as time, author [32]byte and seq uint64, authors
// sorted by key, buckets by period, direction (1 in, 2 out) and category
// enum value, proposals in the canonical order, ballots by voter:
//
//	version string "caisse/federation/state/v3\x00" (unprefixed)
//	genesis  byte (0: none, and nothing follows; 1: applied)
//	fed      [32]byte
//	authors  uint32 count, then for each:
//	  key [32]byte, role byte (1 founder, 2 co-founder, 3 applicant),
//	  name string, note string, applied time,
//	  member byte (0: not admitted, and the next three are absent; 1),
//	    since place, admitted-by [32]byte,
//	    excluded byte (0, and the next two are absent; 1), until place,
//	    excluded-by [32]byte,
//	  fork seq uint64 (0: none, and the two hashes are absent),
//	    first [32]byte, second [32]byte,
//	  head seq uint64 (0 for an empty log), head hash [32]byte (zero then),
//	  contributed int64, disbursed int64 (entries that count),
//	  buckets uint32 count, then for each non-zero one (entries that count):
//	    period string, direction byte, category uint32, amount int64
//	  closes uint32 count, then for each, by period:
//	    period string, seq uint64, counts byte (0 or 1), contributed int64,
//	    disbursed int64, members uint64,
//	    need uint32 count, then for each, by unit: unit string, units uint64
//	proposals uint32 count, then for each:
//	  id [32]byte, outcome byte (1 open, 2 adopted, 3 rejected, 4 void),
//	  eligible, yes, no, abstain uint32, decided place (zero if none),
//	  ballots uint32 count, then for each:
//	    voter [32]byte, choice byte (enum value), seq uint64, time
//
// A proposal's content (author, action, target, note) and each vote are
// covered by the heads of their authors' logs. The encoding walks the
// authors, their periods and the proposals, not the entries.
func (s *State) Hash() ledger.Hash {
	h := sha256.New()
	buf := make([]byte, 0, 256)
	buf = append(buf, hashVersion...)
	if s.charter == nil {
		buf = append(buf, 0)
		h.Write(buf)
		return ledger.Hash(h.Sum(nil))
	}
	buf = append(buf, 1)
	buf = append(buf, s.fed[:]...)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s.order)))
	for _, k := range s.order {
		buf = s.appendAuthor(h, buf, s.authors[k])
		h.Write(buf)
		buf = buf[:0]
	}
	f := s.gov.f
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(f.order)))
	for _, ps := range f.order {
		buf = append(buf, ps.g.hash[:]...)
		buf = append(buf, outcomeByte(ps.outcome))
		for _, n := range []int{ps.eligible(), ps.yes, ps.no, ps.abstain} {
			buf = binary.BigEndian.AppendUint32(buf, uint32(n))
		}
		for _, n := range []uint64{ps.eligibleW, ps.yesW, ps.noW, ps.absW, uint64(len(ps.closed))} {
			buf = binary.BigEndian.AppendUint64(buf, n)
		}
		buf = appendPos(buf, ps.decided)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(ps.votes)))
		for _, v := range ps.sortedVoters() {
			b := ps.votes[v]
			buf = append(buf, v[:]...)
			buf = append(buf, byte(b.choice))
			buf = binary.BigEndian.AppendUint64(buf, uint64(b.seq))
			buf = appendTime(buf, b.time)
		}
		h.Write(buf)
		buf = buf[:0]
	}
	h.Write(buf)
	return ledger.Hash(h.Sum(nil))
}

func (s *State) appendAuthor(h hash.Hash, buf []byte, m *member) []byte {
	buf = append(buf, m.key[:]...)
	buf = append(buf, byte(m.role))
	buf = appendString(buf, m.name)
	buf = appendString(buf, m.note)
	buf = appendTime(buf, m.applied)
	if st := s.gov.f.standing[m.key]; st == nil {
		buf = append(buf, 0)
	} else {
		buf = append(buf, 1)
		buf = appendPos(buf, st.since)
		buf = append(buf, st.admittedBy[:]...)
		if !st.excluded {
			buf = append(buf, 0)
		} else {
			buf = append(buf, 1)
			buf = appendPos(buf, st.until)
			buf = append(buf, st.excludedBy[:]...)
		}
	}
	if m.fork == nil {
		buf = binary.BigEndian.AppendUint64(buf, 0)
	} else {
		first, second := m.fork.first.Hash(), m.fork.second.Hash()
		buf = binary.BigEndian.AppendUint64(buf, uint64(m.fork.seq))
		buf = append(buf, first[:]...)
		buf = append(buf, second[:]...)
	}
	var head ledger.Head
	if hp := m.head(); hp != nil {
		head = *hp
	}
	buf = binary.BigEndian.AppendUint64(buf, uint64(head.Seq))
	buf = append(buf, head.Hash[:]...)
	v := m.view()
	buf = binary.BigEndian.AppendUint64(buf, uint64(v.total.Contributed))
	buf = binary.BigEndian.AppendUint64(buf, uint64(v.total.Disbursed))
	n := 0
	for i := range v.periods {
		for dir := range v.periods[i].buckets {
			for _, a := range v.periods[i].buckets[dir] {
				if a != 0 {
					n++
				}
			}
		}
	}
	buf = binary.BigEndian.AppendUint32(buf, uint32(n))
	for _, i := range m.sortedPeriods() {
		ps := &v.periods[i]
		for dir := range ps.buckets {
			for cat, a := range ps.buckets[dir] {
				if a == 0 {
					continue
				}
				buf = appendString(buf, string(m.periods[i]))
				buf = append(buf, byte(dir+1))
				buf = binary.BigEndian.AppendUint32(buf, uint32(cat))
				buf = binary.BigEndian.AppendUint64(buf, uint64(a))
				h.Write(buf)
				buf = buf[:0]
			}
		}
	}
	closed := slices.Sorted(maps.Keys(m.closes))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(closed)))
	for _, per := range closed {
		c := m.closes[per]
		buf = appendString(buf, string(per))
		buf = binary.BigEndian.AppendUint64(buf, uint64(c.seq))
		if m.closeCounts(c) {
			buf = append(buf, 1)
		} else {
			buf = append(buf, 0)
		}
		buf = binary.BigEndian.AppendUint64(buf, uint64(c.contributed))
		buf = binary.BigEndian.AppendUint64(buf, uint64(c.disbursed))
		buf = binary.BigEndian.AppendUint64(buf, c.members)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(c.need)))
		for _, n := range c.need {
			buf = appendString(buf, n.Unit)
			buf = binary.BigEndian.AppendUint64(buf, n.Units)
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return buf
}

func appendString(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}

func appendTime(buf []byte, t ledger.HLC) []byte {
	buf = binary.BigEndian.AppendUint64(buf, t.Wall)
	return binary.BigEndian.AppendUint32(buf, t.Logical)
}

func appendPos(buf []byte, p pos) []byte {
	buf = appendTime(buf, p.time)
	buf = append(buf, p.author[:]...)
	return binary.BigEndian.AppendUint64(buf, uint64(p.seq))
}

func outcomeByte(o Outcome) byte {
	switch o {
	case OutcomeOpen:
		return 1
	case OutcomeAdopted:
		return 2
	case OutcomeRejected:
		return 3
	}
	return 4
}
