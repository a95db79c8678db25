package syncertest

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
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
	for _, o := range w.nodes {
		if fs := o.state.Forks(); len(fs) != 1 || fs[0].Author != n.author.ID || fs[0].Seq != 2 {
			t.Errorf("%s's state knows forks %+v, want %s frozen at 2", o.id, fs, n.id)
		}
	}
}

// TestCheckCatchesUnappliedFork has every node keep the fork proofs in its
// store without freezing the author in its live state: the check must
// find the live states apart from what their stores replay to.
func TestCheckCatchesUnappliedFork(t *testing.T) {
	w := quiet(t, 2)
	w.o.SkipApplyFork = true
	n := w.nodes[2]
	n.crash()
	n.replaceStore(func(e ledger.Entry) bool { return e.Author() != n.author.ID || e.Seq() == 1 })
	n.start()
	n.append(true)
	w.refreshAll()
	for range 2000 {
		w.now++
		w.step()
		if w.err != nil {
			t.Fatal(w.err)
		}
		if w.converged() {
			break
		}
	}
	err := w.check()
	if err == nil {
		t.Fatal("the live states ignore a fork and the check passed")
	}
	if !strings.Contains(err.Error(), "state hash") {
		t.Errorf("the check failed, but not on the live state: %v", err)
	}
}

// TestForkProofsAtOnePlace is a divergence found by the simulation (seeds
// 1854 and 1946 of SIM_SEEDS=3000): an author that equivocates twice at
// one seq leaves three entries there, lo < mid < hi by hash. A node given
// the proof (lo, hi), then (lo, mid), freezes the author in its state on
// the two lowest hashes, (lo, mid), as federation.ApplyFork must; its
// store must keep that proof too (ledger.Store.AddFork keeps the lowest
// pair of a place), or its live state is no longer what its store replays
// to, and after a restart it differs from the nodes given (lo, mid) first.
func TestForkProofsAtOnePlace(t *testing.T) {
	w := newWorld(t, Options{Seed: 1, Nodes: 2, Ticks: 1, Faults: &Faults{MaxDelay: 1}})
	x := w.nodes[1].author
	es := []ledger.Entry{x.Contribution(t, w.fed, 100, ledgertest.Period), x.Fork(t, w.fed, 1), x.Fork(t, w.fed, 1)}
	slices.SortFunc(es, func(a, b ledger.Entry) int {
		h, k := a.Hash(), b.Hash()
		return bytes.Compare(h[:], k[:])
	})
	lo, mid, hi := es[0], es[1], es[2]
	n := w.nodes[0]
	for _, pair := range [][2]ledger.Entry{{lo, hi}, {lo, mid}} {
		p, err := ledger.NewForkProof(pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !n.keepProof(p) {
			t.Fatalf("keep %s: %v", p, w.err)
		}
	}
	replayed, _, err := n.replay()
	if err != nil {
		t.Fatal(err)
	}
	if live, rep := n.state.Hash(), replayed.Hash(); live != rep {
		stored, _ := n.store.Forks()
		t.Errorf("live state %s (forks %+v), store replays to %s (proofs %v)", live.Short(), n.state.Forks(), rep.Short(), stored)
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
