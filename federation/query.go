package federation

import (
	"cmp"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Member is a collective of the federation.
type Member struct {
	Key  ledger.Author
	Name string
	// Founder is true for the author of the genesis.
	Founder bool
}

// Totals sums a caisse's movements. Balance = Contributed - Disbursed; it
// may be negative (a contribution recorded after the payment it funded).
type Totals struct {
	Contributed, Disbursed, Balance ledger.Amount
}

// CaisseBalance is one caisse's accounts.
type CaisseBalance struct {
	Key  ledger.Author
	Name string
	// Total is over every period (or over one, from BalancesFor).
	Total Totals
	// ByCategory is sorted by Direction, then Category.
	ByCategory []CategoryTotal
	// ByPeriod is sorted by period.
	ByPeriod []PeriodTotals
}

// Directions of a CategoryTotal.
const (
	DirectionIn  = "in"  // contributions
	DirectionOut = "out" // disbursements
)

// CategoryTotal is the sum of one category of contributions (Direction
// "in", Category from ledger.ContributionCategoryName) or of disbursements
// ("out", ledger.DisbursementCategoryName).
type CategoryTotal struct {
	Direction string
	Category  string
	Amount    ledger.Amount
}

// PeriodTotals is a caisse's totals in one period.
type PeriodTotals struct {
	Period ledger.Period
	Totals
}

// Federation returns the federation id, the hash of its genesis; false
// before the genesis.
func (s *State) Federation() (ledger.Hash, bool) { return s.fed, s.charter != nil }

// Charter returns the genesis: the federation's name, currency, founding
// members and first rules; nil before the genesis. It is shared: callers
// must not modify it.
func (s *State) Charter() *caissev1.Genesis { return s.charter }

// Currency returns the federation's currency code ("EUR") and the number
// of decimals of its minor unit; "" and 0 before the genesis.
func (s *State) Currency() (code string, exponent uint32) {
	c := s.charter.GetCurrency()
	return c.GetCode(), c.GetExponent()
}

// Members returns the members, sorted by key.
func (s *State) Members() []Member {
	out := make([]Member, 0, len(s.order))
	for _, k := range s.order {
		m := s.members[k]
		out = append(out, Member{Key: k, Name: m.name, Founder: m.founder})
	}
	return out
}

// IsMember reports whether a is a member's key.
func (s *State) IsMember(a ledger.Author) bool { return s.members[a] != nil }

// Head returns the head of a's log as applied; false if a is not a member
// or none of its entries was applied.
func (s *State) Head(a ledger.Author) (ledger.Head, bool) {
	m := s.members[a]
	if m == nil || len(m.log) == 0 {
		return ledger.Head{}, false
	}
	return *m.head(), true
}

// Vector returns the head of every member's log that has entries: what
// the state holds, as the sync core compares it.
func (s *State) Vector() ledger.Vector {
	v := make(ledger.Vector, len(s.members))
	for k, m := range s.members {
		if h := m.head(); h != nil {
			v[k] = *h
		}
	}
	return v
}

// Entries returns the number of entries applied, the genesis included.
func (s *State) Entries() uint64 { return s.count }

// CorrectedBy returns the seq of the correction that reversed a's entry at
// seq; false if none did.
func (s *State) CorrectedBy(a ledger.Author, seq ledger.Seq) (ledger.Seq, bool) {
	m := s.members[a]
	if m == nil {
		return 0, false
	}
	by, ok := m.correctedBy[seq]
	return by, ok
}

// Balances returns every caisse's accounts over all periods, sorted by
// key. Categories and periods whose every movement was corrected are left
// out: a caisse lists only what is not zero.
func (s *State) Balances() []CaisseBalance {
	out := make([]CaisseBalance, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.members[k].balance())
	}
	return out
}

// Balance returns a's accounts over all periods; false if a is not a
// member.
func (s *State) Balance(a ledger.Author) (CaisseBalance, bool) {
	m := s.members[a]
	if m == nil {
		return CaisseBalance{}, false
	}
	return m.balance(), true
}

// BalancesFor returns every caisse's accounts restricted to period p,
// sorted by key: Total and ByCategory are p's, and ByPeriod holds p alone
// unless the caisse has nothing in p.
func (s *State) BalancesFor(p ledger.Period) []CaisseBalance {
	out := make([]CaisseBalance, 0, len(s.order))
	for _, k := range s.order {
		m := s.members[k]
		cb := CaisseBalance{Key: m.key, Name: m.name}
		if idx, ok := m.byPeriod[p]; ok {
			ps := &m.periods[idx]
			cb.Total = ps.total
			cb.ByCategory = ps.buckets.categories()
			if !ps.total.isZero() {
				cb.ByPeriod = []PeriodTotals{{Period: p, Totals: ps.total}}
			}
		}
		out = append(out, cb)
	}
	return out
}

func (m *member) balance() CaisseBalance {
	cb := CaisseBalance{Key: m.key, Name: m.name, Total: m.total, ByCategory: m.byCategory.categories()}
	for _, i := range m.sortedPeriods() {
		ps := &m.periods[i]
		if !ps.total.isZero() {
			cb.ByPeriod = append(cb.ByPeriod, PeriodTotals{Period: ps.period, Totals: ps.total})
		}
	}
	return cb
}

// sortedPeriods returns the indexes of m.periods in period order.
func (m *member) sortedPeriods() []uint32 {
	idx := make([]uint32, len(m.periods))
	for i := range idx {
		idx[i] = uint32(i)
	}
	slices.SortFunc(idx, func(a, b uint32) int { return cmp.Compare(m.periods[a].period, m.periods[b].period) })
	return idx
}

// isZero reports whether nothing is left in t. Buckets never go below
// zero (a correction takes out what its target put in), so zero
// Contributed and Disbursed mean an empty period.
func (t Totals) isZero() bool { return t.Contributed == 0 && t.Disbursed == 0 }

// categories lists the non-zero buckets, sorted by direction then name.
func (b *buckets) categories() []CategoryTotal {
	var out []CategoryTotal
	for dir, name := range [2]string{DirectionIn, DirectionOut} { // "in" < "out"
		start := len(out)
		for cat, a := range b[dir] {
			if a != 0 {
				out = append(out, CategoryTotal{Direction: name, Category: categoryName(dir, uint8(cat)), Amount: a})
			}
		}
		slices.SortFunc(out[start:], func(x, y CategoryTotal) int { return cmp.Compare(x.Category, y.Category) })
	}
	return out
}

func categoryName(dir int, cat uint8) string {
	if dir == dirIn {
		return ledger.ContributionCategoryName(caissev1.ContributionCategory(cat))
	}
	return ledger.DisbursementCategoryName(caissev1.DisbursementCategory(cat))
}
