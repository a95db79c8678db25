package federation

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// State is the federation as derived from the entries applied to it: the
// charter, the members, the head of every member's log and every caisse's
// totals. It is a pure function of the set of entries applied (see the
// package doc). A State is not safe for concurrent use.
type State struct {
	fed     ledger.Hash
	charter *caissev1.Genesis // nil before the genesis
	members map[ledger.Author]*member
	order   []ledger.Author // members' keys, sorted
	count   uint64          // entries applied
}

// New returns an empty State: no federation yet. The first entry applied
// must be a genesis.
func New() *State { return &State{} }

// kind is an applied entry's kind, as much of it as the state needs later.
type kind uint8

const (
	kindGenesis kind = iota + 1
	kindContribution
	kindDisbursement
	kindCorrection
)

// Directions index the per-direction arrays of buckets.
const (
	dirIn  = 0 // contributions
	dirOut = 1 // disbursements
)

// numCategories bounds the category enum values the state keeps buckets
// for; ledger refuses values that the schema does not name, and a test
// checks that every named value fits.
const numCategories = 8

// buckets holds amounts by direction and category.
type buckets [2][numCategories]ledger.Amount

// logEntry is what the state keeps of one applied entry: enough to answer
// duplicates and forks (hash) and to reverse it (kind, amount, bucket). It
// holds no pointer, so the garbage collector does not scan logs.
type logEntry struct {
	hash   ledger.Hash
	amount ledger.Amount // contributions and disbursements only
	period uint32        // index in member.periods, same
	kind   kind
	cat    uint8 // category enum value, same
}

// member is one collective: its charter entry, its log as applied and its
// caisse.
type member struct {
	key      ledger.Author
	name     string
	founder  bool
	log      []logEntry // log[i] is the entry at seq i+1
	headTime ledger.HLC
	// total and byCategory are over all periods; periods holds the
	// per-period buckets in order of first use (see byPeriod).
	total       Totals
	byCategory  buckets
	periods     []periodState
	byPeriod    map[ledger.Period]uint32
	correctedBy map[ledger.Seq]ledger.Seq // target seq -> correction seq; nil until the first
}

type periodState struct {
	period  ledger.Period
	total   Totals
	buckets buckets
}

// head returns the head of m's log, nil when it is empty, as
// ledger.CheckNext wants it.
func (m *member) head() *ledger.Head {
	if len(m.log) == 0 {
		return nil
	}
	return &ledger.Head{Seq: ledger.Seq(len(m.log)), Hash: m.log[len(m.log)-1].hash, Time: m.headTime}
}

// change is the effect of one entry, computed in full by check before
// anything is mutated, so that commit cannot fail.
type change struct {
	kind kind
	m    *member
	// For contributions, disbursements and corrections: the new values.
	pidx   uint32 // index in m.periods; len(m.periods) for a new period
	period ledger.Period
	dir    int
	cat    uint8
	amount ledger.Amount
	bucket ledger.Amount
	catSum ledger.Amount
	ptotal Totals
	total  Totals
	target ledger.Seq // corrections
}

// Check reports whether Apply(e) would succeed, and why not. It changes
// nothing.
func (s *State) Check(e ledger.Entry) error {
	if _, err := s.check(e); err != nil {
		return fmt.Errorf("federation: check %s: %w", where(e), err)
	}
	return nil
}

// Apply applies one verified entry (from ledger.Sign, ledger.Decode or a
// store that verified it), or changes nothing and returns an error. After
// Check(e) returned nil and until anything else is applied, Apply(e)
// succeeds.
func (s *State) Apply(e ledger.Entry) error {
	ch, err := s.check(e)
	if err != nil {
		return fmt.Errorf("federation: apply %s: %w", where(e), err)
	}
	s.commit(e, ch)
	return nil
}

func where(e ledger.Entry) string {
	if e.IsZero() {
		return "zero entry"
	}
	a := e.Author()
	return fmt.Sprintf("%s/%d", a.Short(), e.Seq())
}

