package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
)

// outcome is what ingest did with one entry received from a peer.
type outcome int

const (
	stored    outcome = iota // checked, durable, applied
	duplicate                // already held
	pending                  // may become valid once other entries arrive
	refused                  // never valid: a forgery, a non-member, a bad chain
	forked                   // an equivocation: the proof is kept
)

func (o outcome) String() string {
	return [...]string{"stored", "duplicate", "pending", "refused", "forked"}[o]
}

// result is ingest's answer for one entry.
type result struct {
	e     ledger.Entry
	out   outcome
	err   error
	proof ledger.ForkProof // for forked
}

// ingest checks entries received from peers against the federation state,
// applies them, then stores all that passed in one durable transaction
// (group commit; more than one for a batch over maxIngestTxn). The entries
// are verified already and come in seq order per author. If a commit
// fails, the state is rebuilt from the store, so that nothing unstored
// stays applied, and every entry of the batch is reported pending (those
// stored before the failure come again as duplicates).
func (n *Node) ingest(entries []ledger.Entry) (results []result) {
	n.mu.Lock()
	defer n.mu.Unlock()
	defer func() { n.met.ingested(results) }()
	results = make([]result, len(entries))
	if err := n.checkDisk(); err != nil {
		// Paused, not refused: the entries come again once there is room.
		for i, e := range entries {
			results[i] = result{e: e, out: pending, err: err}
		}
		return results
	}
	var batch []ledger.Entry
	var batchIdx []int
	now := n.nowMs()
	for i, e := range entries {
		results[i] = result{e: e}
		r := &results[i]
		if err := n.clock.Check(e.Time(), now); err != nil {
			r.out, r.err = pending, err // the clock may catch up; never applied meanwhile
			continue
		}
		// Apply checks e first and changes nothing if it refuses it: one
		// pass over the state, not a Check and then an Apply.
		start := time.Now()
		err := n.state.Apply(e)
		n.met.observeApply(start)
		switch {
		case err == nil:
		case errors.Is(err, ledger.ErrDuplicate):
			r.out, r.err = duplicate, err
			continue
		case errors.Is(err, ledger.ErrFork):
			r.out, r.err = forked, err
			p, ferr := n.recordForkLocked(e)
			if ferr != nil {
				r.out, r.err = refused, ferr
			}
			r.proof = p
			continue
		case isPending(err):
			r.out, r.err = pending, err
			continue
		default:
			r.out, r.err = refused, err
			continue
		}
		_ = n.clock.Observe(e.Time(), now)
		batch = append(batch, e)
		batchIdx = append(batchIdx, i)
	}
	if len(batch) == 0 {
		return results
	}
	err := n.storeChunks(batch)
	if err != nil {
		n.log.Error("ingest: commit failed; rebuilding the state from the store", "entries", len(batch), "err", err)
		n.inflight.Lock() // local appends in flight first reach the store
		rerr := n.replay()
		n.inflight.Unlock()
		if rerr != nil {
			// The store cannot be read back: nothing sane can go on.
			panic(fmt.Sprintf("node: rebuild state after a failed commit: %v (commit: %v)", rerr, err))
		}
		for _, i := range batchIdx {
			results[i].out, results[i].err = pending, fmt.Errorf("node: store: %w", err)
		}
		return results
	}
	for _, i := range batchIdx {
		results[i].out = stored
	}
	n.settleLocked()
	return results
}

// maxIngestTxn bounds the bytes of entries ingest stores in one
// transaction, well under the store's largest (badgerstore: 15% of a
// memtable). A batch from the sync loop is usually one streamed batch of a
// pull (api.MaxBatchBytes), but entries kept aside can join it.
const maxIngestTxn = 512 << 10

// storeChunks stores entries in order, in durable transactions of at most
// maxIngestTxn bytes (one entry may go over alone). n.mu is held.
func (n *Node) storeChunks(entries []ledger.Entry) error {
	for len(entries) > 0 {
		k, size := 0, 0
		for k < len(entries) && (k == 0 || size+entries[k].Size() <= maxIngestTxn) {
			size += entries[k].Size()
			k++
		}
		start := time.Now()
		err := n.store.Append(entries[:k]...)
		n.met.observeCommit("peer", start)
		if err != nil {
			return err
		}
		entries = entries[k:]
	}
	return nil
}

// isPending reports whether an entry refused with err may become valid once
// other entries arrive.
func isPending(err error) bool {
	return errors.Is(err, federation.ErrPending) || errors.Is(err, federation.ErrNoGenesis) || errors.Is(err, ledger.ErrGap)
}

// recordForkLocked keeps the proof that e's author equivocated at e's seq,
// durably, and freezes the author in the state. n.mu is held.
func (n *Node) recordForkLocked(e ledger.Entry) (ledger.ForkProof, error) {
	mine, err := n.store.Get(e.Author(), e.Seq())
	if err != nil {
		return ledger.ForkProof{}, fmt.Errorf("node: fork of %s: read the stored entry: %w", e, err)
	}
	p, err := ledger.NewForkProof(mine, e)
	if err != nil {
		return ledger.ForkProof{}, fmt.Errorf("node: fork of %s: %w", e, err)
	}
	return p, n.addForkLocked(p)
}

// addFork keeps a fork proof, durably, and freezes its author.
func (n *Node) addFork(p ledger.ForkProof) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.addForkLocked(p)
}

// addForkLocked stores a proof and applies it to the state. n.mu is held.
func (n *Node) addForkLocked(p ledger.ForkProof) error {
	if err := n.store.AddFork(p); err != nil {
		return fmt.Errorf("node: keep %s: %w", p, err)
	}
	switch err := n.state.ApplyFork(p.A, p.B); {
	case errors.Is(err, ledger.ErrDuplicate):
		return nil // known already
	case errors.Is(err, federation.ErrPending):
		// About a collective the state does not know yet: the proof is
		// kept and applied when the store is replayed.
		n.log.Info("fork proof kept for later", "author", p.Author().Short(), "err", err)
		return nil
	case err != nil:
		return fmt.Errorf("node: apply %s: %w", p, err)
	}
	n.log.Warn("fork detected: the author is frozen at the fork point", "author", p.Author().Short(), "seq", p.Seq())
	return nil
}
