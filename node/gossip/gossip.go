// Package gossip is the node's membership and notification layer: a small
// wrapper around hashicorp/memberlist (SWIM) that tracks which nodes of the
// federation are up, where their gRPC sync endpoint is, and gossips the new
// head of an author's log when a node appends or learns entries.
//
// # A hint, never an authority
//
// Every packet is encrypted and authenticated with the federation's gossip
// key (AES-GCM) and labelled with the federation id, so outsiders can
// neither read nor inject. But every node holds the key, and so does anyone
// a node's operator leaks it to: any key holder can forge membership
// (names, addresses, deaths) and heads. So nothing here is trusted:
//
//   - a Head means only "maybe pull (Author, up to Seq) from someone". The
//     entries themselves travel over gRPC, where they are verified against
//     their authors' keys and chains; a false head costs one useless pull.
//   - Member names and addresses are where to try, not who is there: a gRPC
//     peer is authenticated by its TLS key (node/tlsid), never by gossip.
//   - State (alive, dead, left) is a liveness hint. Memberlist's view can
//     take a couple of push/pull intervals to settle (DESIGN.md), so nothing
//     may assume it complete or current.
//
// Money and membership never depend on this package.
//
// # Heads
//
// Broadcast queues a head in a memberlist TransmitLimitedQueue, which hands
// it out on gossip packets a bounded number of times (RetransmitMult ×
// log(N+1)). A queued head is replaced by a newer one for the same author,
// and the queue is bounded (Config.QueueLimit): the oldest, most-sent heads
// are dropped first and counted (Stats.Dropped). Memberlist does not forward
// user messages, so a node that receives a head it has not seen passes it
// to the Handler once and queues it again itself: heads spread epidemically
// and reach nodes the sender never picked. A received message that does not
// decode is counted (Stats.Malformed) and ignored.
//
// # Addresses and ports
//
// With BindPort 0 memberlist asks the kernel for a free TCP port, binds UDP
// on the same number (retrying up to 10 times if that UDP port is taken),
// and advertises that port: LocalAddr returns it. AdvertisePort can then not
// be set: memberlist would overwrite it. With AdvertiseAddr empty and a
// specific BindAddr, the node advertises BindAddr; with BindAddr 0.0.0.0 it
// advertises the first private (RFC 1918) address of the machine and fails
// if there is none: a VPS with only a public address must set
// AdvertiseAddr.
package gossip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/caisse-coop/caisse/ledger"
)

// Config configures a Gossip. New validates it.
type Config struct {
	// Name is this node's name in memberlist, unique in the federation: the
	// node id. 1 to 255 bytes of UTF-8.
	Name string
	// BindAddr is the IP address (not a host name) to listen on for gossip,
	// TCP and UDP. Ignored when Transport is set.
	BindAddr string
	// BindPort is the port to listen on, TCP and UDP; 0 picks a free one
	// (see the package comment). Ignored when Transport is set.
	BindPort int
	// AdvertiseAddr is the IP address other nodes reach this one at, when
	// it differs from BindAddr (NAT, or BindAddr 0.0.0.0). Empty: see the
	// package comment.
	AdvertiseAddr string
	// AdvertisePort is the port other nodes reach this one at; 0 means
	// BindPort. It must be 0 when BindPort is 0.
	AdvertisePort int
	// Profile selects memberlist's timing: "lan" (the default when empty),
	// "wan" or "local" (loopback).
	Profile string
	// Key is the federation's gossip key, 16, 24 or 32 bytes (AES-128,
	// -192 or -256). Required: gossip is never sent in clear.
	Key []byte
	// Label is the federation id, at most 255 bytes. Memberlist prefixes
	// every packet and stream with it and authenticates it with the key, so
	// nodes of different federations sharing a key or an address never mix.
	Label string
	// Meta is advertised to the other nodes in this node's metadata.
	Meta Meta
	// QueueLimit bounds the heads waiting to be gossiped; 0 means 1024.
	QueueLimit int
	// Logger receives this package's and memberlist's logs (memberlist's
	// [DEBUG] lines at slog.LevelDebug). Nil discards them.
	Logger *slog.Logger
	// Now is the clock for Member.Since; nil means time.Now.
	Now func() time.Time
	// Transport, if set, replaces memberlist's UDP/TCP transport, for
	// example with a memberlist.MockNetwork's in tests.
	Transport memberlist.NodeAwareTransport

	// tune, set by tests through export_test.go, adjusts memberlist's
	// configuration last (shorter intervals).
	tune func(*memberlist.Config)
}

