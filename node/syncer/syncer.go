package syncer

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
)

// recentWindow is how many hashes of the latest saved entries of each log
// the Syncer keeps, to tell a duplicate from a fork without asking the
// node to read its store.
const recentWindow = 16

// Syncer is the replication state machine of one node. It is not safe for
// concurrent use: the node drives it from one goroutine.
type Syncer struct {
	cfg Config
	rnd *rand.Rand
	now uint64 // ticks since New

	logs    map[ledger.Author]*authorLog
	authors []ledger.Author // the keys of logs, in byte order
	peers   map[PeerID]*peer
	peerIDs []PeerID // the keys of peers, sorted

	pulls  map[uint64]*inflight
	nextID uint64
	probes int // fork probes among pulls
	cursor int // where the next pull scheduling starts among authors

	buffered int // entries in the logs' ahead buffers
	parked   int // logs with a parked entry
	forks    map[forkKey]struct{}

	selfConfirmed bool
	nextExchange  uint64
	saveGen       uint64 // counts saves and appends: parked entries retry after one

	out outbox
	c   Counters
}

// item is an entry with the peer it came from, and the tick it came at.
type item struct {
	e    ledger.Entry
	from PeerID
	at   uint64
}

type forkKey struct {
	a ledger.Author
	s ledger.Seq
}

// authorLog is what the Syncer knows of one author's log.
type authorLog struct {
	a    ledger.Author
	have ledger.Head // the stored head; Seq 0 for an empty log
	// recent[seq%recentWindow] is the hash of the stored entry at seq, for
	// seq in [recentLo, have.Seq]; recentLo is 0 when none is known.
	recent   [recentWindow]ledger.Hash
	recentLo ledger.Seq
	// chain extends have: chain[i] is at have.Seq+1+i. Entries up to
	// offered were handed to the node in a Ready.Save and not reported yet.
	chain   []item
	offered ledger.Seq
	// ahead holds entries past the end of chain, with a gap before them.
	// progress is the tick at which the chain last grew.
	ahead    map[ledger.Seq]item
	progress uint64
	// parked is the entry at have.Seq+1 that the node rejected as pending;
	// chain is empty while it is set. It is offered again once something
	// is saved after parkedGen, or at the latest AntiEntropyTicks after
	// parkedAt.
	parked    *item
	parkedGen uint64
	parkedAt  uint64

	pull       uint64 // the pull in flight for this log (not a probe), 0 if none
	lastFailed PeerID // the peer whose pull of this log failed last
	coolUntil  uint64 // no pull before this tick

	// fork is the lowest seq at which a proof shows the log forks, 0 if
	// none; forkPrevs are the prevs of the proofs there. When they differ,
	// or differ from the hash this node holds at fork-1, the log forks
	// lower (and it may, when the node stores an entry at fork-1 whose
	// hash it does not remember): the peers are probed at fork-1 at
	// belowAt, then at intervals
	// that double from AntiEntropyTicks to ForkRecheckTicks (the entries
	// there may be lost for good), until a proof there arrives.
	fork        ledger.Seq
	forkPrevs   []ledger.Hash
	forkEntries []ledger.Entry // the entries of the proof at fork
	belowAt     uint64
	belowEvery  uint64
}

// forksBelow says whether l's log may fork below its known fork point:
// the proofs there do not share their prev, or their prev is not the hash
// this node holds at fork-1, or this node stores an entry at fork-1 whose
// hash it no longer remembers (it restarted, or the entry left the recent
// window). In the last case the peers' entries at fork-1 are probed all the
// same: each comes back at or below the stored head, and the node compares
// it with the stored one (Ready.Check), which proves the fork there if they
// differ.
func (l *authorLog) forksBelow() bool {
	if l.fork <= 1 || len(l.forkPrevs) == 0 {
		return false
	}
	if len(l.forkPrevs) > 1 {
		return true
	}
	seq := l.fork - 1
	var h ledger.Hash
	switch {
	case seq <= l.have.Seq:
		var ok bool
		if h, ok = l.recentHash(seq); !ok {
			if h, ok = l.prevOfStoredAtFork(); !ok {
				return true // cannot tell: ask the peers, the store compares
			}
		}
	case seq <= l.end():
		h = l.chain[seq-l.have.Seq-1].e.Hash()
	default:
		return false
	}
	return h != l.forkPrevs[0]
}

