package federation

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Checkpoints: the State as bytes, so that a node starts from its derived
// state instead of replaying every entry of its store.
//
// A checkpoint holds what cannot be derived cheaply: each log as applied
// (a fixed-size record per entry, as the State keeps it), the periods each
// caisse used, its closes and settlements, its fork proof, and the
// governance entries. Everything else (sums, corrections, windows, the
// governance fold, the settlements' index) is rebuilt from those in memory,
// as the State rebuilds them after a fork; LoadCheckpoint then compares
// the State's Hash with the one the checkpoint recorded. A checkpoint says
// nothing of entries kept aside as pending: they are beyond the heads of
// the logs it holds, where the caller finds them in its store. It ends
// with the SHA-256 of everything before, so that a torn or altered file is
// refused even where the State's hash would not see the change (the
// amount of a corrected entry, say).

const checkpointVersion = "caisse/federation/checkpoint/v1\x00"

// ErrBadCheckpoint: bytes that are not a checkpoint of this version, or
// whose State does not hash to what it recorded.
var ErrBadCheckpoint = errors.New("bad checkpoint")

// Checkpoint returns s as bytes for LoadCheckpoint.
func (s *State) Checkpoint() []byte {
	var buf bytes.Buffer
	if err := s.WriteCheckpoint(&buf); err != nil {
		panic(fmt.Sprintf("federation: checkpoint into memory: %v", err)) // bytes.Buffer does not fail
	}
	return buf.Bytes()
}

// WriteCheckpoint writes to out what Checkpoint returns, through a buffer
// of ckBuffer bytes: a checkpoint is about 56 bytes an entry, and a node
// that writes one as it stops must not need that much memory more.
func (s *State) WriteCheckpoint(out io.Writer) error {
	w := &ckWriter{b: make([]byte, 0, ckBuffer+4096), out: out, h: sha256.New()}
	w.b = append(w.b, checkpointVersion...)
	h := s.Hash()
	w.b = append(w.b, h[:]...)
	if s.charter == nil {
		w.byte(0)
		return w.sum()
	}
	w.byte(1)
	charter, err := proto.MarshalOptions{Deterministic: true}.Marshal(s.charter)
	if err != nil {
		return fmt.Errorf("federation: checkpoint: the charter does not marshal: %w", err)
	}
	w.bytes(charter)
	w.b = append(w.b, s.fed[:]...)
	w.hlc(s.genesisTime)
	w.uvarint(s.count)
	w.uvarint(uint64(len(s.order)))
	for _, k := range s.order {
		w.member(s.authors[k])
	}
	w.uvarint(uint64(len(s.gov.entries)))
	for _, g := range s.gov.entries {
		w.gov(g)
		w.spill()
	}
	return w.sum()
}

// LoadCheckpoint rebuilds the State that Checkpoint wrote, keeping nothing
// of b (a caller may unmap it after); a State that does not hash to what
// the checkpoint recorded is ErrBadCheckpoint.
func LoadCheckpoint(b []byte) (*State, error) {
	if len(b) < sha256.Size {
		return nil, fmt.Errorf("federation: %w: %d bytes", ErrBadCheckpoint, len(b))
	}
	body, sum := b[:len(b)-sha256.Size], b[len(b)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, fmt.Errorf("federation: %w: checksum mismatch: a torn or altered file", ErrBadCheckpoint)
	}
	s, want, err := loadCheckpoint(&ckReader{b: body})
	if err != nil {
		return nil, fmt.Errorf("federation: %w: %w", ErrBadCheckpoint, err)
	}
	if got := s.Hash(); got != want {
		return nil, fmt.Errorf("federation: %w: state %s, recorded %s", ErrBadCheckpoint, got.Short(), want.Short())
	}
	return s, nil
}