const (
	defaultQueueLimit = 1024
	seenSize          = 4096
	// maxGone bounds how many dead or left members are remembered.
	maxGone = 256
	// leaveIntentTTL is how long a leave notice makes the next death of
	// that node count as a leave.
	leaveIntentTTL = time.Minute
)

// State is a member's state as this node last heard it.
//
// Memberlist also has a "suspect" state (a node that missed its probes and
// may be declared dead), but v0.7.0 exposes it through none of its public
// API (the State field of the memberlist.Node it hands out is never set), so
// a suspect node shows as alive here until it is declared dead.
type State int

const (
	StateAlive State = iota + 1
	// StateDead is a node that stopped answering probes, or whose leave
	// this node did not hear about.
	StateDead
	// StateLeft is a node that announced its leave (Gossip.Leave).
	StateLeft
)

func (s State) String() string {
	switch s {
	case StateAlive:
		return "alive"
	case StateDead:
		return "dead"
	case StateLeft:
		return "left"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Member is a node of the federation as this node's gossip sees it: a hint.
type Member struct {
	Name string
	// Addr is where the node gossips.
	Addr netip.AddrPort
	// Meta is the node's advertised metadata; zero if it advertised none or
	// it did not decode (counted in Stats.BadMeta).
	Meta  Meta
	State State
	// Since is when this node saw State begin.
	Since time.Time
}

// Handler receives what gossip learns. Memberlist calls it from its own
// goroutines, OnJoin, OnLeave and OnUpdate with its internal node lock
// held: a Handler must return quickly (hand the value to a channel and move
// on) and must not call Join, Leave or Shutdown. It may call Members,
// LocalAddr, Stats and Broadcast. OnJoin, OnLeave and OnUpdate are never
// called concurrently with each other, and never about the local node;
// OnHead may be called concurrently with anything.
type Handler interface {
	// OnHead is called once for each head this node had not seen, with the
	// name of the node that first announced it (as claimed by the message).
	OnHead(from string, h Head)
	// OnJoin is called when a node joins, or comes back after dying.
	OnJoin(m Member)
	// OnLeave is called when a node is declared dead or leaves. It may be
	// called twice for one departure, first with StateDead then StateLeft,
	// when the leave notice is processed after the death (memberlist
	// handles queued messages last in, first out).
	OnLeave(m Member)
	// OnUpdate is called when a node's metadata changes.
	OnUpdate(m Member)
}

// Stats are counters since New, for metrics and tests.
type Stats struct {
	Broadcast uint64 // heads queued by Broadcast
	Received  uint64 // heads received and passed to the Handler
	Duplicate uint64 // heads received again (or our own coming back), ignored
	Relayed   uint64 // received heads queued again for gossip
	Replaced  uint64 // queued heads replaced by a newer one for the same author before being fully sent
	Dropped   uint64 // queued heads dropped because the queue was full
	Malformed uint64 // messages that did not decode, ignored
	BadMeta   uint64 // member metadata that did not decode
	Conflicts uint64 // another address claimed the name of a known node
	Queued    int    // heads waiting in the queue now
}

// Gossip is a running memberlist instance with its delegates.
type Gossip struct {
	name       string
	log        *slog.Logger
	h          Handler
	now        func() time.Time
	meta       []byte
	queueLimit int
	ml         *memberlist.Memberlist

	queue  *memberlist.TransmitLimitedQueue
	qmu    sync.Mutex // serializes queueing; taken before the queue's own lock
	queued map[ledger.Author]*headBroadcast

	seen *seenCache

	// eventMu serializes membership changes and the Handler calls that
	// report them; memberlist's node lock is taken before it, if at all.
	eventMu  sync.Mutex
	mu       sync.Mutex
	members  map[string]*Member
	leaving  map[string]time.Time
	numAlive atomic.Int64

	shutdownMu sync.Mutex
	shutdown   bool

	broadcast, received, duplicate, relayed, replaced, dropped,
	malformed, badMeta, conflicts atomic.Uint64
}

// New validates cfg, starts memberlist and returns the running Gossip. It
// joins no one: call Join. The Handler may be nil.
func New(cfg Config, h Handler) (*Gossip, error) {
	mc, err := memberlistConfig(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := cfg.Meta.encode()
	if err != nil {
		return nil, fmt.Errorf("gossip: meta: %w", err)
	}
	if len(meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("gossip: meta is %d bytes, memberlist allows %d", len(meta), memberlist.MetaMaxSize)
	}
	if h == nil {
		h = nopHandler{}
	}
	g := &Gossip{
		name:       cfg.Name,
		log:        cfg.Logger,
		h:          h,
		now:        cfg.Now,
		meta:       meta,
		queueLimit: cfg.QueueLimit,
		queued:     make(map[ledger.Author]*headBroadcast),
		seen:       newSeenCache(seenSize),
		members:    make(map[string]*Member),
		leaving:    make(map[string]time.Time),
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	if g.now == nil {
		g.now = time.Now
	}
	if g.queueLimit <= 0 {
		g.queueLimit = defaultQueueLimit
	}
	g.queue = &memberlist.TransmitLimitedQueue{
		RetransmitMult: mc.RetransmitMult,
		// Our own count, not the memberlist's: the queue may ask before
		// memberlist.Create returns.
		NumNodes: func() int { return int(max(1, g.numAlive.Load())) },
	}
	g.queue.QueueBroadcast(pin{})
	mc.Logger = log.New(logWriter{g.log}, "", 0)
	mc.Delegate = delegate{g}
	mc.DelegateProtocolVersion = wireVersion
	mc.DelegateProtocolMin = wireVersion
	mc.DelegateProtocolMax = wireVersion
	mc.Events = events{g}
	mc.Conflict = events{g}
	if cfg.tune != nil {
		cfg.tune(mc)
	}
	// The delegates above can be called from here on, before g.ml is set:
	// they must not use it.
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("gossip: start: %w", err)
	}
	g.ml = ml
	g.log.Info("gossip started", "name", g.name, "addr", g.LocalAddr(), "label", mc.Label)
	return g, nil
}

// memberlistConfig checks cfg and translates it.
func memberlistConfig(cfg Config) (*memberlist.Config, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, fmt.Errorf("gossip: %w", err)
	}
	var mc *memberlist.Config
	switch cfg.Profile {
	case "", "lan":
		mc = memberlist.DefaultLANConfig()
	case "wan":
		mc = memberlist.DefaultWANConfig()
	case "local":
		mc = memberlist.DefaultLocalConfig()
	default:
		return nil, fmt.Errorf("gossip: profile %q: want lan, wan or local", cfg.Profile)
	}
	switch len(cfg.Key) {
	case 16, 24, 32:
	default:
		return nil, fmt.Errorf("gossip: key is %d bytes, want 16, 24 or 32", len(cfg.Key))
	}
	if len(cfg.Label) > memberlist.LabelMaxSize {
		return nil, fmt.Errorf("gossip: label is %d bytes, at most %d", len(cfg.Label), memberlist.LabelMaxSize)
	}
	mc.Name = cfg.Name
	mc.SecretKey = slices.Clone(cfg.Key)
	mc.GossipVerifyIncoming = true
	mc.GossipVerifyOutgoing = true
	mc.Label = cfg.Label
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	if cfg.AdvertiseAddr != "" {
		if _, err := netip.ParseAddr(cfg.AdvertiseAddr); err != nil {
			return nil, fmt.Errorf("gossip: advertise address must be an IP address: %w", err)
		}
	}
	if cfg.Transport != nil {
		mc.Transport = cfg.Transport
		return mc, nil
	}
	// Memberlist reads BindAddr with net.ParseIP and silently listens on
	// every address if that fails; a host name must not do that.
	bind, err := netip.ParseAddr(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("gossip: bind address must be an IP address: %w", err)
	}
	if bind.Is6() && bind.IsUnspecified() && cfg.AdvertiseAddr == "" {
		// Memberlist would advertise "::" itself.
		return nil, errors.New("gossip: bind address :: needs an advertise address")
	}
	if cfg.BindPort < 0 || cfg.BindPort > 65535 || cfg.AdvertisePort < 0 || cfg.AdvertisePort > 65535 {
		return nil, fmt.Errorf("gossip: ports %d, %d out of range", cfg.BindPort, cfg.AdvertisePort)
	}
	if cfg.BindPort == 0 && cfg.AdvertisePort != 0 {
		return nil, errors.New("gossip: advertise port needs a fixed bind port (memberlist advertises the port it picks)")
	}
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.BindPort
	mc.AdvertisePort = cfg.AdvertisePort
	if mc.AdvertisePort == 0 {
		// Memberlist advertises AdvertisePort as given whenever
		// AdvertiseAddr is set, 0 included.
		mc.AdvertisePort = cfg.BindPort
	}
	return mc, nil
}

// Join contacts the given seed nodes ("host:port"; a seed without a port
// gets this node's bind port) and merges their view of the federation. It
// returns how many seeds answered; an error only if none did.
func (g *Gossip) Join(seeds []string) (int, error) {
	n, err := g.ml.Join(seeds)
	if err != nil {
		return n, fmt.Errorf("gossip: join %s: %w", strings.Join(seeds, ","), err)
	}
	return n, nil
}

// Leave tells the federation that this node is leaving, waiting at most
// timeout for memberlist's leave to go out. The node still answers gossip
// until Shutdown, which should follow.
func (g *Gossip) Leave(timeout time.Duration) error {
	g.shutdownMu.Lock()
	defer g.shutdownMu.Unlock()
	if g.shutdown {
		// memberlist.Leave panics after Shutdown.
		return errors.New("gossip: leave after shutdown")
	}
	// Memberlist's leave is a "dead" message from the node about itself,
	// which the others cannot tell from a failure through its API. A leave
	// notice sent to each live member first lets them say "left". It is
	// best effort, and as forgeable as the rest: a hint.
	msg := appendLeave(nil, g.name)
	for _, n := range g.ml.Members() {
		if n.Name != g.name {
			if err := g.ml.SendBestEffort(n, msg); err != nil {
				g.log.Debug("gossip: leave notice", "peer", n.Name, "err", err)
			}
		}
	}
	if err := g.ml.Leave(timeout); err != nil {
		return fmt.Errorf("gossip: leave: %w", err)
	}
	return nil
}

// Shutdown stops gossiping and closes the listeners, without a leave: the
// others will see this node die. It is safe to call more than once.
func (g *Gossip) Shutdown() error {
	g.shutdownMu.Lock()
	defer g.shutdownMu.Unlock()
	if g.shutdown {
		return nil
	}
	g.shutdown = true
	if err := g.ml.Shutdown(); err != nil {
		return fmt.Errorf("gossip: shutdown: %w", err)
	}
	return nil
}

// Name returns this node's name.
func (g *Gossip) Name() string { return g.name }

// LocalAddr returns the address this node advertises for gossip: the one
// to give other nodes as a seed.
func (g *Gossip) LocalAddr() netip.AddrPort {
	g.mu.Lock()
	defer g.mu.Unlock()
	if m := g.members[g.name]; m != nil {
		return m.Addr
	}
	return netip.AddrPort{}
}

// Members returns every node this one knows of, itself included, sorted by
// name: the live ones and the last few hundred dead or left.
func (g *Gossip) Members() []Member {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]Member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, *m)
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Stats returns the counters.
func (g *Gossip) Stats() Stats {
	return Stats{
		Broadcast: g.broadcast.Load(),
		Received:  g.received.Load(),
		Duplicate: g.duplicate.Load(),
		Relayed:   g.relayed.Load(),
		Replaced:  g.replaced.Load(),
		Dropped:   g.dropped.Load(),
		Malformed: g.malformed.Load(),
		BadMeta:   g.badMeta.Load(),
		Conflicts: g.conflicts.Load(),
		Queued:    g.numQueued(),
	}
}

// Broadcast queues h to be gossiped, replacing any head of the same author
// still queued. It returns at once; delivery is best effort (see the package
// comment). A head at seq 0 is refused.
func (g *Gossip) Broadcast(h Head) error {
	if h.Seq == 0 {
		return fmt.Errorf("gossip: broadcast %s: seq 0", h)
	}
	g.seen.add(h)
	g.broadcast.Add(1)
	g.enqueue(h, g.name, false)
	return nil
}

// pin is a message that is never sent, kept in the queue so that the queue
// is never empty. Memberlist v0.7.0's TransmitLimitedQueue restarts its id
// counter whenever it becomes empty (when a head replaces the only queued
// one, or the only one is taken to be sent), and a later message of the same
// length and transmit count then gets the id of one still queued and
// silently replaces it in the queue's B-tree: heads, which all have one
// length, would be lost without Finished being called. Upstream
// hashicorp/memberlist pull requests 263 and 322 fix this; until a release
// has it, the pin keeps the counter from restarting. The pin is longer than
// any packet, so GetBroadcasts never picks it, and the longest message of
// the least-sent tier is the last one Prune drops.
type pin struct{}

var pinMessage = make([]byte, 1<<16) // more than a UDP datagram can carry

func (pin) Invalidates(memberlist.Broadcast) bool { return false }
func (pin) Message() []byte                       { return pinMessage }
func (pin) Finished()                             {}
func (pin) UniqueBroadcast()                      {}

// numQueued is the number of heads in the queue, the pin aside.
func (g *Gossip) numQueued() int { return g.queue.NumQueued() - 1 }

// headBroadcast is one queued head. The queue calls Finished, possibly
// under its own lock, when the head is replaced, fully sent or dropped.
type headBroadcast struct {
	head Head
	msg  []byte
	done atomic.Bool
}

func (b *headBroadcast) Name() string { return string(b.head.Author[:]) }

// Invalidates follows memberlist.NamedBroadcast's contract; the queue
// replaces by Name.
func (b *headBroadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(memberlist.NamedBroadcast)
	return ok && o.Name() == b.Name()
}
func (b *headBroadcast) Message() []byte { return b.msg }
func (b *headBroadcast) Finished()       { b.done.Store(true) }

// enqueue queues h. A relayed head does not replace a queued head of the
// same author at the same or a later seq; the node's own heads always do.
func (g *Gossip) enqueue(h Head, origin string, relay bool) {
	g.qmu.Lock()
	defer g.qmu.Unlock()
	if old := g.queued[h.Author]; old != nil && !old.done.Load() {
		if relay && old.head.Seq >= h.Seq {
			return
		}
		g.replaced.Add(1)
	}
	if relay {
		g.relayed.Add(1)
	}
	b := &headBroadcast{head: h, msg: appendHead(nil, h, origin)}
	g.queued[h.Author] = b
	g.queue.QueueBroadcast(b)
	if n := g.numQueued(); n > g.queueLimit {
		g.queue.Prune(g.queueLimit + 1) // the pin stays
		g.dropped.Add(uint64(n - g.queueLimit))
	}
	if len(g.queued) > 2*g.queueLimit {
		for a, b := range g.queued {
			if b.done.Load() {
				delete(g.queued, a)
			}
		}
	}
}

// receive handles one user message.
func (g *Gossip) receive(buf []byte) {
	m, err := decodeMessage(buf)
	if err != nil {
		g.malformed.Add(1)
		g.log.Debug("gossip: ignored message", "err", err)
		return
	}
	switch m.kind {
	case kindHead:
		if m.name == g.name || !g.seen.add(m.head) {
			g.duplicate.Add(1)
			return
		}
		g.received.Add(1)
		g.h.OnHead(m.name, m.head)
		g.enqueue(m.head, m.name, true)
	case kindLeave:
		g.noteLeave(m.name)
	}
}

// noteLeave records a leave notice for a known node: its death, past or
// coming within leaveIntentTTL, counts as a leave.
func (g *Gossip) noteLeave(name string) {
	g.eventMu.Lock()
	defer g.eventMu.Unlock()
	g.mu.Lock()
	m := g.members[name]
	if m == nil || name == g.name {
		g.mu.Unlock()
		return
	}
	now := g.now()
	var left *Member
	switch m.State {
	case StateAlive:
		g.leaving[name] = now
	case StateDead:
		if now.Sub(m.Since) < leaveIntentTTL {
			m.State, m.Since = StateLeft, now
			left = new(*m)
		}
	}
	g.mu.Unlock()
	if left != nil {
		g.log.Info("gossip: leave", "peer", left.Name, "state", left.State)
		g.h.OnLeave(*left)
	}
}

func (g *Gossip) member(n *memberlist.Node, s State) *Member {
	m := &Member{Name: n.Name, State: s, Since: g.now()}
	if ip, ok := netip.AddrFromSlice(n.Addr); ok {
		m.Addr = netip.AddrPortFrom(ip.Unmap(), n.Port)
	}
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		g.badMeta.Add(1)
		g.log.Warn("gossip: bad metadata", "peer", n.Name, "err", err)
	}
	m.Meta = meta
	return m
}

