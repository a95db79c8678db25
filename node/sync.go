package node

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/api"
	"github.com/caisse-coop/caisse/node/gossip"
	"github.com/caisse-coop/caisse/node/syncer"
	"github.com/caisse-coop/caisse/node/tlsid"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// Limits of the sync runtime.
const (
	inboxSize   = 1024
	rpcTimeout  = 30 * time.Second
	pullTimeout = 2 * time.Minute
)

// replicator runs replication for a node: the sync server, memberlist
// gossip, the deterministic syncer core and the loop that drives it.
type replicator struct {
	n    *Node
	fed  ledger.Hash
	cert tls.Certificate

	// mu guards the syncer: the loop steps it, operator views read it.
	mu sync.Mutex
	sy *syncer.Syncer

	inbox   chan syncer.Msg
	dropped atomic.Uint64 // inbox messages dropped (full)

	grpc     *grpc.Server
	lis      net.Listener
	syncAddr string
	gossip   *gossip.Gossip

	peersMu sync.Mutex
	peers   map[syncer.PeerID]*peerConn

	// saved counts entries saved from peers; rate is their recent rate per
	// second (an exponentially weighted mean, as float64 bits), for the
	// catch-up estimate.
	saved atomic.Uint64
	rate  atomic.Uint64

	// done is closed once the loop has stopped gossip and the sync server.
	done chan struct{}
}

// peerConn is what the node knows of a peer it may sync with.
type peerConn struct {
	author     ledger.Author
	syncAddr   string
	gossipAddr string
	state      string
	lastSeen   time.Time
	lastSync   time.Time
	conn       *grpc.ClientConn
	up         bool
}

func peerID(a ledger.Author) syncer.PeerID { return syncer.PeerID(a.ID()) }

// startReplication starts the sync server, gossip and the sync loop; they
// stop when ctx is done.
func (n *Node) startReplication(ctx context.Context, fed ledger.Hash, gossipKey []byte, seeds []string) (*replicator, error) {
	cert, err := tlsid.Certificate(n.key)
	if err != nil {
		return nil, fmt.Errorf("node: tls identity: %w", err)
	}
	r := &replicator{n: n, fed: fed, cert: cert, inbox: make(chan syncer.Msg, inboxSize), peers: map[syncer.PeerID]*peerConn{}, done: make(chan struct{})}
	vec, err := n.store.Vector()
	if err != nil {
		return nil, err
	}
	cfg := syncer.DefaultConfig()
	cfg.Self = n.self
	cfg.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	cfg.AntiEntropyTicks = max(2, int(n.cfg.AntiEntropy/n.cfg.Tick))
	cfg.Alone = n.alone()
	r.sy, err = syncer.New(cfg, vec)
	if err != nil {
		return nil, fmt.Errorf("node: syncer: %w", err)
	}
	proofs, err := n.store.Forks()
	if err != nil {
		return nil, err
	}
	for _, p := range proofs {
		if err := r.sy.Step(syncer.Forked{Proof: p}); err != nil {
			n.log.Warn("sync: stored fork proof", "err", err)
		}
	}

	// The sync server: TLS authenticates a key, the service authorizes it.
	r.lis, err = net.Listen("tcp", n.cfg.SyncAddr)
	if err != nil {
		return nil, fmt.Errorf("node: sync listen: %w", err)
	}
	r.lis = api.LimitSyncListener(r.lis)
	r.syncAddr = advertised(n.cfg.AdvertiseSync, r.lis.Addr().String())
	creds := credentials.NewTLS(tlsid.ServerConfig(cert, func(ledger.Author) error { return nil }))
	r.grpc = grpc.NewServer(api.SyncServerOptions(creds, n.log.With("part", "sync"))...)
	api.NewSyncServer(r).Register(r.grpc)
	go r.grpc.Serve(r.lis)

	// Gossip: a liveness and address hint only.
	host, port, err := splitHostPort(n.cfg.GossipAddr)
	if err != nil {
		r.stop()
		return nil, fmt.Errorf("node: gossip address: %w", err)
	}
	gcfg := gossip.Config{
		Name: string(n.self.ID()), BindAddr: host, BindPort: port, Profile: n.cfg.GossipProfile,
		Key: gossipKey, Label: fed.String(), Meta: gossip.Meta{GRPCAddr: r.syncAddr}, Logger: n.log.With("part", "gossip"),
	}
	if n.cfg.AdvertiseGossip != "" {
		ah, ap, err := splitHostPort(n.cfg.AdvertiseGossip)
		if err != nil {
			r.stop()
			return nil, fmt.Errorf("node: advertise gossip: %w", err)
		}
		gcfg.AdvertiseAddr, gcfg.AdvertisePort = ah, ap
	}
	r.gossip, err = gossip.New(gcfg, gossipHandler{r})
	if err != nil {
		r.stop()
		return nil, fmt.Errorf("node: gossip: %w", err)
	}
	if len(seeds) > 0 {
		if _, err := r.gossip.Join(seeds); err != nil {
			n.log.Warn("gossip: join", "seeds", seeds, "err", err)
		}
	}
	n.log.Info("replicating", "sync", r.syncAddr, "gossip", r.gossip.LocalAddr().String(), "federation", fed.Short())
	go r.loop(ctx)
	go r.reconnect(ctx)
	return r, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	return host, port, nil
}

