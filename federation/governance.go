package federation

import (
	"fmt"
	"slices"
	"strings"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Governance: who is a member, from when and until when, is decided by
// proposals and votes, folded in the canonical order (time, author, seq)
// from the charter's members. The fold is recomputed when a proposal or a
// vote is applied out of that order, and continued when it comes last, as
// it usually does; its outcome sets each author's window, and the caisses
// whose window moved have their sums that count rebuilt from their log.

// govEntry is what the fold needs of a proposal or a vote.
type govEntry struct {
	pos  pos
	hash ledger.Hash
	vote bool // else a proposal
	// Proposals.
	admit  bool // else exclude
	target ledger.Author
	note   string
	// Votes.
	proposal ledger.Hash
	choice   caissev1.Choice
}

// governance holds the proposals and votes applied and their fold.
type governance struct {
	entries   []*govEntry               // in canonical order
	proposals map[ledger.Hash]*govEntry // by id: what a vote may name
	f         *fold
	founding  []ledger.Author // the charter's members
	rules     *caissev1.Rules
}

func (g *governance) init(s *State) {
	g.proposals = make(map[ledger.Hash]*govEntry)
	g.rules = s.charter.GetRules()
	for _, k := range s.order {
		g.founding = append(g.founding, k)
	}
	g.f = newFold(g.founding, g.rules)
	s.gen = 1
}

// fold is the outcome of folding the governance entries in order.
type fold struct {
	rules     *caissev1.Rules
	standing  map[ledger.Author]*standing
	proposals map[ledger.Hash]*proposalState
	order     []*proposalState // in canonical order
	excluded  []ledger.Author  // in order of exclusion
	last      pos              // of the last entry folded
}

// standing is a member's place: from its admission (the charter's members
// from the start) to its exclusion, if any. since and until are the places
// of the deciding votes.
type standing struct {
	founding   bool
	since      pos
	admittedBy ledger.Hash
	excluded   bool
	until      pos
	excludedBy ledger.Hash
}

// activeAt reports whether the member may act at p: after its admission,
// and not after its exclusion.
func (st *standing) activeAt(p pos) bool {
	return (st.founding || st.since.compare(p) < 0) && (!st.excluded || p.compare(st.until) <= 0)
}

type proposalState struct {
	g        *govEntry
	outcome  Outcome
	eligible int
	votes    map[ledger.Author]ballot
	yes, no  int
	abstain  int
	decided  pos // the deciding vote's; zero while open, and for void
}

type ballot struct {
	choice caissev1.Choice
	seq    ledger.Seq
	time   ledger.HLC
}

func newFold(founding []ledger.Author, rules *caissev1.Rules) *fold {
	f := &fold{rules: rules, standing: make(map[ledger.Author]*standing, len(founding)),
		proposals: make(map[ledger.Hash]*proposalState)}
	for _, k := range founding {
		f.standing[k] = &standing{founding: true}
	}
	return f
}

func (f *fold) activeAt(k ledger.Author, p pos) bool {
	st := f.standing[k]
	return st != nil && st.activeAt(p)
}

func (f *fold) step(g *govEntry) {
	f.last = g.pos
	if g.vote {
		f.vote(g)
	} else {
		f.propose(g)
	}
}

// propose opens a proposal, or records it void: by an author who was not
// a member then, to admit a collective already admitted, or to exclude a
// collective that was not a member then.
func (f *fold) propose(g *govEntry) {
	ps := &proposalState{g: g, outcome: OutcomeOpen}
	f.proposals[g.hash] = ps
	f.order = append(f.order, ps)
	switch {
	case !f.activeAt(g.pos.author, g.pos),
		g.admit && f.standing[g.target] != nil,
		!g.admit && !f.activeAt(g.target, g.pos):
		ps.outcome = OutcomeVoid
		return
	}
	for _, st := range f.standing {
		if st.activeAt(g.pos) {
			ps.eligible++
		}
	}
	ps.votes = make(map[ledger.Author]ballot, ps.eligible)
}

// vote counts a member's vote, replacing its earlier one, if the proposal
// is open and the voter was a member when it was made and still is.
// Other votes change nothing: before the proposal (in the canonical
// order), after its decision, from a member admitted after it was made,
// or from a member excluded since.
func (f *fold) vote(g *govEntry) {
	ps := f.proposals[g.proposal]
	voter := g.pos.author
	if ps == nil || ps.outcome != OutcomeOpen || !f.activeAt(voter, ps.g.pos) || !f.activeAt(voter, g.pos) {
		return
	}
	if old, ok := ps.votes[voter]; ok {
		ps.tally(old.choice, -1)
	}
	ps.votes[voter] = ballot{choice: g.choice, seq: g.pos.seq, time: g.pos.time}
	ps.tally(g.choice, 1)
	f.evaluate(ps, g.pos)
}

func (ps *proposalState) tally(c caissev1.Choice, n int) {
	switch c {
	case caissev1.Choice_CHOICE_YES:
		ps.yes += n
	case caissev1.Choice_CHOICE_NO:
		ps.no += n
	default:
		ps.abstain += n
	}
}

// evaluate decides ps at the place at of the vote just counted: adopted
// when the votes reach quorum and majority, rejected once they can no
// longer reach them.
func (f *fold) evaluate(ps *proposalState, at pos) {
	switch {
	case f.adopts(ps.yes, ps.no, ps.yes+ps.no+ps.abstain, ps.eligible):
		ps.outcome, ps.decided = OutcomeAdopted, at
		f.enact(ps, at)
	case !f.possible(ps):
		ps.outcome, ps.decided = OutcomeRejected, at
	}
}

// adopts is the decision rule, in integers: the votes cast reach the
// quorum of the eligible members, yes reaches the majority of yes and no
// (abstentions count for the quorum only), and someone said yes.
//
// It counts collectives. The DESIGN's rule also counts the members they
// represent, twice over; that comes with the rules issue, when PeriodClose
// entries declare member counts.
func (f *fold) adopts(yes, no, cast, eligible int) bool {
	q, maj := uint64(f.rules.GetQuorumBp()), uint64(f.rules.GetMajorityBp())
	return uint64(cast)*ledger.BasisPoints >= q*uint64(eligible) &&
		uint64(yes)*ledger.BasisPoints >= maj*uint64(yes+no) &&
		yes > 0
}

// possible reports whether ps may still be adopted: if every eligible
// member that has not voted, and still can, voted yes. Votes cast stand
// as they are.
func (f *fold) possible(ps *proposalState) bool {
	r := ps.eligible - len(ps.votes)
	for _, k := range f.excluded {
		if _, voted := ps.votes[k]; !voted && f.standing[k].activeAt(ps.g.pos) {
			r-- // eligible, but excluded since: it can no longer vote
		}
	}
	return f.adopts(ps.yes+r, ps.no, ps.yes+ps.no+ps.abstain+r, ps.eligible)
}

// enact carries out an adopted proposal. Admitting a collective already
// admitted, or excluding one already excluded, changes nothing.
func (f *fold) enact(ps *proposalState, at pos) {
	g := ps.g
	if g.admit {
		if f.standing[g.target] == nil {
			f.standing[g.target] = &standing{since: at, admittedBy: g.hash}
		}
		return
	}
	st := f.standing[g.target]
	if st == nil || st.excluded {
		return
	}
	st.excluded, st.until, st.excludedBy = true, at, g.hash
	f.excluded = append(f.excluded, g.target)
	// The excluded member can no longer vote: open proposals that
	// needed it are rejected now.
	for _, q := range f.order {
		if q.outcome == OutcomeOpen && !f.possible(q) {
			q.outcome, q.decided = OutcomeRejected, at
		}
	}
}

// addGov inserts a proposal or a vote just applied and brings the fold up
// to date: continued if the entry comes last in the canonical order,
// recomputed if not.
func (s *State) addGov(g *govEntry) {
	gv := &s.gov
	i, _ := slices.BinarySearchFunc(gv.entries, g, func(a, b *govEntry) int { return a.pos.compare(b.pos) })
	gv.entries = slices.Insert(gv.entries, i, g)
	if !g.vote {
		gv.proposals[g.hash] = g
	}
	if i == len(gv.entries)-1 {
		gv.f.step(g)
	} else {
		gv.refold()
	}
	s.foldChanged()
}

// refold recomputes the fold from the charter.
func (g *governance) refold() {
	g.f = newFold(g.founding, g.rules)
	for _, e := range g.entries {
		g.f.step(e)
	}
}

// foldChanged moves every author whose window changed and invalidates the
// finality caches.
func (s *State) foldChanged() {
	s.gen++
	for _, k := range s.order {
		m := s.authors[k]
		if w := s.windowOf(k); w != m.win {
			m.setWindow(w)
		}
	}
}

// windowOf returns where k stands in the fold.
func (s *State) windowOf(k ledger.Author) window {
	st := s.gov.f.standing[k]
	if st == nil {
		return window{}
	}
	return window{member: true, since: st.since, excluded: st.excluded, until: st.until}
}

// checkAdmitted lets an applicant's entries in once its admission is
// final.
func (s *State) checkAdmitted(m *member) error {
	st := s.gov.f.standing[m.key]
	if st == nil {
		return fmt.Errorf("%w: %w", ErrNotAdmitted, ErrPending)
	}
	if waiting := s.waitingFor(m); len(waiting) > 0 {
		return fmt.Errorf("admitted at %s, final once the logs of %s pass it: %w: %w",
			st.since.time, shortList(waiting), ErrNotAdmitted, ErrPending)
	}
	return nil
}

// waitingFor returns the members whose logs have not yet passed m's
// admission; none when it is final. An admission is final once every
// member that could act at or before its deciding vote (the charter's
// members, and those admitted before it, excluded or not) has a log that
// reaches past it: each author's entries come in chain order with
// increasing times, so no entry dated before the decision can arrive from
// them any more, and the fold up to the decision can no longer change.
// Forks aside: see ApplyFork.
func (s *State) waitingFor(m *member) []ledger.Author {
	if m.finalGen == s.gen {
		return nil
	}
	t := s.gov.f.standing[m.key].since
	var waiting []ledger.Author
	for _, k := range s.order {
		st := s.gov.f.standing[k]
		if st == nil || !st.founding && st.since.compare(t) >= 0 {
			continue
		}
		if !s.authors[k].passed(t.time, st) {
			waiting = append(waiting, k)
		}
	}
	if len(waiting) == 0 {
		m.finalGen = s.gen // a cache: nothing that Hash or a query shows
	}
	return waiting
}

// passed reports whether no entry of m that counts and is dated at or
// before t can still be applied: its head is at or after t; or it is
// frozen and every entry before its fork is applied; or its head is past
// its exclusion, after which nothing it writes counts (the exclusion
// itself is fixed once the others have passed t).
func (m *member) passed(t ledger.HLC, st *standing) bool {
	if m.fork != nil && ledger.Seq(len(m.log)) >= m.fork.seq-1 {
		return true
	}
	h := m.head()
	switch {
	case h == nil:
		return false
	case !h.Time.Before(t):
		return true
	}
	return st.excluded && st.until.compare(m.posAt(h.Seq)) < 0
}

// Awaiting returns the admissions that wait for a's log to pass their
// deciding vote before they are final, as the ids of the proposals that
// decided them, in the order of the decisions. A member's node that finds
// its own key here lets the new members in by appending any entry.
func (s *State) Awaiting(a ledger.Author) []ledger.Hash {
	if s.gov.f == nil {
		return nil
	}
	var out []ledger.Hash
	var since []pos
	for _, k := range s.order {
		st := s.gov.f.standing[k]
		if st == nil || st.founding || !slices.Contains(s.waitingFor(s.authors[k]), a) {
			continue
		}
		i, _ := slices.BinarySearchFunc(since, st.since, pos.compare)
		since = slices.Insert(since, i, st.since)
		out = slices.Insert(out, i, st.admittedBy)
	}
	return out
}

func shortList(keys []ledger.Author) string {
	const most = 5
	var names []string
	for i, k := range keys {
		if i == most {
			names = append(names, fmt.Sprintf("%d more", len(keys)-most))
			break
		}
		names = append(names, string(k.ID().Short()))
	}
	return strings.Join(names, ", ")
}

func (s *State) checkProposal(m *member, e ledger.Entry, p *caissev1.Proposal) (change, error) {
	g := &govEntry{pos: posOf(e), hash: e.Hash(), note: p.GetNote()}
	switch a := p.GetAction().(type) {
	case *caissev1.Proposal_Admit:
		g.admit = true
		copy(g.target[:], a.Admit.GetApplicant())
		t := s.authors[g.target]
		switch {
		case t == nil:
			return change{}, fmt.Errorf("admit %s: %w: %w", g.target.ID().Short(), ErrNoApplication, ErrPending)
		case t.role != roleApplicant:
			return change{}, fmt.Errorf("admit %s, a member of the charter: %w", g.target.ID().Short(), ErrAlreadyMember)
		}
	case *caissev1.Proposal_Exclude:
		copy(g.target[:], a.Exclude.GetMember())
		if s.authors[g.target] == nil {
			return change{}, fmt.Errorf("exclude %s: %w: %w", g.target.ID().Short(), ErrNoApplication, ErrPending)
		}
	default:
		return change{}, fmt.Errorf("proposal without an action: %w", ledger.ErrMalformed)
	}
	return change{kind: kindProposal, m: m, gov: g}, nil
}

func (s *State) checkVote(m *member, e ledger.Entry, v *caissev1.Vote) (change, error) {
	g := &govEntry{pos: posOf(e), hash: e.Hash(), vote: true, choice: v.GetChoice()}
	copy(g.proposal[:], v.GetProposal())
	if s.gov.proposals[g.proposal] == nil {
		// Perhaps it is not a proposal at all: such a vote waits for
		// ever, and the caller's bound on what it keeps aside drops it.
		return change{}, fmt.Errorf("proposal %s: %w: %w", g.proposal.Short(), ErrUnknownProposal, ErrPending)
	}
	return change{kind: kindVote, m: m, gov: g}, nil
}