// setMember records m, keeping at most maxGone dead or left members, and
// reports whether m is another node (for the Handler).
func (g *Gossip) setMember(m *Member) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old := g.members[m.Name]; old != nil && old.State == m.State {
		m.Since = old.Since
	}
	g.members[m.Name] = m
	var alive int64
	var gone []*Member
	for _, x := range g.members {
		if x.State == StateAlive {
			alive++
		} else {
			gone = append(gone, x)
		}
	}
	g.numAlive.Store(alive)
	if len(gone) > maxGone {
		slices.SortFunc(gone, func(a, b *Member) int { return a.Since.Compare(b.Since) })
		for _, x := range gone[:len(gone)-maxGone] {
			delete(g.members, x.Name)
			delete(g.leaving, x.Name)
		}
	}
	return m.Name != g.name
}

// delegate implements memberlist.Delegate.
type delegate struct{ g *Gossip }

func (d delegate) NodeMeta(limit int) []byte {
	if len(d.g.meta) > limit {
		return nil // New checked it against MetaMaxSize
	}
	return d.g.meta
}

func (d delegate) NotifyMsg(b []byte) { d.g.receive(b) }
func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.g.queue.GetBroadcasts(overhead, limit)
}
func (d delegate) LocalState(bool) []byte        { return nil }
func (d delegate) MergeRemoteState([]byte, bool) {}

