package federation_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
)

// TestOneMemberAdmits: a one-member federation admits an applicant by its
// single vote; the applicant's entries wait until then, and count once it
// is admitted.
func TestOneMemberAdmits(t *testing.T) {
	f := newFixture(t, 0)
	f.shareClock()
	x := f.applicant(50, "Caisse X")
	app := x.next(t, application("Caisse X"))
	s := stateOf(t, f.genesis, app)

	wantApplicants := []federation.Applicant{{Key: x.id, Name: "Caisse X", Note: "une caisse de grève de Caisse X", Applied: app.Time()}}
	if diff := cmp.Diff(wantApplicants, s.Applicants()); diff != "" {
		t.Errorf("Applicants() (-want +got):\n%s", diff)
	}
	if s.IsMember(x.id) || s.CanAuthor(x.id) || !s.IsKnown(x.id) {
		t.Errorf("applicant: IsMember %v, CanAuthor %v, IsKnown %v; want false, false, true", s.IsMember(x.id), s.CanAuthor(x.id), s.IsKnown(x.id))
	}
	// Signed before its admission, without moving x on: it waits, then
	// applies but counts for nothing.
	early := x.sign(t, x.body(contrib(999, "2026-01", dues)))
	refuse(t, s, early, federation.ErrNotAdmitted, true)

	p := f.founder.next(t, admit(x.id))
	mustApply(t, s, p)
	refuse(t, s, early, federation.ErrNotAdmitted, true)
	v := f.founder.next(t, vote(p, yes))
	mustApply(t, s, v)

	wantProposal := federation.Proposal{
		ID: p.Hash(), Author: f.founder.id, Seq: 2, Time: p.Time(), Action: federation.ActionAdmit, Target: x.id,
		Note: "admettre", Eligible: 1, Yes: 1, Quorum: 5000, Majority: 5001,
		Ballots: []federation.Ballot{{Voter: f.founder.id, Choice: federation.ChoiceYes, Seq: 3, Time: v.Time()}},
		Outcome: federation.OutcomeAdopted, Decided: v.Time(),
	}
	if diff := cmp.Diff([]federation.Proposal{wantProposal}, s.Proposals()); diff != "" {
		t.Errorf("Proposals() (-want +got):\n%s", diff)
	}
	if got, ok := s.Proposal(p.Hash()); !ok || got.Outcome != federation.OutcomeAdopted {
		t.Errorf("Proposal(id) = %v, %v", got.Outcome, ok)
	}
	wantX := federation.Member{Key: x.id, Name: "Caisse X", Status: federation.StatusActive, Since: v.Time(), AdmittedBy: p.Hash(), Final: true}
	if got, ok := s.Member(x.id); !ok {
		t.Error("Member(x): not a member")
	} else if diff := cmp.Diff(wantX, got); diff != "" {
		t.Errorf("Member(x) (-want +got):\n%s", diff)
	}
	if len(s.Applicants()) != 0 {
		t.Errorf("Applicants() = %v after the admission", s.Applicants())
	}
	if !s.IsMember(x.id) || !s.CanAuthor(x.id) {
		t.Error("admitted: IsMember or CanAuthor false")
	}

	// The entry signed early applies now, and counts for nothing.
	withEarly := stateOf(t, f.genesis, app, p, v, early)
	if b, _ := withEarly.Balance(x.id); b.Total != (federation.Totals{}) {
		t.Errorf("an entry dated before the admission counts: %+v", b.Total)
	}
	// Entries signed after the admission count.
	x2 := x.next(t, contrib(250, "2026-01", dues))
	x3 := x.next(t, disburse(100, "2026-01", strike))
	mustApply(t, s, x2, x3)
	if b, ok := s.Balance(x.id); !ok || b.Total != (federation.Totals{Contributed: 250, Disbursed: 100, Balance: 150}) {
		t.Errorf("Balance(x) = %+v, %v; want 250 in, 100 out", b.Total, ok)
	}
}

// threeMembers is a charter of three (a founder and two co-founders) and
// an applicant, on one clock.
type threeMembers struct {
	f       *fixture
	F, A, B *writer
	x       *writer
	app     ledger.Entry
}

