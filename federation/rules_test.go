package federation_test

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Rule changes, excuses, the count by members represented, deadlines and
// settlements.

func msOf(y int, m time.Month, d int) uint64 {
	return uint64(time.Date(y, m, d, 12, 0, 0, 0, time.UTC).UnixMilli())
}

// newRules returns the charter's rules of the fixtures with levy levyBP.
func newRules(levyBP uint32) *caissev1.Rules {
	return &caissev1.Rules{
		LevyBp:     levyBP,
		Weights:    &caissev1.KeyWeights{NeedBp: 5000, MembersBp: 3000, EqualBp: 2000},
		Rates:      []*caissev1.Rate{{Unit: "strike_day", Amount: 6000}},
		QuorumBp:   5000,
		MajorityBp: 5001,
	}
}

func changeRules(r *caissev1.Rules, effective, deadline string) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{
			Action:   &caissev1.Proposal_ChangeRules{ChangeRules: &caissev1.ChangeRules{Rules: r, Effective: effective}},
			Note:     "nouvelles règles",
			Deadline: deadline,
		}}
	}
}

func excuse(who ledger.Author, period string) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{
			Action: &caissev1.Proposal_Excuse{Excuse: &caissev1.Excuse{Member: bytes.Clone(who[:]), Period: period}},
			Note:   "excuser",
		}}
	}
}

func settle(period string, payee ledger.Author, amount ledger.Amount) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Settlement{Settlement: &caissev1.Settlement{
			Period: period, Payee: bytes.Clone(payee[:]), Amount: int64(amount), Reference: "virement 42",
		}}
	}
}

func ack(settlement ledger.Entry) kindFn {
	return func(b *caissev1.EntryBody) {
		h := settlement.Hash()
		b.Kind = &caissev1.EntryBody_SettlementAck{SettlementAck: &caissev1.SettlementAck{Settlement: bytes.Clone(h[:])}}
	}
}

// emptyClose closes period p with no movement and the given member count.
func emptyClose(p string, members uint64) kindFn {
	return closeOf(closeFig{period: p, members: members}, nil)
}

// TestRuleChangeAdopted adopts a rule change by vote and checks the rules
// in force before and after the period it takes effect from.
func TestRuleChangeAdopted(t *testing.T) {
	tm := newThreeMembers(t, nil)
	r2 := newRules(1000)
	p := tm.F.next(t, changeRules(r2, "2026-03", ""))
	s := stateOf(t, tm.f.genesis, p, tm.F.next(t, vote(p, yes)))
	if got, _ := s.Proposal(p.Hash()); got.Outcome != federation.OutcomeOpen || got.Action != federation.ActionRules {
		t.Fatalf("after one yes of three: %s %s, want an open rules proposal", got.Action, got.Outcome)
	}
	if h := s.RuleHistory(); len(h) != 1 {
		t.Fatalf("RuleHistory before adoption: %d sets, want the charter's", len(h))
	}
	v := tm.A.next(t, vote(p, yes))
	mustApply(t, s, v)
	got, _ := s.Proposal(p.Hash())
	if got.Outcome != federation.OutcomeAdopted || got.Decided != v.Time() || got.Effective != "2026-03" {
		t.Fatalf("after two yes: %+v, want adopted by A's vote, effective 2026-03", got)
	}
	h := s.RuleHistory()
	if len(h) != 2 || h[1].Version != 2 || h[1].Effective != "2026-03" || h[1].AdoptedBy != p.Hash() || h[1].Adopted != v.Time() {
		t.Fatalf("RuleHistory = %+v", h)
	}
	for per, want := range map[ledger.Period]uint32{"2026-01": 500, "2026-02": 500, "2026-03": 1000, "2027-06": 1000} {
		if got := s.RulesFor(per).Rules.GetLevyBp(); got != want {
			t.Errorf("RulesFor(%s) levy %d, want %d", per, got, want)
		}
	}
}

