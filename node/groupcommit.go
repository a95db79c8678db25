package node

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Local appends are committed in groups: callers queue their request, and
// whichever of them next holds the apply turn signs, checks and applies
// every queued request in turn under n.mu, then releases n.mu, waits for
// the store turn, and stores them all in one durable transaction, and
// answers each. It gives up the apply turn as soon as it holds the store
// turn, so that the next group is signed and applied while this one waits
// on its fsync: a two-stage pipeline, with groups stored in the order they
// were applied, each chained onto the one before. Many concurrent clients
// share each fsync, and a lone client pays for one.
//
// A group whose commit fails leaves the state ahead of the store until the
// state is rebuilt from it: the group applied after it, chained onto its
// entries, is not stored, and no group is applied until the rebuild
// (n.appendBroken).
//
// Between its apply and its commit, a group is in flight: the state shows
// entries that are not durable yet, for the few milliseconds of an fsync;
// none is acknowledged before it is durable. Whatever compares the state
// with the store, or rebuilds the state from it, first waits for the
// groups in flight (n.inflight).

// appendQueueSize bounds the requests waiting for a group; maxAppendGroup
// bounds a group (one badger transaction).
const (
	appendQueueSize = 1024
	maxAppendGroup  = 512
)

// appendReq is one caller's append, answered when done is closed.
type appendReq struct {
	kind func(*caissev1.EntryBody)
	e    ledger.Entry
	err  error
	done chan struct{}
}

// appendLocked queues kind and waits until a group commit holding it has
// answered: checked, durable and applied, or refused with the reason. A
// caller waits on its answer or on its turn to commit a group, never on
// n.mu, so that the callers a group answered return at once.
func (n *Node) appendLocked(kind func(*caissev1.EntryBody)) (ledger.Entry, error) {
	req := &appendReq{kind: kind, done: make(chan struct{})}
	n.appendQ <- req
	for {
		select {
		case <-req.done:
			return req.e, req.err
		case n.applyTurn <- struct{}{}:
		}
		select {
		case <-req.done:
			// A group committed by another caller held it.
			<-n.applyTurn
			return req.e, req.err
		default:
		}
		// req is still queued, or in the group being stored, which
		// answers it without the apply turn. Apply a group; it holds req
		// unless the queue had more than a group before it.
		n.mu.Lock()
		g := n.applyGroupLocked()
		if len(g.entries) > 0 {
			n.inflight.RLock()
		}
		n.mu.Unlock()
		n.storeTurn <- struct{}{} // once the group before is stored
		<-n.applyTurn
		n.storeGroup(g) // gives up the store turn
	}
}

// group is a group commit: every request taken from the queue, and the
// entries applied, with the requests they answer.
type group struct {
	reqs    []*appendReq
	entries []ledger.Entry
	held    []*appendReq // held[i] asked for entries[i]
}

// applyGroupLocked takes up to maxAppendGroup queued requests, signs,
// checks and applies each in order (State.Apply checks). A request the
// state refuses gets its error now. n.mu is held.
func (n *Node) applyGroupLocked() group {
	var reqs []*appendReq
drain:
	for len(reqs) < maxAppendGroup {
		select {
		case q := <-n.appendQ:
			reqs = append(reqs, q)
		default:
			break drain
		}
	}
	if err := n.appendBroken.Load(); err != nil {
		for _, q := range reqs {
			q.err = *err
		}
		return group{reqs: reqs}
	}
	fid, ok := n.state.Federation()
	if !ok {
		for _, q := range reqs {
			q.err = fmt.Errorf("node: no federation yet: found one with caisse init: %w", federation.ErrNoGenesis)
		}
		return group{reqs: reqs}
	}
	if err := n.checkDisk(); err != nil {
		for _, q := range reqs {
			q.err = err
		}
		return group{reqs: reqs}
	}
	var entries []ledger.Entry
	var held []*appendReq
	// Sign the group as one chain from the state's head, then apply in
	// order. A request the state refuses leaves the rest
	// chained onto an entry that will not exist: they are signed again
	// from the new head.
	for rest := reqs; len(rest) > 0; {
		signed, errs := n.signChainLocked(fid, rest)
		next := []*appendReq(nil)
		for i, q := range rest {
			if errs[i] != nil {
				q.err = errs[i]
				continue
			}
			e := signed[i]
			// Apply checks e first and changes nothing if it refuses it.
			start := time.Now()
			err := n.state.Apply(e)
			n.met.observeApply(start)
			if err != nil {
				q.err = err
				next = rest[i+1:]
				break
			}
			q.e = e
			entries = append(entries, e)
			held = append(held, q)
		}
		rest = next
	}
	return group{reqs: reqs, entries: entries, held: held}
}

