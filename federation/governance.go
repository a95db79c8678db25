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

// govEntry is what the fold needs of a proposal, a vote or a period
// close (closes give the member counts that votes are weighed by, and end
// the vote of a member on the proposals whose deadline they close).
type govEntry struct {
	pos  pos
	hash ledger.Hash
	kind govKind
	// Proposals.
	action    Action
	target    ledger.Author // admit, exclude, excuse
	note      string
	rules     *caissev1.Rules // rules
	effective ledger.Period   // rules: the period stated
	period    ledger.Period   // excuse: the period excused; close: the period closed
	deadline  ledger.Period   // "" for none
	// Votes.
	proposal ledger.Hash
	choice   caissev1.Choice
	// Closes.
	members uint64
}

type govKind uint8

const (
	govProposal govKind = iota + 1
	govVote
	govClose
)

// governance holds the proposals, votes and closes applied and their fold.
type governance struct {
	entries   []*govEntry               // in canonical order
	proposals map[ledger.Hash]*govEntry // by id: what a vote may name
	f         *fold
	founding  []ledger.Author // the charter's members
	charter   *caissev1.Rules
}

func (g *governance) init(s *State) {
	g.proposals = make(map[ledger.Hash]*govEntry)
	g.charter = s.charter.GetRules()
	for _, k := range s.order {
		g.founding = append(g.founding, k)
	}
	g.f = newFold(g.founding, g.charter)
	s.gen = 1
}