// TestRuleChangeDecidedLate: a change decided in or after the period it
// states applies from the period after its decision.
func TestRuleChangeDecidedLate(t *testing.T) {
	tm := newThreeMembers(t, nil)
	p := tm.F.next(t, changeRules(newRules(900), "2026-02", ""))
	v1 := tm.F.next(t, vote(p, yes))
	tm.F.clock.ms = msOf(2026, time.March, 10)
	v2 := tm.B.next(t, vote(p, yes))
	s := stateOf(t, tm.f.genesis, p, v1, v2)
	h := s.RuleHistory()
	if len(h) != 2 || h[1].Effective != "2026-04" {
		t.Fatalf("RuleHistory = %+v, want the change in force from 2026-04", h)
	}
	if s.RulesFor("2026-03").Rules.GetLevyBp() != 500 || s.RulesFor("2026-04").Rules.GetLevyBp() != 900 {
		t.Errorf("levy for 2026-03, 2026-04: %d, %d; want 500, 900",
			s.RulesFor("2026-03").Rules.GetLevyBp(), s.RulesFor("2026-04").Rules.GetLevyBp())
	}
	// The redistribution of a period uses the rules in force for it.
	for _, w := range tm.voters() {
		mustApply(t, s, w.next(t, contrib(10_000, "2026-04", dues)))
		mustApply(t, s, w.next(t, closeOf(closeFig{period: "2026-04", in: map[int32]int64{1: 10_000}, members: 10}, nil)))
	}
	r, final, _, err := s.Redistribution("2026-04")
	if err != nil || !final || r.Pool != 3*900 {
		t.Fatalf("Redistribution(2026-04): pool %d final %v err %v, want pool %d, final", r.Pool, final, err, 3*900)
	}
}

// TestCountByMembersRepresented: two caisses of three say yes, but they
// represent fewer members than the one that says no.
func TestCountByMembersRepresented(t *testing.T) {
	tm := newThreeMembers(t, nil)
	closes := []ledger.Entry{tm.F.next(t, emptyClose("2026-01", 5)), tm.A.next(t, emptyClose("2026-01", 100)),
		tm.B.next(t, emptyClose("2026-01", 10))}
	p := tm.F.next(t, changeRules(newRules(800), "2026-03", ""))
	s := stateOf(t, append([]ledger.Entry{tm.f.genesis}, closes...)...)
	mustApply(t, s, p, tm.F.next(t, vote(p, yes)), tm.B.next(t, vote(p, yes)))
	got, _ := s.Proposal(p.Hash())
	if got.Outcome != federation.OutcomeOpen || got.EligibleMembers != 115 || got.YesMembers != 15 {
		t.Fatalf("after F and B: %s, members %d yes of %d; want open, 15 of 115", got.Outcome, got.YesMembers, got.EligibleMembers)
	}
	last := tm.A.next(t, vote(p, no))
	mustApply(t, s, last)
	got, _ = s.Proposal(p.Hash())
	if got.Outcome != federation.OutcomeRejected || got.Decided != last.Time() || got.Yes != 2 || got.NoMembers != 100 {
		t.Fatalf("after A's no: %+v, want rejected: 2 caisses of 3 but 15 members against 100", got)
	}
	if len(s.RuleHistory()) != 1 {
		t.Error("a rejected change is in the rule history")
	}

	// The same votes, A saying yes: adopted by both counts.
	tm2 := newThreeMembers(t, nil)
	cl := []ledger.Entry{tm2.F.next(t, emptyClose("2026-01", 5)), tm2.A.next(t, emptyClose("2026-01", 100))}
	p2 := tm2.F.next(t, changeRules(newRules(800), "2026-03", ""))
	s2 := stateOf(t, append([]ledger.Entry{tm2.f.genesis}, cl...)...)
	mustApply(t, s2, p2, tm2.A.next(t, vote(p2, yes)))
	got, _ = s2.Proposal(p2.Hash())
	if got.Outcome != federation.OutcomeOpen {
		t.Fatalf("one yes of three caisses (100 members of 105): %s, want open: short of the quorum of caisses", got.Outcome)
	}
	mustApply(t, s2, tm2.B.next(t, vote(p2, yes)))
	if got, _ = s2.Proposal(p2.Hash()); got.Outcome != federation.OutcomeAdopted {
		t.Fatalf("A and B (100 of 105 members, B without a close): %s, want adopted", got.Outcome)
	}
}