// storeGroup stores the entries of a group applied by applyGroupLocked in
// one durable transaction, gives up the store turn, then answers every
// request of the group. If the commit fails, the state is rebuilt from the
// store, so that nothing unstored stays applied, and every request of the
// group gets the error. n.mu is not held; the store turn is; n.inflight is
// read-locked if the group has entries.
func (n *Node) storeGroup(g group) {
	defer func() {
		for _, q := range g.reqs {
			close(q.done)
		}
	}()
	if len(g.entries) == 0 {
		<-n.storeTurn
		return
	}
	fail := func(err error) {
		for _, q := range g.held {
			q.err = fmt.Errorf("node: store %s: %w", q.e, err)
			q.e = ledger.Entry{}
		}
	}
	if err := n.appendBroken.Load(); err != nil {
		// The group before this one failed: this one is chained onto
		// entries that are not stored. Its entries go when the state is
		// rebuilt, once it lets go of n.inflight.
		n.inflight.RUnlock()
		<-n.storeTurn
		fail(*err)
		return
	}
	start := time.Now()
	err := n.store.Append(g.entries...)
	n.met.observeCommit("local", start)
	n.inflight.RUnlock()
	if err != nil {
		// No group is applied and none stored from here until the state
		// is rebuilt; the one applied after this one gives up when it
		// gets the store turn, and lets go of n.inflight for the rebuild.
		broken := fmt.Errorf("an earlier group of appends failed to commit: %w", err)
		n.appendBroken.Store(&broken)
		<-n.storeTurn
		n.mu.Lock()
		n.log.Error("append: commit failed; rebuilding the state from the store", "entries", len(g.entries), "err", err)
		n.inflight.Lock()
		rerr := n.replay()
		if rerr == nil {
			n.appendBroken.Store(nil)
		}
		n.inflight.Unlock()
		n.mu.Unlock()
		if rerr != nil {
			// The store cannot be read back: nothing sane can go on.
			panic(fmt.Sprintf("node: rebuild state after a failed commit: %v (commit: %v)", rerr, err))
		}
		fail(err)
		return
	}
	<-n.storeTurn
	n.met.applied.WithLabelValues("local").Add(float64(len(g.entries)))
	n.log.Debug("appended", "author", n.self.Short(), "entries", len(g.entries), "seq", g.entries[len(g.entries)-1].Seq())
}

// signChainLocked makes the entries of reqs, in order, as the next entries
// of this node's log after the state's head: each body's prev is the hash
// of the one before, computed from its encoding, so that the signatures,
// the costly part, are made on every core at once. errs[i] is set for a
// request whose body cannot be signed; the chain goes on without it. n.mu
// is held.
func (n *Node) signChainLocked(fid ledger.Hash, reqs []*appendReq) ([]ledger.Entry, []error) {
	bodies := make([]*caissev1.EntryBody, len(reqs))
	hashes := make([]ledger.Hash, len(reqs))
	errs := make([]error, len(reqs))
	seq, prev := uint64(1), []byte(nil)
	if h, ok := n.state.Head(n.self); ok {
		seq, prev = uint64(h.Seq)+1, h.Hash[:]
	}
	for i, q := range reqs {
		body := &caissev1.EntryBody{Federation: fid[:], Author: n.self[:], Seq: seq, Prev: prev}
		body.Time = n.clock.Now(n.nowMs()).Proto()
		q.kind(body)
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(body)
		if err != nil {
			errs[i] = fmt.Errorf("node: sign: encode: %w", err)
			continue
		}
		bodies[i], hashes[i] = body, ledger.HashBody(raw)
		seq, prev = seq+1, hashes[i][:]
	}
	entries := make([]ledger.Entry, len(reqs))
	workers := min(runtime.GOMAXPROCS(0), len(reqs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(reqs); i += workers {
				if errs[i] != nil {
					continue
				}
				e, err := n.signer.Sign(bodies[i])
				switch {
				case err != nil:
					errs[i] = fmt.Errorf("node: sign: %w", err)
				case e.Hash() != hashes[i]:
					errs[i] = fmt.Errorf("node: sign %s: the encoding changed between two calls", e)
				default:
					entries[i] = e
				}
			}
		})
	}
	wg.Wait()
	return entries, errs
}
