package federation

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/caisse-coop/caisse/ledger"
)

// hashVersion opens the state hash's encoding. Any change to the encoding
// below changes this string.
const hashVersion = "caisse/federation/state/v1\x00"

// Hash returns the state hash: SHA-256 over a canonical encoding of the
// federation id, the members, the head of every member's log and every
// caisse's non-zero totals and buckets. Two States that applied the same
// entries have the same Hash, whatever order the entries came in; nodes
// compare it to check that they converged.
//
// The encoding, every integer fixed-width big-endian, every string and
// list prefixed with its uint32 length, members sorted by key, buckets by
// period, direction (1 in, 2 out) and category enum value:
//
//	version string "caisse/federation/state/v1\x00" (unprefixed)
//	genesis  byte (0: none, and nothing follows; 1: applied)
//	fed      [32]byte
//	members  uint32 count, then for each:
//	  key [32]byte, name string, founder byte,
//	  head seq uint64 (0 for an empty log), head hash [32]byte (zero then),
//	  contributed int64, disbursed int64,
//	  buckets uint32 count, then for each non-zero one:
//	    period string, direction byte, category uint32, amount int64
//
// It walks the members and their periods, not the entries.
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
		m := s.members[k]
		buf = append(buf, k[:]...)
		buf = appendString(buf, m.name)
		buf = append(buf, boolByte(m.founder))
		var head ledger.Head
		if hp := m.head(); hp != nil {
			head = *hp
		}
		buf = binary.BigEndian.AppendUint64(buf, uint64(head.Seq))
		buf = append(buf, head.Hash[:]...)
		buf = binary.BigEndian.AppendUint64(buf, uint64(m.total.Contributed))
		buf = binary.BigEndian.AppendUint64(buf, uint64(m.total.Disbursed))
		n := 0
		for i := range m.periods {
			for dir := range m.periods[i].buckets {
				for _, a := range m.periods[i].buckets[dir] {
					if a != 0 {
						n++
					}
				}
			}
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(n))
		for _, i := range m.sortedPeriods() {
			ps := &m.periods[i]
			for dir := range ps.buckets {
				for cat, a := range ps.buckets[dir] {
					if a == 0 {
						continue
					}
					buf = appendString(buf, string(ps.period))
					buf = append(buf, byte(dir+1))
					buf = binary.BigEndian.AppendUint32(buf, uint32(cat))
					buf = binary.BigEndian.AppendUint64(buf, uint64(a))
					h.Write(buf)
					buf = buf[:0]
				}
			}
		}
		h.Write(buf)
		buf = buf[:0]
	}
	return ledger.Hash(h.Sum(nil))
}

func appendString(buf []byte, s string) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(s)))
	return append(buf, s...)
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