// fold is the outcome of folding the governance entries in order.
type fold struct {
	standing  map[ledger.Author]*standing
	proposals map[ledger.Hash]*proposalState
	order     []*proposalState // in canonical order
	excluded  []ledger.Author  // in order of exclusion
	last      pos              // of the last entry folded
	// represented is each member's member count, from its latest close
	// folded: what its vote weighs in the count by members represented.
	represented map[ledger.Author]uint64
	// history is the rule sets in force, the charter's first, then each
	// adopted change in the order of the decisions.
	history []RuleSet
	// excused holds, by period, the members excused from closing it and
	// the proposals that excused them.
	excused map[ledger.Period]map[ledger.Author]ledger.Hash
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

// proposalState is a proposal being counted. Its electorate is the
// members when it was made, each weighing in the count by members
// represented the member count of its latest close before the proposal;
// its quorum and majority are those of the rules in force in the period
// it was made.
type proposalState struct {
	g                *govEntry
	outcome          Outcome
	quorum, majority uint32
	weight           map[ledger.Author]uint64 // the electorate
	eligibleW        uint64
	votes            map[ledger.Author]ballot
	yes, no, abstain int
	yesW, noW, absW  uint64
	// closed holds the members of the electorate that closed the
	// deadline period without having voted: they can no longer vote.
	closed  map[ledger.Author]bool
	decided pos // the deciding entry's; zero while open, and for void
}

func (ps *proposalState) eligible() int { return len(ps.weight) }

type ballot struct {
	choice caissev1.Choice
	seq    ledger.Seq
	time   ledger.HLC
}

func newFold(founding []ledger.Author, charter *caissev1.Rules) *fold {
	f := &fold{standing: make(map[ledger.Author]*standing, len(founding)),
		proposals:   make(map[ledger.Hash]*proposalState),
		represented: make(map[ledger.Author]uint64),
		history:     []RuleSet{{Version: 1, Rules: charter}},
	}
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
	switch g.kind {
	case govVote:
		f.vote(g)
	case govClose:
		f.close(g)
	default:
		f.propose(g)
	}
}

// rulesFor returns the rule set in force for period p: the last adopted
// whose first period is p or before.
func (f *fold) rulesFor(p ledger.Period) RuleSet {
	for i := len(f.history) - 1; i > 0; i-- {
		if f.history[i].Effective <= p {
			return f.history[i]
		}
	}
	return f.history[0]
}

// propose opens a proposal, or records it void: by an author who was not
// a member then, to admit a collective already admitted, to exclude a
// collective that was not a member then, or to excuse one that was not a
// member then.
func (f *fold) propose(g *govEntry) {
	ps := &proposalState{g: g, outcome: OutcomeOpen}
	f.proposals[g.hash] = ps
	f.order = append(f.order, ps)
	switch {
	case !f.activeAt(g.pos.author, g.pos),
		g.action == ActionAdmit && f.standing[g.target] != nil,
		g.action == ActionExclude && !f.activeAt(g.target, g.pos),
		g.action == ActionExcuse && f.standing[g.target] == nil:
		ps.outcome = OutcomeVoid
		return
	}
	r := f.rulesFor(ledger.PeriodOfMs(g.pos.time.Wall)).Rules
	ps.quorum, ps.majority = r.GetQuorumBp(), r.GetMajorityBp()
	ps.weight = make(map[ledger.Author]uint64)
	for k, st := range f.standing {
		if st.activeAt(g.pos) {
			w := f.represented[k]
			ps.weight[k] = w
			ps.eligibleW += w
		}
	}
	ps.votes = make(map[ledger.Author]ballot, len(ps.weight))
}

// vote counts a member's vote, replacing its earlier one, if the proposal
// is open, the voter is of its electorate, is still a member and has not
// closed the proposal's deadline period. Other votes change nothing:
// before the proposal (in the canonical order), after its decision, from
// a member admitted after it was made, or from a member excluded since.
func (f *fold) vote(g *govEntry) {
	ps := f.proposals[g.proposal]
	voter := g.pos.author
	if ps == nil || ps.outcome != OutcomeOpen || !f.activeAt(voter, g.pos) || ps.closed[voter] {
		return
	}
	w, ok := ps.weight[voter]
	if !ok {
		return
	}
	if old, ok := ps.votes[voter]; ok {
		ps.tally(old.choice, -1, w)
	}
	ps.votes[voter] = ballot{choice: g.choice, seq: g.pos.seq, time: g.pos.time}
	ps.tally(g.choice, 1, w)
	f.evaluate(ps, g.pos)
}

// close folds a member's period close: its member count weighs its votes
// on the proposals made from now on, and it ends its vote on the open
// proposals whose deadline is the period closed.
func (f *fold) close(g *govEntry) {
	k := g.pos.author
	if !f.activeAt(k, g.pos) {
		return
	}
	f.represented[k] = g.members
	for _, ps := range f.order {
		if ps.outcome != OutcomeOpen || ps.g.deadline != g.period {
			continue
		}
		if _, voter := ps.weight[k]; !voter {
			continue
		}
		if _, voted := ps.votes[k]; voted {
			continue
		}
		if ps.closed == nil {
			ps.closed = make(map[ledger.Author]bool)
		}
		ps.closed[k] = true
		if !f.possible(ps) {
			ps.outcome, ps.decided = OutcomeRejected, g.pos
		}
	}
}

func (ps *proposalState) tally(c caissev1.Choice, n int, w uint64) {
	switch c {
	case caissev1.Choice_CHOICE_YES:
		ps.yes += n
		ps.yesW = addSigned(ps.yesW, n, w)
	case caissev1.Choice_CHOICE_NO:
		ps.no += n
		ps.noW = addSigned(ps.noW, n, w)
	default:
		ps.abstain += n
		ps.absW = addSigned(ps.absW, n, w)
	}
}

func addSigned(x uint64, n int, w uint64) uint64 {
	if n < 0 {
		return x - w
	}
	return x + w
}

// evaluate decides ps at the place at of the vote just counted: adopted
// when the votes reach quorum and majority, rejected once they can no
// longer reach them.
func (f *fold) evaluate(ps *proposalState, at pos) {
	switch {
	case ps.adopts(count{ps.yes, ps.no, ps.yes + ps.no + ps.abstain, ps.yesW, ps.noW, ps.yesW + ps.noW + ps.absW}):
		ps.outcome, ps.decided = OutcomeAdopted, at
		f.enact(ps, at)
	case !f.possible(ps):
		ps.outcome, ps.decided = OutcomeRejected, at
	}
}

// count is a proposal's votes, by caisses and by members represented.
type count struct {
	yes, no, cast    int
	yesW, noW, castW uint64
}

// adopts is the decision rule, in integers, counted twice: by caisses,
// the votes cast reach the quorum of the electorate, yes reaches the
// majority of yes and no (abstentions count for the quorum only), and
// someone said yes; and by members represented, the same with each vote
// weighing its caisse's member count. The second count is void while no
// caisse of the electorate has declared members.
func (ps *proposalState) adopts(c count) bool {
	q, maj := uint64(ps.quorum), uint64(ps.majority)
	byCaisses := uint64(c.cast)*ledger.BasisPoints >= q*uint64(ps.eligible()) &&
		uint64(c.yes)*ledger.BasisPoints >= maj*uint64(c.yes+c.no) &&
		c.yes > 0
	if !byCaisses || ps.eligibleW == 0 {
		return byCaisses
	}
	return c.castW*ledger.BasisPoints >= q*ps.eligibleW &&
		c.yesW*ledger.BasisPoints >= maj*(c.yesW+c.noW)
}

// possible reports whether ps may still be adopted: if every member of
// its electorate that has not voted, and still can, voted yes. Votes cast
// stand as they are.
func (f *fold) possible(ps *proposalState) bool {
	c := count{ps.yes, ps.no, ps.yes + ps.no + ps.abstain, ps.yesW, ps.noW, ps.yesW + ps.noW + ps.absW}
	for k, w := range ps.weight {
		if _, voted := ps.votes[k]; voted || ps.closed[k] {
			continue
		}
		if st := f.standing[k]; st.excluded && st.until.compare(f.last) <= 0 {
			continue // excluded since: it can no longer vote
		}
		c.yes, c.cast = c.yes+1, c.cast+1
		c.yesW, c.castW = c.yesW+w, c.castW+w
	}
	return ps.adopts(c)
}

// enact carries out an adopted proposal. Admitting a collective already
// admitted, or excluding one already excluded, changes nothing. A rule
// change is in force from the period it states, or from the period after
// its decision if that is later.
func (f *fold) enact(ps *proposalState, at pos) {
	g := ps.g
	switch g.action {
	case ActionAdmit:
		if f.standing[g.target] == nil {
			f.standing[g.target] = &standing{since: at, admittedBy: g.hash}
		}
		return
	case ActionRules:
		eff := g.effective
		if after := ledger.PeriodOfMs(at.time.Wall).Next(); after > eff {
			eff = after
		}
		f.history = append(f.history, RuleSet{Version: len(f.history) + 1, Rules: g.rules, Effective: eff,
			AdoptedBy: g.hash, Adopted: at.time})
		return
	case ActionExcuse:
		if f.excused == nil {
			f.excused = make(map[ledger.Period]map[ledger.Author]ledger.Hash)
		}
		if f.excused[g.period] == nil {
			f.excused[g.period] = make(map[ledger.Author]ledger.Hash)
		}
		if _, ok := f.excused[g.period][g.target]; !ok {
			f.excused[g.period][g.target] = g.hash
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
	if g.kind == govProposal {
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
	g.f = newFold(g.founding, g.charter)
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
	if m.fork != nil && ledger.Seq(m.log.len()) >= m.fork.seq-1 {
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
	g := &govEntry{pos: posOf(e), hash: e.Hash(), kind: govProposal, note: p.GetNote(), deadline: ledger.Period(p.GetDeadline())}
	made := ledger.PeriodOfMs(e.Time().Wall)
	if g.deadline != "" && g.deadline < made {
		return change{}, fmt.Errorf("deadline %s before the proposal's period %s: %w", g.deadline, made, ErrBadProposal)
	}
	known := func(what string, k ledger.Author) error {
		if s.authors[k] == nil {
			return fmt.Errorf("%s %s: %w: %w", what, k.ID().Short(), ErrNoApplication, ErrPending)
		}
		return nil
	}
	switch a := p.GetAction().(type) {
	case *caissev1.Proposal_Admit:
		g.action = ActionAdmit
		copy(g.target[:], a.Admit.GetApplicant())
		if err := known("admit", g.target); err != nil {
			return change{}, err
		}
		if s.authors[g.target].role != roleApplicant {
			return change{}, fmt.Errorf("admit %s, a member of the charter: %w", g.target.ID().Short(), ErrAlreadyMember)
		}
	case *caissev1.Proposal_Exclude:
		g.action = ActionExclude
		copy(g.target[:], a.Exclude.GetMember())
		if err := known("exclude", g.target); err != nil {
			return change{}, err
		}
	case *caissev1.Proposal_Excuse:
		g.action = ActionExcuse
		copy(g.target[:], a.Excuse.GetMember())
		g.period = ledger.Period(a.Excuse.GetPeriod())
		if err := known("excuse", g.target); err != nil {
			return change{}, err
		}
	case *caissev1.Proposal_ChangeRules:
		g.action = ActionRules
		g.rules = a.ChangeRules.GetRules()
		g.effective = ledger.Period(a.ChangeRules.GetEffective())
		if g.effective <= made {
			return change{}, fmt.Errorf("rules effective from %s, not after the proposal's period %s: %w", g.effective, made, ErrBadProposal)
		}
		if h := g.rules.GetReserveHolder(); len(h) > 0 {
			var k ledger.Author
			copy(k[:], h)
			if err := known("reserve holder", k); err != nil {
				return change{}, err
			}
		}
	default:
		return change{}, fmt.Errorf("proposal without an action: %w", ledger.ErrMalformed)
	}
	return change{kind: kindProposal, m: m, gov: g}, nil
}

func (s *State) checkVote(m *member, e ledger.Entry, v *caissev1.Vote) (change, error) {
	g := &govEntry{pos: posOf(e), hash: e.Hash(), kind: govVote, choice: v.GetChoice()}
	copy(g.proposal[:], v.GetProposal())
	if s.gov.proposals[g.proposal] == nil {
		// Perhaps it is not a proposal at all: such a vote waits for
		// ever, and the caller's bound on what it keeps aside drops it.
		return change{}, fmt.Errorf("proposal %s: %w: %w", g.proposal.Short(), ErrUnknownProposal, ErrPending)
	}
	return change{kind: kindVote, m: m, gov: g}, nil
}