// check computes the effect of e on s without changing s.
func (s *State) check(e ledger.Entry) (change, error) {
	if e.IsZero() {
		return change{}, fmt.Errorf("zero entry: %w", ledger.ErrMalformed)
	}
	b := e.Body()
	_, isGenesis := b.GetKind().(*caissev1.EntryBody_Genesis)
	switch {
	case s.charter == nil && !isGenesis:
		return change{}, fmt.Errorf("%s before the genesis: %w", e.Kind(), ErrNoGenesis)
	case s.charter == nil:
		return change{kind: kindGenesis}, nil
	case isGenesis && e.Hash() == s.fed:
		return change{}, fmt.Errorf("the genesis: %w", ledger.ErrDuplicate)
	case isGenesis:
		return change{}, fmt.Errorf("genesis %s, federation is %s: %w", e.Hash().Short(), s.fed.Short(), ErrGenesisExists)
	case e.Federation() != s.fed:
		return change{}, fmt.Errorf("federation %s, want %s: %w", e.Federation().Short(), s.fed.Short(), ledger.ErrWrongFederation)
	}
	m := s.members[e.Author()]
	if m == nil {
		return change{}, ErrUnknownAuthor
	}
	if err := ledger.CheckNext(m.head(), e); err != nil {
		if !ledger.IsBehind(err) {
			return change{}, err
		}
		if applied := m.log[e.Seq()-1].hash; applied != e.Hash() {
			// The node holds both entries and builds the proof
			// (ledger.CheckStored gives a *ledger.ForkError).
			return change{}, fmt.Errorf("applied %s, got %s: %w", applied.Short(), e.Hash().Short(), ledger.ErrFork)
		}
		return change{}, ledger.ErrDuplicate
	}
	switch k := b.GetKind().(type) {
	case *caissev1.EntryBody_Contribution:
		c := k.Contribution
		if c.GetCategory() < 0 || c.GetCategory() >= numCategories {
			return change{}, fmt.Errorf("contribution category %d: %w", c.GetCategory(), ledger.ErrUnknownCategory)
		}
		ch := change{kind: kindContribution, m: m, dir: dirIn, cat: uint8(c.GetCategory()), amount: ledger.Amount(c.GetAmount())}
		if err := m.plan(&ch, ledger.Period(c.GetPeriod()), false); err != nil {
			return change{}, err
		}
		return ch, nil
	case *caissev1.EntryBody_Disbursement:
		d := k.Disbursement
		if d.GetCategory() < 0 || d.GetCategory() >= numCategories {
			return change{}, fmt.Errorf("disbursement category %d: %w", d.GetCategory(), ledger.ErrUnknownCategory)
		}
		ch := change{kind: kindDisbursement, m: m, dir: dirOut, cat: uint8(d.GetCategory()), amount: ledger.Amount(d.GetAmount())}
		if err := m.plan(&ch, ledger.Period(d.GetPeriod()), false); err != nil {
			return change{}, err
		}
		return ch, nil
	case *caissev1.EntryBody_Correction:
		return m.planCorrection(k.Correction)
	}
	return change{}, fmt.Errorf("entry kind %s: %w", e.Kind(), ledger.ErrMalformed)
}

func (m *member) planCorrection(c *caissev1.Correction) (change, error) {
	ts := ledger.Seq(c.GetTargetSeq())
	if ts == 0 || ts > ledger.Seq(len(m.log)) {
		// ledger refuses a correction that does not name an earlier seq,
		// and the log is contiguous: this is a safety net.
		return change{}, fmt.Errorf("%w: target seq %d: %w", ErrBadCorrection, ts, ledger.ErrNotFound)
	}
	t := m.log[ts-1]
	var th ledger.Hash
	copy(th[:], c.GetTargetHash())
	ch := change{kind: kindCorrection, m: m, target: ts, cat: t.cat, amount: t.amount}
	switch {
	case t.hash != th:
		return change{}, fmt.Errorf("%w: target seq %d is %s, correction names %s", ErrBadCorrection, ts, t.hash.Short(), th.Short())
	case t.kind == kindContribution:
		ch.dir = dirIn
	case t.kind == kindDisbursement:
		ch.dir = dirOut
	case t.kind == kindGenesis:
		return change{}, fmt.Errorf("%w: target seq %d is the genesis", ErrBadCorrection, ts)
	default:
		return change{}, fmt.Errorf("%w: target seq %d is a correction", ErrBadCorrection, ts)
	}
	if by, ok := m.correctedBy[ts]; ok {
		return change{}, fmt.Errorf("target seq %d, corrected by seq %d: %w", ts, by, ErrAlreadyCorrected)
	}
	if err := m.plan(&ch, m.periods[t.period].period, true); err != nil {
		return change{}, err
	}
	return ch, nil
}

