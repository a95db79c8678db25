package federation_test

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	gocmp "github.com/google/go-cmp/cmp"
)

// closeFig is the figures of a close, by category value.
type closeFig struct {
	period  string
	in, out map[int32]int64
	members uint64
	need    map[string]uint64
}

// closeOf builds the close of fig, then lets edit change it.
func closeOf(fig closeFig, edit func(*caissev1.PeriodClose)) kindFn {
	return func(b *caissev1.EntryBody) {
		c := &caissev1.PeriodClose{Period: fig.period, Members: fig.members}
		for _, cat := range slices.Sorted(maps.Keys(fig.in)) {
			if a := fig.in[cat]; a != 0 {
				c.Contributed += a
				c.Contributions = append(c.Contributions, &caissev1.ContributionTotal{Category: caissev1.ContributionCategory(cat), Amount: a})
			}
		}
		for _, cat := range slices.Sorted(maps.Keys(fig.out)) {
			if a := fig.out[cat]; a != 0 {
				c.Disbursed += a
				c.Disbursements = append(c.Disbursements, &caissev1.DisbursementTotal{Category: caissev1.DisbursementCategory(cat), Amount: a})
			}
		}
		for _, u := range slices.Sorted(maps.Keys(fig.need)) {
			c.Need = append(c.Need, &caissev1.NeedUnits{Unit: u, Units: fig.need[u]})
		}
		if edit != nil {
			edit(c)
		}
		b.Kind = &caissev1.EntryBody_PeriodClose{PeriodClose: c}
	}
}

// figuresOf computes, from the bodies of a log alone, the net figures of
// period: what its close must say.
func figuresOf(log []ledger.Entry, period string) closeFig {
	fig := closeFig{period: period, in: map[int32]int64{}, out: map[int32]int64{}, members: 10}
	bySeq := map[ledger.Seq]ledger.Entry{}
	apply := func(e ledger.Entry, sign int64) {
		switch k := e.Body().GetKind().(type) {
		case *caissev1.EntryBody_Contribution:
			if k.Contribution.GetPeriod() == period {
				fig.in[int32(k.Contribution.GetCategory())] += sign * k.Contribution.GetAmount()
			}
		case *caissev1.EntryBody_Disbursement:
			if k.Disbursement.GetPeriod() == period {
				fig.out[int32(k.Disbursement.GetCategory())] += sign * k.Disbursement.GetAmount()
			}
		}
	}
	for _, e := range log {
		bySeq[e.Seq()] = e
		if c := e.Body().GetCorrection(); c != nil {
			apply(bySeq[ledger.Seq(c.GetTargetSeq())], -1)
			continue
		}
		apply(e, 1)
	}
	return fig
}

// closeSetup is the cofounder A's log used by the close refusals: 2026-01
// holds dues 1000, a donation of 300 and a strike payment of 200.
func closeSetup(t *testing.T, f *fixture) ([]ledger.Entry, closeFig) {
	a := f.cofounders[0]
	setup := []ledger.Entry{f.genesis,
		a.next(t, contrib(1000, "2026-01", dues)),
		a.next(t, contrib(300, "2026-01", donation)),
		a.next(t, disburse(200, "2026-01", strike)),
	}
	return setup, closeFig{period: "2026-01", in: map[int32]int64{1: 1000, 2: 300}, out: map[int32]int64{1: 200}, members: 12}
}

// closeRefusal is a close, or an entry after one, that the State must
// refuse for good with want, and an error that contains msg.
type closeRefusal struct {
	name  string
	edit  func(*caissev1.PeriodClose) // a bad close of closeSetup's period
	after func(t *testing.T, f *fixture, setup []ledger.Entry, fig closeFig) ([]ledger.Entry, ledger.Entry)
	want  error
	msg   string
	// pending: the refusal wraps ErrPending (a rule change may still
	// bring what is missing).
	pending bool
}