// advertised is the address told to peers: the configured one, or the
// bound one.
func advertised(configured, bound string) string {
	if configured != "" {
		return configured
	}
	return bound
}

// alone reports whether this node is its federation's only member and has
// no applicant to hear from.
func (n *Node) alone() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.state.Members()) == 1 && len(n.state.Applicants()) == 0 && n.state.CanAuthor(n.self)
}

func (r *replicator) stop() {
	if r.gossip != nil {
		r.gossip.Leave(2 * time.Second)
		r.gossip.Shutdown()
	}
	if r.grpc != nil {
		done := make(chan struct{})
		go func() { r.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			r.grpc.Stop()
		}
	}
	r.peersMu.Lock()
	for _, p := range r.peers {
		if p.conn != nil {
			p.conn.Close()
		}
	}
	r.peersMu.Unlock()
}

// send hands a message to the loop, or drops it (counted) if the inbox is
// full: the syncer's timeouts and anti-entropy repair what is dropped.
func (r *replicator) send(m syncer.Msg) {
	select {
	case r.inbox <- m:
	default:
		r.dropped.Add(1)
	}
}

// loop drives the syncer, as node/syncer's doc shows.
func (r *replicator) loop(ctx context.Context) {
	ticker := time.NewTicker(r.n.cfg.Tick)
	defer ticker.Stop()
	defer close(r.done)
	defer r.stop()
	sample := time.NewTicker(time.Second)
	defer sample.Stop()
	var last uint64
	var cu catchUp
	for {
		select {
		case <-sample.C:
			now := r.saved.Load()
			prev := math.Float64frombits(r.rate.Load())
			r.rate.Store(math.Float64bits(0.7*prev + 0.3*float64(now-last)))
			last = now
			cu.observe(r, now)
			continue
		case <-ticker.C:
			r.mu.Lock()
			r.sy.Tick()
			r.mu.Unlock()
		case m := <-r.inbox:
			r.mu.Lock()
			if err := r.sy.Step(m); err != nil {
				r.n.log.Debug("sync step", "msg", fmt.Sprintf("%T", m), "err", err)
			}
			r.mu.Unlock()
		case <-ctx.Done():
			return
		}
		r.drain(ctx)
	}
}

// drain performs every Ready: saves inline, RPCs in goroutines whose
// results come back through the inbox.
func (r *replicator) drain(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.sy.HasReady() {
		rd := r.sy.Ready()
		r.save(rd.Save)
		for _, c := range rd.Check {
			r.check(c)
		}
		for _, f := range rd.Proofs {
			if err := r.n.addFork(f.Proof); err != nil {
				r.n.log.Error("sync: keep fork proof", "err", err)
				continue
			}
			r.step(f)
		}
		for _, p := range rd.Pulls {
			go r.pull(ctx, p)
		}
		for _, id := range rd.Exchanges {
			go r.exchange(ctx, id)
		}
		for _, id := range rd.FetchForks {
			go r.fetchForks(ctx, id)
		}
		for _, p := range rd.Pushes {
			go r.push(ctx, p)
		}
		for _, h := range rd.Heads {
			if err := r.gossip.Broadcast(gossip.Head{Author: h.Author, Seq: h.Head.Seq, Hash: h.Head.Hash}); err != nil {
				r.n.log.Debug("gossip: broadcast", "err", err)
			}
		}
		r.sy.Advance(rd)
	}
}

