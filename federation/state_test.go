package federation_test

import (
	"errors"
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
)

const (
	dues     = caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES
	donation = caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DONATION
	fundrais = caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_FUNDRAISING
	strike   = caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE
	legal    = caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_LEGAL
	hardship = caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_HARDSHIP
)

// refusal is an entry that the State must refuse for good.
type refusal struct {
	name string
	// build returns the entries to apply first, then the bad one.
	build func(t *testing.T, f *fixture) (setup []ledger.Entry, bad ledger.Entry)
	want  error
}

var refusals = []refusal{
	{
		name: "zero entry",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			return []ledger.Entry{f.genesis}, ledger.Entry{}
		},
		want: ledger.ErrMalformed,
	},
	{
		name: "contribution before the genesis",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			return nil, f.cofounders[0].next(t, contrib(100, "2026-01", dues))
		},
		want: federation.ErrNoGenesis,
	},
	{
		name: "zero entry before the genesis",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			return nil, ledger.Entry{}
		},
		want: ledger.ErrMalformed,
	},
	{
		name: "another federation's genesis",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			other := newWriter(9, "Autre fédération")
			return []ledger.Entry{f.genesis}, other.next(t, charter("other"))
		},
		want: federation.ErrGenesisExists,
	},
	{
		name: "founder signs a second genesis",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			again := newWriter(1, "Caisse fondatrice")
			return []ledger.Entry{f.genesis}, again.next(t, charter("second", f.cofounders...))
		},
		want: federation.ErrGenesisExists,
	},
	{
		name: "the genesis again",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			return []ledger.Entry{f.genesis}, f.genesis
		},
		want: ledger.ErrDuplicate,
	},
	{
		name: "wrong federation",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			b := w.body(contrib(100, "2026-01", dues))
			b.Federation = make([]byte, 32)
			b.Federation[0] = 1
			return []ledger.Entry{f.genesis}, w.sign(t, b)
		},
		want: ledger.ErrWrongFederation,
	},
	{
		name: "unknown author",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			stranger := newWriter(99, "Inconnue")
			stranger.fed = f.genesis.Hash()
			return []ledger.Entry{f.genesis}, stranger.next(t, contrib(100, "2026-01", dues))
		},
		want: federation.ErrUnknownAuthor,
	},
	{
		name: "gap at the first entry",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			w.next(t, contrib(100, "2026-01", dues))
			return []ledger.Entry{f.genesis}, w.next(t, contrib(200, "2026-01", dues))
		},
		want: ledger.ErrGap,
	},
	{
		name: "gap after the head",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.founder
			e2 := w.next(t, contrib(100, "2026-01", dues))
			w.next(t, contrib(200, "2026-01", dues))
			return []ledger.Entry{f.genesis, e2}, w.next(t, contrib(300, "2026-01", dues))
		},
		want: ledger.ErrGap,
	},
	{
		name: "bad prev",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			e1 := w.next(t, contrib(100, "2026-01", dues))
			b := w.body(contrib(200, "2026-01", dues))
			b.Prev[0] ^= 0xff
			return []ledger.Entry{f.genesis, e1}, w.sign(t, b)
		},
		want: ledger.ErrBadPrev,
	},
	{
		name: "clock regressed",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			e1 := w.next(t, contrib(100, "2026-01", dues))
			b := w.body(contrib(200, "2026-01", dues))
			b.Time.WallMs = e1.Time().Wall - 1
			return []ledger.Entry{f.genesis, e1}, w.sign(t, b)
		},
		want: ledger.ErrClockRegressed,
	},
	{
		name: "clock stands still",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			e1 := w.next(t, contrib(100, "2026-01", dues))
			b := w.body(contrib(200, "2026-01", dues))
			b.Time = e1.Time().Proto()
			return []ledger.Entry{f.genesis, e1}, w.sign(t, b)
		},
		want: ledger.ErrClockRegressed,
	},
	{
		name: "duplicate",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			e1 := w.next(t, contrib(100, "2026-01", dues))
			e2 := w.next(t, contrib(200, "2026-01", dues))
			return []ledger.Entry{f.genesis, e1, e2}, e1
		},
		want: ledger.ErrDuplicate,
	},
	{
		name: "fork at the head",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			alt := *w
			e1 := w.next(t, contrib(100, "2026-01", dues))
			return []ledger.Entry{f.genesis, e1}, alt.next(t, contrib(101, "2026-01", dues))
		},
		want: ledger.ErrFork,
	},
	{
		name: "fork below the head",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.founder
			alt := *w
			e2 := w.next(t, contrib(100, "2026-01", dues))
			e3 := w.next(t, disburse(50, "2026-01", strike))
			return []ledger.Entry{f.genesis, e2, e3}, alt.next(t, disburse(100, "2026-01", strike))
		},
		want: ledger.ErrFork,
	},
	{
		name: "correction names the wrong hash",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			e1 := w.next(t, contrib(100, "2026-01", dues))
			h := e1.Hash()
			h[31] ^= 1
			return []ledger.Entry{f.genesis, e1}, w.next(t, correctRaw(1, h))
		},
		want: federation.ErrBadCorrection,
	},
	{
		name: "correction names another author's entry",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			a, b := f.cofounders[0], f.cofounders[1]
			a1 := a.next(t, contrib(100, "2026-01", dues))
			b1 := b.next(t, contrib(100, "2026-01", dues))
			return []ledger.Entry{f.genesis, a1, b1}, b.next(t, correct(a1))
		},
		want: federation.ErrBadCorrection,
	},
	{
		name: "correction of the genesis",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			return []ledger.Entry{f.genesis}, f.founder.next(t, correct(f.genesis))
		},
		want: federation.ErrBadCorrection,
	},
	{
		name: "correction of a correction",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			e1 := w.next(t, contrib(100, "2026-01", dues))
			e2 := w.next(t, correct(e1))
			return []ledger.Entry{f.genesis, e1, e2}, w.next(t, correct(e2))
		},
		want: federation.ErrBadCorrection,
	},
	{
		name: "second correction of an entry",
		build: func(t *testing.T, f *fixture) ([]ledger.Entry, ledger.Entry) {
			w := f.cofounders[0]
			e1 := w.next(t, disburse(100, "2026-01", legal))
			e2 := w.next(t, contrib(300, "2026-02", dues))
			e3 := w.next(t, correct(e1))
			return []ledger.Entry{f.genesis, e1, e2, e3}, w.next(t, correct(e1))
		},
		want: federation.ErrAlreadyCorrected,
	},
}

