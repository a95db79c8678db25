package node

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/syncer"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// names returns the public name of every collective the state knows.
func (n *Node) names() map[ledger.Author]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	names := map[ledger.Author]string{}
	for _, m := range n.state.Members() {
		names[m.Key] = m.Name
	}
	for _, a := range n.state.Applicants() {
		names[a.Key] = a.Name
	}
	return names
}

// unixSeconds is t in seconds since the epoch, 0 for the zero time.
func unixSeconds(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// Peers lists the peers replication knows, with what each holds.
func (b *backend) Peers(context.Context, *rpcv1.PeersRequest) (*rpcv1.PeersResponse, error) {
	n := b.n
	r := n.repl.Load()
	resp := &rpcv1.PeersResponse{}
	if r == nil {
		return resp, nil
	}
	names := n.names()
	r.mu.Lock()
	st := r.sy.Status()
	r.mu.Unlock()
	sync := map[syncer.PeerID]syncer.PeerStatus{}
	for _, p := range st.Peers {
		sync[p.Peer] = p
	}
	r.peersMu.Lock()
	defer r.peersMu.Unlock()
	ids := make([]syncer.PeerID, 0, len(r.peers))
	for id := range r.peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p := r.peers[id]
		s := sync[id]
		var entries uint64
		for _, h := range s.Known {
			entries += uint64(h.Head.Seq)
		}
		resp.Peers = append(resp.Peers, &rpcv1.PeerView{
			Id: string(id), Key: p.author.String(), Name: names[p.author], SyncAddr: p.syncAddr, GossipAddr: p.gossipAddr,
			State: p.state, LastSeenUnix: unixSeconds(p.lastSeen), Entries: entries,
			Lag: s.Ahead, Behind: s.Lag, LastSyncUnix: unixSeconds(p.lastSync),
		})
	}
	return resp, nil
}

func headViews(hs []syncer.AuthorHead) []*rpcv1.HeadView {
	out := []*rpcv1.HeadView{}
	for _, h := range hs {
		out = append(out, &rpcv1.HeadView{Author: string(h.Author.ID()), Seq: uint64(h.Head.Seq), Hash: h.Head.Hash.String()})
	}
	return out
}

// Gossip shows the replication state.
func (b *backend) Gossip(context.Context, *rpcv1.GossipRequest) (*rpcv1.GossipResponse, error) {
	n := b.n
	r := n.repl.Load()
	if r == nil {
		return nil, invalid("this node has no federation yet: nothing is replicated")
	}
	r.mu.Lock()
	st := r.sy.Status()
	cfg := syncer.DefaultConfig()
	r.mu.Unlock()
	resp := &rpcv1.GossipResponse{Vector: headViews(st.Vector), BehindSelf: st.Self.Highest > st.Self.Head}
	r.peersMu.Lock()
	for _, p := range st.Peers {
		var last int64
		if pc := r.peers[p.Peer]; pc != nil {
			last = unixSeconds(pc.lastSync)
		}
		resp.Peers = append(resp.Peers, &rpcv1.PeerFrontier{Peer: string(p.Peer), Vector: headViews(p.Known), LastSyncUnix: last})
	}
	r.peersMu.Unlock()
	for _, g := range st.Gaps {
		resp.Gaps = append(resp.Gaps, &rpcv1.GapView{Author: string(g.Author.ID()), Have: uint64(g.Next) - 1,
			From: uint64(g.Next), To: uint64(g.Last), Buffered: uint32(g.Buffered)})
	}
	n.mu.Lock()
	for _, f := range n.state.Forks() {
		resp.Forks = append(resp.Forks, &rpcv1.ForkView{Author: string(f.Author.ID()), Seq: uint64(f.Seq), First: f.First.String(), Second: f.Second.String()})
	}
	n.mu.Unlock()
	gs := r.gossip.Stats()
	c := st.Counters
	resp.Queues = []*rpcv1.QueueView{
		{Name: "inbox", Depth: uint64(len(r.inbox)), Capacity: uint64(cap(r.inbox)), Dropped: r.dropped.Load()},
		{Name: "gap buffer", Depth: uint64(sumBuffered(st.Gaps)), Capacity: uint64(cfg.MaxBuffered), Dropped: c.Dropped.Buffer},
		{Name: "parked (pending)", Depth: uint64(len(st.Parked)), Capacity: uint64(cfg.MaxParked), Dropped: c.Dropped.Parked},
		{Name: "pulls in flight", Depth: uint64(len(st.Pulls)), Capacity: uint64(cfg.MaxInflightPulls)},
		{Name: "push", Capacity: uint64(cfg.MaxPushEntries), Dropped: c.Dropped.Push},
		{Name: "gossip broadcasts", Depth: uint64(gs.Queued), Dropped: gs.Dropped},
	}
	return resp, nil
}

func sumBuffered(gaps []syncer.Gap) int {
	n := 0
	for _, g := range gaps {
		n += g.Buffered
	}
	return n
}

// syncStatus fills the sync part of Status.
func (n *Node) syncStatus(st *rpcv1.StatusResponse) {
	r := n.repl.Load()
	if r == nil {
		return
	}
	st.SyncAddr = r.syncAddr
	st.GossipAddr = r.gossip.LocalAddr().String()
	r.mu.Lock()
	s := r.sy.Status()
	r.mu.Unlock()
	for _, p := range s.Peers {
		if p.Up {
			st.Peers++
		}
		if p.Lag == 0 {
			continue
		}
		var theirs uint64
		for _, h := range p.Known {
			theirs += uint64(h.Head.Seq)
		}
		pct := uint32(100)
		if theirs > 0 {
			pct = uint32(min(100, 100*(theirs-p.Lag)/theirs))
		}
		var eta uint32
		if rate := math.Float64frombits(r.rate.Load()); rate >= 1 {
			eta = uint32(min(float64(p.Lag)/rate, math.MaxUint32))
		}
		st.CatchingUp = append(st.CatchingUp, &rpcv1.CatchUp{
			Peer: string(p.Peer), EntriesLeft: p.Lag, BytesLeft: p.Lag * avgEntryBytes, Percent: pct, EtaSeconds: eta,
		})
	}
}

// avgEntryBytes estimates the bytes of entries still to pull.
const avgEntryBytes = 200
