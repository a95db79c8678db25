package federation_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
)

// ordered returns a and b with the lower hash first, as Forks lists them.
func ordered(a, b ledger.Entry) (ledger.Hash, ledger.Hash) {
	ha, hb := a.Hash(), b.Hash()
	if bytes.Compare(ha[:], hb[:]) > 0 {
		return hb, ha
	}
	return ha, hb
}

// TestFork freezes a member whose entries from the fork on were applied:
// they leave its log, its caisse and the vote they decided, and the State
// is the one built with the proof first.
func TestFork(t *testing.T) {
	tm := newThreeMembers(t, nil)
	F, A := tm.F, tm.A
	p := F.next(t, admit(tm.x.id))
	fYes := F.next(t, vote(p, yes))
	a1 := A.next(t, contrib(1000, "2026-01", dues))
	a2 := A.next(t, disburse(300, "2026-01", strike))
	alt := *A
	a3 := A.next(t, vote(p, yes)) // decides: x admitted
	a4 := A.next(t, contrib(50, "2026-02", donation))
	a5 := A.next(t, correct(a1))
	other3 := alt.next(t, contrib(5, "2026-01", dues))
	entries := []ledger.Entry{tm.f.genesis, tm.app, p, fYes, a1, a2, a3, a4, a5}

	s := stateOf(t, entries...)
	if !s.IsMember(tm.x.id) {
		t.Fatal("x not admitted before the fork")
	}
	mustFork(t, s, other3, a3)

	for _, c := range []struct {
		e    ledger.Entry
		want bool
	}{{a1, true}, {a2, true}, {a3, false}, {a4, false}} {
		if got := s.Counts(A.id, c.e.Seq()); got != c.want {
			t.Errorf("Counts(A, %d) after a fork at 3 = %v, want %v", c.e.Seq(), got, c.want)
		}
	}
	first, second := ordered(a3, other3)
	if diff := cmp.Diff([]federation.Fork{{Author: A.id, Seq: 3, First: first, Second: second}}, s.Forks()); diff != "" {
		t.Errorf("Forks() (-want +got):\n%s", diff)
	}
	proofs := s.ForkProofs()
	if len(proofs) != 1 {
		t.Fatalf("ForkProofs() = %d proofs, want 1", len(proofs))
	}
	for i, pe := range []*caissev1.Entry{proofs[0].GetFirst(), proofs[0].GetSecond()} {
		e, err := ledger.FromProto(pe)
		if err != nil {
			t.Fatalf("proof entry %d: %v", i, err)
		}
		if want := []ledger.Hash{first, second}[i]; e.Hash() != want {
			t.Errorf("proof entry %d is %s, want %s", i, e.Hash().Short(), want.Short())
		}
	}
	if h, _ := s.Head(A.id); h != a2.Head() {
		t.Errorf("Head(A) = %d/%s, want a2", h.Seq, h.Hash.Short())
	}
	if s.Entries() != uint64(len(entries)-3) {
		t.Errorf("Entries() = %d, want %d", s.Entries(), len(entries)-3)
	}
	bal, _ := s.Balance(A.id)
	if bal.Total != (federation.Totals{Contributed: 1000, Disbursed: 300, Balance: 700}) || bal.ForkSeq != 3 {
		t.Errorf("Balance(A) = %+v, fork seq %d; want a1 and a2 only, fork seq 3", bal.Total, bal.ForkSeq)
	}
	if _, ok := s.CorrectedBy(A.id, 1); ok {
		t.Error("CorrectedBy(A, 1): the correction was taken out")
	}
	if m, _ := s.Member(A.id); m.ForkSeq != 3 || !m.Forked() || s.CanAuthor(A.id) || !s.IsMember(A.id) {
		t.Errorf("Member(A): fork seq %d, forked %v; CanAuthor %v, IsMember %v", m.ForkSeq, m.Forked(), s.CanAuthor(A.id), s.IsMember(A.id))
	}
	if pr, _ := s.Proposal(p.Hash()); pr.Outcome != federation.OutcomeOpen || pr.Yes != 1 {
		t.Errorf("the proposal A's vote decided: %s with %d yes, want open with 1", pr.Outcome, pr.Yes)
	}
	if s.IsMember(tm.x.id) || len(s.Applicants()) != 1 {
		t.Error("x still admitted after the vote that admitted it was taken out")
	}
	for _, e := range []ledger.Entry{a3, other3, a4} {
		refuse(t, s, e, federation.ErrForked, false)
	}

	// The proof first, then the entries: those from the fork on are
	// refused, and the State is the same.
	s2 := federation.New()
	mustApply(t, s2, tm.f.genesis)
	mustFork(t, s2, a3, other3)
	_, dropped, err := s2.Settle(entries[1:], nil)
	if err != nil || len(dropped) != 3 {
		t.Fatalf("Settle: dropped %v, err %v; want a3, a4 and a5 dropped", dropped, err)
	}
	if diff := cmp.Diff(snap(s), snap(s2)); diff != "" {
		t.Errorf("State with the proof first (-proof last +proof first):\n%s", diff)
	}

	// Proofs that add nothing.
	alt4 := *A
	alt4.seq, alt4.prev = a3.Seq(), a3.Hash()
	other4 := alt4.next(t, contrib(7, "2026-02", dues))
	refuseFork(t, s, a4, other4, ledger.ErrDuplicate, false)
	refuseFork(t, s, a3, other3, ledger.ErrDuplicate, false)
	refuseFork(t, s, other3, a3, ledger.ErrDuplicate, false)

	// A third entry at seq 3: the proof kept is made of the two lowest
	// hashes, whichever proofs came in.
	alt3 := *A
	alt3.seq, alt3.prev = a2.Seq(), a2.Hash()
	third3 := alt3.next(t, contrib(6, "2026-01", dues))
	hs := []ledger.Hash{a3.Hash(), other3.Hash(), third3.Hash()}
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			if bytes.Compare(hs[j][:], hs[i][:]) < 0 {
				hs[i], hs[j] = hs[j], hs[i]
			}
		}
	}
	err = s.ApplyFork(a3, third3)
	switch {
	case hs[2] == third3.Hash():
		if !errors.Is(err, ledger.ErrDuplicate) {
			t.Errorf("ApplyFork with a higher third hash = %v, want ErrDuplicate", err)
		}
	case err != nil:
		t.Errorf("ApplyFork with a lower third hash = %v", err)
	}
	if got := s.Forks()[0]; got.First != hs[0] || got.Second != hs[1] {
		t.Errorf("fork kept %s and %s, want the two lowest %s and %s", got.First.Short(), got.Second.Short(), hs[0].Short(), hs[1].Short())
	}

	// A fork at a lower seq freezes lower.
	alt1 := *A
	alt1.seq, alt1.prev = 0, ledger.Hash{}
	other1 := alt1.next(t, contrib(8, "2026-01", dues))
	mustFork(t, s, a1, other1)
	if f := s.Forks(); len(f) != 1 || f[0].Seq != 1 {
		t.Errorf("Forks() = %v, want one at seq 1", f)
	}
	if bal, _ := s.Balance(A.id); bal.Total != (federation.Totals{}) {
		t.Errorf("Balance(A) = %+v after a fork at seq 1, want nothing", bal.Total)
	}
	if _, ok := s.Head(A.id); ok {
		t.Error("Head(A) after a fork at seq 1")
	}
}