func newThreeMembers(t testing.TB, edit func(*caissev1.Genesis)) *threeMembers {
	f := newFixtureWith(t, 2, edit)
	f.shareClock()
	tm := &threeMembers{f: f, F: f.founder, A: f.cofounders[0], B: f.cofounders[1]}
	tm.x = f.applicant(50, "Caisse X")
	tm.app = tm.x.next(t, application("Caisse X"))
	return tm
}

func (tm *threeMembers) voters() []*writer { return []*writer{tm.F, tm.A, tm.B} }

// TestDecisions puts the admission of an applicant to the vote of three
// members, and checks the tally, the outcome and when it was decided.
func TestDecisions(t *testing.T) {
	type v struct {
		who    int // 0: the founder, 1: A, 2: B
		choice caissev1.Choice
	}
	tests := []struct {
		name string
		// quorum and majority, in basis points; 0 for the fixture's
		// 5000 and 5001.
		quorum, majority uint32
		votes            []v
		want             federation.Outcome
		// decidedBy is the index in votes of the deciding vote.
		decidedBy         int
		yes, no, abstain  int
		ballots           map[int]int // voter -> index in votes of the vote that counts
		admitted, unknown bool
	}{
		{name: "two yes of three adopt", votes: []v{{0, yes}, {1, yes}},
			want: federation.OutcomeAdopted, decidedBy: 1, yes: 2, ballots: map[int]int{0: 0, 1: 1}, admitted: true},
		{name: "one yes is short of the quorum", votes: []v{{0, yes}},
			want: federation.OutcomeOpen, decidedBy: -1, yes: 1, ballots: map[int]int{0: 0}},
		{name: "two no of three reject", votes: []v{{0, no}, {1, no}},
			want: federation.OutcomeRejected, decidedBy: 1, no: 2, ballots: map[int]int{0: 0, 1: 1}},
		{name: "a tie is rejected", votes: []v{{0, yes}, {1, no}, {2, abstain}},
			want: federation.OutcomeRejected, decidedBy: 2, yes: 1, no: 1, abstain: 1, ballots: map[int]int{0: 0, 1: 1, 2: 2}},
		{name: "an abstention counts for the quorum only", votes: []v{{0, yes}, {1, abstain}},
			want: federation.OutcomeAdopted, decidedBy: 1, yes: 1, abstain: 1, ballots: map[int]int{0: 0, 1: 1}, admitted: true},
		{name: "majority of those who say yes or no", votes: []v{{0, yes}, {1, no}, {2, yes}},
			want: federation.OutcomeAdopted, decidedBy: 2, yes: 2, no: 1, ballots: map[int]int{0: 0, 1: 1, 2: 2}, admitted: true},
		{name: "the last no rejects", votes: []v{{0, yes}, {1, no}, {2, no}},
			want: federation.OutcomeRejected, decidedBy: 2, yes: 1, no: 2, ballots: map[int]int{0: 0, 1: 1, 2: 2}},
		{name: "a vote changed before the decision", votes: []v{{0, no}, {1, yes}, {0, yes}},
			want: federation.OutcomeAdopted, decidedBy: 2, yes: 2, ballots: map[int]int{0: 2, 1: 1}, admitted: true},
		{name: "votes after the decision change nothing", votes: []v{{0, yes}, {1, yes}, {2, no}, {1, no}},
			want: federation.OutcomeAdopted, decidedBy: 1, yes: 2, ballots: map[int]int{0: 0, 1: 1}, admitted: true},
		{name: "unanimity: two yes are not enough", quorum: 10000, majority: 10000, votes: []v{{0, yes}, {1, yes}},
			want: federation.OutcomeOpen, decidedBy: -1, yes: 2, ballots: map[int]int{0: 0, 1: 1}},
		{name: "unanimity: three yes", quorum: 10000, majority: 10000, votes: []v{{0, yes}, {1, yes}, {2, yes}},
			want: federation.OutcomeAdopted, decidedBy: 2, yes: 3, ballots: map[int]int{0: 0, 1: 1, 2: 2}, admitted: true},
		{name: "unanimity: one no rejects at once", quorum: 10000, majority: 10000, votes: []v{{1, no}},
			want: federation.OutcomeRejected, decidedBy: 0, no: 1, ballots: map[int]int{1: 0}},
		{name: "no quorum: one yes of three adopts", quorum: 1, majority: 5001, votes: []v{{2, yes}},
			want: federation.OutcomeAdopted, decidedBy: 0, yes: 1, ballots: map[int]int{2: 0}, admitted: true},
		{name: "no quorum: abstentions alone adopt nothing", quorum: 1, majority: 5001, votes: []v{{0, abstain}, {1, abstain}},
			want: federation.OutcomeOpen, decidedBy: -1, abstain: 2, ballots: map[int]int{0: 0, 1: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := newThreeMembers(t, func(g *caissev1.Genesis) {
				if tc.quorum != 0 {
					g.Rules.QuorumBp, g.Rules.MajorityBp = tc.quorum, tc.majority
				}
			})
			p := tm.F.next(t, admit(tm.x.id))
			s := stateOf(t, tm.f.genesis, tm.app, p)
			var votes []ledger.Entry
			for _, vt := range tc.votes {
				e := tm.voters()[vt.who].next(t, vote(p, vt.choice))
				votes = append(votes, e)
				mustApply(t, s, e)
			}
			want := federation.Proposal{
				ID: p.Hash(), Author: tm.F.id, Seq: p.Seq(), Time: p.Time(), Action: federation.ActionAdmit,
				Target: tm.x.id, Note: "admettre", Eligible: 3, Yes: tc.yes, No: tc.no, Abstain: tc.abstain,
				Outcome: tc.want,
			}
			r := tm.f.genesis.Body().GetGenesis().GetRules()
			want.Quorum, want.Majority = r.GetQuorumBp(), r.GetMajorityBp()
			if tc.decidedBy >= 0 {
				want.Decided = votes[tc.decidedBy].Time()
			}
			for who, i := range tc.ballots {
				want.Ballots = append(want.Ballots, federation.Ballot{Voter: tm.voters()[who].id,
					Choice: choiceOf(tc.votes[i].choice), Seq: votes[i].Seq(), Time: votes[i].Time()})
			}
			sortBallots(want.Ballots)
			for who, vt := range tm.voters() {
				if _, voted := tc.ballots[who]; !voted {
					want.NotVoted = append(want.NotVoted, vt.id)
				}
			}
			slices.SortFunc(want.NotVoted, func(a, b ledger.Author) int { return bytes.Compare(a[:], b[:]) })
			got, ok := s.Proposal(p.Hash())
			if !ok {
				t.Fatal("Proposal: not found")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Proposal (-want +got):\n%s", diff)
			}
			m, ok := s.Member(tm.x.id)
			if ok != tc.admitted {
				t.Fatalf("Member(x) found %v, want %v", ok, tc.admitted)
			}
			if ok && (m.Since != want.Decided || m.AdmittedBy != p.Hash()) {
				t.Errorf("Member(x) since %v by %s, want %v by %s", m.Since, m.AdmittedBy.Short(), want.Decided, p.Hash().Short())
			}
			if !ok && len(s.Applicants()) != 1 {
				t.Errorf("Applicants() = %v, want x", s.Applicants())
			}
		})
	}
}