// TestRefused gives the State entries it must refuse, and checks that
// Check and Apply both say why, that the error does not say the entry may
// become valid (ErrPending), and that nothing changed.
func TestRefused(t *testing.T) {
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 2)
			setup, bad := tc.build(t, f)
			refuse(t, stateOf(t, setup...), bad, tc.want, false)
		})
	}
}

// TestRefusedThenGoesOn checks that a refused entry leaves a State that
// applies the right entry after it.
func TestRefusedThenGoesOn(t *testing.T) {
	f := newFixture(t, 1)
	w := f.cofounders[0]
	alt := *w
	e1 := w.next(t, contrib(100, "2026-01", dues))
	s := stateOf(t, f.genesis, e1)
	forked := alt.next(t, contrib(999, "2026-01", dues))
	if err := s.Apply(forked); !errors.Is(err, ledger.ErrFork) {
		t.Fatalf("Apply(fork) = %v, want ErrFork", err)
	}
	e2 := w.next(t, correct(e1))
	e3 := w.next(t, contrib(250, "2026-01", dues))
	mustApply(t, s, e2, e3)
	want := stateOf(t, f.genesis, e1, e2, e3)
	if s.Hash() != want.Hash() {
		t.Errorf("Hash after a refusal %s, without it %s", s.Hash().Short(), want.Hash().Short())
	}
	got, _ := s.Balance(w.id)
	if got.Total != (federation.Totals{Contributed: 250, Balance: 250}) {
		t.Errorf("Balance = %+v, want 250 contributed", got.Total)
	}
	if by, ok := s.CorrectedBy(w.id, 1); !ok || by != 2 {
		t.Errorf("CorrectedBy(1) = %d, %v; want 2, true", by, ok)
	}
}

func TestEmpty(t *testing.T) {
	s := federation.New()
	if id, ok := s.Federation(); ok || !id.IsZero() {
		t.Errorf("Federation() = %s, %v; want zero, false", id, ok)
	}
	if c := s.Charter(); c != nil {
		t.Errorf("Charter() = %v, want nil", c)
	}
	if code, exp := s.Currency(); code != "" || exp != 0 {
		t.Errorf("Currency() = %q, %d; want \"\", 0", code, exp)
	}
	if len(s.Members()) != 0 || len(s.Balances()) != 0 || len(s.BalancesFor("2026-01")) != 0 || s.Entries() != 0 {
		t.Errorf("empty State has members %v, balances %v, %d entries", s.Members(), s.Balances(), s.Entries())
	}
	f := newFixture(t, 1)
	if s.IsMember(f.founder.id) {
		t.Error("IsMember(founder) before the genesis")
	}
	if _, ok := s.Head(f.founder.id); ok {
		t.Error("Head(founder) before the genesis")
	}
	if s.Hash() != federation.New().Hash() {
		t.Error("two empty States hash differently")
	}
	if s.Hash() == stateOf(t, f.genesis).Hash() {
		t.Error("the genesis does not change the Hash")
	}
}

