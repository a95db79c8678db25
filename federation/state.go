package federation

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// State is the federation as derived from the entries applied to it: the
// charter, the members and applicants, the proposals and their outcomes,
// the forks, the head of every log and every caisse's totals. It is a pure
// function of the set of entries and fork proofs applied (see the package
// doc). A State is not safe for concurrent use.
type State struct {
	fed         ledger.Hash
	charter     *caissev1.Genesis // nil before the genesis
	genesisTime ledger.HLC
	// authors holds every key whose entries the state knows: the charter's
	// members, and every applicant (admitted or not). order holds their
	// keys, sorted.
	authors map[ledger.Author]*member
	order   []ledger.Author
	count   uint64 // entries in the logs
	gov     governance
	// settlements holds every settlement applied, by hash.
	settlements map[ledger.Hash]*settlementRec
	// gen counts the changes of the governance fold; it dates the
	// finality cache of each member (member.finalGen).
	gen uint64
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
	kindApplication
	kindProposal
	kindVote
	kindPeriodClose
	kindSettlement
	kindSettlementAck
)

// role says how an author came into the federation.
type role uint8

const (
	roleFounder   role = iota + 1 // the genesis's author
	roleCofounder                 // listed in the charter
	roleApplicant                 // applied; a member once admitted
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
// duplicates and forks (hash), to place it in time (wall, logical) and to
// take it out again (kind, amount, period, cat) when its author is excluded
// or forks. It holds no pointer, so the garbage collector does not scan
// logs. Periods run from 2000-01 to 2199-12 (ledger.ParsePeriod): 2400 of
// them at most, so a uint16 index fits.
type logEntry struct {
	hash    ledger.Hash
	amount  ledger.Amount // contributions and disbursements; the target seq for corrections
	wall    uint64
	logical uint32
	period  uint16 // index in member.periods: contributions and disbursements
	kind    kind
	cat     uint8 // category enum value: contributions and disbursements
}

func (le *logEntry) time() ledger.HLC { return ledger.HLC{Wall: le.wall, Logical: le.logical} }

// target is the seq a correction reverses.
func (le *logEntry) target() ledger.Seq { return ledger.Seq(le.amount) }

// member is one author: a collective of the charter, or one that applied.
// Its log as applied, its caisse, and where it stands.
type member struct {
	key     ledger.Author
	name    string
	role    role
	note    string     // applicants: the application's note
	applied ledger.HLC // applicants: the application's time
	log     entryLog   // log.at(i) is the entry at seq i+1
	// periods lists the periods the caisse used, in order of first use;
	// logEntry.period and the sums' periods index it.
	periods  []ledger.Period
	byPeriod map[ledger.Period]uint32
	// all sums every contribution and disbursement applied, less every
	// correction: overflow is checked on it. counted sums only the entries
	// that count (see window); it is nil when they all do, which is the
	// usual case, and then all is what the views show.
	all     sums
	counted *sums
	// win is the window that counted was built for: where the author
	// stands in the governance fold.
	win         window
	correctedBy map[ledger.Seq]ledger.Seq // target seq -> correction seq; nil until the first
	fork        *fork
	// closes holds the periods the caisse closed; nil until the first.
	closes map[ledger.Period]*closeRec
	// finalGen is State.gen when the member's admission was found final;
	// 0 if it was not.
	finalGen uint64
	// sent holds the settlements m paid, in log order; acked those paid
	// to m that it acknowledged, in the order of its acknowledgements.
	// paid and received sum them all, counted or not, so that every sum
	// the views take of them fits.
	sent, acked    []*settlementRec
	paid, received ledger.Amount
}

// sums is a caisse's totals and buckets, overall and per period.
type sums struct {
	total      Totals
	byCategory buckets
	periods    []periodSums // parallel to member.periods
}

type periodSums struct {
	total   Totals
	buckets buckets
}

// view returns the sums the views show.
func (m *member) view() *sums {
	if m.counted != nil {
		return m.counted
	}
	return &m.all
}

// head returns the head of m's log, nil when it is empty, as
// ledger.CheckNext wants it.
func (m *member) head() *ledger.Head {
	if m.log.len() == 0 {
		return nil
	}
	le := m.log.last()
	return &ledger.Head{Seq: ledger.Seq(m.log.len()), Hash: le.hash, Time: le.time()}
}

// posAt returns the place in the canonical order of m's entry at seq.
func (m *member) posAt(seq ledger.Seq) pos {
	return pos{time: m.log.at(int(seq - 1)).time(), author: m.key, seq: seq}
}

// pos is an entry's place in the canonical order: by time, then author
// bytes, then seq. No two entries share one. The zero pos is before every
// entry (ledger refuses times before 2020).
type pos struct {
	time   ledger.HLC
	author ledger.Author
	seq    ledger.Seq
}

func posOf(e ledger.Entry) pos { return pos{time: e.Time(), author: e.Author(), seq: e.Seq()} }

func (p pos) compare(q pos) int {
	if c := p.time.Compare(q.time); c != 0 {
		return c
	}
	if c := bytes.Compare(p.author[:], q.author[:]); c != 0 {
		return c
	}
	switch {
	case p.seq < q.seq:
		return -1
	case p.seq > q.seq:
		return 1
	}
	return 0
}

// window is where an author stands in the governance fold: its entries
// count when they come after its admission (since; the zero pos for the
// charter's members) and not after its exclusion (until).
type window struct {
	member   bool
	since    pos
	excluded bool
	until    pos
}

func (w window) contains(p pos) bool {
	return w.member && w.since.compare(p) < 0 && (!w.excluded || p.compare(w.until) <= 0)
}

// always reports whether every entry counts: a member of the charter, not
// excluded. It spares placing each entry.
func (w window) always() bool { return w.member && w.since == pos{} && !w.excluded }

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
	all    delta
	// counts is whether the entry counts (a correction: it and its
	// target); cnt holds the new values of m.counted when it does and
	// m.counted is not nil.
	counts     bool
	cnt        delta
	target     ledger.Seq     // corrections
	gov        *govEntry      // proposals and votes
	close      *closeRec      // period closes
	settlement *settlementRec // settlements and their acknowledgements
}