var closeRefusals = []closeRefusal{
	{name: "contributed", edit: func(c *caissev1.PeriodClose) { c.Contributed = 1250 },
		want: federation.ErrBadClose, msg: "contributed 1250, entries say 1300"},
	{name: "disbursed", edit: func(c *caissev1.PeriodClose) { c.Disbursed = 250 },
		want: federation.ErrBadClose, msg: "disbursed 250, entries say 200"},
	{name: "contribution category", edit: func(c *caissev1.PeriodClose) { c.Contributions[0].Amount = 950 },
		want: federation.ErrBadClose, msg: "contributions dues 950, entries say 1000"},
	{name: "contribution category missing", edit: func(c *caissev1.PeriodClose) { c.Contributions = c.Contributions[:1] },
		want: federation.ErrBadClose, msg: "contributions donation missing, entries say 300"},
	{name: "contribution category not in the entries", edit: func(c *caissev1.PeriodClose) {
		c.Contributions = append(c.Contributions, &caissev1.ContributionTotal{Category: fundrais, Amount: 5})
	}, want: federation.ErrBadClose, msg: "entries say 0"},
	{name: "categories out of order", edit: func(c *caissev1.PeriodClose) {
		c.Contributions[0], c.Contributions[1] = c.Contributions[1], c.Contributions[0]
	}, want: federation.ErrBadClose, msg: "want increasing categories"},
	{name: "zero category listed", edit: func(c *caissev1.PeriodClose) {
		c.Disbursements = append(c.Disbursements, &caissev1.DisbursementTotal{Category: legal, Amount: 0})
	}, want: federation.ErrBadClose, msg: "zero total listed"},
	{name: "disbursement category", edit: func(c *caissev1.PeriodClose) { c.Disbursements[0].Category = hardship },
		want: federation.ErrBadClose, msg: "disbursements strike missing, entries say 200"},
	{name: "need unit without a rate", edit: func(c *caissev1.PeriodClose) {
		c.Need = []*caissev1.NeedUnits{{Unit: "strike_day", Units: 3}}
	}, want: federation.ErrBadClose, msg: `need unit "strike_day" has no rate`, pending: true},
	{name: "close of an empty period", edit: func(c *caissev1.PeriodClose) {
		c.Period = "2026-02"
	}, want: federation.ErrBadClose, msg: "contributed 1300, entries say 0"},
	{name: "second close", after: func(t *testing.T, f *fixture, setup []ledger.Entry, fig closeFig) ([]ledger.Entry, ledger.Entry) {
		a := f.cofounders[0]
		return append(setup, a.next(t, closeOf(fig, nil))), a.next(t, closeOf(fig, nil))
	}, want: federation.ErrPeriodClosed, msg: "period 2026-01 closed at seq 4 already"},
	{name: "contribution in a closed period", after: func(t *testing.T, f *fixture, setup []ledger.Entry, fig closeFig) ([]ledger.Entry, ledger.Entry) {
		a := f.cofounders[0]
		return append(setup, a.next(t, closeOf(fig, nil))), a.next(t, contrib(5, "2026-01", dues))
	}, want: federation.ErrPeriodClosed, msg: "contribution in period 2026-01, closed at seq 4"},
	{name: "disbursement in a closed period", after: func(t *testing.T, f *fixture, setup []ledger.Entry, fig closeFig) ([]ledger.Entry, ledger.Entry) {
		a := f.cofounders[0]
		return append(setup, a.next(t, closeOf(fig, nil))), a.next(t, disburse(5, "2026-01", legal))
	}, want: federation.ErrPeriodClosed, msg: "disbursement in period 2026-01, closed at seq 4"},
	{name: "correction into a closed period", after: func(t *testing.T, f *fixture, setup []ledger.Entry, fig closeFig) ([]ledger.Entry, ledger.Entry) {
		a := f.cofounders[0]
		return append(setup, a.next(t, closeOf(fig, nil))), a.next(t, correct(setup[1]))
	}, want: federation.ErrPeriodClosed, msg: "correct it by an entry in a later period"},
}

// TestRefusedClose checks the close refusals: Check and Apply say why,
// as pending or not as the case says, and the State shows the same after.
func TestRefusedClose(t *testing.T) {
	for _, tc := range closeRefusals {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 2)
			setup, fig := closeSetup(t, f)
			var bad ledger.Entry
			if tc.after != nil {
				setup, bad = tc.after(t, f, setup, fig)
			} else {
				bad = f.cofounders[0].next(t, closeOf(fig, tc.edit))
			}
			s := stateOf(t, setup...)
			refuse(t, s, bad, tc.want, tc.pending)
			if err := s.Check(bad); err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Check = %v, want it to say %q", err, tc.msg)
			}
		})
	}
}