func choiceOf(c caissev1.Choice) federation.Choice {
	switch c {
	case yes:
		return federation.ChoiceYes
	case no:
		return federation.ChoiceNo
	}
	return federation.ChoiceAbstain
}

func sortBallots(bs []federation.Ballot) {
	for i := range bs {
		for j := i + 1; j < len(bs); j++ {
			if string(bs[j].Voter[:]) < string(bs[i].Voter[:]) {
				bs[i], bs[j] = bs[j], bs[i]
			}
		}
	}
}

// TestAdmissionFinal: an admission is final, and the new member's entries
// apply, once every member's log has passed the deciding vote.
func TestAdmissionFinal(t *testing.T) {
	tm := newThreeMembers(t, nil)
	p := tm.F.next(t, admit(tm.x.id))
	v1 := tm.F.next(t, vote(p, yes))
	v2 := tm.A.next(t, vote(p, yes)) // adopted; B has written nothing
	x2 := tm.x.next(t, contrib(300, "2026-02", dues))
	s := stateOf(t, tm.f.genesis, tm.app, p, v1, v2)

	m, _ := s.Member(tm.x.id)
	if m.Final || !s.IsMember(tm.x.id) || s.CanAuthor(tm.x.id) {
		t.Errorf("before B passes the decision: Final %v, IsMember %v, CanAuthor %v; want false, true, false", m.Final, s.IsMember(tm.x.id), s.CanAuthor(tm.x.id))
	}
	refuse(t, s, x2, federation.ErrNotAdmitted, true)
	err := s.Check(x2)
	if !strings.Contains(err.Error(), string(tm.B.id.ID().Short())) || strings.Contains(err.Error(), string(tm.A.id.ID().Short())) {
		t.Errorf("Check = %q: want B's short id named, and not A's", err)
	}
	// The founder's head is at its vote, before the decision: it too
	// must pass.
	if !strings.Contains(err.Error(), string(tm.F.id.ID().Short())) {
		t.Errorf("Check = %q: want the founder's short id named", err)
	}
	for _, w := range []struct {
		who  *writer
		want []ledger.Hash
	}{{tm.F, []ledger.Hash{p.Hash()}}, {tm.A, nil}, {tm.B, []ledger.Hash{p.Hash()}}, {tm.x, nil}} {
		if diff := cmp.Diff(w.want, s.Awaiting(w.who.id)); diff != "" {
			t.Errorf("Awaiting(%s) (-want +got):\n%s", w.who.name, diff)
		}
	}
	b1 := tm.B.next(t, contrib(10, "2026-02", dues))
	mustApply(t, s, b1)
	refuse(t, s, x2, federation.ErrNotAdmitted, true)
	if got := s.Awaiting(tm.B.id); got != nil {
		t.Errorf("Awaiting(B) = %v once B's log passed the decision", got)
	}
	f1 := tm.F.next(t, contrib(10, "2026-02", dues))
	mustApply(t, s, f1, x2)
	if m, _ := s.Member(tm.x.id); !m.Final || !s.CanAuthor(tm.x.id) {
		t.Errorf("after: Final %v, CanAuthor %v", m.Final, s.CanAuthor(tm.x.id))
	}
	if got := s.Awaiting(tm.F.id); got != nil {
		t.Errorf("Awaiting(F) = %v once final", got)
	}
}