// delta is the new values of every sum that one movement touches.
type delta struct {
	bucket, catSum ledger.Amount
	ptotal, total  Totals
}

// Check reports whether Apply(e) would succeed, and why not. It changes
// nothing that Hash or a query shows.
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
	m := s.authors[e.Author()]
	if m == nil {
		return s.checkNewAuthor(e)
	}
	if m.fork != nil && e.Seq() >= m.fork.seq {
		return change{}, fmt.Errorf("seq %d, frozen from seq %d: %w", e.Seq(), m.fork.seq, ErrForked)
	}
	if err := ledger.CheckNext(m.head(), e); err != nil {
		if !ledger.IsBehind(err) {
			return change{}, err
		}
		if applied := m.log.at(int(e.Seq() - 1)).hash; applied != e.Hash() {
			// The node holds both entries and builds the proof
			// (ledger.CheckStored gives a *ledger.ForkError), then
			// hands it to ApplyFork.
			return change{}, fmt.Errorf("applied %s, got %s: %w", applied.Short(), e.Hash().Short(), ledger.ErrFork)
		}
		return change{}, ledger.ErrDuplicate
	}
	if m.role == roleApplicant {
		// Its seq 1, the application, is applied: this is a later entry.
		if err := s.checkAdmitted(m); err != nil {
			return change{}, err
		}
	}
	switch k := b.GetKind().(type) {
	case *caissev1.EntryBody_Contribution:
		c := k.Contribution
		if c.GetCategory() < 0 || c.GetCategory() >= numCategories {
			return change{}, fmt.Errorf("contribution category %d: %w", c.GetCategory(), ledger.ErrUnknownCategory)
		}
		ch := change{kind: kindContribution, m: m, dir: dirIn, cat: uint8(c.GetCategory()), amount: ledger.Amount(c.GetAmount())}
		if err := m.planMovement(&ch, e, ledger.Period(c.GetPeriod())); err != nil {
			return change{}, err
		}
		return ch, nil
	case *caissev1.EntryBody_Disbursement:
		d := k.Disbursement
		if d.GetCategory() < 0 || d.GetCategory() >= numCategories {
			return change{}, fmt.Errorf("disbursement category %d: %w", d.GetCategory(), ledger.ErrUnknownCategory)
		}
		ch := change{kind: kindDisbursement, m: m, dir: dirOut, cat: uint8(d.GetCategory()), amount: ledger.Amount(d.GetAmount())}
		if err := m.planMovement(&ch, e, ledger.Period(d.GetPeriod())); err != nil {
			return change{}, err
		}
		return ch, nil
	case *caissev1.EntryBody_Correction:
		return m.planCorrection(e, k.Correction)
	case *caissev1.EntryBody_Application:
		// Only a charter member gets here: an applicant's seq 1 is its
		// application, and the founder's is the genesis.
		return change{}, fmt.Errorf("application from a member of the charter: %w", ErrAlreadyMember)
	case *caissev1.EntryBody_Proposal:
		return s.checkProposal(m, e, k.Proposal)
	case *caissev1.EntryBody_Vote:
		return s.checkVote(m, e, k.Vote)
	case *caissev1.EntryBody_Settlement:
		return s.checkSettlement(m, e, k.Settlement)
	case *caissev1.EntryBody_SettlementAck:
		return s.checkSettlementAck(m, k.SettlementAck)
	case *caissev1.EntryBody_PeriodClose:
		ch, err := s.planClose(m, k.PeriodClose)
		if err != nil {
			return change{}, err
		}
		ch.close.seq = e.Seq()
		return ch, nil
	}
	return change{}, fmt.Errorf("entry kind %s: %w", e.Kind(), ledger.ErrMalformed)
}

