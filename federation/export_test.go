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
	m := s.members[a]
	if m == nil {
		return fmt.Errorf("preset %s: %w", a.Short(), ErrUnknownAuthor)
	}
	ch := change{m: m, dir: dirOut, cat: cat, amount: amount}
	if in {
		ch.dir = dirIn
	}
	if err := m.plan(&ch, p, false); err != nil {
		return err
	}
	m.record(ch)
	return nil
}