// step steps the syncer; r.mu is held.
func (r *replicator) step(m syncer.Msg) {
	if err := r.sy.Step(m); err != nil {
		r.n.log.Debug("sync step", "msg", fmt.Sprintf("%T", m), "err", err)
	}
}

// save checks, stores and applies entries of Ready.Save, reporting each.
func (r *replicator) save(entries []ledger.Entry) {
	if len(entries) == 0 {
		return
	}
	results := r.n.ingest(entries)
	defer func() {
		for _, res := range results {
			if res.out == stored {
				go r.n.acknowledgeDecisions()
				return
			}
		}
	}()
	for _, res := range results {
		switch res.out {
		case stored:
			r.saved.Add(1)
			r.step(syncer.Saved{Entry: res.e})
		case duplicate:
			r.step(syncer.Rejected{Entry: res.e, Err: res.err})
		case forked:
			r.step(syncer.Forked{Proof: res.proof})
			r.step(syncer.Rejected{Entry: res.e, Err: res.err})
		case pending:
			r.step(syncer.Rejected{Entry: res.e, Err: res.err, Pending: true})
		default:
			r.n.log.Info("sync: refused", "author", res.e.Author().Short(), "seq", res.e.Seq(), "err", res.err)
			r.step(syncer.Rejected{Entry: res.e, Err: res.err})
		}
	}
}

// check compares an entry with the stored one at its place.
func (r *replicator) check(c syncer.Check) {
	stored, err := r.n.store.Get(c.Entry.Author(), c.Entry.Seq())
	if err != nil {
		r.n.log.Warn("sync: read the stored entry to compare", "author", c.Entry.Author().Short(), "seq", c.Entry.Seq(), "err", err)
		return
	}
	var fe *ledger.ForkError
	if errors.As(ledger.CheckStored(stored, c.Entry), &fe) {
		p, err := fe.Proof()
		if err != nil {
			return
		}
		if err := r.n.addFork(p); err != nil {
			r.n.log.Error("sync: keep fork proof", "err", err)
			return
		}
		r.step(syncer.Forked{Peer: c.Peer, Proof: p})
	}
}

// client returns a connection to a peer's sync API.
func (r *replicator) client(id syncer.PeerID) (rpcv1.SyncClient, error) {
	r.peersMu.Lock()
	defer r.peersMu.Unlock()
	p := r.peers[id]
	if p == nil || p.syncAddr == "" {
		return nil, fmt.Errorf("node: no sync address for peer %s", id)
	}
	if p.conn == nil {
		creds := credentials.NewTLS(tlsid.ClientConfig(r.cert, p.author, func(ledger.Author) error { return nil }))
		conn, err := grpc.NewClient(p.syncAddr, grpc.WithTransportCredentials(creds),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(api.MaxSyncMessage)))
		if err != nil {
			return nil, err
		}
		p.conn = conn
	}
	return rpcv1.NewSyncClient(p.conn), nil
}

func (r *replicator) synced(id syncer.PeerID) {
	r.peersMu.Lock()
	defer r.peersMu.Unlock()
	if p := r.peers[id]; p != nil {
		p.lastSync = r.n.cfg.Now()
	}
}