// checkNewAuthor checks an entry whose author the state does not know:
// only an application, the first entry of a log, is welcome.
func (s *State) checkNewAuthor(e ledger.Entry) (change, error) {
	if _, ok := e.Body().GetKind().(*caissev1.EntryBody_Application); ok {
		// ledger checked that an application is the first entry.
		return change{kind: kindApplication}, nil
	}
	if err := ledger.CheckNext(nil, e); err != nil {
		// A later entry of a log not seen: its first entry, perhaps an
		// application, comes first.
		return change{}, fmt.Errorf("no entry of this author yet: %w", err)
	}
	return change{}, fmt.Errorf("%s as a first entry: %w", e.Kind(), ErrUnknownAuthor)
}

// planMovement computes, into ch, the new sums after e, a contribution or
// a disbursement in period per.
func (m *member) planMovement(ch *change, e ledger.Entry, per ledger.Period) error {
	if err := m.checkOpen(per, ch.kind.String()); err != nil {
		return err
	}
	idx, ok := m.byPeriod[per]
	if !ok {
		idx = uint32(len(m.periods))
	}
	ch.pidx, ch.period = idx, per
	ch.counts = m.win.always() || m.win.contains(posOf(e))
	var err error
	if ch.all, err = m.all.plan(idx, ch.dir, ch.cat, ch.amount, false); err != nil {
		return fmt.Errorf("period %s: %w", per, err)
	}
	if ch.counts && m.counted != nil {
		if ch.cnt, err = m.counted.plan(idx, ch.dir, ch.cat, ch.amount, false); err != nil {
			return fmt.Errorf("period %s, entries that count: %w", per, err)
		}
	}
	return nil
}

func (m *member) planCorrection(e ledger.Entry, c *caissev1.Correction) (change, error) {
	ts := ledger.Seq(c.GetTargetSeq())
	if ts == 0 || ts > ledger.Seq(m.log.len()) {
		// ledger refuses a correction that does not name an earlier seq,
		// and the log is contiguous: this is a safety net.
		return change{}, fmt.Errorf("%w: target seq %d: %w", ErrBadCorrection, ts, ledger.ErrNotFound)
	}
	t := m.log.at(int(ts - 1))
	var th ledger.Hash
	copy(th[:], c.GetTargetHash())
	ch := change{kind: kindCorrection, m: m, target: ts, cat: t.cat, amount: t.amount, pidx: uint32(t.period)}
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
		return change{}, fmt.Errorf("%w: target seq %d is a %s", ErrBadCorrection, ts, t.kind)
	}
	if by, ok := m.correctedBy[ts]; ok {
		return change{}, fmt.Errorf("target seq %d, corrected by seq %d: %w", ts, by, ErrAlreadyCorrected)
	}
	per := m.periods[t.period]
	ch.period = per
	if err := m.checkOpen(per, fmt.Sprintf("correction of seq %d", ts)); err != nil {
		return change{}, fmt.Errorf("%w: correct it by an entry in a later period", err)
	}
	// A correction counts when it and its target both do.
	ch.counts = m.win.always() || m.win.contains(posOf(e)) && m.win.contains(m.posAt(ts))
	var err error
	if ch.all, err = m.all.plan(ch.pidx, ch.dir, ch.cat, ch.amount, true); err != nil {
		return change{}, fmt.Errorf("period %s: %w", per, err)
	}
	if ch.counts && m.counted != nil {
		if ch.cnt, err = m.counted.plan(ch.pidx, ch.dir, ch.cat, ch.amount, true); err != nil {
			return change{}, fmt.Errorf("period %s, entries that count: %w", per, err)
		}
	}
	return ch, nil
}

