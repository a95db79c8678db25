package node

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
)

// The node saves its federation state in the data directory when it stops
// cleanly (state.ckpt) and starts from it, instead of replaying every entry
// of its store: with a million entries, a replay reads and decodes them
// all. The checkpoint is derived data. At start it is used only if every
// head it holds is in the store with the same hash; the entries stored
// after it (a crash after the last clean stop, or entries kept aside as
// pending) are then applied from the store, and the fork proofs again.
// Anything else, a missing, torn, stale or foreign checkpoint, falls back
// to the full replay, which is always right.

// saveCheckpointLocked writes the state; n.mu is held and no group commit
// is in flight, so that the state holds exactly what the store does (less
// what is kept aside as pending).
func (n *Node) saveCheckpointLocked() {
	if n.state == nil {
		return
	}
	if _, ok := n.state.Federation(); !ok {
		return
	}
	path := filepath.Join(n.cfg.DataDir, stateFile)
	if err := writeFileAtomicFunc(path, 0o600, n.state.WriteCheckpoint); err != nil {
		n.log.Warn("state checkpoint not saved: the next start replays the ledger", "file", path, "err", err)
	}
}

// replayFromCheckpoint loads the state from the checkpoint and the entries
// stored after it. It reports false, with the state untouched, when the
// checkpoint is missing or cannot be used.
func (n *Node) replayFromCheckpoint() (bool, error) {
	maxTime, err := n.store.MaxTime()
	if err != nil {
		return false, err
	}
	n.clock = ledger.NewClock(maxTime, uint64(n.cfg.MaxClockAhead.Milliseconds()))
	path := filepath.Join(n.cfg.DataDir, stateFile)
	b, release, err := mapFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		n.log.Warn("state checkpoint unreadable: replaying the ledger", "file", path, "err", err)
		return false, nil
	}
	s, err := federation.LoadCheckpoint(b)
	release()
	if err == nil {
		err = n.checkHeads(s)
	}
	if err != nil {
		n.log.Warn("state checkpoint not used: replaying the ledger", "file", path, "err", err)
		return false, nil
	}
	var held []ledger.Entry
	vec, err := n.store.Vector()
	if err != nil {
		return false, err
	}
	for _, a := range vec.Authors() {
		from := ledger.Seq(1)
		if have, ok := s.Head(a); ok {
			from = have.Seq + 1
		}
		if vec[a].Seq < from {
			continue
		}
		err := n.store.Scan(a, from, func(e ledger.Entry) error {
			switch err := s.Apply(e); {
			case err == nil:
			case isPending(err):
				held = append(held, e)
			case errors.Is(err, federation.ErrForked), errors.Is(err, ledger.ErrDuplicate):
				// Past a fork the checkpoint's state already froze.
			default:
				return fmt.Errorf("node: replay %s after the checkpoint: %w", e, err)
			}
			return nil
		})
		if err != nil {
			n.log.Warn("state checkpoint not used: replaying the ledger", "file", path, "err", err)
			return false, nil
		}
	}
	proofs, err := n.store.Forks()
	if err != nil {
		return false, err
	}
	for _, p := range proofs {
		if err := s.ApplyFork(p.A, p.B); err != nil && !errors.Is(err, ledger.ErrDuplicate) && !isPending(err) {
			n.log.Warn("state checkpoint not used: replaying the ledger", "file", path, "err", err)
			return false, nil
		}
	}
	n.state, n.held = s, held
	return true, nil
}

// checkHeads requires every log of s to end, in the store, with the same
// entry: the store holds everything the checkpoint saw.
func (n *Node) checkHeads(s *federation.State) error {
	for a, h := range s.Vector() {
		e, err := n.store.Get(a, h.Seq)
		if err != nil {
			return fmt.Errorf("head %s/%d: %w", a.Short(), h.Seq, err)
		}
		if e.Hash() != h.Hash {
			return fmt.Errorf("head %s/%d is %s in the store, %s in the checkpoint", a.Short(), h.Seq, e.Hash().Short(), h.Hash.Short())
		}
	}
	return nil
}