// TestDeadline: members that close the deadline period without voting can
// no longer vote; once the rest cannot carry it, it is rejected.
func TestDeadline(t *testing.T) {
	tm := newThreeMembers(t, nil)
	p := tm.F.next(t, changeRules(newRules(700), "2026-03", "2026-01"))
	s := stateOf(t, tm.f.genesis, p, tm.F.next(t, vote(p, yes)), tm.A.next(t, emptyClose("2026-01", 20)))
	got, _ := s.Proposal(p.Hash())
	if got.Outcome != federation.OutcomeOpen || got.Closed != 1 {
		t.Fatalf("after A closed the deadline: %s, closed %d; want open (B may still say yes), 1", got.Outcome, got.Closed)
	}
	wantNot := []ledger.Author{tm.A.id, tm.B.id}
	slices.SortFunc(wantNot, func(a, b ledger.Author) int { return bytes.Compare(a[:], b[:]) })
	if diff := gocmp.Diff(wantNot, got.NotVoted); diff != "" {
		t.Errorf("not voted (-want +got):\n%s", diff)
	}
	if diff := gocmp.Diff([]ledger.Author{tm.A.id}, got.ClosedWithout); diff != "" {
		t.Errorf("closed without voting (-want +got):\n%s", diff)
	}
	// A's vote after its close does not count.
	mustApply(t, s, tm.A.next(t, vote(p, yes)))
	if got, _ = s.Proposal(p.Hash()); got.Yes != 1 || got.Outcome != federation.OutcomeOpen {
		t.Fatalf("A voted after closing the deadline: yes %d, %s; want 1, open", got.Yes, got.Outcome)
	}
	cl := tm.B.next(t, emptyClose("2026-01", 3))
	mustApply(t, s, cl)
	if got, _ = s.Proposal(p.Hash()); got.Outcome != federation.OutcomeRejected || got.Decided != cl.Time() {
		t.Fatalf("every member voted or closed the deadline: %s decided %v, want rejected at B's close", got.Outcome, got.Decided)
	}
}

// TestExcuse: a period is final once every member closed it or was
// excused; a member admitted after the period is not one of it.
func TestExcuse(t *testing.T) {
	tm := newThreeMembers(t, nil)
	s := stateOf(t, tm.f.genesis, tm.app)
	mustApply(t, s, tm.F.next(t, emptyClose("2026-01", 5)), tm.A.next(t, emptyClose("2026-01", 7)))
	if st := s.PeriodStatus("2026-01"); st.Final {
		t.Fatal("2026-01 final without B's close")
	}
	p := tm.F.next(t, excuse(tm.B.id, "2026-01"))
	mustApply(t, s, p, tm.F.next(t, vote(p, yes)), tm.A.next(t, vote(p, yes)))
	st := s.PeriodStatus("2026-01")
	if !st.Final {
		t.Fatalf("PeriodStatus after the excuse: %+v, want final", st)
	}
	for _, c := range st.Caisses {
		if c.Key == tm.B.id && (!c.Excused || c.ExcusedBy != p.Hash() || c.Closed) {
			t.Errorf("B: %+v, want excused by the proposal, not closed", c)
		}
	}
	r, final, waiting, err := s.Redistribution("2026-01")
	if err != nil || !final || len(waiting) != 0 || len(r.Caisses) != 2 {
		t.Fatalf("Redistribution: %d caisses, final %v, waiting %v, %v; want 2, final", len(r.Caisses), final, waiting, err)
	}

	// X is admitted in March: not a member of 2026-01, nor of 2026-02.
	tm.F.clock.ms = msOf(2026, time.March, 2)
	adm := tm.F.next(t, admit(tm.x.id))
	mustApply(t, s, adm, tm.F.next(t, vote(adm, yes)), tm.A.next(t, vote(adm, yes)))
	if !s.IsMember(tm.x.id) {
		t.Fatal("X not admitted")
	}
	for _, per := range []ledger.Period{"2026-01", "2026-02"} {
		for _, c := range s.PeriodStatus(per).Caisses {
			if c.Key == tm.x.id {
				t.Errorf("PeriodStatus(%s) lists X, admitted in March", per)
			}
		}
	}
	found := false
	for _, c := range s.PeriodStatus("2026-03").Caisses {
		found = found || c.Key == tm.x.id
	}
	if !found {
		t.Error("PeriodStatus(2026-03) does not list X, admitted in it")
	}
}