// plan computes the new value of every sum that a movement of amount in
// direction dir and category cat touches in the period at index pidx
// (len(s.periods) for a new one): recorded, or reversed by a correction.
func (s *sums) plan(pidx uint32, dir int, cat uint8, amount ledger.Amount, reverse bool) (delta, error) {
	var ps periodSums
	if int(pidx) < len(s.periods) {
		ps = s.periods[pidx]
	}
	var d delta
	var err error
	if d.bucket, err = addOrSub(ps.buckets[dir][cat], amount, reverse); err != nil {
		return delta{}, err
	}
	if d.ptotal, err = ps.total.move(dir, amount, reverse); err != nil {
		return delta{}, err
	}
	if d.catSum, err = addOrSub(s.byCategory[dir][cat], amount, reverse); err != nil {
		return delta{}, fmt.Errorf("all periods: %w", err)
	}
	if d.total, err = s.total.move(dir, amount, reverse); err != nil {
		return delta{}, fmt.Errorf("all periods: %w", err)
	}
	return d, nil
}

// record stores what plan computed; the period at pidx exists.
func (s *sums) record(pidx uint32, dir int, cat uint8, d delta) {
	ps := &s.periods[pidx]
	ps.buckets[dir][cat] = d.bucket
	ps.total = d.ptotal
	s.byCategory[dir][cat] = d.catSum
	s.total = d.total
}

// mustMove plans and records a movement that cannot overflow: sums
// rebuilt from a log whose every prefix was checked when it was applied.
// A sum over a run of consecutive entries of a log never exceeds the sum
// over the prefix that ends with the run, which Apply checked (a correction
// only ever reverses an earlier entry, and buckets never go below zero).
func (s *sums) mustMove(pidx uint32, dir int, cat uint8, amount ledger.Amount, reverse bool) {
	d, err := s.plan(pidx, dir, cat, amount, reverse)
	if err != nil {
		panic(fmt.Sprintf("federation: rebuilding sums that were checked: %v", err))
	}
	s.record(pidx, dir, cat, d)
}