func (r *replicator) pull(ctx context.Context, p syncer.Pull) {
	c, err := r.client(p.Peer)
	if err != nil {
		r.send(syncer.PullFailed{Pull: p, Err: err})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, pullTimeout)
	defer cancel()
	stream, err := c.Pull(ctx, &rpcv1.PullRequest{Federation: r.fed[:], Author: p.Author[:], FromSeq: uint64(p.From), ToSeq: uint64(p.To)})
	if err != nil {
		r.send(syncer.PullFailed{Pull: p, Err: err})
		return
	}
	for {
		batch, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			r.send(syncer.PullFailed{Pull: p, Err: err})
			return
		}
		entries, errs := api.VerifyAll(batch.GetEntries())
		if err := errors.Join(errs...); err != nil {
			// A peer served an entry that does not verify: it is refused
			// here and never stored or relayed.
			r.n.log.Warn("sync: peer served an invalid entry", "peer", p.Peer, "err", err)
			r.send(syncer.PullFailed{Pull: p, Err: err})
			return
		}
		r.send(syncer.Entries{Peer: p.Peer, Entries: entries})
	}
	r.synced(p.Peer)
	r.send(syncer.PullDone{Pull: p})
}

func (r *replicator) exchange(ctx context.Context, id syncer.PeerID) {
	c, err := r.client(id)
	if err != nil {
		r.send(syncer.ExchangeFailed{Peer: id, Err: err})
		return
	}
	vec, err := r.n.store.Vector()
	if err != nil {
		r.send(syncer.ExchangeFailed{Peer: id, Err: err})
		return
	}
	proofs, err := r.n.store.Forks()
	if err != nil {
		r.send(syncer.ExchangeFailed{Peer: id, Err: err})
		return
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := c.Exchange(ctx, &rpcv1.ExchangeRequest{Federation: r.fed[:], Vector: api.VectorProto(vec), Forks: uint32(len(proofs))})
	if err != nil {
		r.send(syncer.ExchangeFailed{Peer: id, Err: err})
		return
	}
	theirs, err := api.VectorFromProto(resp.GetVector())
	if err != nil {
		r.send(syncer.ExchangeFailed{Peer: id, Err: err})
		return
	}
	r.synced(id)
	r.send(syncer.Vector{Peer: id, Vector: theirs, Forks: resp.GetForks()})
}

func (r *replicator) fetchForks(ctx context.Context, id syncer.PeerID) {
	c, err := r.client(id)
	if err != nil {
		r.n.log.Debug("sync: fetch fork proofs", "peer", id, "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	resp, err := c.Forks(ctx, &rpcv1.ForksRequest{Federation: r.fed[:]})
	if err != nil {
		r.n.log.Debug("sync: fetch fork proofs", "peer", id, "err", err)
		return
	}
	for _, m := range resp.GetProofs() {
		p, err := ledger.ForkProofFromProto(m)
		if err != nil {
			r.n.log.Warn("sync: peer sent an invalid fork proof", "peer", id, "err", err)
			continue
		}
		if err := r.n.addFork(p); err != nil {
			r.n.log.Error("sync: keep fork proof", "err", err)
			continue
		}
		r.send(syncer.Forked{Peer: id, Proof: p})
	}
}

func (r *replicator) push(ctx context.Context, p syncer.Push) {
	c, err := r.client(p.Peer)
	if err != nil {
		r.n.log.Debug("sync: push", "peer", p.Peer, "err", err) // anti-entropy repairs a lost push
		return
	}
	ctx, cancel := context.WithTimeout(ctx, rpcTimeout)
	defer cancel()
	req := &rpcv1.PushRequest{Federation: r.fed[:]}
	for _, e := range p.Entries {
		req.Entries = append(req.Entries, e.Proto())
	}
	if _, err := c.Push(ctx, req); err != nil {
		r.n.log.Debug("sync: push", "peer", p.Peer, "err", err)
	}
}

// appended tells the syncer about an entry of this node's own log, stored.
func (r *replicator) appended(e ledger.Entry) { r.send(syncer.Appended{Entry: e}) }

// checkAppend refuses an append while peers hold later entries of this
// node's own log than it does (a restored backup).
func (r *replicator) checkAppend() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sy.CheckAppend()
}

// peerUp records a peer's sync address and starts a session with it.
func (r *replicator) peerUp(a ledger.Author, syncAddr, gossipAddr, state string) {
	if a == r.n.self || syncAddr == "" {
		return
	}
	id := peerID(a)
	r.peersMu.Lock()
	p := r.peers[id]
	if p == nil {
		p = &peerConn{author: a}
		r.peers[id] = p
	}
	if p.syncAddr != syncAddr && p.conn != nil {
		p.conn.Close()
		p.conn = nil
	}
	p.syncAddr, p.gossipAddr, p.state, p.lastSeen = syncAddr, gossipAddr, state, r.n.cfg.Now()
	wasUp := p.up
	p.up = true
	r.peersMu.Unlock()
	if !wasUp {
		r.send(syncer.PeerUp{Peer: id})
	}
}

func (r *replicator) peerDown(a ledger.Author, state string) {
	id := peerID(a)
	r.peersMu.Lock()
	p := r.peers[id]
	wasUp := p != nil && p.up
	if p != nil {
		p.up, p.state, p.lastSeen = false, state, r.n.cfg.Now()
	}
	r.peersMu.Unlock()
	if wasUp {
		r.send(syncer.PeerDown{Peer: id})
	}
}

// gossipHandler turns memberlist events into syncer inputs.
type gossipHandler struct{ r *replicator }

func (h gossipHandler) member(m gossip.Member) (ledger.Author, bool) {
	a, err := ledger.ParseNodeID(m.Name)
	if err != nil {
		h.r.n.log.Debug("gossip: member with a name that is not a node id", "name", m.Name)
		return a, false
	}
	return a, true
}

func (h gossipHandler) OnJoin(m gossip.Member) {
	if a, ok := h.member(m); ok {
		h.r.peerUp(a, m.Meta.GRPCAddr, m.Addr.String(), "alive")
	}
}

func (h gossipHandler) OnUpdate(m gossip.Member) { h.OnJoin(m) }

func (h gossipHandler) OnLeave(m gossip.Member) {
	if a, ok := h.member(m); ok {
		state := "dead"
		if m.State == gossip.StateLeft {
			state = "left"
		}
		h.r.peerDown(a, state)
	}
}

func (h gossipHandler) OnHead(from string, head gossip.Head) {
	a, err := ledger.ParseNodeID(from)
	if err != nil {
		return
	}
	id := peerID(a)
	h.r.peersMu.Lock()
	known := h.r.peers[id] != nil
	h.r.peersMu.Unlock()
	if !known {
		return
	}
	h.r.send(syncer.Heads{Peer: id, Heads: []syncer.AuthorHead{{Author: head.Author, Head: ledger.Head{Seq: head.Seq, Hash: head.Hash}}}})
}

// The sync server's view of the node (api.SyncBackend).

func (r *replicator) Federation() (ledger.Hash, bool) { return r.fed, true }

// Accept lets members and applicants sync. Before the node holds the
// federation's charter (an applicant catching up) it cannot tell, and
// accepts any authenticated key: it has nothing but public entries to
// serve.
func (r *replicator) Accept(a ledger.Author) error {
	r.n.mu.Lock()
	defer r.n.mu.Unlock()
	if _, ok := r.n.state.Federation(); !ok {
		return nil
	}
	if r.n.state.IsKnown(a) {
		return nil
	}
	return fmt.Errorf("%s is neither a member nor an applicant of this federation: %w", a.ID().Short(), federation.ErrUnknownAuthor)
}

func (r *replicator) Vector() (ledger.Vector, error) { return r.n.store.Vector() }

func (r *replicator) PeerVector(a ledger.Author, v ledger.Vector, forks uint32) {
	id := peerID(a)
	r.peersMu.Lock()
	_, known := r.peers[id]
	r.peersMu.Unlock()
	if !known {
		return // a peer reachable only one way: its sessions come from it
	}
	r.synced(id)
	r.send(syncer.Vector{Peer: id, Vector: v, Forks: forks})
}

func (r *replicator) Scan(a ledger.Author, from ledger.Seq, fn func(ledger.Entry) error) error {
	return r.n.store.Scan(a, from, fn)
}

// Receive takes entries a peer pushed. Each is judged at once against the
// state, so that the pusher learns why one is refused; those that may be
// stored (now, or once a gap before them is filled) go to the syncer.
func (r *replicator) Receive(a ledger.Author, entries []ledger.Entry) api.PushResult {
	id := peerID(a)
	r.peersMu.Lock()
	_, known := r.peers[id]
	r.peersMu.Unlock()
	res := api.PushResult{}
	if err := r.n.checkDisk(); err != nil {
		for _, e := range entries {
			res.Refused = append(res.Refused, fmt.Sprintf("%s: %v", e, err))
		}
		return res
	}
	var forward []ledger.Entry
	now := r.n.nowMs()
	r.n.mu.Lock()
	for _, e := range entries {
		if err := r.n.clock.Check(e.Time(), now); err != nil {
			res.Refused = append(res.Refused, fmt.Sprintf("%s: %v", e, err))
			continue
		}
		switch err := r.n.state.Check(e); {
		case err == nil:
			res.Accepted++
			forward = append(forward, e)
		case errors.Is(err, ledger.ErrDuplicate):
			res.Duplicates++
		case errors.Is(err, ledger.ErrFork):
			// An equivocation: the syncer hands it back to compare with
			// the stored entry, and the proof is kept and spread.
			res.Refused = append(res.Refused, fmt.Sprintf("%s: %v: kept as a fork proof", e, ledger.ErrFork))
			forward = append(forward, e)
		case isPending(err):
			res.Buffered++
			forward = append(forward, e)
		default:
			res.Refused = append(res.Refused, fmt.Sprintf("%s: %v", e, err))
		}
	}
	r.n.mu.Unlock()
	if len(forward) == 0 {
		return res
	}
	if !known {
		// An applicant's first push comes before gossip tells us its
		// address: its application is ingested directly.
		for _, x := range r.n.ingest(forward) {
			if x.out != stored && x.out != duplicate {
				res.Refused = append(res.Refused, fmt.Sprintf("%s: %v", x.e, x.err))
			}
		}
		return res
	}
	r.send(syncer.Entries{Peer: id, Entries: forward})
	return res
}

func (r *replicator) Forks() ([]ledger.ForkProof, error) { return r.n.store.Forks() }

// catchUp logs progress while the node is behind its peers, every
// progressEvery, and a summary once it has caught up.
type catchUp struct {
	since      time.Time
	savedStart uint64
	lastLog    time.Time
	lastReopen time.Time // the store was last reopened to unmap its files (mapped.go)
}

const progressEvery = 10 * time.Second

func (c *catchUp) observe(r *replicator, saved uint64) {
	r.mu.Lock()
	st := r.sy.Status()
	r.mu.Unlock()
	var left uint64
	for _, p := range st.Peers {
		left = max(left, p.Lag)
	}
	now := time.Now()
	switch {
	case left > 0 && c.since.IsZero():
		c.since, c.savedStart, c.lastLog = now, saved, now
		r.n.log.Info("catching up", "entries_left", left)
	case left > 0 && now.Sub(c.lastLog) >= progressEvery:
		c.lastLog = now
		rate := math.Float64frombits(r.rate.Load())
		args := []any{"entries_left", left, "saved", saved - c.savedStart, "per_second", int(rate)}
		if rate >= 1 {
			args = append(args, "eta", (time.Duration(float64(left)/rate) * time.Second).Round(time.Second))
		}
		r.n.log.Info("catching up", args...)
	case left == 0 && !c.since.IsZero():
		r.n.log.Info("caught up", "entries", saved-c.savedStart, "took", now.Sub(c.since).Round(time.Millisecond))
		// Catching up decodes and verifies every entry and goes through
		// the whole store: hand the garbage back to the system at once,
		// and unmap the store's files.
		r.n.reopenStore("caught up", time.Second)
		debug.FreeOSMemory()
		c.since = time.Time{}
		return
	}
	if left > 0 && now.Sub(c.lastReopen) >= reopenEvery {
		if mapped, ok := rssFile(); ok && mapped > mappedBudget {
			c.lastReopen = now
			r.n.reopenStore("catching up", 100*time.Millisecond)
		}
	}
}