// plan computes, into ch, the new values of every sum that a movement of
// ch.amount in direction ch.dir and category ch.cat touches in period p:
// recorded, or reversed by a correction.
func (m *member) plan(ch *change, p ledger.Period, reverse bool) error {
	var ps periodState
	idx, ok := m.byPeriod[p]
	if ok {
		ps = m.periods[idx]
	} else {
		idx = uint32(len(m.periods))
	}
	var err error
	if ch.bucket, err = addOrSub(ps.buckets[ch.dir][ch.cat], ch.amount, reverse); err != nil {
		return fmt.Errorf("period %s: %w", p, err)
	}
	if ch.ptotal, err = ps.total.move(ch.dir, ch.amount, reverse); err != nil {
		return fmt.Errorf("period %s: %w", p, err)
	}
	if ch.catSum, err = addOrSub(m.byCategory[ch.dir][ch.cat], ch.amount, reverse); err != nil {
		return fmt.Errorf("all periods: %w", err)
	}
	if ch.total, err = m.total.move(ch.dir, ch.amount, reverse); err != nil {
		return fmt.Errorf("all periods: %w", err)
	}
	ch.pidx, ch.period = idx, p
	return nil
}

// move returns t with a recorded in direction dir, or reversed.
func (t Totals) move(dir int, a ledger.Amount, reverse bool) (Totals, error) {
	var err error
	if dir == dirIn {
		if t.Contributed, err = addOrSub(t.Contributed, a, reverse); err != nil {
			return Totals{}, err
		}
		t.Balance, err = addOrSub(t.Balance, a, reverse)
	} else {
		if t.Disbursed, err = addOrSub(t.Disbursed, a, reverse); err != nil {
			return Totals{}, err
		}
		t.Balance, err = addOrSub(t.Balance, a, !reverse) // paying out lowers the balance
	}
	if err != nil {
		return Totals{}, err
	}
	return t, nil
}

func addOrSub(a, b ledger.Amount, sub bool) (ledger.Amount, error) {
	if sub {
		return a.Sub(b)
	}
	return a.Add(b)
}

// commit applies the change that check computed for e. It cannot fail.
func (s *State) commit(e ledger.Entry, ch change) {
	s.count++
	if ch.kind == kindGenesis {
		s.commitGenesis(e)
		return
	}
	m := ch.m
	m.record(ch)
	le := logEntry{hash: e.Hash(), kind: ch.kind}
	if ch.kind == kindCorrection {
		if m.correctedBy == nil {
			m.correctedBy = make(map[ledger.Seq]ledger.Seq)
		}
		m.correctedBy[ch.target] = e.Seq()
	} else {
		le.amount, le.period, le.cat = ch.amount, ch.pidx, ch.cat
	}
	m.log = append(m.log, le)
	m.headTime = e.Time()
}

// record stores the sums that plan computed.
func (m *member) record(ch change) {
	if ch.pidx == uint32(len(m.periods)) {
		if m.byPeriod == nil {
			m.byPeriod = make(map[ledger.Period]uint32)
		}
		m.byPeriod[ch.period] = ch.pidx
		m.periods = append(m.periods, periodState{period: ch.period})
	}
	ps := &m.periods[ch.pidx]
	ps.buckets[ch.dir][ch.cat] = ch.bucket
	ps.total = ch.ptotal
	m.byCategory[ch.dir][ch.cat] = ch.catSum
	m.total = ch.total
}

func (s *State) commitGenesis(e ledger.Entry) {
	g := e.Body().GetGenesis()
	s.fed = e.Hash()
	s.charter = g
	s.members = make(map[ledger.Author]*member, 1+len(g.GetMembers()))
	founder := &member{key: e.Author(), name: g.GetFounderName(), founder: true,
		log: []logEntry{{hash: e.Hash(), kind: kindGenesis}}, headTime: e.Time()}
	s.members[founder.key] = founder
	for _, cm := range g.GetMembers() {
		m := &member{name: cm.GetName()}
		copy(m.key[:], cm.GetKey()) // ledger checked: 32 bytes, no duplicate
		s.members[m.key] = m
	}
	s.order = make([]ledger.Author, 0, len(s.members))
	for k := range s.members {
		s.order = append(s.order, k)
	}
	slices.SortFunc(s.order, compareAuthors)
}

func compareAuthors(a, b ledger.Author) int { return bytes.Compare(a[:], b[:]) }
