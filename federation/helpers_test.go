package federation_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	gocmp "github.com/google/go-cmp/cmp"
)

// t0 is where every writer's clock starts: no real clock in these tests.
var t0 = uint64(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())

// writer signs one author's log: deterministic key, contiguous seqs,
// prev hashes, and times strictly increasing from t0 (one second a seq),
// or read from a clock shared with other writers.
type writer struct {
	key   ed25519.PrivateKey
	id    ledger.Author
	name  string
	fed   ledger.Hash // zero until the genesis is signed
	seq   ledger.Seq  // of the last entry signed with next
	prev  ledger.Hash
	clock *clock // nil: t0 + seq seconds
}

// clock is a time shared by writers, so that the times of their entries
// follow the order in which a test signs them, across authors.
type clock struct{ ms uint64 }

// tick returns the next time: one second later.
func (c *clock) tick() uint64 {
	c.ms += 1000
	return c.ms
}

func newWriter(seed byte, name string) *writer {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	w := &writer{key: key, name: name}
	copy(w.id[:], key.Public().(ed25519.PublicKey))
	return w
}

// kindFn sets the kind of a body (the oneof's interface is unexported).
type kindFn func(*caissev1.EntryBody)

// body returns the body of w's next entry, without signing it or moving w
// on: tests edit it to build bad entries.
func (w *writer) body(k kindFn) *caissev1.EntryBody {
	seq := w.seq + 1
	b := &caissev1.EntryBody{
		Author: w.id[:],
		Seq:    uint64(seq),
		Time:   &caissev1.HLC{WallMs: t0 + uint64(seq)*1000},
	}
	if w.clock != nil {
		b.Time.WallMs = w.clock.tick()
	}
	if !w.fed.IsZero() {
		b.Federation = bytes.Clone(w.fed[:])
	}
	if seq > 1 {
		b.Prev = bytes.Clone(w.prev[:])
	}
	k(b)
	return b
}

// sign signs body with w's key; it does not move w on.
func (w *writer) sign(tb testing.TB, b *caissev1.EntryBody) ledger.Entry {
	tb.Helper()
	e, err := ledger.Sign(w.key, b)
	if err != nil {
		tb.Fatalf("sign %s seq %d: %v", w.name, b.GetSeq(), err)
	}
	return e
}

// next signs w's next entry and moves w on.
func (w *writer) next(tb testing.TB, k kindFn) ledger.Entry {
	tb.Helper()
	e := w.sign(tb, w.body(k))
	w.seq, w.prev = e.Seq(), e.Hash()
	return e
}

var pseudonym = bytes.Repeat([]byte{0x42}, len(ledger.Pseudonym{}))

func contrib(amount ledger.Amount, period string, cat caissev1.ContributionCategory) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
			Member: pseudonym, Amount: int64(amount), Period: period, Category: cat,
		}}
	}
}

func disburse(amount ledger.Amount, period string, cat caissev1.DisbursementCategory) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
			Beneficiary: pseudonym, Amount: int64(amount), Period: period, Category: cat,
		}}
	}
}

func correct(target ledger.Entry) kindFn {
	return correctRaw(target.Seq(), target.Hash())
}

func correctRaw(seq ledger.Seq, h ledger.Hash) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{
			TargetSeq: uint64(seq), TargetHash: bytes.Clone(h[:]), Reason: "recorded twice",
		}}
	}
}

func charter(nonce string, cofounders ...*writer) kindFn {
	return func(b *caissev1.EntryBody) {
		g := &caissev1.Genesis{
			Name:         "Fédération des caisses de test",
			Currency:     &caissev1.Currency{Code: "EUR", Exponent: 2},
			PeriodLength: caissev1.PeriodLength_PERIOD_LENGTH_MONTH_UTC,
			FounderName:  "Caisse fondatrice",
			Rules: &caissev1.Rules{
				LevyBp:     500,
				Weights:    &caissev1.KeyWeights{NeedBp: 5000, MembersBp: 3000, EqualBp: 2000},
				QuorumBp:   5000,
				MajorityBp: 5001,
			},
			Nonce: []byte(nonce),
		}
		for _, w := range cofounders {
			g.Members = append(g.Members, &caissev1.Member{Key: bytes.Clone(w.id[:]), Name: w.name})
		}
		b.Kind = &caissev1.EntryBody_Genesis{Genesis: g}
	}
}

// fixture is a federation: a founder, n co-founders, the signed genesis.
type fixture struct {
	founder    *writer
	cofounders []*writer
	genesis    ledger.Entry
}

// newFixture signs the genesis of a federation with n co-founders, whose
// keys come from seeds 2 to n+1 (the founder's from 1), and gives every
// writer the federation id.
func newFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	return newFixtureWith(tb, n, nil)
}

// newFixtureWith is newFixture with a charter that edit may change.
func newFixtureWith(tb testing.TB, n int, edit func(*caissev1.Genesis)) *fixture {
	tb.Helper()
	f := &fixture{founder: newWriter(1, "Caisse fondatrice")}
	for i := range n {
		f.cofounders = append(f.cofounders, newWriter(byte(i+2), "Caisse "+string(rune('A'+i))))
	}
	f.genesis = f.founder.next(tb, func(b *caissev1.EntryBody) {
		charter("test", f.cofounders...)(b)
		if edit != nil {
			edit(b.GetGenesis())
		}
	})
	for _, w := range f.writers() {
		w.fed = f.genesis.Hash()
	}
	return f
}