// TestAdmissionFinalExcludedMember: a member excluded before its last
// entry holds up no admission: nothing it writes counts any more.
func TestAdmissionFinalExcludedMember(t *testing.T) {
	tm := newThreeMembers(t, nil)
	pEx := tm.F.next(t, exclude(tm.B.id))
	e1 := tm.F.next(t, vote(pEx, yes))
	e2 := tm.A.next(t, vote(pEx, yes)) // B is out
	b1 := tm.B.next(t, contrib(10, "2026-01", dues))
	p := tm.A.next(t, admit(tm.x.id))
	v := tm.A.next(t, vote(p, yes)) // 1 of the 2 members at p: adopted
	f1 := tm.F.next(t, contrib(10, "2026-01", dues))
	x2 := tm.x.next(t, contrib(300, "2026-02", dues))
	s := stateOf(t, tm.f.genesis, tm.app, pEx, e1, e2, p, v, f1)
	refuse(t, s, x2, federation.ErrNotAdmitted, true) // B's log has not passed its exclusion
	mustApply(t, s, b1, x2)
	if m, _ := s.Member(tm.x.id); !m.Final {
		t.Error("not final")
	}
}

// TestExclusion excludes a member: its entries dated up to the deciding
// vote count, whenever they arrive; those after are kept and count for
// nothing: movements, corrections, proposals and votes. Open proposals
// that needed its vote are rejected.
func TestExclusion(t *testing.T) {
	tm := newThreeMembers(t, nil)
	F, A, B := tm.F, tm.A, tm.B
	b1 := B.next(t, contrib(100, "2026-01", dues))
	pAdmit := F.next(t, admit(tm.x.id))
	fNo := F.next(t, vote(pAdmit, no)) // open: A and B could still adopt it
	pEx := F.next(t, exclude(B.id))
	fYes := F.next(t, vote(pEx, yes))
	b2 := B.next(t, contrib(200, "2026-01", dues)) // before the decision: counts
	aYes := A.next(t, vote(pEx, yes))              // adopted: B is out
	b3 := B.next(t, contrib(400, "2026-01", dues)) // after: kept, counts for nothing
	b4 := B.next(t, correct(b1))                   // after: b1 still counts
	b5 := B.next(t, exclude(A.id))                 // void
	b6 := B.next(t, vote(pAdmit, yes))             // not counted
	f2 := F.next(t, contrib(50, "2026-01", dues))

	orders := map[string][]ledger.Entry{
		"in time order": {tm.f.genesis, tm.app, b1, pAdmit, fNo, pEx, fYes, b2, aYes, b3, b4, b5, b6, f2},
		"B's log last":  {tm.f.genesis, tm.app, pAdmit, fNo, pEx, fYes, aYes, f2, b1, b2, b3, b4, b5, b6},
		"B's log first": {tm.f.genesis, tm.app, b1, b2, b3, b4, b5, b6, pAdmit, fNo, pEx, fYes, aYes, f2},
	}
	var first *snapshot
	for name, entries := range orders {
		t.Run(name, func(t *testing.T) {
			s := federation.New()
			held, dropped, err := s.Settle(entries, nil)
			if err != nil || len(held) != 0 || len(dropped) != 0 {
				t.Fatalf("Settle: held %v, dropped %v, err %v", held, dropped, err)
			}
			m, ok := s.Member(B.id)
			want := federation.Member{Key: B.id, Name: "Caisse B", Status: federation.StatusExcluded,
				Since: tm.f.genesis.Time(), Final: true, Until: aYes.Time(), ExcludedBy: pEx.Hash()}
			if diff := cmp.Diff(want, m); !ok || diff != "" {
				t.Errorf("Member(B) (-want +got):\n%s", diff)
			}
			if s.IsMember(B.id) || s.CanAuthor(B.id) || !s.IsKnown(B.id) {
				t.Error("excluded: IsMember or CanAuthor true, or IsKnown false")
			}
			bal, _ := s.Balance(B.id)
			if bal.Total != (federation.Totals{Contributed: 300, Balance: 300}) {
				t.Errorf("Balance(B) = %+v, want 300 (100 and 200, not 400, b1 not corrected)", bal.Total)
			}
			for _, c := range []struct {
				e    ledger.Entry
				want bool
			}{{b1, true}, {b2, true}, {b3, false}, {b4, false}, {f2, true}} {
				if got := s.Counts(c.e.Author(), c.e.Seq()); got != c.want {
					t.Errorf("Counts(%s) = %v, want %v", c.e, got, c.want)
				}
			}
			if s.Counts(B.id, b6.Seq()+1) || s.Counts(tm.x.id, 9) {
				t.Error("Counts of an entry not applied is true")
			}
			if by, ok := s.CorrectedBy(B.id, 1); !ok || by != b4.Seq() {
				t.Errorf("CorrectedBy(B, 1) = %d, %v: the correction is in the log, even if it counts for nothing", by, ok)
			}
			props := map[ledger.Hash]federation.Proposal{}
			for _, p := range s.Proposals() {
				props[p.ID] = p
			}
			if p := props[pAdmit.Hash()]; p.Outcome != federation.OutcomeRejected || p.Decided != aYes.Time() || p.Yes != 0 || p.No != 1 {
				t.Errorf("admission: %s at %v, %d yes %d no; want rejected when B was excluded, 0 yes 1 no", p.Outcome, p.Decided, p.Yes, p.No)
			}
			if p := props[pEx.Hash()]; p.Outcome != federation.OutcomeAdopted || p.Eligible != 3 || p.Yes != 2 {
				t.Errorf("exclusion: %s, %d eligible, %d yes", p.Outcome, p.Eligible, p.Yes)
			}
			if p := props[b5.Hash()]; p.Outcome != federation.OutcomeVoid || p.Eligible != 0 {
				t.Errorf("B's proposal after its exclusion: %s, %d eligible; want void", p.Outcome, p.Eligible)
			}
			sn := snap(s)
			if first == nil {
				first = &sn
			} else if diff := cmp.Diff(*first, sn); diff != "" {
				t.Errorf("State differs from another order's (-other +this):\n%s", diff)
			}
		})
	}
}

