package federation

import (
	"cmp"
	"math"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Status is a member's standing.
type Status string

const (
	StatusActive   Status = "active"
	StatusExcluded Status = "excluded"
)

// Member is a collective of the federation: one of the charter, or one
// that the members admitted. An excluded member stays listed.
type Member struct {
	Key  ledger.Author
	Name string
	// Founder is true for the author of the genesis.
	Founder bool
	Status  Status
	// Since is when it became a member: the genesis's time for the
	// charter's members, the time of the deciding vote for the others,
	// which AdmittedBy names (zero for the charter's members).
	Since      ledger.HLC
	AdmittedBy ledger.Hash
	// Final is false while entries not yet received could still undo the
	// admission: until every member's log passes its deciding vote. The
	// member's entries other than its application are held as pending
	// until then. Always true for the charter's members.
	Final bool
	// Until is the time of the vote that excluded it, which ExcludedBy
	// names; zero while it is active. Its entries dated after that vote
	// are kept but count for nothing.
	Until      ledger.HLC
	ExcludedBy ledger.Hash
	// ForkSeq is the seq from which the member is frozen because it
	// signed two entries with that seq (see Forks); 0 if it did not.
	ForkSeq ledger.Seq
}

// Forked reports whether the member is frozen by a fork.
func (m Member) Forked() bool { return m.ForkSeq != 0 }

// Applicant is a collective that applied and is not admitted (yet).
type Applicant struct {
	Key  ledger.Author
	Name string
	Note string
	// Applied is the time of its application.
	Applied ledger.HLC
	// ForkSeq is as for Member; an applicant forked at seq 1 has no
	// application left and is not listed.
	ForkSeq ledger.Seq
}

// Action is what a proposal asks.
type Action string

const (
	ActionAdmit   Action = "admit"
	ActionExclude Action = "exclude"
	ActionRules   Action = "rules"
	ActionExcuse  Action = "excuse"
)

// RuleSet is a version of the federation's rules: the charter's is the
// first; each later one was adopted by a proposal.
type RuleSet struct {
	// Version counts from 1, the charter's rules.
	Version int
	Rules   *caissev1.Rules
	// Effective is the first period the rules are in force for: the
	// period the proposal stated, or the one after its decision if that
	// is later. Empty for the charter's rules, in force from the start.
	Effective ledger.Period
	// AdoptedBy is the proposal that adopted them and Adopted the time of
	// its deciding vote; zero for the charter's.
	AdoptedBy ledger.Hash
	Adopted   ledger.HLC
}

// Outcome is where a proposal stands.
type Outcome string

const (
	// OutcomeOpen: not decided yet.
	OutcomeOpen Outcome = "open"
	// OutcomeAdopted: the votes reached quorum and majority. Adopting
	// the admission of a collective already admitted, or the exclusion of
	// one already excluded, changes nothing.
	OutcomeAdopted Outcome = "adopted"
	// OutcomeRejected: the votes can no longer reach quorum and majority.
	OutcomeRejected Outcome = "rejected"
	// OutcomeVoid: it could not be put to the vote: its author was not a
	// member when it was made, or it proposed to admit a collective
	// already admitted, or to exclude one that was not a member then.
	OutcomeVoid Outcome = "void"
)

// Choice is a vote's choice in the views.
type Choice string

const (
	ChoiceYes     Choice = "yes"
	ChoiceNo      Choice = "no"
	ChoiceAbstain Choice = "abstain"
)

// Proposal is a proposal and the votes that count on it.
type Proposal struct {
	// ID is the hash of the proposal's entry, which votes name.
	ID     ledger.Hash
	Author ledger.Author
	Seq    ledger.Seq
	Time   ledger.HLC
	Action Action
	Target ledger.Author
	Note   string
	// Rules and Effective are a rule change's: the rule set proposed and
	// the first period stated.
	Rules     *caissev1.Rules
	Effective ledger.Period
	// Period is an excuse's: the period the target would be excused from.
	Period ledger.Period
	// Deadline is the period whose close ends a member's vote; empty for
	// none.
	Deadline ledger.Period
	// Quorum and Majority are those of the rules in force in the period it
	// was made, in basis points.
	Quorum, Majority uint32
	// Eligible is the number of members when it was made: they, and only
	// they, may vote on it. Zero for a void proposal.
	Eligible int
	// Yes, No and Abstain count the ballots.
	Yes, No, Abstain int
	// EligibleMembers, YesMembers, NoMembers and AbstainMembers are the
	// same, counted by members represented: each caisse weighs the member
	// count of its latest close before the proposal.
	EligibleMembers, YesMembers, NoMembers, AbstainMembers uint64
	// Closed is the number of members of the electorate that closed the
	// deadline period without voting.
	Closed int
	// Ballots are the votes that count: each eligible member's last vote
	// before the decision, sorted by voter.
	Ballots []Ballot
	// NotVoted lists the members of the electorate without a ballot,
	// sorted; those among them that closed the deadline period can no
	// longer vote, and ClosedWithout lists them.
	NotVoted, ClosedWithout []ledger.Author
	Outcome                 Outcome
	// Decided is the time of the vote that decided it; zero while open,
	// and for a void proposal.
	Decided ledger.HLC
}

// Ballot is a member's vote that counts on a proposal.
type Ballot struct {
	Voter  ledger.Author
	Choice Choice
	// Seq and Time place the vote in its author's log.
	Seq  ledger.Seq
	Time ledger.HLC
}

// Fork is the proof that an author signed two entries with the same seq.
type Fork struct {
	Author ledger.Author
	Seq    ledger.Seq
	// First and Second are the hashes of the two entries, First the lower.
	First, Second ledger.Hash
}

// Totals sums a caisse's movements. Balance = Contributed - Disbursed; it
// may be negative (a contribution recorded after the payment it funded).
type Totals struct {
	Contributed, Disbursed, Balance ledger.Amount
}

// CaisseBalance is one caisse's accounts. Only the entries that count are
// in it: an excluded member's entries dated after its exclusion, and an
// admitted member's entries dated before its admission, are left out.
type CaisseBalance struct {
	Key  ledger.Author
	Name string
	// Total is over every period (or over one, from BalancesFor).
	Total Totals
	// ByCategory is sorted by Direction, then Category.
	ByCategory []CategoryTotal
	// ByPeriod is sorted by period.
	ByPeriod []PeriodTotals
	// ForkSeq is as for Member: the caisse's entries from that seq on are
	// left out.
	ForkSeq ledger.Seq
	// SettledOut sums the settlements the caisse paid to others, SettledIn
	// those paid to it that it acknowledged; Funds is what the caisse
	// holds: Total.Balance - SettledOut + SettledIn. From Balances and
	// Balance only: BalancesFor leaves them zero, and Funds too.
	SettledOut, SettledIn, Funds ledger.Amount
}

// Directions of a CategoryTotal.
const (
	DirectionIn  = "in"  // contributions
	DirectionOut = "out" // disbursements
)

// CategoryTotal is the sum of one category of contributions (Direction
// "in", Category from ledger.ContributionCategoryName) or of disbursements
// ("out", ledger.DisbursementCategoryName).
type CategoryTotal struct {
	Direction string
	Category  string
	Amount    ledger.Amount
}

// PeriodTotals is a caisse's totals in one period.
type PeriodTotals struct {
	Period ledger.Period
	Totals
}

// Federation returns the federation id, the hash of its genesis; false
// before the genesis.
func (s *State) Federation() (ledger.Hash, bool) { return s.fed, s.charter != nil }

// Charter returns the genesis: the federation's name, currency, founding
// members and first rules; nil before the genesis. It is shared: callers
// must not modify it.
func (s *State) Charter() *caissev1.Genesis { return s.charter }

// Currency returns the federation's currency code ("EUR") and the number
// of decimals of its minor unit; "" and 0 before the genesis.
func (s *State) Currency() (code string, exponent uint32) {
	c := s.charter.GetCurrency()
	return c.GetCode(), c.GetExponent()
}

// Members returns the members, active and excluded, sorted by key.
func (s *State) Members() []Member {
	out := make([]Member, 0, len(s.order))
	for _, k := range s.order {
		if m, ok := s.Member(k); ok {
			out = append(out, m)
		}
	}
	return out
}

// Member returns a's standing; false if a is not a member, nor was one.
func (s *State) Member(a ledger.Author) (Member, bool) {
	m := s.authors[a]
	if m == nil {
		return Member{}, false
	}
	st := s.standing(a)
	if st == nil {
		return Member{}, false
	}
	out := Member{Key: a, Name: m.name, Founder: m.role == roleFounder, Status: StatusActive,
		Since: st.since.time, AdmittedBy: st.admittedBy, ForkSeq: m.forkSeq()}
	if st.founding {
		out.Since, out.Final = s.genesisTime, true
	} else {
		out.Final = len(s.waitingFor(m)) == 0
	}
	if st.excluded {
		out.Status, out.Until, out.ExcludedBy = StatusExcluded, st.until.time, st.excludedBy
	}
	return out, true
}

func (m *member) forkSeq() ledger.Seq {
	if m.fork == nil {
		return 0
	}
	return m.fork.seq
}

// IsMember reports whether a is an active member: of the charter, or
// admitted, and not excluded. Its admission may not be final yet (see
// Member.Final and CanAuthor).
func (s *State) IsMember(a ledger.Author) bool {
	st := s.standing(a)
	return s.authors[a] != nil && st != nil && !st.excluded
}

// standing returns a's standing in the fold; nil if a is not a member, nor
// was one, and before the genesis.
func (s *State) standing(a ledger.Author) *standing {
	if s.gov.f == nil {
		return nil
	}
	return s.gov.f.standing[a]
}

// CanAuthor reports whether an entry that a signs now, as the next in its
// log, would be accepted and count: a is an active member whose admission
// is final and who is not frozen by a fork. The node checks it before it
// records anything.
func (s *State) CanAuthor(a ledger.Author) bool {
	if !s.IsMember(a) {
		return false
	}
	m := s.authors[a]
	return m.fork == nil && (m.role != roleApplicant || len(s.waitingFor(m)) == 0)
}

// IsKnown reports whether a is a member (active or excluded) or an
// applicant: a key whose node a peer may talk to.
func (s *State) IsKnown(a ledger.Author) bool { return s.authors[a] != nil }

// Applicants returns the collectives that applied and are not admitted,
// sorted by key.
func (s *State) Applicants() []Applicant {
	var out []Applicant
	for _, k := range s.order {
		m := s.authors[k]
		if m.role != roleApplicant || s.gov.f.standing[k] != nil || m.log.len() == 0 {
			continue
		}
		out = append(out, Applicant{Key: k, Name: m.name, Note: m.note, Applied: m.applied, ForkSeq: m.forkSeq()})
	}
	return out
}

// Proposals returns the proposals in the canonical order: by time, then
// author, then seq.
func (s *State) Proposals() []Proposal {
	if s.gov.f == nil {
		return nil
	}
	out := make([]Proposal, 0, len(s.gov.f.order))
	for _, ps := range s.gov.f.order {
		out = append(out, ps.view())
	}
	return out
}

// Proposal returns the proposal whose entry has hash id; false if none.
func (s *State) Proposal(id ledger.Hash) (Proposal, bool) {
	if s.gov.f == nil || s.gov.f.proposals[id] == nil {
		return Proposal{}, false
	}
	return s.gov.f.proposals[id].view(), true
}

func (ps *proposalState) view() Proposal {
	g := ps.g
	p := Proposal{ID: g.hash, Author: g.pos.author, Seq: g.pos.seq, Time: g.pos.time,
		Action: g.action, Target: g.target, Note: g.note, Eligible: ps.eligible(),
		Yes: ps.yes, No: ps.no, Abstain: ps.abstain, Outcome: ps.outcome, Decided: ps.decided.time,
		Rules: g.rules, Effective: g.effective, Period: g.period, Deadline: g.deadline,
		Quorum: ps.quorum, Majority: ps.majority,
		EligibleMembers: ps.eligibleW, YesMembers: ps.yesW, NoMembers: ps.noW, AbstainMembers: ps.absW,
		Closed: len(ps.closed)}
	for _, v := range ps.sortedVoters() {
		b := ps.votes[v]
		p.Ballots = append(p.Ballots, Ballot{Voter: v, Choice: choiceName(b.choice), Seq: b.seq, Time: b.time})
	}
	for k := range ps.weight {
		if _, voted := ps.votes[k]; !voted {
			p.NotVoted = append(p.NotVoted, k)
			if ps.closed[k] {
				p.ClosedWithout = append(p.ClosedWithout, k)
			}
		}
	}
	slices.SortFunc(p.NotVoted, compareAuthors)
	slices.SortFunc(p.ClosedWithout, compareAuthors)
	return p
}

func (ps *proposalState) sortedVoters() []ledger.Author {
	voters := make([]ledger.Author, 0, len(ps.votes))
	for v := range ps.votes {
		voters = append(voters, v)
	}
	slices.SortFunc(voters, compareAuthors)
	return voters
}

func choiceName(c caissev1.Choice) Choice {
	switch c {
	case caissev1.Choice_CHOICE_YES:
		return ChoiceYes
	case caissev1.Choice_CHOICE_NO:
		return ChoiceNo
	}
	return ChoiceAbstain
}

// Forks returns the forks known, one per author (the lowest seq), sorted
// by author.
func (s *State) Forks() []Fork {
	var out []Fork
	for _, k := range s.order {
		if f := s.authors[k].fork; f != nil {
			out = append(out, Fork{Author: k, Seq: f.seq, First: f.first.Hash(), Second: f.second.Hash()})
		}
	}
	return out
}

// ForkProofs returns the proofs of the forks, in the order of Forks, as
// nodes replicate them. They share the entries' bytes: callers must not
// modify them.
func (s *State) ForkProofs() []*caissev1.ForkProof {
	var out []*caissev1.ForkProof
	for _, k := range s.order {
		if f := s.authors[k].fork; f != nil {
			out = append(out, &caissev1.ForkProof{First: f.first.Proto(), Second: f.second.Proto()})
		}
	}
	return out
}

// Head returns the head of a's log as applied; false if a is unknown or
// none of its entries was applied.
func (s *State) Head(a ledger.Author) (ledger.Head, bool) {
	m := s.authors[a]
	if m == nil || m.log.len() == 0 {
		return ledger.Head{}, false
	}
	return *m.head(), true
}

// Vector returns the head of every log that has entries, applicants'
// included: what the state holds, as the sync core compares it.
func (s *State) Vector() ledger.Vector {
	v := make(ledger.Vector, len(s.authors))
	for k, m := range s.authors {
		if h := m.head(); h != nil {
			v[k] = *h
		}
	}
	return v
}

// Entries returns the number of entries applied, the genesis included,
// less those a fork took out.
func (s *State) Entries() uint64 { return s.count }

// CorrectedBy returns the seq of the correction that reversed a's entry at
// seq; false if none did.
func (s *State) CorrectedBy(a ledger.Author, seq ledger.Seq) (ledger.Seq, bool) {
	m := s.authors[a]
	if m == nil {
		return 0, false
	}
	by, ok := m.correctedBy[seq]
	return by, ok
}

// Balances returns the accounts of every member's caisse (active or
// excluded) over all periods, sorted by key. Categories and periods whose
// every movement was corrected are left out: a caisse lists only what is
// not zero.
func (s *State) Balances() []CaisseBalance {
	out := make([]CaisseBalance, 0, len(s.order))
	for _, k := range s.order {
		if s.gov.f.standing[k] != nil {
			out = append(out, s.balanceOf(s.authors[k]))
		}
	}
	return out
}

// balanceOf is m's accounts over all periods, with its settlements.
func (s *State) balanceOf(m *member) CaisseBalance {
	cb := m.balance()
	cb.SettledOut, cb.SettledIn = s.settledFunds(m)
	// Each sum fits (checked at apply); the funds may not, for sums no
	// caisse reaches: they then saturate, toward the side they overflow
	// (what was paid only lowers them, what was received only raises them).
	f, err := cb.Total.Balance.Sub(cb.SettledOut)
	if err != nil {
		f = math.MinInt64
	} else if f, err = f.Add(cb.SettledIn); err != nil {
		f = math.MaxInt64
	}
	cb.Funds = f
	return cb
}

// Balance returns a's accounts over all periods; false if a is not a
// member, nor was one.
func (s *State) Balance(a ledger.Author) (CaisseBalance, bool) {
	m := s.authors[a]
	if m == nil || s.gov.f.standing[a] == nil {
		return CaisseBalance{}, false
	}
	return s.balanceOf(m), true
}

// BalancesFor returns every member's accounts restricted to period p,
// sorted by key: Total and ByCategory are p's, and ByPeriod holds p alone
// unless the caisse has nothing in p.
func (s *State) BalancesFor(p ledger.Period) []CaisseBalance {
	out := make([]CaisseBalance, 0, len(s.order))
	for _, k := range s.order {
		if s.gov.f.standing[k] == nil {
			continue
		}
		m := s.authors[k]
		cb := CaisseBalance{Key: m.key, Name: m.name, ForkSeq: m.forkSeq()}
		if idx, ok := m.byPeriod[p]; ok {
			ps := &m.view().periods[idx]
			cb.Total = ps.total
			cb.ByCategory = ps.buckets.categories()
			if !ps.total.isZero() {
				cb.ByPeriod = []PeriodTotals{{Period: p, Totals: ps.total}}
			}
		}
		out = append(out, cb)
	}
	return out
}

func (m *member) balance() CaisseBalance {
	v := m.view()
	cb := CaisseBalance{Key: m.key, Name: m.name, Total: v.total, ByCategory: v.byCategory.categories(), ForkSeq: m.forkSeq()}
	for _, i := range m.sortedPeriods() {
		ps := &v.periods[i]
		if !ps.total.isZero() {
			cb.ByPeriod = append(cb.ByPeriod, PeriodTotals{Period: m.periods[i], Totals: ps.total})
		}
	}
	return cb
}

// sortedPeriods returns the indexes of m.periods in period order.
func (m *member) sortedPeriods() []uint32 {
	idx := make([]uint32, len(m.periods))
	for i := range idx {
		idx[i] = uint32(i)
	}
	slices.SortFunc(idx, func(a, b uint32) int { return cmp.Compare(m.periods[a], m.periods[b]) })
	return idx
}

// isZero reports whether nothing is left in t. Buckets never go below
// zero (a correction takes out what its target put in), so zero
// Contributed and Disbursed mean an empty period.
func (t Totals) isZero() bool { return t.Contributed == 0 && t.Disbursed == 0 }

// categories lists the non-zero buckets, sorted by direction then name.
func (b *buckets) categories() []CategoryTotal {
	var out []CategoryTotal
	for dir, name := range [2]string{DirectionIn, DirectionOut} { // "in" < "out"
		start := len(out)
		for cat, a := range b[dir] {
			if a != 0 {
				out = append(out, CategoryTotal{Direction: name, Category: categoryName(dir, uint8(cat)), Amount: a})
			}
		}
		slices.SortFunc(out[start:], func(x, y CategoryTotal) int { return cmp.Compare(x.Category, y.Category) })
	}
	return out
}

func categoryName(dir int, cat uint8) string {
	if dir == dirIn {
		return ledger.ContributionCategoryName(caissev1.ContributionCategory(cat))
	}
	return ledger.DisbursementCategoryName(caissev1.DisbursementCategory(cat))
}

// Counts reports whether a's applied entry at seq counts in the views: it
// is dated within a's membership, after its admission and not after its
// exclusion (see window), and below any fork. It is false for an entry
// not applied. A correction counts when it and its target both do: the
// caller asks for both.
func (s *State) Counts(a ledger.Author, seq ledger.Seq) bool {
	m := s.authors[a]
	if m == nil || seq == 0 || int(seq) > m.log.len() {
		return false
	}
	if m.fork != nil && seq >= m.fork.seq {
		return false
	}
	w := s.windowOf(a)
	return w.always() || w.contains(m.posAt(seq))
}
