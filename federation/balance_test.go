package federation_test

import (
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
)

// TestBalances works one example through by hand: two periods, several
// categories, a correction of a contribution and one of a disbursement, a
// period that ends below zero, and a caisse with nothing.
func TestBalances(t *testing.T) {
	f := newFixture(t, 2)
	a, idle := f.cofounders[0], f.cofounders[1]
	a1 := a.next(t, contrib(10000, "2026-01", dues))
	a2 := a.next(t, contrib(2500, "2026-01", donation))
	a3 := a.next(t, disburse(4000, "2026-01", strike))
	a4 := a.next(t, contrib(10000, "2026-02", dues))
	a5 := a.next(t, disburse(1500, "2026-02", legal))
	a6 := a.next(t, contrib(700, "2026-02", fundrais))
	a7 := a.next(t, correct(a2))                          // the donation was recorded twice
	a8 := a.next(t, correct(a5))                          // the legal fees were refunded
	a9 := a.next(t, disburse(20000, "2026-02", hardship)) // paid before February's dues came in
	f2 := f.founder.next(t, contrib(5000, "2026-01", dues))
	s := stateOf(t, f.genesis, a1, a2, a3, f2, a4, a5, a6, a7, a8, a9)

	in := func(cat string, amt ledger.Amount) federation.CategoryTotal {
		return federation.CategoryTotal{Direction: "in", Category: cat, Amount: amt}
	}
	out := func(cat string, amt ledger.Amount) federation.CategoryTotal {
		return federation.CategoryTotal{Direction: "out", Category: cat, Amount: amt}
	}
	jan := federation.Totals{Contributed: 10000, Disbursed: 4000, Balance: 6000}
	feb := federation.Totals{Contributed: 10700, Disbursed: 20000, Balance: -9300}
	balA := federation.CaisseBalance{
		Key: a.id, Name: "Caisse A",
		Total:      federation.Totals{Contributed: 20700, Disbursed: 24000, Balance: -3300},
		ByCategory: []federation.CategoryTotal{in("dues", 20000), in("fundraising", 700), out("hardship", 20000), out("strike", 4000)},
		ByPeriod:   []federation.PeriodTotals{{Period: "2026-01", Totals: jan}, {Period: "2026-02", Totals: feb}},
		Funds:      -3300,
	}
	founderJan := federation.Totals{Contributed: 5000, Balance: 5000}
	balF := federation.CaisseBalance{
		Key: f.founder.id, Name: "Caisse fondatrice",
		Total:      founderJan,
		ByCategory: []federation.CategoryTotal{in("dues", 5000)},
		ByPeriod:   []federation.PeriodTotals{{Period: "2026-01", Totals: founderJan}},
		Funds:      5000,
	}
	balIdle := federation.CaisseBalance{Key: idle.id, Name: "Caisse B"}
	want := sortBalances(balA, balF, balIdle)
	if diff := cmp.Diff(want, s.Balances()); diff != "" {
		t.Errorf("Balances() (-want +got):\n%s", diff)
	}
	if got, ok := s.Balance(a.id); !ok {
		t.Error("Balance(A): not found")
	} else if diff := cmp.Diff(balA, got); diff != "" {
		t.Errorf("Balance(A) (-want +got):\n%s", diff)
	}
	if _, ok := s.Balance(newWriter(99, "x").id); ok {
		t.Error("Balance(stranger) found")
	}

	periods := []struct {
		period ledger.Period
		want   []federation.CaisseBalance
	}{
		{"2026-01", sortBalances(
			federation.CaisseBalance{Key: a.id, Name: "Caisse A", Total: jan,
				ByCategory: []federation.CategoryTotal{in("dues", 10000), out("strike", 4000)},
				ByPeriod:   []federation.PeriodTotals{{Period: "2026-01", Totals: jan}}},
			func() federation.CaisseBalance { b := balF; b.Funds = 0; return b }(), // BalancesFor leaves Funds zero
			balIdle,
		)},
		{"2026-02", sortBalances(
			federation.CaisseBalance{Key: a.id, Name: "Caisse A", Total: feb,
				ByCategory: []federation.CategoryTotal{in("dues", 10000), in("fundraising", 700), out("hardship", 20000)},
				ByPeriod:   []federation.PeriodTotals{{Period: "2026-02", Totals: feb}}},
			federation.CaisseBalance{Key: f.founder.id, Name: "Caisse fondatrice"},
			balIdle,
		)},
		{"2026-03", sortBalances(
			federation.CaisseBalance{Key: a.id, Name: "Caisse A"},
			federation.CaisseBalance{Key: f.founder.id, Name: "Caisse fondatrice"},
			balIdle,
		)},
	}
	for _, p := range periods {
		if diff := cmp.Diff(p.want, s.BalancesFor(p.period)); diff != "" {
			t.Errorf("BalancesFor(%s) (-want +got):\n%s", p.period, diff)
		}
	}

	corrected := []struct {
		seq  ledger.Seq
		want ledger.Seq
		ok   bool
	}{{1, 0, false}, {2, 7, true}, {5, 8, true}, {7, 0, false}, {99, 0, false}}
	for _, c := range corrected {
		if by, ok := s.CorrectedBy(a.id, c.seq); by != c.want || ok != c.ok {
			t.Errorf("CorrectedBy(A, %d) = %d, %v; want %d, %v", c.seq, by, ok, c.want, c.ok)
		}
	}
	if _, ok := s.CorrectedBy(newWriter(99, "x").id, 2); ok {
		t.Error("CorrectedBy(stranger) found")
	}
}

// TestCorrectionEmptiesAPeriod checks that a period whose only entry was
// corrected disappears from the balances.
func TestCorrectionEmptiesAPeriod(t *testing.T) {
	f := newFixture(t, 1)
	a := f.cofounders[0]
	a1 := a.next(t, disburse(300, "2026-05", strike))
	a2 := a.next(t, correct(a1))
	s := stateOf(t, f.genesis, a1, a2)
	got, _ := s.Balance(a.id)
	if diff := cmp.Diff(federation.CaisseBalance{Key: a.id, Name: "Caisse A"}, got); diff != "" {
		t.Errorf("Balance(A) (-want +got):\n%s", diff)
	}
	for _, cb := range s.BalancesFor("2026-05") {
		if cb.Total != (federation.Totals{}) || cb.ByCategory != nil || cb.ByPeriod != nil {
			t.Errorf("BalancesFor(2026-05) of %s = %+v, want nothing", cb.Name, cb)
		}
	}
}

func sortBalances(bs ...federation.CaisseBalance) []federation.CaisseBalance {
	ms := make([]federation.Member, len(bs))
	byKey := map[ledger.Author]federation.CaisseBalance{}
	for i, b := range bs {
		ms[i] = federation.Member{Key: b.Key}
		byKey[b.Key] = b
	}
	sortMembers(ms)
	out := make([]federation.CaisseBalance, len(ms))
	for i, m := range ms {
		out[i] = byKey[m.Key]
	}
	return out
}