// TestPendingThenApplies gives the State an entry before what it depends
// on: it is refused as pending and changes nothing, then applies once the
// dependency has, and the State is the same as in the other order.
func TestPendingThenApplies(t *testing.T) {
	tests := []struct {
		name string
		// build returns the entries to apply first, the pending one, and
		// what it waits for.
		build func(t *testing.T, tm *threeMembers) (setup []ledger.Entry, pending ledger.Entry, deps []ledger.Entry)
		want  error
	}{
		{
			name: "vote before its proposal",
			build: func(t *testing.T, tm *threeMembers) ([]ledger.Entry, ledger.Entry, []ledger.Entry) {
				p := tm.F.next(t, admit(tm.x.id))
				return []ledger.Entry{tm.app}, tm.A.next(t, vote(p, yes)), []ledger.Entry{p}
			},
			want: federation.ErrUnknownProposal,
		},
		{
			name: "admission before the application",
			build: func(t *testing.T, tm *threeMembers) ([]ledger.Entry, ledger.Entry, []ledger.Entry) {
				return nil, tm.F.next(t, admit(tm.x.id)), []ledger.Entry{tm.app}
			},
			want: federation.ErrNoApplication,
		},
		{
			name: "exclusion of a key not seen yet",
			build: func(t *testing.T, tm *threeMembers) ([]ledger.Entry, ledger.Entry, []ledger.Entry) {
				return nil, tm.F.next(t, exclude(tm.x.id)), []ledger.Entry{tm.app}
			},
			want: federation.ErrNoApplication,
		},
		{
			name: "applicant's entry before its admission",
			build: func(t *testing.T, tm *threeMembers) ([]ledger.Entry, ledger.Entry, []ledger.Entry) {
				p := tm.F.next(t, admit(tm.x.id))
				v1 := tm.A.next(t, vote(p, yes))
				v2 := tm.F.next(t, vote(p, yes))                // adopted
				v3 := tm.B.next(t, vote(p, yes))                // B's log passes the decision
				a1 := tm.A.next(t, contrib(5, "2026-01", dues)) // and A's
				x2 := tm.x.next(t, contrib(100, "2026-01", dues))
				return []ledger.Entry{tm.app, p}, x2, []ledger.Entry{v1, v2, v3, a1}
			},
			want: federation.ErrNotAdmitted,
		},
		{
			name: "admitted member's vote before the admission is final",
			build: func(t *testing.T, tm *threeMembers) ([]ledger.Entry, ledger.Entry, []ledger.Entry) {
				p := tm.F.next(t, admit(tm.x.id))
				v1 := tm.F.next(t, vote(p, yes))
				v2 := tm.A.next(t, vote(p, yes))
				p2 := tm.A.next(t, exclude(tm.B.id))
				xv := tm.x.next(t, vote(p2, no))
				b1 := tm.B.next(t, contrib(5, "2026-01", dues))
				f1 := tm.F.next(t, contrib(5, "2026-01", dues))
				return []ledger.Entry{tm.app, p, v1, v2, p2}, xv, []ledger.Entry{b1, f1}
			},
			want: federation.ErrNotAdmitted,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := newThreeMembers(t, nil)
			setup, pending, deps := tc.build(t, tm)
			s := stateOf(t, append([]ledger.Entry{tm.f.genesis}, setup...)...)
			refuse(t, s, pending, tc.want, true)
			for i, d := range deps {
				if i < len(deps)-1 {
					mustApply(t, s, d)
					refuse(t, s, pending, tc.want, true)
				}
			}
			mustApply(t, s, deps[len(deps)-1], pending)
			other := stateOf(t, append(append(append([]ledger.Entry{tm.f.genesis}, setup...), deps...), pending)...)
			if diff := cmp.Diff(snap(other), snap(s)); diff != "" {
				t.Errorf("State after a pending entry differs from the State in dependency order (-dependency order +pending first):\n%s", diff)
			}
		})
	}
}