// TestCloseThenNextPeriod closes 2026-01 with a correction before the
// close, then records in 2026-02 and corrects an entry of 2026-02.
func TestCloseThenNextPeriod(t *testing.T) {
	f := newFixture(t, 2)
	setup, fig := closeSetup(t, f)
	a := f.cofounders[0]
	extra := a.next(t, contrib(40, "2026-01", fundrais))
	fix := a.next(t, correct(extra)) // net: nothing left of it
	cl := a.next(t, closeOf(fig, nil))
	s := stateOf(t, append(setup, extra, fix, cl)...)
	feb := a.next(t, contrib(70, "2026-02", dues))
	mustApply(t, s, feb, a.next(t, correct(feb)), a.next(t, contrib(71, "2026-02", dues)))
	st := s.PeriodStatus("2026-01")
	if st.Final || len(st.Caisses) != 3 {
		t.Fatalf("PeriodStatus = %+v, want 3 caisses, not final", st)
	}
	for _, c := range st.Caisses {
		want := federation.PeriodCaisse{Key: c.Key, Name: c.Name}
		if c.Key == a.id {
			want = federation.PeriodCaisse{Key: a.id, Name: a.name, Closed: true, Seq: cl.Seq(), Members: 12, Contributed: 1300, Disbursed: 200}
		}
		if diff := gocmp.Diff(want, c); diff != "" {
			t.Errorf("caisse %s (-want +got):\n%s", c.Key.Short(), diff)
		}
	}
	// The others close with nothing in the period: final.
	for _, w := range []*writer{f.founder, f.cofounders[1]} {
		mustApply(t, s, w.next(t, closeOf(closeFig{period: "2026-01", members: 1}, nil)))
	}
	if st := s.PeriodStatus("2026-01"); !st.Final {
		t.Errorf("PeriodStatus = %+v, want final", st)
	}
	if st := s.PeriodStatus("2026-02"); st.Final {
		t.Errorf("PeriodStatus(2026-02) = %+v, want not final", st)
	}
}

// TestWorkedRedistribution is the worked check of the rules issue: three
// caisses close 2025-03.
func TestWorkedRedistribution(t *testing.T) {
	f := newFixtureWith(t, 2, func(g *caissev1.Genesis) {
		g.Rules.LevyBp = 850
		g.Rules.Weights = &caissev1.KeyWeights{NeedBp: 5000, MembersBp: 5000, EqualBp: 0}
		g.Rules.Rates = []*caissev1.Rate{{Unit: "strike_day", Amount: 6000}}
	})
	A, B, C := f.founder, f.cofounders[0], f.cofounders[1]
	const p = "2025-03"
	var logs [3][]ledger.Entry
	logs[0] = []ledger.Entry{
		A.next(t, contrib(1_000_000, p, dues)),
		A.next(t, contrib(234_567, p, donation)),
		A.next(t, disburse(222_000, p, strike)),
	}
	logs[1] = []ledger.Entry{B.next(t, contrib(800_005, p, dues))}
	c1 := C.next(t, contrib(300_000, p, dues))
	wrong := C.next(t, contrib(99_999, p, dues))
	logs[2] = []ledger.Entry{c1, wrong, C.next(t, correct(wrong)), C.next(t, contrib(21_099, p, fundrais))}
	members := []uint64{120, 45, 35}
	days := []uint64{37, 0, 14}
	var closes [3]ledger.Entry
	for i, w := range []*writer{A, B, C} {
		fig := figuresOf(logs[i], p)
		fig.members = members[i]
		if days[i] > 0 {
			fig.need = map[string]uint64{"strike_day": days[i]}
		}
		closes[i] = w.next(t, closeOf(fig, nil))
	}
	s := stateOf(t, f.genesis)
	for _, l := range logs {
		mustApply(t, s, l...)
	}

	r, final, waiting, err := s.Redistribution(p)
	if err != nil || final || len(r.Caisses) != 0 || len(waiting) != 3 {
		t.Fatalf("Redistribution before any close = %+v, %v, %v, %v", r, final, waiting, err)
	}
	mustApply(t, s, closes[0], closes[1])
	r, final, waiting, err = s.Redistribution(p)
	if err != nil || final || !slices.Equal(waiting, []ledger.Author{C.id}) || len(r.Caisses) != 2 {
		t.Fatalf("Redistribution with 2 closes = %+v, final %v, waiting %v, %v; want provisional, waiting for C", r, final, waiting, err)
	}
	mustApply(t, s, closes[2])
	r, final, waiting, err = s.Redistribution(p)
	if err != nil || !final || len(waiting) != 0 {
		t.Fatalf("Redistribution with 3 closes: final %v, waiting %v, %v", final, waiting, err)
	}
	want := map[ledger.Author][2]ledger.Amount{A.id: {104938, 132702}, B.id: {68000, 22526}, C.id: {27293, 45003}}
	if len(r.Caisses) != 3 || !slices.IsSortedFunc(r.Caisses, func(x, y federation.CaisseShare) int { return bytes.Compare(x.ID[:], y.ID[:]) }) {
		t.Fatalf("Caisses = %+v, want 3 sorted by key", r.Caisses)
	}
	for _, c := range r.Caisses {
		if got := [2]ledger.Amount{c.Due, c.Share}; got != want[c.ID] {
			t.Errorf("caisse %s: due, share %v, want %v", c.ID.Short(), got, want[c.ID])
		}
	}
	wantT := []federation.Transfer{{From: B.id, To: A.id, Amount: 27764}, {From: B.id, To: C.id, Amount: 17710}}
	if diff := gocmp.Diff(wantT, r.Transfers); diff != "" {
		t.Errorf("Transfers (-want +got):\n%s", diff)
	}
	if r.Pool != 200231 {
		t.Errorf("Pool = %d, want 200231", r.Pool)
	}
	st := s.PeriodStatus(p)
	for i, c := range st.Caisses {
		if !c.Closed || c.Seq == 0 {
			t.Errorf("caisse %d: %+v, want closed", i, c)
		}
	}
}

