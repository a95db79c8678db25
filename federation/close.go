package federation

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Period closes (DESIGN.md, "Federal rules and redistribution" and
// "Finality without a coordinator").
//
// A PeriodClose is accepted from an author on the same terms as its money
// entries (an applicant's waits for its admission to be final, a frozen
// author's is ErrForked, an excluded member's is kept and counts for
// nothing when it is dated after the exclusion), and checked against the
// author's own log only, so that accepting it does not depend on what
// other authors wrote, nor on the order entries arrive in:
//
//   - its contributed and disbursed totals, and its totals per category,
//     equal the sums of every contribution and disbursement of the author's
//     log in the period, less the corrections (all of them, counted or
//     not: for a member of the charter that is not excluded, that is what
//     the views show). The categories list only the non-zero totals, by
//     increasing category value. Otherwise ErrBadClose, naming the figure;
//   - each need unit is one that the charter's rules give a rate for
//     (ErrBadClose);
//   - the author has not closed the period already (ErrPeriodClosed).
//
// Once an author closed a period, its contributions and disbursements in
// that period, and its corrections of entries in that period, are
// ErrPeriodClosed, for good: a correction goes in a later period.

// NeedUnits is a declared need: units of one of the rules' rates.
type NeedUnits struct {
	Unit  string
	Units uint64
}

// closeRec is what the state keeps of an applied close.
type closeRec struct {
	seq                    ledger.Seq
	contributed, disbursed ledger.Amount
	members                uint64
	need                   []NeedUnits // sorted by unit
}

// PeriodStatus is where a period's closes stand.
type PeriodStatus struct {
	Period ledger.Period
	// Final is true once every caisse listed closed the period or was
	// excused from it: the redistribution of the period can no longer
	// change.
	Final bool
	// Caisses are the members taking part in the period, sorted by key:
	// the members admitted before the period's end (excluded or not,
	// forked or not), and the excluded members whose close of the period
	// counts.
	Caisses []PeriodCaisse
}

// PeriodCaisse is one caisse's close of a period.
type PeriodCaisse struct {
	Key  ledger.Author
	Name string
	// Closed is true when the caisse's close of the period counts: it is
	// in its log, dated within its membership. The figures below are the
	// close's, zero while it has not closed.
	Closed bool
	// Seq is the close's seq in the caisse's log; 0 if it has not closed.
	Seq                    ledger.Seq
	Members                uint64
	Contributed, Disbursed ledger.Amount
	// Need is sorted by unit.
	Need []NeedUnits
	// Excused is true when an adopted proposal, ExcusedBy, excused the
	// caisse from closing the period: the period can be final without its
	// close. A caisse excused that closes all the same takes part.
	Excused   bool
	ExcusedBy ledger.Hash
}

// planClose checks e, a period close of m, against m's log.
func (s *State) planClose(m *member, c *caissev1.PeriodClose) (change, error) {
	per := ledger.Period(c.GetPeriod())
	if old, ok := m.closes[per]; ok {
		return change{}, fmt.Errorf("period %s closed at seq %d already: %w", per, old.seq, ErrPeriodClosed)
	}
	var ps periodSums
	if idx, ok := m.byPeriod[per]; ok {
		ps = m.all.periods[idx]
	}
	bad := func(format string, args ...any) (change, error) {
		return change{}, fmt.Errorf("close of %s: %s: %w", per, fmt.Sprintf(format, args...), ErrBadClose)
	}
	if got, want := ledger.Amount(c.GetContributed()), ps.total.Contributed; got != want {
		return bad("contributed %d, entries say %d", got, want)
	}
	if got, want := ledger.Amount(c.GetDisbursed()), ps.total.Disbursed; got != want {
		return bad("disbursed %d, entries say %d", got, want)
	}
	type total struct {
		cat    int32
		amount int64
	}
	for dir, list := range [2][]total{
		func() (l []total) {
			for _, t := range c.GetContributions() {
				l = append(l, total{int32(t.GetCategory()), t.GetAmount()})
			}
			return l
		}(),
		func() (l []total) {
			for _, t := range c.GetDisbursements() {
				l = append(l, total{int32(t.GetCategory()), t.GetAmount()})
			}
			return l
		}(),
	} {
		what := "contributions"
		if dir == dirOut {
			what = "disbursements"
		}
		prev := int32(0)
		for _, t := range list {
			switch {
			case t.cat <= prev:
				return bad("%s: category %d listed after %d: want increasing categories", what, t.cat, prev)
			case t.cat >= numCategories:
				return bad("%s: category %d unknown", what, t.cat)
			case t.amount == 0:
				return bad("%s %s: zero total listed: list only the non-zero ones", what, categoryName(dir, uint8(t.cat)))
			}
			prev = t.cat
		}
		prev = 0
		for _, t := range list {
			for cat := prev + 1; cat < t.cat; cat++ {
				if a := ps.buckets[dir][cat]; a != 0 {
					return bad("%s %s missing, entries say %d", what, categoryName(dir, uint8(cat)), a)
				}
			}
			if want := ps.buckets[dir][t.cat]; ledger.Amount(t.amount) != want {
				return bad("%s %s %d, entries say %d", what, categoryName(dir, uint8(t.cat)), t.amount, want)
			}
			prev = t.cat
		}
		for cat := prev + 1; cat < numCategories; cat++ {
			if a := ps.buckets[dir][cat]; a != 0 {
				return bad("%s %s missing, entries say %d", what, categoryName(dir, uint8(cat)), a)
			}
		}
	}
	rates := s.knownUnits()
	rec := &closeRec{contributed: ledger.Amount(c.GetContributed()), disbursed: ledger.Amount(c.GetDisbursed()),
		members: c.GetMembers()}
	for _, n := range c.GetNeed() {
		if !rates[n.GetUnit()] {
			// A rule change that rates it may still arrive.
			ch, err := bad("need unit %q has no rate in the rules (%q)", n.GetUnit(), slices.Sorted(maps.Keys(rates)))
			return ch, fmt.Errorf("%w: %w", err, ErrPending)
		}
		rec.need = append(rec.need, NeedUnits{Unit: n.GetUnit(), Units: n.GetUnits()})
	}
	slices.SortFunc(rec.need, func(a, b NeedUnits) int { return cmp.Compare(a.Unit, b.Unit) })
	return change{kind: kindPeriodClose, m: m, period: per, close: rec}, nil
}

// knownUnits returns the need units that a rule set rates: the charter's,
// or one proposed, adopted or not (whether it is adopted, and for which
// periods, may change as votes arrive; the redistribution of a period
// values only the units that the rules in force for it rate).
func (s *State) knownUnits() map[string]bool {
	out := make(map[string]bool)
	for _, r := range s.charter.GetRules().GetRates() {
		out[r.GetUnit()] = true
	}
	for _, g := range s.gov.proposals {
		for _, r := range g.rules.GetRates() {
			out[r.GetUnit()] = true
		}
	}
	return out
}

// RulesFor returns the rule set in force for period p.
func (s *State) RulesFor(p ledger.Period) RuleSet {
	if s.gov.f == nil {
		return RuleSet{}
	}
	return s.gov.f.rulesFor(p)
}

// RuleHistory returns every rule set adopted, the charter's first, in
// the order of their decisions.
func (s *State) RuleHistory() []RuleSet {
	if s.gov.f == nil {
		return nil
	}
	return slices.Clone(s.gov.f.history)
}

// Rates returns the rates of rules r by unit.
func Rates(r *caissev1.Rules) map[string]ledger.Amount {
	out := make(map[string]ledger.Amount)
	for _, x := range r.GetRates() {
		out[x.GetUnit()] = ledger.Amount(x.GetAmount())
	}
	return out
}

// checkOpen refuses a movement of m in period per once m closed it.
func (m *member) checkOpen(per ledger.Period, what string) error {
	if c, ok := m.closes[per]; ok {
		return fmt.Errorf("%s in period %s, closed at seq %d: %w", what, per, c.seq, ErrPeriodClosed)
	}
	return nil
}

// closeCounts reports whether m's close c counts: dated within m's
// membership, like a money entry.
func (m *member) closeCounts(c *closeRec) bool {
	return m.win.always() || m.win.contains(m.posAt(c.seq))
}

// PeriodStatus returns where the closes of period p stand: which caisses
// take part in it (see PeriodStatus.Caisses), which closed it, with their
// figures, and whether the period is final.
func (s *State) PeriodStatus(p ledger.Period) PeriodStatus {
	out := PeriodStatus{Period: p}
	if s.charter == nil {
		return out
	}
	out.Final = true
	end := p.Next().StartMs()
	excused := s.gov.f.excused[p]
	for _, k := range s.order {
		st := s.standing(k)
		if st == nil || !st.founding && st.since.time.Wall >= end {
			continue // not a member in p: admitted after it
		}
		m := s.authors[k]
		pc := PeriodCaisse{Key: k, Name: m.name}
		if c, ok := m.closes[p]; ok && m.closeCounts(c) {
			pc.Closed, pc.Seq, pc.Members = true, c.seq, c.members
			pc.Contributed, pc.Disbursed = c.contributed, c.disbursed
			pc.Need = slices.Clone(c.need)
		} else if st.excluded {
			continue
		}
		if by, ok := excused[k]; ok {
			pc.Excused, pc.ExcusedBy = true, by
		}
		out.Final = out.Final && (pc.Closed || pc.Excused)
		out.Caisses = append(out.Caisses, pc)
	}
	return out
}

// Redistribution computes the redistribution of period p under the
// charter's rules from the closes that count (see PeriodStatus): each
// caisse that closed p takes part with the contributions, members and
// need of its close; a caisse that has not closed is left out. final is
// true once every caisse taking part closed p; until then the result is
// provisional and waiting lists, sorted, the caisses it waits for. The
// reserve holder keeps the reserve only if it closed p: otherwise (still
// waiting for it, or it is no longer taking part) the whole pool is
// distributed. Errors are Redistribute's (the charter's rules are checked
// by ledger, so only an overflow is expected) and ErrNoGenesis.
func (s *State) Redistribution(p ledger.Period) (r Redistribution, final bool, waiting []ledger.Author, err error) {
	if s.charter == nil {
		return Redistribution{}, false, nil, fmt.Errorf("federation: redistribution of %s: %w", p, ErrNoGenesis)
	}
	st := s.PeriodStatus(p)
	rules := s.RulesFor(p).Rules
	rates := Rates(rules)
	in := RedistributionInput{
		Period:    p,
		LevyBP:    rules.GetLevyBp(),
		ReserveBP: rules.GetReserveBp(),
		Weights: KeyWeights{Need: rules.GetWeights().GetNeedBp(), Members: rules.GetWeights().GetMembersBp(),
			Equal: rules.GetWeights().GetEqualBp()},
		Rates: rates,
	}
	var holder ledger.Author
	hasHolder := len(rules.GetReserveHolder()) == len(holder)
	copy(holder[:], rules.GetReserveHolder())
	for _, c := range st.Caisses {
		if !c.Closed {
			if !c.Excused {
				waiting = append(waiting, c.Key)
			}
			continue
		}
		ci := CaisseInput{ID: c.Key, Contributions: c.Contributed, Members: c.Members}
		for _, n := range c.Need {
			if _, rated := rates[n.Unit]; !rated {
				continue // a unit that the rules in force for p do not rate is worth nothing in p
			}
			if ci.Needs == nil {
				ci.Needs = make(map[string]uint64, len(c.Need))
			}
			ci.Needs[n.Unit] = n.Units
		}
		in.Caisses = append(in.Caisses, ci)
		if hasHolder && c.Key == holder {
			h := holder
			in.ReserveHolder = &h
		}
	}
	r, err = Redistribute(in)
	if err != nil {
		return Redistribution{}, false, waiting, err
	}
	return r, st.Final, waiting, nil
}