// settledScenario closes 2026-01 on three caisses with the contributions
// that make B owe A and C, B pays A in full and C in part, A acknowledges.
func settledScenario(t testing.TB) (tm *threeMembers, entries []ledger.Entry, payA, payC ledger.Entry) {
	tm = newThreeMembers(t, nil)
	entries = []ledger.Entry{tm.f.genesis}
	amounts := map[*writer]int64{tm.F: 100_00, tm.A: 200_00, tm.B: 900_00}
	members := map[*writer]uint64{tm.F: 30, tm.A: 40, tm.B: 5}
	for _, w := range tm.voters() {
		entries = append(entries, w.next(t, contrib(ledger.Amount(amounts[w]), "2026-01", dues)),
			w.next(t, closeOf(closeFig{period: "2026-01", in: map[int32]int64{1: amounts[w]}, members: members[w]}, nil)))
	}
	s := stateOf(t, entries...)
	r, final, _, err := s.Redistribution("2026-01")
	if err != nil || !final || len(r.Transfers) != 2 {
		t.Fatalf("Redistribution: %+v, final %v, %v; want two transfers", r, final, err)
	}
	owed := map[ledger.Author]ledger.Amount{}
	for _, tr := range r.Transfers {
		if tr.From != tm.B.id {
			t.Fatalf("transfer %+v: want B to pay", tr)
		}
		owed[tr.To] = tr.Amount
	}
	payA = tm.B.next(t, settle("2026-01", tm.F.id, owed[tm.F.id]))
	payC = tm.B.next(t, settle("2026-01", tm.A.id, owed[tm.A.id]-1))
	entries = append(entries, payA, payC, tm.F.next(t, ack(payA)))
	return tm, entries, payA, payC
}

// TestSettlementPlan checks owed, paid, acknowledged and late, and the
// funds of each caisse.
func TestSettlementPlan(t *testing.T) {
	tm, entries, payA, payC := settledScenario(t)
	s := stateOf(t, entries...)
	before := msOf(2026, time.February, 20)
	plan, final, err := s.Plan("2026-01", before)
	if err != nil || !final || len(plan) != 2 {
		t.Fatalf("Plan = %+v, %v, %v", plan, final, err)
	}
	for _, ts := range plan {
		switch ts.To {
		case tm.F.id:
			if ts.Paid != ts.Amount || ts.Acknowledged != ts.Amount || ts.Late {
				t.Errorf("to F: %+v, want paid and acknowledged", ts)
			}
		case tm.A.id:
			if ts.Paid != ts.Amount-1 || ts.Acknowledged != 0 || ts.Late {
				t.Errorf("to A: %+v, want paid but one cent, not acknowledged, not late yet", ts)
			}
		}
	}
	plan, _, _ = s.Plan("2026-01", msOf(2026, time.March, 2))
	for _, ts := range plan {
		if ts.Late != (ts.To == tm.A.id) {
			t.Errorf("in March: %s late %v, want only the transfer to A late", ts.To.Short(), ts.Late)
		}
	}
	bal := map[ledger.Author]federation.CaisseBalance{}
	for _, b := range s.Balances() {
		bal[b.Key] = b
	}
	amtA, amtC := payA.Body().GetSettlement().GetAmount(), payC.Body().GetSettlement().GetAmount()
	if b := bal[tm.B.id]; b.SettledOut != ledger.Amount(amtA+amtC) || b.Funds != b.Total.Balance-ledger.Amount(amtA+amtC) {
		t.Errorf("B: %+v, want funds less both settlements", b)
	}
	if b := bal[tm.F.id]; b.SettledIn != ledger.Amount(amtA) || b.Funds != b.Total.Balance+ledger.Amount(amtA) {
		t.Errorf("F: %+v, want funds plus the acknowledged settlement", b)
	}
	if b := bal[tm.A.id]; b.SettledIn != 0 || b.Funds != b.Total.Balance {
		t.Errorf("A: %+v, want nothing received before its acknowledgement", b)
	}
	got := s.Settlements("2026-01")
	if len(got) != 2 || !got[0].Acknowledged && !got[1].Acknowledged || got[0].Reference != "virement 42" {
		t.Errorf("Settlements = %+v", got)
	}
}