// TestRefusedGovernance: entries that the governance rules refuse, for
// good or for now.
func TestRefusedGovernance(t *testing.T) {
	for _, tc := range governanceRefusals {
		t.Run(tc.name, func(t *testing.T) {
			tm := newThreeMembers(t, nil)
			s, bad := tc.build(t, tm)
			refuse(t, s, bad, tc.want, tc.pending)
		})
	}
}

type governanceRefusal struct {
	name    string
	build   func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry)
	want    error
	pending bool
}

var governanceRefusals = []governanceRefusal{
	{
		name: "application from a member of the charter",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.A.next(t, application("Caisse A"))
		},
		want: federation.ErrAlreadyMember,
	},
	{
		name: "admission of a member of the charter",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.F.next(t, admit(tm.B.id))
		},
		want: federation.ErrAlreadyMember,
	},
	{
		name: "a stranger's later entry",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.x.next(t, contrib(100, "2026-01", dues))
		},
		want: ledger.ErrGap,
	},
	{
		name: "a stranger's first entry is not an application",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			stranger := tm.f.applicant(77, "Inconnue")
			return stateOf(t, tm.f.genesis), stranger.next(t, exclude(tm.A.id))
		},
		want: federation.ErrUnknownAuthor,
	},
	{
		name: "applicant's contribution",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis, tm.app), tm.x.next(t, contrib(100, "2026-01", dues))
		},
		want: federation.ErrNotAdmitted, pending: true,
	},
	{
		name: "applicant's vote",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			p := tm.F.next(t, admit(tm.x.id))
			return stateOf(t, tm.f.genesis, tm.app, p), tm.x.next(t, vote(p, yes))
		},
		want: federation.ErrNotAdmitted, pending: true,
	},
	{
		name: "applicant's proposal",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis, tm.app), tm.x.next(t, exclude(tm.A.id))
		},
		want: federation.ErrNotAdmitted, pending: true,
	},
	{
		name: "vote on an unknown proposal",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			a1 := tm.A.next(t, contrib(100, "2026-01", dues))
			return stateOf(t, tm.f.genesis, a1), tm.F.next(t, vote(a1, yes))
		},
		want: federation.ErrUnknownProposal, pending: true,
	},
	{
		name: "admission of a key not seen",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis), tm.F.next(t, admit(tm.x.id))
		},
		want: federation.ErrNoApplication, pending: true,
	},
	{
		name: "a second application",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			again := *tm.x
			again.seq, again.prev = 0, ledger.Hash{}
			return stateOf(t, tm.f.genesis, tm.app), again.next(t, application("Caisse X, encore"))
		},
		want: ledger.ErrFork,
	},
	{
		name: "the application again",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			return stateOf(t, tm.f.genesis, tm.app), tm.app
		},
		want: ledger.ErrDuplicate,
	},
	{
		name: "entry of a frozen author",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			a1 := tm.A.next(t, contrib(100, "2026-01", dues))
			alt := *tm.A
			a2 := tm.A.next(t, contrib(200, "2026-01", dues))
			other := alt.next(t, contrib(201, "2026-01", dues))
			s := stateOf(t, tm.f.genesis, a1)
			mustFork(t, s, a2, other)
			return s, a2
		},
		want: federation.ErrForked,
	},
	{
		name: "entry past the fork",
		build: func(t *testing.T, tm *threeMembers) (*federation.State, ledger.Entry) {
			alt := *tm.A
			a1 := tm.A.next(t, contrib(100, "2026-01", dues))
			other := alt.next(t, contrib(101, "2026-01", dues))
			a2 := tm.A.next(t, contrib(200, "2026-01", dues))
			s := stateOf(t, tm.f.genesis, a1)
			mustFork(t, s, a1, other)
			return s, a2
		},
		want: federation.ErrForked,
	},
}
