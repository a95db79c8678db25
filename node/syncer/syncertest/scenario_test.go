package syncertest

import (
	"errors"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/syncer"
)

// quiet builds a world of three nodes on a network that only delays, and
// runs it until each node has appended a few entries and the others hold
// them.
func quiet(t *testing.T, seed uint64) *world {
	t.Helper()
	w := newWorld(t, Options{Seed: seed, Nodes: 3, Ticks: 1, Faults: &Faults{Append: 0.3, MaxDelay: 2}})
	for range 60 {
		w.tick()
	}
	w.f.Append = 0
	w.settle(t)
	return w
}

// settle runs the world until the nodes agree.
func (w *world) settle(t *testing.T) {
	t.Helper()
	for range 2000 {
		w.now++
		w.step()
		if w.err != nil {
			t.Fatal(w.err)
		}
		if w.converged() {
			return
		}
	}
	var v violations
	w.agree(&v)
	t.Fatalf("not converged: %v", v.err())
}

// TestRestoredNodeCatchesUpBeforeAppending restores a node's store from
// an old backup: its syncer must refuse its appends until its peers gave
// it back its own log, so that its next entry follows it and nothing
// forks.
func TestRestoredNodeCatchesUpBeforeAppending(t *testing.T) {
	w := quiet(t, 1)
	n := w.nodes[1]
	head, err := n.store.Head(n.author.ID)
	if err != nil || head.Seq < 3 {
		t.Fatalf("own head %v, %v: want a few entries", head, err)
	}
	n.crash()
	n.replaceStore(func(e ledger.Entry) bool { return e.Author() != n.author.ID || e.Seq() == 1 })
	n.start()
	if err := n.sy.CheckAppend(); !errors.Is(err, syncer.ErrUnconfirmed) {
		t.Fatalf("CheckAppend after a restore: %v, want ErrUnconfirmed", err)
	}
	w.refreshAll()
	behind := false
	for range 2000 {
		w.now++
		w.step()
		n.append(false) // tries every tick; refused while behind
		if err := n.sy.CheckAppend(); errors.Is(err, syncer.ErrBehind) {
			behind = true
		}
		if got, _ := n.store.Head(n.author.ID); got.Seq > head.Seq {
			break
		}
	}
	if !behind {
		t.Error("the restored node was never told it was behind")
	}
	if e, err := n.store.Get(n.author.ID, head.Seq); err != nil || e.Hash() != head.Hash {
		t.Fatalf("own entry %d after catching up: %v, %v; want the one held before the restore", head.Seq, e, err)
	}
	w.settle(t)
	if err := w.check(); err != nil {
		t.Fatal(err)
	}
	if w.res.Forks != 0 {
		t.Errorf("%d forks", w.res.Forks)
	}
}

// TestEquivocationDetectedEverywhere has a restored node append over its
// lost entries without waiting: every node must hold the proof, and keep
// the same log below the fork.
func TestEquivocationDetectedEverywhere(t *testing.T) {
	w := quiet(t, 2)
	n := w.nodes[2]
	head, err := n.store.Head(n.author.ID)
	if err != nil || head.Seq < 3 {
		t.Fatalf("own head %v, %v: want a few entries", head, err)
	}
	n.crash()
	n.replaceStore(func(e ledger.Entry) bool { return e.Author() != n.author.ID || e.Seq() == 1 })
	n.start()
	n.append(true) // seq 2, over the one the others hold
	w.refreshAll()
	w.settle(t)
	if err := w.check(); err != nil {
		t.Fatal(err)
	}
	for _, o := range w.nodes {
		if f := o.forkPoints()[n.author.ID]; f != 2 {
			t.Errorf("%s knows %s forked at %d, want 2", o.id, n.id, f)
		}
	}
	if err := n.sy.CheckAppend(); !errors.Is(err, syncer.ErrForked) {
		t.Errorf("the equivocating node: CheckAppend %v, want ErrForked", err)
	}
}

// TestForgedBytesNeverStored floods the network with flipped bytes: they
// must all be refused, and the check must find nothing forged stored.
func TestForgedBytesNeverStored(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		r, err := Run(t, Options{Seed: seed, Ticks: 150, Faults: &Faults{Append: 0.1, Forge: 0.5, Outsider: 0.05, MaxDelay: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Forged == 0 || r.Outsiders == 0 {
			t.Errorf("seed %d: %d forged, %d outsiders: the test forged nothing", seed, r.Forged, r.Outsiders)
		}
	}
}