// events implements memberlist.EventDelegate and ConflictDelegate.
// Memberlist calls them one at a time, with its node lock held.
type events struct{ g *Gossip }

func (e events) NotifyJoin(n *memberlist.Node) {
	g := e.g
	g.eventMu.Lock()
	defer g.eventMu.Unlock()
	m := g.member(n, StateAlive)
	g.mu.Lock()
	delete(g.leaving, n.Name)
	g.mu.Unlock()
	if g.setMember(m) {
		g.log.Info("gossip: join", "peer", m.Name, "addr", m.Addr)
		g.h.OnJoin(*m)
	}
}

func (e events) NotifyLeave(n *memberlist.Node) {
	g := e.g
	g.eventMu.Lock()
	defer g.eventMu.Unlock()
	s := StateDead
	g.mu.Lock()
	if t, ok := g.leaving[n.Name]; ok && g.now().Sub(t) < leaveIntentTTL {
		s = StateLeft
	}
	delete(g.leaving, n.Name)
	g.mu.Unlock()
	m := g.member(n, s)
	if g.setMember(m) {
		g.log.Info("gossip: leave", "peer", m.Name, "state", s)
		g.h.OnLeave(*m)
	}
}

func (e events) NotifyUpdate(n *memberlist.Node) {
	g := e.g
	g.eventMu.Lock()
	defer g.eventMu.Unlock()
	m := g.member(n, StateAlive)
	if g.setMember(m) {
		g.log.Info("gossip: update", "peer", m.Name, "grpc", m.Meta.GRPCAddr)
		g.h.OnUpdate(*m)
	}
}