// TestForkOfFounderAtGenesis: the founder signed another seq 1 in the
// federation it founded. It is frozen, and the charter stays.
func TestForkOfFounderAtGenesis(t *testing.T) {
	f := newFixture(t, 1)
	alt := *f.founder
	alt.seq, alt.prev = 0, ledger.Hash{}
	other := alt.next(t, contrib(100, "2026-01", dues))
	f2 := f.founder.next(t, contrib(200, "2026-01", dues))
	s := stateOf(t, f.genesis, f2)
	mustFork(t, s, f.genesis, other)
	if id, ok := s.Federation(); !ok || id != f.genesis.Hash() {
		t.Errorf("Federation() = %s, %v", id.Short(), ok)
	}
	if h, ok := s.Head(f.founder.id); !ok || h != f.genesis.Head() {
		t.Errorf("Head(founder) = %v, %v; want the genesis", h, ok)
	}
	if m, _ := s.Member(f.founder.id); m.ForkSeq != 1 {
		t.Errorf("Member(founder).ForkSeq = %d, want 1", m.ForkSeq)
	}
	refuse(t, s, f2, federation.ErrForked, false)
	if s.Entries() != 1 {
		t.Errorf("Entries() = %d, want 1", s.Entries())
	}
}

// TestForkOfApplication: two applications from one key. Whichever came
// first, the proof leaves the same State: no application, the name from
// the proof.
func TestForkOfApplication(t *testing.T) {
	tm := newThreeMembers(t, nil)
	alt := *tm.x
	alt.seq, alt.prev = 0, ledger.Hash{}
	app2 := alt.next(t, application("Caisse X bis"))
	var states []snapshot
	for _, first := range []ledger.Entry{tm.app, app2} {
		s := stateOf(t, tm.f.genesis)
		refuseFork(t, s, tm.app, app2, federation.ErrNoApplication, true)
		mustApply(t, s, first)
		mustFork(t, s, tm.app, app2)
		if len(s.Applicants()) != 0 || !s.IsKnown(tm.x.id) {
			t.Errorf("Applicants() = %v, IsKnown %v: want none, and the key known", s.Applicants(), s.IsKnown(tm.x.id))
		}
		refuse(t, s, tm.app, federation.ErrForked, false)
		refuse(t, s, app2, federation.ErrForked, false)
		states = append(states, snap(s))
	}
	if diff := cmp.Diff(states[0], states[1]); diff != "" {
		t.Errorf("State depends on which application came first (-first +second):\n%s", diff)
	}
}