// TestOrderIndependenceCloses extends the money scenario with closes of
// 2026-01 and 2026-02 by every caisse, then entries in 2026-03, and
// applies the entries in 100 orders: same Hash, PeriodStatus and
// Redistribution every time.
func TestOrderIndependenceCloses(t *testing.T) {
	const runs = 100
	sc := newScenario(t, 20260402, 3, 30)
	rng := rand.New(rand.NewPCG(sc.seed, 99))
	for i, w := range sc.f.writers() {
		for _, p := range []string{"2026-01", "2026-02"} {
			fig := figuresOf(sc.logs[i], p)
			fig.members = uint64(1 + rng.IntN(200))
			sc.logs[i] = append(sc.logs[i], w.next(t, closeOf(fig, nil)))
		}
		mar := w.next(t, contrib(ledger.Amount(1+rng.IntN(1000)), "2026-03", dues))
		sc.logs[i] = append(sc.logs[i], mar, w.next(t, correct(mar)), w.next(t, contrib(5, "2026-03", donation)))
	}
	type view struct {
		Hash     ledger.Hash
		Status   []federation.PeriodStatus
		Redis    []federation.Redistribution
		Balances []federation.CaisseBalance
	}
	look := func(s *federation.State) view {
		v := view{Hash: s.Hash(), Balances: s.Balances()}
		for _, p := range []ledger.Period{"2026-01", "2026-02", "2026-03"} {
			v.Status = append(v.Status, s.PeriodStatus(p))
			r, _, _, err := s.Redistribution(p)
			if err != nil {
				t.Fatalf("Redistribution(%s): %v", p, err)
			}
			v.Redis = append(v.Redis, r)
		}
		return v
	}
	first := look(stateOf(t, sc.interleave(0)...))
	if !first.Status[0].Final || !first.Status[1].Final || first.Status[2].Final {
		t.Fatalf("Status = %+v, want 2026-01 and 2026-02 final, not 2026-03", first.Status)
	}
	for run := range uint64(runs) {
		got := look(stateOf(t, sc.interleave(run)...))
		if diff := gocmp.Diff(first, got); diff != "" {
			t.Fatalf("seed %d run %d (-run 0 +this run):\n%s", sc.seed, run, diff)
		}
	}
}

// TestForkTakesCloseOut: a fork at the seq of a close takes it out: the
// period is open again in the views and the hash, and the author frozen.
func TestForkTakesCloseOut(t *testing.T) {
	f := newFixture(t, 1)
	a := f.cofounders[0]
	e1 := a.next(t, contrib(100, "2026-01", dues))
	alt := *a
	cl := a.next(t, closeOf(closeFig{period: "2026-01", in: map[int32]int64{1: 100}}, nil))
	s := stateOf(t, f.genesis, e1, cl)
	if !slices.ContainsFunc(s.PeriodStatus("2026-01").Caisses, func(c federation.PeriodCaisse) bool { return c.Closed }) {
		t.Fatal("close not shown")
	}
	other := alt.next(t, contrib(5, "2026-01", dues))
	mustFork(t, s, cl, other)
	for _, c := range s.PeriodStatus("2026-01").Caisses {
		if c.Closed {
			t.Errorf("caisse %s closed after the fork took its close out", c.Key.Short())
		}
	}
	ref := stateOf(t, f.genesis, e1)
	mustFork(t, ref, cl, other)
	if s.Hash() != ref.Hash() {
		t.Error("Hash still sees the close the fork took out")
	}
}