// prevOfStoredAtFork returns the prev of the entry stored at the fork
// point, when it is one of the proof's there: the hash stored at fork-1.
func (l *authorLog) prevOfStoredAtFork() (ledger.Hash, bool) {
	at, ok := l.recentHash(l.fork)
	if !ok {
		return ledger.Hash{}, false
	}
	for _, e := range l.forkEntries {
		if e.Hash() == at {
			return e.Prev(), true
		}
	}
	return ledger.Hash{}, false
}

func (l *authorLog) end() ledger.Seq { return l.have.Seq + ledger.Seq(len(l.chain)) }

// tip is the head chain ends at, nil for an empty log.
func (l *authorLog) tip() *ledger.Head {
	if n := len(l.chain); n > 0 {
		h := l.chain[n-1].e.Head()
		return &h
	}
	if l.have.Seq == 0 {
		return nil
	}
	h := l.have
	return &h
}

func (l *authorLog) recentHash(seq ledger.Seq) (ledger.Hash, bool) {
	if l.recentLo == 0 || seq < l.recentLo || seq > l.have.Seq {
		return ledger.Hash{}, false
	}
	return l.recent[seq%recentWindow], true
}

// setHave records e, which extends have, as stored.
func (l *authorLog) setHave(e ledger.Entry) {
	seq := e.Seq()
	l.have = e.Head()
	l.recent[seq%recentWindow] = e.Hash()
	switch {
	case l.recentLo == 0:
		l.recentLo = seq
	case seq-l.recentLo >= recentWindow:
		l.recentLo = seq - recentWindow + 1
	}
	l.offered = max(l.offered, seq)
}

// peer is what the Syncer knows of one peer.
type peer struct {
	id            PeerID
	up            bool
	known         ledger.Vector // at least what it holds, as far as we know
	synced        bool          // a vector came from it
	lastSync      uint64
	forks         uint32
	fetched       bool // its fork proofs were fetched since it came up
	lastForkFetch uint64
	retryAt       uint64                    // no pull from it before this tick
	refused       map[ledger.Author]refusal // it sent an entry that cannot be saved
	failures      uint64
	pulls         int
}

// saw records that p holds h of a.
func (p *peer) saw(a ledger.Author, h ledger.Head) {
	if k, ok := p.known[a]; !ok || k.Seq < h.Seq {
		p.known[a] = h
	}
}

// refusal says that a peer is not asked for a log from seq on, until the
// tick until (0: until it comes up again).
type refusal struct {
	seq   ledger.Seq
	until uint64
}

// refuse stops asking p for a's log from seq on, until the tick until (0:
// until p comes up again).
func (p *peer) refuse(a ledger.Author, seq ledger.Seq, until uint64) {
	if p.refused == nil {
		p.refused = make(map[ledger.Author]refusal)
	}
	r, ok := p.refused[a]
	if ok && r.until == 0 && r.seq <= seq {
		return
	}
	if ok && r.seq < seq {
		seq = r.seq
	}
	if ok && until != 0 && (r.until == 0 || r.until > until) {
		until = r.until
	}
	p.refused[a] = refusal{seq: seq, until: until}
}

// refusedFrom returns the seq of a's log from which p is not asked now.
func (p *peer) refusedFrom(a ledger.Author, now uint64) (ledger.Seq, bool) {
	r, ok := p.refused[a]
	if !ok || (r.until != 0 && now >= r.until) {
		return 0, false
	}
	return r.seq, true
}

// inflight is a pull handed to the node and not finished.
type inflight struct {
	p        Pull
	probe    bool
	deadline uint64
	got      ledger.Seq // the highest seq of the author received from the peer since
}

// outbox accumulates effects until Ready takes them.
type outbox struct {
	checks    []Check
	proofs    []Forked
	pulls     []Pull
	exchanges []PeerID
	fetch     []PeerID
	pushes    map[PeerID][]ledger.Entry
	heads     map[ledger.Author]ledger.Head
}

func (o *outbox) empty() bool {
	return len(o.checks) == 0 && len(o.proofs) == 0 && len(o.pulls) == 0 && len(o.exchanges) == 0 &&
		len(o.fetch) == 0 && len(o.pushes) == 0 && len(o.heads) == 0
}