func loadCheckpoint(r *ckReader) (*State, ledger.Hash, error) {
	var want ledger.Hash
	if string(r.next(len(checkpointVersion))) != checkpointVersion {
		return nil, want, errors.New("not a checkpoint of this version")
	}
	copy(want[:], r.next(len(want)))
	s := New()
	if r.byte() == 0 {
		return s, want, r.done()
	}
	s.charter = &caissev1.Genesis{}
	if err := proto.Unmarshal(r.bytes(), s.charter); err != nil && r.err == nil {
		return nil, want, fmt.Errorf("charter: %w", err)
	}
	copy(s.fed[:], r.next(len(s.fed)))
	s.genesisTime = r.hlc()
	s.count = r.uvarint()
	n := r.count(32)
	s.authors = make(map[ledger.Author]*member, n)
	for range n {
		m := r.member()
		if r.err != nil {
			break
		}
		if s.authors[m.key] != nil || len(s.order) > 0 && compareAuthors(s.order[len(s.order)-1], m.key) >= 0 {
			return nil, want, errors.New("authors out of order")
		}
		s.authors[m.key] = m
		s.order = append(s.order, m.key)
	}
	gn := r.count(64)
	entries := make([]*govEntry, 0, gn)
	for range gn {
		entries = append(entries, r.gov())
	}
	if err := r.done(); err != nil {
		return nil, want, err
	}
	// The governance as init and addGov build it, folded once.
	s.gov.init(s.foundingState())
	s.gen = 1 // no member's finality is cached (finalGen 0)
	s.gov.entries = entries
	for _, g := range entries {
		if g.kind == govProposal {
			s.gov.proposals[g.hash] = g
		}
	}
	s.gov.refold()
	// The settlements' index and each payee's acknowledgements.
	for _, k := range s.order {
		for _, rec := range s.authors[k].sent {
			if s.settlements == nil {
				s.settlements = make(map[ledger.Hash]*settlementRec)
			}
			s.settlements[rec.hash] = rec
			if rec.ack == 0 {
				continue
			}
			payee := s.authors[rec.payee]
			if payee == nil {
				return nil, want, errors.New("a settlement acknowledged by an unknown caisse")
			}
			payee.acked = append(payee.acked, rec)
		}
	}
	for _, k := range s.order {
		m := s.authors[k]
		slices.SortFunc(m.acked, func(a, b *settlementRec) int { return int(a.ack) - int(b.ack) })
		for _, rec := range m.acked {
			m.received += rec.amount
		}
		if err := m.rebuild(); err != nil {
			return nil, want, fmt.Errorf("author %s: %w", k.Short(), err)
		}
		m.win = s.windowOf(k)
		m.rebuildCounted()
	}
	return s, want, nil
}

// foundingState returns a State whose order holds the charter's members,
// as it did when the genesis was applied: what governance.init reads.
func (s *State) foundingState() *State {
	f := &State{charter: s.charter}
	for _, k := range s.order {
		if r := s.authors[k].role; r == roleFounder || r == roleCofounder {
			f.order = append(f.order, k)
		}
	}
	return f
}

// rebuild recomputes m's sums, corrections and settlement total from its
// log, checking what mustMove would otherwise panic on.
func (m *member) rebuild() error {
	m.byPeriod = nil
	m.all = sums{periods: make([]periodSums, len(m.periods))}
	for i, p := range m.periods {
		if m.byPeriod == nil {
			m.byPeriod = make(map[ledger.Period]uint32, len(m.periods))
		}
		m.byPeriod[p] = uint32(i)
	}
	for i := range m.log.len() {
		le := m.log.at(i)
		switch le.kind {
		case kindContribution, kindDisbursement:
			if int(le.period) >= len(m.periods) || le.cat >= numCategories {
				return fmt.Errorf("seq %d: period or category out of range", i+1)
			}
			d, err := m.all.plan(uint32(le.period), dirOf(le.kind), le.cat, le.amount, false)
			if err != nil {
				return err
			}
			m.all.record(uint32(le.period), dirOf(le.kind), le.cat, d)
		case kindCorrection:
			ts := le.target()
			if ts == 0 || int(ts) > i {
				return fmt.Errorf("seq %d: correction of seq %d", i+1, ts)
			}
			t := m.log.at(int(ts - 1))
			if t.kind != kindContribution && t.kind != kindDisbursement {
				return fmt.Errorf("seq %d: correction of a %s", i+1, t.kind)
			}
			d, err := m.all.plan(uint32(t.period), dirOf(t.kind), t.cat, t.amount, true)
			if err != nil {
				return err
			}
			m.all.record(uint32(t.period), dirOf(t.kind), t.cat, d)
			if m.correctedBy == nil {
				m.correctedBy = make(map[ledger.Seq]ledger.Seq)
			}
			m.correctedBy[ts] = ledger.Seq(i + 1)
		}
	}
	for _, rec := range m.sent {
		var err error
		if m.paid, err = m.paid.Add(rec.amount); err != nil {
			return err
		}
	}
	return nil
}