// writers returns the founder, then the co-founders.
func (f *fixture) writers() []*writer { return append([]*writer{f.founder}, f.cofounders...) }

func mustApply(tb testing.TB, s *federation.State, entries ...ledger.Entry) {
	tb.Helper()
	for _, e := range entries {
		if err := s.Apply(e); err != nil {
			tb.Fatalf("apply %v: %v", e, err)
		}
	}
}

// stateOf applies entries to a new State.
func stateOf(tb testing.TB, entries ...ledger.Entry) *federation.State {
	tb.Helper()
	s := federation.New()
	mustApply(tb, s, entries...)
	return s
}

func application(name string) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Application{Application: &caissev1.Application{
			Name: name, Note: "une caisse de grève de " + name,
		}}
	}
}

func admit(who ledger.Author) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{
			Action: &caissev1.Proposal_Admit{Admit: &caissev1.Admit{Applicant: bytes.Clone(who[:])}},
			Note:   "admettre",
		}}
	}
}

func exclude(who ledger.Author) kindFn {
	return func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Proposal{Proposal: &caissev1.Proposal{
			Action: &caissev1.Proposal_Exclude{Exclude: &caissev1.Exclude{Member: bytes.Clone(who[:])}},
			Note:   "exclure",
		}}
	}
}

const (
	yes     = caissev1.Choice_CHOICE_YES
	no      = caissev1.Choice_CHOICE_NO
	abstain = caissev1.Choice_CHOICE_ABSTAIN
)

func vote(proposal ledger.Entry, c caissev1.Choice) kindFn {
	return func(b *caissev1.EntryBody) {
		id := proposal.Hash()
		b.Kind = &caissev1.EntryBody_Vote{Vote: &caissev1.Vote{Proposal: bytes.Clone(id[:]), Choice: c}}
	}
}

// shareClock gives every writer of f one clock, starting just after the
// genesis: the times of entries then follow the order they are signed in.
func (f *fixture) shareClock() *clock {
	c := &clock{ms: f.genesis.Time().Wall}
	for _, w := range f.writers() {
		w.clock = c
	}
	return c
}

// applicant returns a writer for a collective that is not in the charter,
// with f's federation id and the clock of the founder.
func (f *fixture) applicant(seed byte, name string) *writer {
	w := newWriter(seed, name)
	w.fed = f.genesis.Hash()
	w.clock = f.founder.clock
	return w
}

// snapshot is everything a State shows.
type snapshot struct {
	Hash       ledger.Hash
	Entries    uint64
	Vector     ledger.Vector
	Members    []federation.Member
	Applicants []federation.Applicant
	Proposals  []federation.Proposal
	Forks      []federation.Fork
	Balances   []federation.CaisseBalance
}

func snap(s *federation.State) snapshot {
	return snapshot{Hash: s.Hash(), Entries: s.Entries(), Vector: s.Vector(), Members: s.Members(),
		Applicants: s.Applicants(), Proposals: s.Proposals(), Forks: s.Forks(), Balances: s.Balances()}
}

// wantRefused requires err to wrap want, to wrap ErrPending exactly when
// pending says so, and to start with prefix.
func wantRefused(tb testing.TB, op string, err, want error, pending bool, prefix string) {
	tb.Helper()
	switch {
	case !errors.Is(err, want):
		tb.Errorf("%s = %v, want %v", op, err, want)
	case errors.Is(err, federation.ErrPending) != pending:
		tb.Errorf("%s = %v: wraps ErrPending %v, want %v", op, err, !pending, pending)
	case !strings.HasPrefix(err.Error(), prefix):
		tb.Errorf("%s = %q, want the prefix %q", op, err, prefix)
	}
}

// refuse requires Check and Apply to refuse bad with want, pending or
// not, and the State to show the same before and after.
func refuse(tb testing.TB, s *federation.State, bad ledger.Entry, want error, pending bool) {
	tb.Helper()
	before := snap(s)
	wantRefused(tb, "Check", s.Check(bad), want, pending, "federation: check ")
	wantRefused(tb, "Apply", s.Apply(bad), want, pending, "federation: apply ")
	if diff := gocmp.Diff(before, snap(s)); diff != "" {
		tb.Errorf("refusing %v changed the State (-before +after):\n%s", bad, diff)
	}
}

// refuseFork is refuse for a fork proof.
func refuseFork(tb testing.TB, s *federation.State, a, b ledger.Entry, want error, pending bool) {
	tb.Helper()
	before := snap(s)
	wantRefused(tb, "CheckFork", s.CheckFork(a, b), want, pending, "federation: check fork ")
	wantRefused(tb, "ApplyFork", s.ApplyFork(a, b), want, pending, "federation: apply fork ")
	if diff := gocmp.Diff(before, snap(s)); diff != "" {
		tb.Errorf("refusing the fork proof changed the State (-before +after):\n%s", diff)
	}
}

func mustFork(tb testing.TB, s *federation.State, a, b ledger.Entry) {
	tb.Helper()
	if err := s.ApplyFork(a, b); err != nil {
		tb.Fatalf("apply fork %v, %v: %v", a, b, err)
	}
}