// New returns a Syncer for a node whose store holds have (store.Vector()),
// and that holds no fork proof yet: the node steps the proofs of its store
// as Forked before anything else. It owns cfg afterwards.
func New(cfg Config, have ledger.Vector) (*Syncer, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Syncer{
		cfg:   cfg,
		rnd:   cfg.Rand,
		logs:  make(map[ledger.Author]*authorLog, len(have)),
		peers: make(map[PeerID]*peer),
		pulls: make(map[uint64]*inflight),
		forks: make(map[forkKey]struct{}),
	}
	for _, a := range have.Authors() {
		h := have[a]
		if h.Seq == 0 || a == (ledger.Author{}) {
			return nil, fmt.Errorf("syncer: new: head %s/%d: %w", a.Short(), h.Seq, ErrConfig)
		}
		l := s.logFor(a)
		l.have, l.offered, l.recentLo = h, h.Seq, h.Seq
		l.recent[h.Seq%recentWindow] = h.Hash
	}
	s.nextExchange = s.jitter()
	return s, nil
}

// logFor returns a's log, made empty if the Syncer knew nothing of it.
func (s *Syncer) logFor(a ledger.Author) *authorLog {
	if l := s.logs[a]; l != nil {
		return l
	}
	l := &authorLog{a: a, ahead: make(map[ledger.Seq]item)}
	s.logs[a] = l
	i, _ := slices.BinarySearchFunc(s.authors, a, compareAuthors)
	s.authors = slices.Insert(s.authors, i, a)
	return l
}

// peerFor returns the peer with id, known but down if it was new.
func (s *Syncer) peerFor(id PeerID) *peer {
	if p := s.peers[id]; p != nil {
		return p
	}
	p := &peer{id: id, known: make(ledger.Vector)}
	s.peers[id] = p
	i, _ := slices.BinarySearch(s.peerIDs, id)
	s.peerIDs = slices.Insert(s.peerIDs, i, id)
	return p
}

func compareAuthors(a, b ledger.Author) int { return bytes.Compare(a[:], b[:]) }

// Tick advances time by one tick: pulls without progress for
// PullTimeoutTicks fail, and an anti-entropy exchange starts when its
// jittered interval is over.
func (s *Syncer) Tick() {
	s.now++
	for _, id := range slices.Sorted(maps.Keys(s.pulls)) {
		if in := s.pulls[id]; in.deadline <= s.now {
			s.endPull(in, pullTimedOut)
		}
	}
	s.expire()
	if s.now >= s.nextExchange {
		var up []PeerID
		for _, id := range s.peerIDs {
			if s.peers[id].up {
				up = append(up, id)
			}
		}
		if len(up) > 0 {
			s.exchange(up[s.rnd.IntN(len(up))])
		}
		s.nextExchange = s.now + s.jitter()
	}
	s.schedule()
}

// expire drops the entries that waited past a gap for BufferTicks while
// their log made no progress.
func (s *Syncer) expire() {
	limit := uint64(s.cfg.BufferTicks)
	for _, a := range s.authors {
		l := s.logs[a]
		if len(l.ahead) == 0 || s.now-l.progress <= limit {
			continue
		}
		for seq, it := range l.ahead {
			if s.now-it.at > limit {
				delete(l.ahead, seq)
				s.buffered--
				s.c.Dropped.Expired++
			}
		}
	}
}

// jitter draws an anti-entropy interval.
func (s *Syncer) jitter() uint64 {
	t := s.cfg.AntiEntropyTicks
	return uint64(max(1, t/2+s.rnd.IntN(t+1)))
}

// Step feeds one input to the Syncer. Bad input returns an error wrapping
// ErrBadMsg or ErrNotNext, and changes nothing.
func (s *Syncer) Step(m Msg) error {
	if err := s.validate(m); err != nil {
		return err
	}
	switch m := m.(type) {
	case PeerUp:
		p := s.peerFor(m.Peer)
		if !p.up {
			p.up, p.refused, p.fetched, p.retryAt = true, nil, false, 0
			s.exchange(m.Peer)
		}
	case PeerDown:
		p := s.peers[m.Peer]
		if p == nil || !p.up {
			break
		}
		p.up = false
		for _, id := range slices.Sorted(maps.Keys(s.pulls)) {
			if in := s.pulls[id]; in.p.Peer == m.Peer {
				s.endPull(in, pullPeerDown)
			}
		}
		delete(s.out.pushes, m.Peer)
	case Heads:
		p := s.peerFor(m.Peer)
		for _, h := range m.Heads {
			p.saw(h.Author, h.Head)
			s.compareHead(m.Peer, h.Author, h.Head)
		}
	case Vector:
		s.vector(m)
	case ExchangeFailed:
		s.c.ExchangeFailures++
		s.peerFor(m.Peer).failures++
	case Entries:
		s.peerFor(m.Peer)
		for _, e := range m.Entries {
			s.ingest(m.Peer, e)
		}
	case PullDone:
		if in := s.pulls[m.Pull.ID]; in != nil && in.p == m.Pull {
			s.endPull(in, pullDone)
		} else {
			s.c.StalePulls++
		}
	case PullFailed:
		if in := s.pulls[m.Pull.ID]; in != nil && in.p == m.Pull {
			s.endPull(in, pullFailed)
		} else {
			s.c.StalePulls++
		}
	case Saved:
		if err := s.saved(m.Entry, false); err != nil {
			return err
		}
	case Rejected:
		s.rejected(m)
	case Appended:
		if err := s.appended(m.Entry); err != nil {
			return err
		}
	case Forked:
		s.forked(m)
	}
	s.schedule()
	return nil
}