// ckBuffer is what a ckWriter holds before it writes out.
const ckBuffer = 64 << 10

// ckWriter encodes into b, and writes b out, hashed, once it holds
// ckBuffer bytes (spill) and at the end (sum).
type ckWriter struct {
	b   []byte
	out io.Writer
	h   hash.Hash
	err error
}

func (w *ckWriter) flush() {
	w.h.Write(w.b)
	if w.err == nil {
		_, w.err = w.out.Write(w.b)
	}
	w.b = w.b[:0]
}

func (w *ckWriter) spill() {
	if len(w.b) >= ckBuffer {
		w.flush()
	}
}

// sum writes out the rest, then the SHA-256 of everything before.
func (w *ckWriter) sum() error {
	w.flush()
	w.b = w.h.Sum(w.b)
	if w.err == nil {
		_, w.err = w.out.Write(w.b)
	}
	if w.err != nil {
		return fmt.Errorf("federation: write checkpoint: %w", w.err)
	}
	return nil
}

func (w *ckWriter) byte(c byte)            { w.b = append(w.b, c) }
func (w *ckWriter) uvarint(v uint64)       { w.b = binary.AppendUvarint(w.b, v) }
func (w *ckWriter) varint(v int64)         { w.b = binary.AppendVarint(w.b, v) }
func (w *ckWriter) bytes(p []byte)         { w.uvarint(uint64(len(p))); w.b = append(w.b, p...) }
func (w *ckWriter) str(s string)           { w.uvarint(uint64(len(s))); w.b = append(w.b, s...) }
func (w *ckWriter) hlc(t ledger.HLC)       { w.uvarint(t.Wall); w.uvarint(uint64(t.Logical)) }
func (w *ckWriter) key(k [32]byte)         { w.b = append(w.b, k[:]...) }
func (w *ckWriter) amount(a ledger.Amount) { w.varint(int64(a)) }

func (w *ckWriter) member(m *member) {
	w.spill()
	w.key(m.key)
	w.str(m.name)
	w.byte(byte(m.role))
	w.str(m.note)
	w.hlc(m.applied)
	w.uvarint(uint64(m.log.len()))
	for i := range m.log.len() {
		le := m.log.at(i)
		w.key(le.hash)
		w.amount(le.amount)
		w.uvarint(le.wall)
		w.uvarint(uint64(le.logical))
		w.uvarint(uint64(le.period))
		w.byte(byte(le.kind))
		w.byte(le.cat)
		w.spill()
	}
	w.uvarint(uint64(len(m.periods)))
	for _, p := range m.periods {
		w.str(string(p))
	}
	pers := make([]ledger.Period, 0, len(m.closes))
	for p := range m.closes {
		pers = append(pers, p)
	}
	slices.Sort(pers)
	w.uvarint(uint64(len(pers)))
	for _, p := range pers {
		c := m.closes[p]
		w.str(string(p))
		w.uvarint(uint64(c.seq))
		w.amount(c.contributed)
		w.amount(c.disbursed)
		w.uvarint(c.members)
		w.uvarint(uint64(len(c.need)))
		for _, n := range c.need {
			w.str(n.Unit)
			w.uvarint(n.Units)
		}
	}
	w.uvarint(uint64(len(m.sent)))
	for _, r := range m.sent {
		w.key(r.hash)
		w.uvarint(uint64(r.seq))
		w.str(string(r.period))
		w.key(r.payee)
		w.amount(r.amount)
		w.str(r.ref)
		w.uvarint(uint64(r.ack))
	}
	if m.fork == nil {
		w.byte(0)
		return
	}
	w.byte(1)
	w.uvarint(uint64(m.fork.seq))
	w.bytes(m.fork.first.Marshal())
	w.bytes(m.fork.second.Marshal())
}

func (w *ckWriter) gov(g *govEntry) {
	w.hlc(g.pos.time)
	w.key(g.pos.author)
	w.uvarint(uint64(g.pos.seq))
	w.key(g.hash)
	w.byte(byte(g.kind))
	w.str(string(g.action))
	w.key(g.target)
	w.str(g.note)
	if g.rules == nil {
		w.bytes(nil)
	} else {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(g.rules)
		if err != nil {
			panic(fmt.Sprintf("federation: checkpoint: rules do not marshal: %v", err))
		}
		w.bytes(b)
	}
	w.str(string(g.effective))
	w.str(string(g.period))
	w.str(string(g.deadline))
	w.key(g.proposal)
	w.uvarint(uint64(g.choice))
	w.uvarint(g.members)
}

