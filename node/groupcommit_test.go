package node

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/memstore"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// TestGroupCommit appends from many goroutines at once, some appends valid
// and some refused by the state (a correction of the genesis with a wrong
// hash): every valid one is stored exactly once, in one unbroken chain,
// every refused one gets its error and leaves nothing behind, and the
// store replays to the same state.
func TestGroupCommit(t *testing.T) {
	dir := t.TempDir()
	n := mustNew(t, testConfig(t, dir))
	const writers, each, badWriters, badEach = 24, 8, 4, 3
	var wg sync.WaitGroup
	var mu sync.Mutex
	seqs := map[ledger.Seq]bool{}
	var failures []error
	bad := 0
	for w := range writers + badWriters {
		wg.Go(func() {
			if w >= writers {
				for range badEach {
					_, err := n.append(func(body *caissev1.EntryBody) {
						body.Kind = &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{
							TargetSeq: 1, TargetHash: make([]byte, 32), Reason: "not the genesis's hash",
						}}
					})
					mu.Lock()
					if err != nil {
						bad++
					} else {
						failures = append(failures, nil)
					}
					mu.Unlock()
				}
				return
			}
			for range each {
				e, err := n.append(benchContribution)
				mu.Lock()
				if err != nil {
					failures = append(failures, err)
				} else if seqs[e.Seq()] {
					t.Errorf("seq %d acknowledged twice", e.Seq())
				} else {
					seqs[e.Seq()] = true
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d valid appends failed or bad ones passed: %v", len(failures), failures)
	}
	if bad != badWriters*badEach {
		t.Fatalf("%d bad appends refused, want %d", bad, badWriters*badEach)
	}
	want := ledger.Seq(1 + writers*each) // the genesis, then the contributions
	n.mu.Lock()
	h, _ := n.state.Head(n.self)
	n.mu.Unlock()
	if h.Seq != want || len(seqs) != writers*each {
		t.Fatalf("head at %d with %d acknowledged, want %d and %d", h.Seq, len(seqs), want, writers*each)
	}
	for s := ledger.Seq(2); s <= want; s++ {
		if !seqs[s] {
			t.Fatalf("seq %d stored but not acknowledged", s)
		}
	}
	verifyAndRestart(t, n, dir)
}

// verifyAndRestart checks that n's store verifies against its live state,
// closes n, and checks that a node restarted on dir holds that state.
func verifyAndRestart(t *testing.T, n *Node, dir string) {
	t.Helper()
	v, err := (&backend{n: n}).Verify(context.Background(), &rpcv1.VerifyRequest{})
	if err != nil || !v.GetOk() {
		t.Fatalf("verify: %v %v", err, v.GetProblems())
	}
	n.mu.Lock()
	live := n.state.Hash()
	n.mu.Unlock()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = mustNew(t, testConfig(t, dir))
	defer n.Close()
	if got := n.state.Hash(); got != live {
		t.Fatalf("state after restart %s, live state was %s", got.Short(), live.Short())
	}
}

// nodeOnMemstore returns a new node whose store is swapped for a memstore
// holding the same entries, so that a test can make its commits fail; the
// node gets its own store back and is closed at the end of the test.
func nodeOnMemstore(t *testing.T) (*Node, *memstore.Store) {
	t.Helper()
	n := mustNew(t, testConfig(t, t.TempDir()))
	disk := n.store
	mem := memstore.New()
	if err := disk.ScanAll(func(e ledger.Entry) error { return mem.Append(e) }); err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	n.store = mem
	n.mu.Unlock()
	t.Cleanup(func() {
		n.mu.Lock()
		n.store = disk
		n.mu.Unlock()
		n.Close()
	})
	return n, mem
}

// TestGroupCommitFailure makes every commit fail (a full disk) while many
// goroutines append: each gets the store's error, nothing stays applied,
// and once the disk is back the log goes on from where the store is.
func TestGroupCommitFailure(t *testing.T) {
	n, mem := nodeOnMemstore(t)
	n.mu.Lock()
	before := n.state.Hash()
	n.mu.Unlock()

	mem.FailCommit = func() error { return syscall.ENOSPC }
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 16 {
		wg.Go(func() {
			for range 4 {
				_, err := n.append(benchContribution)
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("append on a full disk: %v, want ENOSPC", err)
		}
	}
	mem.FailCommit = nil
	n.mu.Lock()
	after, h := n.state.Hash(), ledger.Head{}
	if hh, ok := n.state.Head(n.self); ok {
		h = hh
	}
	n.mu.Unlock()
	if after != before || h.Seq != 1 {
		t.Fatalf("after failed commits: state %s at seq %d, want %s at 1", after.Short(), h.Seq, before.Short())
	}
	e, err := n.append(benchContribution)
	if err != nil || e.Seq() != 2 {
		t.Fatalf("append once the disk is back: %v at seq %d, want seq 2", err, e.Seq())
	}
}

// TestGroupCommitSomeFail makes a third of the commits fail while many
// goroutines append, so that failures land between pipelined groups: every
// append is either acknowledged and stored, or refused with the store's
// error and not stored; the log stays one unbroken chain; and the state
// equals a rebuild from the store.
func TestGroupCommitSomeFail(t *testing.T) {
	n, mem := nodeOnMemstore(t)

	rnd := rand.New(rand.NewPCG(7, 7)) // called under mem's lock
	var commits, failed int
	mem.FailCommit = func() error {
		commits++
		if rnd.IntN(3) == 0 {
			failed++
			return syscall.ENOSPC
		}
		return nil
	}
	var mu sync.Mutex
	acked := map[ledger.Seq]ledger.Hash{}
	refused := 0
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 25 {
				e, err := n.append(benchContribution)
				mu.Lock()
				switch {
				case err == nil:
					if _, dup := acked[e.Seq()]; dup {
						t.Errorf("seq %d acknowledged twice", e.Seq())
					}
					acked[e.Seq()] = e.Hash()
				case errors.Is(err, syscall.ENOSPC):
					refused++
				default:
					t.Errorf("append: %v, want success or ENOSPC", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	mem.FailCommit = nil
	if failed == 0 || len(acked) == 0 {
		t.Fatalf("%d commits, %d failed, %d acknowledged: the test exercised nothing", commits, failed, len(acked))
	}
	head, err := mem.Head(n.self)
	if err != nil {
		t.Fatal(err)
	}
	if int(head.Seq) != 1+len(acked) {
		t.Fatalf("store holds %d entries of the node, %d acknowledged (plus the genesis)", head.Seq, len(acked))
	}
	for seq, h := range acked {
		e, err := mem.Get(n.self, seq)
		if err != nil || e.Hash() != h {
			t.Fatalf("acknowledged seq %d: stored %v (%v)", seq, e, err)
		}
	}
	v, err := (&backend{n: n}).Verify(context.Background(), &rpcv1.VerifyRequest{})
	if err != nil || !v.GetOk() {
		t.Fatalf("verify: %v %v", err, v.GetProblems())
	}
	t.Logf("%d commits, %d failed; %d appends acknowledged, %d refused", commits, failed, len(acked), refused)
}