// vector takes a peer's frontier.
func (s *Syncer) vector(m Vector) {
	p := s.peerFor(m.Peer)
	p.known = maps.Clone(m.Vector)
	if p.known == nil {
		p.known = make(ledger.Vector)
	}
	p.synced, p.lastSync, p.forks = true, s.now, m.Forks
	s.selfConfirmed = true
	for _, a := range m.Vector.Authors() {
		s.logFor(a)
		s.compareHead(m.Peer, a, m.Vector[a])
	}
	local := uint32(len(s.forks))
	if m.Forks > local || (m.Forks > 0 && (!p.fetched || s.now-p.lastForkFetch >= uint64(s.cfg.ForkRecheckTicks))) {
		if !slices.Contains(s.out.fetch, m.Peer) {
			s.out.fetch = append(s.out.fetch, m.Peer)
			s.c.ForkFetches++
		}
		p.fetched, p.lastForkFetch = true, s.now
	}
}

// compareHead looks for a fork between a peer's head of a's log and what
// the Syncer holds at the same seq, and probes the peer if they differ.
func (s *Syncer) compareHead(from PeerID, a ledger.Author, h ledger.Head) {
	l := s.logFor(a)
	if h.Hash.IsZero() || (l.fork != 0 && h.Seq >= l.fork) {
		return
	}
	var mine ledger.Hash
	switch {
	case h.Seq <= l.have.Seq:
		hash, ok := l.recentHash(h.Seq)
		if !ok {
			return // older than the window: the peer is behind, and will find the fork when it pulls
		}
		mine = hash
	case h.Seq <= l.end():
		mine = l.chain[h.Seq-l.have.Seq-1].e.Hash()
	case l.parked != nil && h.Seq == l.parked.e.Seq():
		mine = l.parked.e.Hash()
	default:
		it, ok := l.ahead[h.Seq]
		if !ok {
			return
		}
		mine = it.e.Hash()
	}
	if mine != h.Hash {
		s.probe(from, a, h.Seq)
	}
}

// saved records that the node stored e. dup says the node reported it as
// a duplicate, which is never bad input.
func (s *Syncer) saved(e ledger.Entry, dup bool) error {
	a := e.Author()
	l := s.logs[a]
	if l != nil && len(l.chain) > 0 && l.chain[0].e.Hash() == e.Hash() {
		l.chain[0] = item{}
		l.chain = l.chain[1:]
		s.stored(l, e)
		s.c.Saved++
		return nil
	}
	var head *ledger.Head
	if l != nil {
		head = l.tipStored()
	}
	err := ledger.CheckNext(head, e)
	switch {
	case ledger.IsBehind(err):
		return nil // a late report of what the Syncer knows stored
	case err != nil && dup:
		return nil
	case err != nil:
		return fmt.Errorf("syncer: saved %s: %v: %w", e, err, ErrNotNext)
	}
	// The node saved an entry the Syncer did not offer: take it as stored,
	// and anything that disagrees with it as a fork.
	l = s.logFor(a)
	s.displace(l, e)
	s.stored(l, e)
	s.c.Saved++
	return nil
}

// tipStored is the stored head, nil for an empty log.
func (l *authorLog) tipStored() *ledger.Head {
	if l.have.Seq == 0 {
		return nil
	}
	h := l.have
	return &h
}

// displace drops what the Syncer queued at e's seq and after, e being
// stored at have.Seq+1 by another way than Ready.Save; a different entry
// at the same seq is a fork.
func (s *Syncer) displace(l *authorLog, e ledger.Entry) {
	if len(l.chain) > 0 {
		s.compare(l.chain[0].from, l.chain[0], e)
		for _, it := range l.chain[1:] {
			s.buffer(l, it)
		}
		l.chain = nil
	}
	if l.parked != nil {
		s.compare(l.parked.from, *l.parked, e)
		l.parked = nil
		s.parked--
	}
	if it, ok := l.ahead[e.Seq()]; ok {
		s.compare(it.from, it, e)
		delete(l.ahead, e.Seq())
		s.buffered--
	}
	l.offered = l.have.Seq
}

