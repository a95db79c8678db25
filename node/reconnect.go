package node

import (
	"context"
	"math/rand/v2"
	"time"
)

// reconnectInterval is the mean interval between two attempts to rejoin
// the peers gossip declared dead.
//
// Memberlist never probes a node it declared dead. After a partition heals
// (a VPS whose network went away, a container cut off its network), each
// side holds the other dead and nothing would bring them back together:
// the node that was cut off stays behind for good, and its peers never
// pull what it recorded meanwhile. So, as serf does, the node keeps trying
// to join its dead peers' gossip addresses; a successful join merges both
// views and replication resumes. A peer that left (Leave) is not retried.
const reconnectInterval = 10 * time.Second

// reconnect runs until ctx is done, retrying dead peers.
func (r *replicator) reconnect(ctx context.Context) {
	for {
		// Jittered, so that the two sides of a partition do not retry in step.
		wait := reconnectInterval/2 + rand.N(reconnectInterval)
		select {
		case <-ctx.Done():
			return
		case <-r.done:
			return
		case <-time.After(wait):
		}
		for _, addr := range r.deadPeers() {
			if ctx.Err() != nil {
				return
			}
			if _, err := r.gossip.Join([]string{addr}); err != nil {
				r.n.log.Debug("gossip: rejoin a dead peer", "addr", addr, "err", err)
			} else {
				r.n.log.Info("gossip: rejoined a peer declared dead", "addr", addr)
			}
		}
	}
}

// deadPeers returns the gossip addresses of peers declared dead (not those
// that left).
func (r *replicator) deadPeers() []string {
	r.peersMu.Lock()
	defer r.peersMu.Unlock()
	var addrs []string
	for _, p := range r.peers {
		if !p.up && p.state == "dead" && p.gossipAddr != "" {
			addrs = append(addrs, p.gossipAddr)
		}
	}
	return addrs
}