func (e events) NotifyConflict(existing, other *memberlist.Node) {
	e.g.conflicts.Add(1)
	e.g.log.Warn("gossip: name conflict", "peer", existing.Name,
		"addr", net.JoinHostPort(existing.Addr.String(), fmt.Sprint(existing.Port)),
		"other", net.JoinHostPort(other.Addr.String(), fmt.Sprint(other.Port)))
}

type nopHandler struct{}

func (nopHandler) OnHead(string, Head) {}
func (nopHandler) OnJoin(Member)       {}
func (nopHandler) OnLeave(Member)      {}
func (nopHandler) OnUpdate(Member)     {}

// logWriter turns memberlist's log lines ("[WARN] memberlist: ...") into
// slog records at the matching level.
type logWriter struct{ log *slog.Logger }

var logLevels = []struct {
	prefix string
	level  slog.Level
}{
	{"[DEBUG]", slog.LevelDebug},
	{"[INFO]", slog.LevelInfo},
	{"[WARN]", slog.LevelWarn},
	{"[ERR]", slog.LevelError},
	{"[ERROR]", slog.LevelError},
}

func (w logWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	level := slog.LevelInfo
	for _, l := range logLevels {
		if rest, ok := strings.CutPrefix(line, l.prefix); ok {
			line, level = strings.TrimSpace(rest), l.level
			break
		}
	}
	line = strings.TrimPrefix(line, "memberlist: ")
	w.log.Log(context.Background(), level, line, "component", "memberlist")
	return len(p), nil
}