// stored records e as the new stored head of l, announces it and moves on
// whatever waited for it.
func (s *Syncer) stored(l *authorLog, e ledger.Entry) {
	l.setHave(e)
	l.progress = s.now
	s.saveGen++
	if s.out.heads == nil {
		s.out.heads = make(map[ledger.Author]ledger.Head)
	}
	s.out.heads[l.a] = l.have
	s.drain(l)
}

func (s *Syncer) rejected(m Rejected) {
	e := m.Entry
	if errors.Is(m.Err, ledger.ErrDuplicate) {
		_ = s.saved(e, true)
		return
	}
	l := s.logs[e.Author()]
	if l == nil || len(l.chain) == 0 || l.chain[0].e.Hash() != e.Hash() {
		// An entry after one rejected before it: Rejected took it back.
		return
	}
	it, rest := l.chain[0], l.chain[1:]
	l.chain, l.offered = nil, l.have.Seq
	if !m.Pending {
		s.c.Refused++
		s.peerFor(it.from).refuse(l.a, e.Seq(), 0)
		// Entries built on a refused one can never be saved.
		s.c.Discarded += uint64(len(rest))
		for seq := range l.ahead {
			if seq > e.Seq() {
				delete(l.ahead, seq)
				s.buffered--
				s.c.Discarded++
			}
		}
		return
	}
	s.c.Pending++
	if s.parked >= s.cfg.MaxParked {
		s.c.Dropped.Parked++
		l.coolUntil = s.now + uint64(s.cfg.AntiEntropyTicks)
	} else {
		l.parked, l.parkedGen, l.parkedAt = &it, s.saveGen, s.now
		s.parked++
	}
	for _, r := range rest {
		s.buffer(l, r)
	}
}

func (s *Syncer) appended(e ledger.Entry) error {
	l := s.logs[e.Author()]
	var head *ledger.Head
	if l != nil {
		head = l.tipStored()
	}
	if err := ledger.CheckNext(head, e); err != nil {
		if ledger.IsBehind(err) {
			if h, ok := l.recentHash(e.Seq()); ok && h == e.Hash() {
				return nil // reported twice
			}
		}
		return fmt.Errorf("syncer: appended %s: %v: %w", e, err, ErrNotNext)
	}
	l = s.logFor(e.Author())
	if len(l.chain) > 0 && l.chain[0].e.Hash() == e.Hash() {
		l.chain[0] = item{}
		l.chain = l.chain[1:]
	} else {
		s.displace(l, e)
	}
	s.stored(l, e)
	s.c.Appended++
	if s.out.pushes == nil {
		s.out.pushes = make(map[PeerID][]ledger.Entry)
	}
	for _, id := range s.peerIDs {
		if !s.peers[id].up {
			continue
		}
		if len(s.out.pushes[id]) >= s.cfg.MaxPushEntries {
			s.c.Dropped.Push++
			continue
		}
		s.out.pushes[id] = append(s.out.pushes[id], e)
	}
	return nil
}

func (s *Syncer) forked(m Forked) {
	a, seq := m.Proof.Author(), m.Proof.Seq()
	k := forkKey{a, seq}
	if _, ok := s.forks[k]; ok {
		return
	}
	s.forks[k] = struct{}{}
	s.c.Forks++
	l := s.logFor(a)
	if l.fork == 0 || seq < l.fork {
		l.fork, l.forkPrevs, l.forkEntries, l.belowAt, l.belowEvery = seq, nil, nil, 0, 0
		s.freeze(l)
	}
	if seq == l.fork {
		l.forkEntries = append(l.forkEntries, m.Proof.A, m.Proof.B)
		for _, h := range []ledger.Hash{m.Proof.A.Prev(), m.Proof.B.Prev()} {
			if !slices.Contains(l.forkPrevs, h) {
				l.forkPrevs = append(l.forkPrevs, h)
			}
		}
	}
}