// TestForkProofRefused: what is not a fork proof, or adds nothing.
func TestForkProofRefused(t *testing.T) {
	for _, tc := range forkRefusals {
		t.Run(tc.name, func(t *testing.T) {
			tm := newThreeMembers(t, nil)
			s, a, b := tc.build(t, tm)
			refuseFork(t, s, a, b, tc.want, tc.pending)
		})
	}
}

type forkRefusal struct {
	name    string
	build   func(t *testing.T, tm *threeMembers) (s *federation.State, a, b ledger.Entry)
	want    error
	pending bool
}

// twoAtSeq1 returns two entries of w at seq 1.
func twoAtSeq1(t *testing.T, w *writer) (ledger.Entry, ledger.Entry) {
	alt := *w
	return w.next(t, contrib(1, "2026-01", dues)), alt.next(t, contrib(2, "2026-01", dues))
}

var forkRefusals = []forkRefusal{
	{
		name: "before the genesis",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a, b := twoAtSeq1(t, tm.A)
			return federation.New(), a, b
		},
		want: federation.ErrNoGenesis,
	},
	{
		name: "zero entry",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a, _ := twoAtSeq1(t, tm.A)
			return stateOf(t, tm.f.genesis), a, ledger.Entry{}
		},
		want: ledger.ErrMalformed,
	},
	{
		name: "not the same seq",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a1 := tm.A.next(t, contrib(1, "2026-01", dues))
			a2 := tm.A.next(t, contrib(2, "2026-01", dues))
			return stateOf(t, tm.f.genesis), a1, a2
		},
		want: federation.ErrBadForkProof,
	},
	{
		name: "not the same author",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.A.next(t, contrib(1, "2026-01", dues)), tm.B.next(t, contrib(1, "2026-01", dues))
		},
		want: federation.ErrBadForkProof,
	},
	{
		name: "the same entry twice",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a, _ := twoAtSeq1(t, tm.A)
			return stateOf(t, tm.f.genesis), a, a
		},
		want: federation.ErrBadForkProof,
	},
	{
		name: "another federation's entries",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			w := *tm.A
			w.fed = ledger.HashBody([]byte("another federation"))
			a, b := twoAtSeq1(t, &w)
			return stateOf(t, tm.f.genesis), a, b
		},
		want: ledger.ErrWrongFederation,
	},
	{
		name: "a signature that does not verify",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a, b := twoAtSeq1(t, tm.A)
			raw, err := proto.Marshal(&caissev1.Entry{Body: b.BodyBytes(), Signature: a.Signature()})
			if err != nil {
				t.Fatal(err)
			}
			forged, err := ledger.DecodeUnverified(raw)
			if err != nil {
				t.Fatal(err)
			}
			return stateOf(t, tm.f.genesis), a, forged
		},
		want: ledger.ErrBadSignature,
	},
	{
		name: "a key not seen",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a, b := twoAtSeq1(t, tm.f.applicant(77, "Inconnue"))
			return stateOf(t, tm.f.genesis), a, b
		},
		want: federation.ErrNoApplication, pending: true,
	},
	{
		name: "the same proof again",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a, b := twoAtSeq1(t, tm.A)
			s := stateOf(t, tm.f.genesis)
			mustFork(t, s, a, b)
			return s, b, a
		},
		want: ledger.ErrDuplicate,
	},
	{
		name: "a fork above the one known",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry, ledger.Entry) {
			a, b := twoAtSeq1(t, tm.A)
			alt := *tm.A
			a2, b2 := tm.A.next(t, contrib(3, "2026-01", dues)), alt.next(t, contrib(4, "2026-01", dues))
			s := stateOf(t, tm.f.genesis)
			mustFork(t, s, a, b)
			return s, a2, b2
		},
		want: ledger.ErrDuplicate,
	},
}