// ckReader reads what ckWriter wrote; its first error sticks and every
// later read returns zero values.
type ckReader struct {
	b   []byte
	err error
}

func (r *ckReader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("truncated or malformed at %s", what)
	}
	r.b = nil
}

func (r *ckReader) next(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.fail("a field")
		return make([]byte, max(n, 0))
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *ckReader) byte() byte { return r.next(1)[0] }

func (r *ckReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("a number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *ckReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("a number")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a length that at least minSize bytes each must follow.
func (r *ckReader) count(minSize int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/minSize) {
		r.fail("a length")
		return 0
	}
	return int(n)
}

func (r *ckReader) bytes() []byte { return r.next(r.count(1)) }
func (r *ckReader) str() string   { return string(r.bytes()) }

func (r *ckReader) hlc() ledger.HLC {
	wall := r.uvarint()
	l := r.uvarint()
	if l > 1<<32-1 {
		r.fail("a time")
	}
	return ledger.HLC{Wall: wall, Logical: uint32(l)}
}

func (r *ckReader) key() (k [32]byte) {
	copy(k[:], r.next(32))
	return k
}

func (r *ckReader) amount() ledger.Amount { return ledger.Amount(r.varint()) }

func (r *ckReader) member() *member {
	m := &member{key: r.key(), name: r.str(), role: role(r.byte()), note: r.str(), applied: r.hlc()}
	n := r.count(32 + 5)
	m.log = makeEntryLog(n)
	for i := range m.log.len() {
		le := m.log.at(i)
		le.hash = r.key()
		le.amount = r.amount()
		le.wall = r.uvarint()
		lg, per := r.uvarint(), r.uvarint()
		if lg > 1<<32-1 || per > 1<<16-1 {
			r.fail("a log entry")
		}
		le.logical, le.period = uint32(lg), uint16(per)
		le.kind = kind(r.byte())
		le.cat = r.byte()
	}
	pn := r.count(1)
	for range pn {
		m.periods = append(m.periods, ledger.Period(r.str()))
	}
	cn := r.count(1)
	for range cn {
		p := ledger.Period(r.str())
		c := &closeRec{seq: ledger.Seq(r.uvarint()), contributed: r.amount(), disbursed: r.amount(), members: r.uvarint()}
		nn := r.count(2)
		for range nn {
			c.need = append(c.need, NeedUnits{Unit: r.str(), Units: r.uvarint()})
		}
		if m.closes == nil {
			m.closes = make(map[ledger.Period]*closeRec)
		}
		m.closes[p] = c
	}
	sn := r.count(32)
	for range sn {
		rec := &settlementRec{hash: r.key(), payer: m.key, seq: ledger.Seq(r.uvarint()), period: ledger.Period(r.str()),
			payee: r.key(), amount: r.amount(), ref: r.str(), ack: ledger.Seq(r.uvarint())}
		m.sent = append(m.sent, rec)
	}
	if r.byte() == 1 {
		f := &fork{seq: ledger.Seq(r.uvarint())}
		var err1, err2 error
		f.first, err1 = ledger.DecodeUnverified(r.bytes())
		f.second, err2 = ledger.DecodeUnverified(r.bytes())
		if err1 != nil || err2 != nil {
			r.fail("a fork proof")
		}
		m.fork = f
	}
	return m
}

func (r *ckReader) gov() *govEntry {
	g := &govEntry{}
	g.pos.time = r.hlc()
	g.pos.author = r.key()
	g.pos.seq = ledger.Seq(r.uvarint())
	g.hash = r.key()
	g.kind = govKind(r.byte())
	g.action = Action(r.str())
	g.target = r.key()
	g.note = r.str()
	if b := r.bytes(); len(b) > 0 {
		g.rules = &caissev1.Rules{}
		if err := proto.Unmarshal(b, g.rules); err != nil {
			r.fail("rules")
		}
	}
	g.effective = ledger.Period(r.str())
	g.period = ledger.Period(r.str())
	g.deadline = ledger.Period(r.str())
	g.proposal = r.key()
	g.choice = caissev1.Choice(r.uvarint())
	g.members = r.uvarint()
	return g
}

func (r *ckReader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d bytes after the end", len(r.b))
	}
	return r.err
}