// freeze drops what l holds at or past its fork, but for the entries
// handed to the node and not reported yet.
func (s *Syncer) freeze(l *authorLog) {
	for i, it := range l.chain {
		if it.e.Seq() >= l.fork && it.e.Seq() > l.offered {
			s.c.Frozen += uint64(len(l.chain) - i)
			clear(l.chain[i:])
			l.chain = l.chain[:i]
			break
		}
	}
	for seq := range l.ahead {
		if seq >= l.fork {
			delete(l.ahead, seq)
			s.buffered--
			s.c.Frozen++
		}
	}
	if l.parked != nil && l.parked.e.Seq() >= l.fork {
		l.parked = nil
		s.parked--
		s.c.Frozen++
	}
}

// exchange queues an exchange of vectors with a peer.
func (s *Syncer) exchange(id PeerID) {
	if !slices.Contains(s.out.exchanges, id) {
		s.out.exchanges = append(s.out.exchanges, id)
		s.c.Exchanges++
	}
}

// CheckAppend reports whether the node may append to its own log: nil, or
// an error wrapping ErrUnconfirmed (no peer has told this node its own
// frontier yet, see Config.Alone), ErrBehind (a peer holds entries of this
// node's log that its store lacks: the data directory was restored from a
// backup, and the Syncer is pulling them back) or ErrForked (the log
// forked; the federation decides).
func (s *Syncer) CheckAppend() error {
	self := s.cfg.Self
	l := s.logs[self]
	if l != nil && l.fork != 0 {
		return fmt.Errorf("syncer: own log %s forks at %d: %w", self.Short(), l.fork, ErrForked)
	}
	if !s.cfg.Alone && !s.selfConfirmed {
		return fmt.Errorf("syncer: own log %s: %w", self.Short(), ErrUnconfirmed)
	}
	var have ledger.Seq
	if l != nil {
		have = l.have.Seq
		if len(l.chain) > 0 || l.parked != nil || len(l.ahead) > 0 {
			return fmt.Errorf("syncer: own log %s at %d, with later entries received and not saved yet: %w", self.Short(), have, ErrBehind)
		}
	}
	for _, id := range s.peerIDs {
		if k := s.peers[id].known[self]; k.Seq > have {
			return fmt.Errorf("syncer: own log %s at %d, peer %s holds %d: %w", self.Short(), have, id, k.Seq, ErrBehind)
		}
	}
	return nil
}

// HasReady reports whether Ready has anything to return.
func (s *Syncer) HasReady() bool {
	if !s.out.empty() {
		return true
	}
	for _, a := range s.authors {
		if l := s.logs[a]; l.end() > l.offered {
			return true
		}
	}
	return false
}

// Ready returns the effects the node must perform, and takes them: the
// next Ready holds only what happens after. The node acts on it (Save
// first, reporting each entry) and then calls Advance.
func (s *Syncer) Ready() Ready {
	var rd Ready
	for _, a := range s.authors {
		l := s.logs[a]
		for _, it := range l.chain {
			if it.e.Seq() > l.offered {
				rd.Save = append(rd.Save, it.e)
			}
		}
		l.offered = max(l.offered, l.end())
	}
	o := &s.out
	rd.Check, rd.Proofs, rd.Pulls, rd.Exchanges, rd.FetchForks = o.checks, o.proofs, o.pulls, o.exchanges, o.fetch
	for _, id := range s.peerIDs {
		if es := o.pushes[id]; len(es) > 0 {
			rd.Pushes = append(rd.Pushes, Push{Peer: id, Entries: es})
		}
	}
	for _, a := range s.authors {
		if h, ok := o.heads[a]; ok {
			rd.Heads = append(rd.Heads, AuthorHead{Author: a, Head: h})
		}
	}
	s.out = outbox{}
	return rd
}

// Advance tells the Syncer that the node acted on rd. Entries of rd.Save
// that were neither Saved nor Rejected are offered again in the next Ready.
func (s *Syncer) Advance(rd Ready) {
	for _, e := range rd.Save {
		l := s.logs[e.Author()]
		if l == nil || len(l.chain) == 0 || e.Seq() <= l.have.Seq || e.Seq() > l.end() {
			continue
		}
		if l.chain[e.Seq()-l.have.Seq-1].e.Hash() == e.Hash() && l.offered > l.have.Seq {
			s.c.Unreported++
			l.offered = l.have.Seq
		}
	}
}

// Vector returns the stored heads, as the Syncer knows them.
func (s *Syncer) Vector() ledger.Vector {
	v := make(ledger.Vector, len(s.logs))
	for a, l := range s.logs {
		if l.have.Seq > 0 {
			v[a] = l.have
		}
	}
	return v
}