func (s *sums) clone() *sums {
	c := *s
	c.periods = slices.Clone(s.periods)
	return &c
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

func dirOf(k kind) int {
	if k == kindDisbursement {
		return dirOut
	}
	return dirIn
}

// commit applies the change that check computed for e. It cannot fail.
func (s *State) commit(e ledger.Entry, ch change) {
	s.count++
	switch ch.kind {
	case kindGenesis:
		s.commitGenesis(e)
		return
	case kindApplication:
		s.commitApplication(e)
		return
	}
	m := ch.m
	le := logEntry{hash: e.Hash(), kind: ch.kind}
	t := e.Time()
	le.wall, le.logical = t.Wall, t.Logical
	switch ch.kind {
	case kindContribution, kindDisbursement, kindCorrection:
		m.commitMovement(ch)
		if ch.kind == kindCorrection {
			if m.correctedBy == nil {
				m.correctedBy = make(map[ledger.Seq]ledger.Seq)
			}
			m.correctedBy[ch.target] = e.Seq()
			le.amount = ledger.Amount(ch.target)
		} else {
			le.amount, le.period, le.cat = ch.amount, uint16(ch.pidx), ch.cat
		}
		m.log.push(le)
	case kindProposal, kindVote:
		m.log.push(le)
		s.addGov(ch.gov)
	case kindPeriodClose:
		if m.closes == nil {
			m.closes = make(map[ledger.Period]*closeRec)
		}
		m.closes[ch.period] = ch.close
		m.log.push(le)
		s.addGov(&govEntry{pos: posOf(e), hash: e.Hash(), kind: govClose, period: ch.period, members: ch.close.members})
	case kindSettlement:
		m.log.push(le)
		s.commitSettlement(ch)
	case kindSettlementAck:
		m.log.push(le)
		s.commitSettlementAck(ch, e.Seq())
	}
}

// commitMovement records the sums of a contribution, a disbursement or a
// correction.
func (m *member) commitMovement(ch change) {
	if !ch.counts && m.counted == nil {
		// The first entry that does not count: from now on the views
		// show sums of their own.
		m.counted = m.all.clone()
	}
	if ch.pidx == uint32(len(m.periods)) {
		if m.byPeriod == nil {
			m.byPeriod = make(map[ledger.Period]uint32)
		}
		m.byPeriod[ch.period] = ch.pidx
		m.periods = append(m.periods, ch.period)
		m.all.periods = append(m.all.periods, periodSums{})
		if m.counted != nil {
			m.counted.periods = append(m.counted.periods, periodSums{})
		}
	}
	m.all.record(ch.pidx, ch.dir, ch.cat, ch.all)
	if ch.counts && m.counted != nil {
		m.counted.record(ch.pidx, ch.dir, ch.cat, ch.cnt)
	}
}

func (s *State) commitGenesis(e ledger.Entry) {
	g := e.Body().GetGenesis()
	s.fed = e.Hash()
	s.charter = g
	s.genesisTime = e.Time()
	s.authors = make(map[ledger.Author]*member, 1+len(g.GetMembers()))
	t := e.Time()
	founder := &member{key: e.Author(), name: g.GetFounderName(), role: roleFounder}
	founder.log.push(logEntry{hash: e.Hash(), kind: kindGenesis, wall: t.Wall, logical: t.Logical})
	s.authors[founder.key] = founder
	for _, cm := range g.GetMembers() {
		m := &member{name: cm.GetName(), role: roleCofounder}
		copy(m.key[:], cm.GetKey()) // ledger checked: 32 bytes, no duplicate
		s.authors[m.key] = m
	}
	s.order = make([]ledger.Author, 0, len(s.authors))
	for k := range s.authors {
		s.order = append(s.order, k)
	}
	slices.SortFunc(s.order, compareAuthors)
	s.gov.init(s)
	for _, m := range s.authors {
		m.win = s.windowOf(m.key)
	}
}

func (s *State) commitApplication(e ledger.Entry) {
	a := e.Body().GetApplication()
	t := e.Time()
	m := &member{key: e.Author(), name: a.GetName(), note: a.GetNote(), role: roleApplicant, applied: t}
	m.log.push(logEntry{hash: e.Hash(), kind: kindApplication, wall: t.Wall, logical: t.Logical})
	m.win = s.windowOf(m.key)
	s.authors[m.key] = m
	i, _ := slices.BinarySearchFunc(s.order, m.key, compareAuthors)
	s.order = slices.Insert(s.order, i, m.key)
}

// setWindow moves m to window w and rebuilds the sums that count.
func (m *member) setWindow(w window) {
	m.win = w
	m.rebuildCounted()
}

// rebuildCounted recomputes m.counted from the log for m.win: nil when
// every movement and correction in the log counts.
func (m *member) rebuildCounted() {
	in := func(seq ledger.Seq) bool { return m.win.contains(m.posAt(seq)) }
	every := true
	for i := range m.log.len() {
		switch m.log.at(i).kind {
		case kindContribution, kindDisbursement, kindCorrection:
			every = every && in(ledger.Seq(i+1))
		}
	}
	if every {
		m.counted = nil
		return
	}
	c := &sums{periods: make([]periodSums, len(m.periods))}
	for i := range m.log.len() {
		le := m.log.at(i)
		seq := ledger.Seq(i + 1)
		switch le.kind {
		case kindContribution, kindDisbursement:
			if in(seq) {
				c.mustMove(uint32(le.period), dirOf(le.kind), le.cat, le.amount, false)
			}
		case kindCorrection:
			t := m.log.at(int(le.target() - 1))
			if in(seq) && in(le.target()) {
				c.mustMove(uint32(t.period), dirOf(t.kind), t.cat, t.amount, true)
			}
		}
	}
	m.counted = c
}

func compareAuthors(a, b ledger.Author) int { return bytes.Compare(a[:], b[:]) }

func (k kind) String() string {
	switch k {
	case kindGenesis:
		return "genesis"
	case kindContribution:
		return "contribution"
	case kindDisbursement:
		return "disbursement"
	case kindCorrection:
		return "correction"
	case kindApplication:
		return "application"
	case kindProposal:
		return "proposal"
	case kindVote:
		return "vote"
	case kindPeriodClose:
		return "period close"
	case kindSettlement:
		return "settlement"
	case kindSettlementAck:
		return "settlement acknowledgement"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}
