package ledgertest_test

import (
	"errors"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/ledger/memstore"
)

func TestMemstore(t *testing.T) {
	// The suite against the simplest store, so that a change to the suite
	// is tried where it is written.
	ledgertest.Store(t, func(testing.TB) ledger.Store { return memstore.New() })
}

func TestNewAuthorIsDeterministic(t *testing.T) {
	a1, a2, b := ledgertest.NewAuthor(t, 1), ledgertest.NewAuthor(t, 1), ledgertest.NewAuthor(t, 2)
	if a1.ID != a2.ID || !a1.Key.Equal(a2.Key) {
		t.Error("two authors from seed 1 differ")
	}
	if a1.ID == b.ID {
		t.Error("authors from seeds 1 and 2 are the same")
	}
	g1, g2 := a1.Genesis(t, "f"), a2.Genesis(t, "f")
	if g1.Hash() != g2.Hash() {
		t.Error("the same author signing the same genesis made two entries")
	}
}

func TestChain(t *testing.T) {
	a, b := ledgertest.NewAuthor(t, 1), ledgertest.NewAuthor(t, 2)
	if a.Head() != nil {
		t.Fatal("a new author has a head")
	}
	g := a.Genesis(t, "fédération", b)
	fed := g.Hash()
	c := a.Contribution(t, fed, 1250, "2026-03")
	d := a.Disbursement(t, fed, 700, "2026-03")
	corr := a.Correction(t, fed, c, "erreur de saisie")
	es := []ledger.Entry{g, c, d, corr}
	if diff := len(a.Entries()) - len(es); diff != 0 {
		t.Fatalf("Entries() has %d entries, want %d", len(a.Entries()), len(es))
	}
	var head *ledger.Head
	for i, e := range es {
		if err := e.Verify(); err != nil {
			t.Errorf("entry %d: %v", i+1, err)
		}
		if err := ledger.CheckNext(head, e); err != nil {
			t.Errorf("entry %d does not extend the chain: %v", i+1, err)
		}
		if want := (ledger.HLC{Wall: ledgertest.Epoch + uint64(i)*ledgertest.Step}); e.Time() != want {
			t.Errorf("entry %d at %v, want %v", i+1, e.Time(), want)
		}
		if a.Entry(t, e.Seq()).Hash() != e.Hash() {
			t.Errorf("Entry(%d) is not entry %d", e.Seq(), i+1)
		}
		h := e.Head()
		head = &h
	}
	if *a.Head() != *head {
		t.Errorf("Head() = %v, want %v", *a.Head(), *head)
	}
	for _, tc := range []struct {
		e    ledger.Entry
		kind string
	}{{g, "genesis"}, {c, "contribution"}, {d, "disbursement"}, {corr, "correction"}} {
		if tc.e.Kind() != tc.kind {
			t.Errorf("%v: kind %s, want %s", tc.e, tc.e.Kind(), tc.kind)
		}
	}
	if got := c.Body().GetContribution(); got.GetAmount() != 1250 || got.GetPeriod() != "2026-03" {
		t.Errorf("contribution %v", got)
	}
	if got := corr.Body().GetCorrection(); got.GetTargetSeq() != 2 || ledger.Hash(got.GetTargetHash()) != c.Hash() {
		t.Errorf("correction %v, want one of entry 2", got)
	}
	if g.Body().GetGenesis().GetMembers()[0].GetName() != b.Name {
		t.Errorf("genesis co-founders: %v", g.Body().GetGenesis().GetMembers())
	}
	if corr.Federation() != fed || !g.Federation().IsZero() {
		t.Errorf("federations: %s and %s, want %s and none", corr.Federation().Short(), g.Federation().Short(), fed.Short())
	}
}

func TestBadEntries(t *testing.T) {
	a := ledgertest.NewAuthor(t, 1)
	fed := ledgertest.FederationID(1)
	for range 3 {
		a.Contribution(t, fed, 100, ledgertest.Period)
	}
	head := *a.Head()

	p := a.Peek(t, fed, nil)
	if err := ledger.CheckNext(&head, p); err != nil || *a.Head() != head {
		t.Errorf("Peek: %v, head %v; want the next entry and the chain unchanged", err, *a.Head())
	}
	if err := ledger.CheckNext(&head, a.Gap(t, fed)); !errors.Is(err, ledger.ErrGap) {
		t.Errorf("Gap: CheckNext says %v, want ErrGap", err)
	}
	for _, s := range []ledger.Seq{1, 2, 3} {
		f1, f2 := a.Fork(t, fed, s), a.Fork(t, fed, s)
		orig := a.Entry(t, s)
		if f1.Seq() != s || f1.Prev() != orig.Prev() || f1.Verify() != nil {
			t.Errorf("Fork(%d) = %v: want a valid entry at %d with the same prev", s, f1, s)
		}
		var fe *ledger.ForkError
		if err := ledger.CheckStored(orig, f1); !errors.As(err, &fe) {
			t.Errorf("Fork(%d): CheckStored says %v, want a fork", s, err)
		}
		if f1.Hash() == f2.Hash() {
			t.Errorf("two Forks at %d are the same entry", s)
		}
	}
	if *a.Head() != head {
		t.Errorf("bad entries moved the chain to %v", *a.Head())
	}
	// SetNow moves the next entry's time.
	a.SetNow(ledger.HLC{Wall: head.Time.Wall, Logical: head.Time.Logical + 1})
	e := a.Contribution(t, fed, 1, ledgertest.Period)
	if want := (ledger.HLC{Wall: head.Time.Wall, Logical: 1}); e.Time() != want {
		t.Errorf("after SetNow: time %v, want %v", e.Time(), want)
	}
	if a.Now() != (ledger.HLC{Wall: head.Time.Wall + ledgertest.Step}) {
		t.Errorf("Now() = %v after the entry", a.Now())
	}
}