// TestRulesOrderIndependence applies the entries of the rule, excuse and
// settlement scenarios in many orders, keeping aside what is pending: the
// same State, rules, period status, redistribution and plan every time.
func TestRulesOrderIndependence(t *testing.T) {
	tm, entries, _, _ := settledScenario(t)
	rc := tm.A.next(t, changeRules(newRules(1200), "2026-02", "2026-02"))
	ex := tm.F.next(t, excuse(tm.B.id, "2026-02"))
	entries = append(entries, rc, ex, tm.F.next(t, vote(rc, yes)), tm.B.next(t, vote(rc, no)),
		tm.A.next(t, vote(rc, yes)), tm.A.next(t, vote(ex, yes)), tm.F.next(t, vote(ex, yes)),
		tm.F.next(t, contrib(5000, "2026-02", dues)),
		tm.F.next(t, closeOf(closeFig{period: "2026-02", in: map[int32]int64{1: 5000}, members: 31}, nil)),
		tm.A.next(t, emptyClose("2026-02", 41)))
	type view struct {
		Snap     snapshot
		History  []federation.RuleSet
		Status   federation.PeriodStatus
		Red      federation.Redistribution
		Plan     []federation.TransferStatus
		Settled  []federation.Settlement
		Waiting  int
		FinalFeb bool
	}
	look := func(s *federation.State, waiting int) view {
		r, _, _, err := s.Redistribution("2026-02")
		if err != nil {
			t.Fatal(err)
		}
		plan, _, err := s.Plan("2026-01", msOf(2026, time.April, 1))
		if err != nil {
			t.Fatal(err)
		}
		return view{Snap: snap(s), History: s.RuleHistory(), Status: s.PeriodStatus("2026-02"), Red: r, Plan: plan,
			Settled: s.Settlements(""), Waiting: waiting, FinalFeb: s.PeriodStatus("2026-02").Final}
	}
	want := look(stateOf(t, entries...), 0)
	if len(want.History) != 2 || !want.FinalFeb || want.Red.Pool != 5000*1200/10000 {
		t.Fatalf("in order: history %d, 2026-02 final %v, pool %d; want the change adopted, B excused, levy 12%%",
			len(want.History), want.FinalFeb, want.Red.Pool)
	}
	rng := rand.New(rand.NewPCG(2026, 12))
	for run := range 200 {
		order := append([]ledger.Entry{entries[0]}, entries[1:]...)
		rng.Shuffle(len(order)-1, func(i, j int) { order[i+1], order[j+1] = order[j+1], order[i+1] })
		s := federation.New()
		waiting, dropped, err := s.Settle(order, nil)
		if err != nil || len(dropped) != 0 {
			t.Fatalf("run %d: Settle: dropped %v, %v", run, dropped, err)
		}
		if diff := gocmp.Diff(want, look(s, len(waiting)), gocmp.Comparer(proto.Equal)); diff != "" {
			t.Fatalf("run %d differs from the entries in order (-in order +shuffled):\n%s", run, diff)
		}
	}
}

// rulesRefusals are the refusals of rule changes, excuses and settlements.
var rulesRefusals = []governanceRefusal{
	{
		name: "rules effective from the proposal's own period",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.F.next(t, changeRules(newRules(100), "2026-01", ""))
		},
		want: federation.ErrBadProposal,
	},
	{
		name: "a deadline before the proposal",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.F.next(t, changeRules(newRules(100), "2026-03", "2025-12"))
		},
		want: federation.ErrBadProposal,
	},
	{
		name: "an excuse for a stranger",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.F.next(t, excuse(tm.x.id, "2026-01"))
		},
		want: federation.ErrNoApplication, pending: true,
	},
	{
		name: "a settlement to a stranger",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.F.next(t, settle("2026-01", tm.x.id, 100))
		},
		want: federation.ErrNoApplication, pending: true,
	},
	{
		name: "an acknowledgement of a settlement not arrived",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			pay := tm.F.next(t, settle("2026-01", tm.A.id, 100))
			return stateOf(t, tm.f.genesis), tm.A.next(t, ack(pay))
		},
		want: federation.ErrUnknownSettlement, pending: true,
	},
	{
		name: "an acknowledgement by another caisse than the payee",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			pay := tm.F.next(t, settle("2026-01", tm.A.id, 100))
			return stateOf(t, tm.f.genesis, pay), tm.B.next(t, ack(pay))
		},
		want: federation.ErrBadSettlement,
	},
	{
		name: "a second acknowledgement",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			pay := tm.F.next(t, settle("2026-01", tm.A.id, 100))
			return stateOf(t, tm.f.genesis, pay, tm.A.next(t, ack(pay))), tm.A.next(t, ack(pay))
		},
		want: federation.ErrBadSettlement,
	},
	{
		name: "settlements whose sum overflows",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			s := stateOf(t, tm.f.genesis)
			for range 9223 {
				mustApply(t, s, tm.F.next(t, settle("2026-01", tm.A.id, ledger.MaxAmount)))
			}
			return s, tm.F.next(t, settle("2026-01", tm.A.id, ledger.MaxAmount))
		},
		want: ledger.ErrOverflow,
	},
}

func TestRefusedRules(t *testing.T) {
	for _, tc := range rulesRefusals {
		t.Run(tc.name, func(t *testing.T) {
			s, bad := tc.build(t, newThreeMembers(t, nil))
			refuse(t, s, bad, tc.want, tc.pending)
		})
	}
}