func TestCharterAndMembers(t *testing.T) {
	f := newFixture(t, 3)
	a := f.cofounders[0]
	a1 := a.next(t, contrib(100, "2026-01", dues))
	s := stateOf(t, f.genesis, a1)

	if id, ok := s.Federation(); !ok || id != f.genesis.Hash() {
		t.Errorf("Federation() = %s, %v; want %s, true", id.Short(), ok, f.genesis.Hash().Short())
	}
	if got := s.Charter().GetName(); got != "Fédération des caisses de test" {
		t.Errorf("Charter().Name = %q", got)
	}
	if code, exp := s.Currency(); code != "EUR" || exp != 2 {
		t.Errorf("Currency() = %q, %d; want EUR, 2", code, exp)
	}
	charterMember := func(w *writer, founder bool) federation.Member {
		return federation.Member{Key: w.id, Name: w.name, Founder: founder, Status: federation.StatusActive,
			Since: f.genesis.Time(), Final: true}
	}
	want := []federation.Member{
		charterMember(f.founder, true),
		charterMember(f.cofounders[0], false),
		charterMember(f.cofounders[1], false),
		charterMember(f.cofounders[2], false),
	}
	sortMembers(want)
	if diff := cmp.Diff(want, s.Members()); diff != "" {
		t.Errorf("Members() (-want +got):\n%s", diff)
	}
	for _, w := range f.writers() {
		if !s.IsMember(w.id) {
			t.Errorf("IsMember(%s) = false", w.name)
		}
	}
	if s.IsMember(newWriter(99, "x").id) {
		t.Error("IsMember(stranger) = true")
	}

	heads := []struct {
		who  ledger.Author
		want ledger.Head
		ok   bool
	}{
		{f.founder.id, f.genesis.Head(), true},
		{a.id, a1.Head(), true},
		{f.cofounders[1].id, ledger.Head{}, false},
		{newWriter(99, "x").id, ledger.Head{}, false},
	}
	for _, h := range heads {
		got, ok := s.Head(h.who)
		if diff := cmp.Diff(h.want, got); diff != "" || ok != h.ok {
			t.Errorf("Head(%s) = _, %v (want %v); (-want +got):\n%s", h.who.Short(), ok, h.ok, diff)
		}
	}
	wantVec := ledger.Vector{f.founder.id: f.genesis.Head(), a.id: a1.Head()}
	if diff := cmp.Diff(wantVec, s.Vector()); diff != "" {
		t.Errorf("Vector() (-want +got):\n%s", diff)
	}
	if s.Entries() != 2 {
		t.Errorf("Entries() = %d, want 2", s.Entries())
	}
}

// TestCheckDoesNotMutate runs Check, twice, before each Apply of a long
// sequence, and compares everything the State shows.
func TestCheckDoesNotMutate(t *testing.T) {
	sc := newScenario(t, 7, 3, 40)
	s := federation.New()
	for _, e := range sc.interleave(1) {
		before, n, balances := s.Hash(), s.Entries(), s.Balances()
		for range 2 {
			if err := s.Check(e); err != nil {
				t.Fatalf("Check(%v) = %v", e, err)
			}
		}
		if s.Hash() != before || s.Entries() != n {
			t.Fatalf("Check(%v) changed the State", e)
		}
		if diff := cmp.Diff(balances, s.Balances()); diff != "" {
			t.Fatalf("Check(%v) changed Balances (-before +after):\n%s", e, diff)
		}
		mustApply(t, s, e)
		if err := s.Check(e); !errors.Is(err, ledger.ErrDuplicate) {
			t.Fatalf("Check(%v) after Apply = %v, want ErrDuplicate", e, err)
		}
	}
	if s.Entries() != uint64(sc.count()) {
		t.Errorf("Entries() = %d, want %d", s.Entries(), sc.count())
	}
}

func TestCategoriesFit(t *testing.T) {
	for v := range caissev1.ContributionCategory_name {
		if v < 0 || v >= federation.NumCategories {
			t.Errorf("contribution category %d does not fit in %d buckets", v, federation.NumCategories)
		}
	}
	for v := range caissev1.DisbursementCategory_name {
		if v < 0 || v >= federation.NumCategories {
			t.Errorf("disbursement category %d does not fit in %d buckets", v, federation.NumCategories)
		}
	}
}

// TestLogEntrySize holds the per-entry memory to what the package doc says:
// 48 bytes before governance, 56 since each entry keeps its time, so that
// an exclusion or a fork can take entries out of a caisse.
func TestLogEntrySize(t *testing.T) {
	if federation.LogEntrySize > 56 {
		t.Errorf("an applied entry takes %d bytes, want at most 56", federation.LogEntrySize)
	}
}
