package node

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// contributeN records n contributions on the node.
func contributeN(t *testing.T, nd *Node, n int) {
	t.Helper()
	b := &backend{n: nd}
	for i := range n {
		if _, err := b.Contribute(context.Background(), &rpcv1.ContributeRequest{
			Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "Anne"}}, Amount: "1.25", Period: "2026-11", Category: "dues",
		}); err != nil {
			t.Fatalf("contribution %d: %v", i, err)
		}
	}
}

// fullReplayHash is the state hash a replay of the whole store gives.
func fullReplayHash(t *testing.T, nd *Node) string {
	t.Helper()
	check := &Node{cfg: nd.cfg, log: nd.log, store: nd.store}
	if err := check.replay(); err != nil {
		t.Fatal(err)
	}
	return check.state.Hash().String()
}

// TestCheckpointRestart: a clean stop saves the state; the next start loads
// it, then applies what the store holds beyond it. A stale checkpoint (the
// store grew after it, as after a crash) gives the same state as a full
// replay; a torn one, or one of another ledger, is not used.
func TestCheckpointRestart(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, stateFile)
	n := mustNew(t, testConfig(t, dir))
	contributeN(t, n, 20)
	want := n.state.Hash()
	n.Close()
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no checkpoint after a clean stop: %v", err)
	}

	n = mustNew(t, testConfig(t, dir))
	if got := n.state.Hash(); got != want || !n.fromCheckpoint {
		t.Fatalf("restarted: state %s from the checkpoint %v, want %s from it", got.Short(), n.fromCheckpoint, want.Short())
	}
	if got := fullReplayHash(t, n); got != want.String() {
		t.Fatalf("full replay %s, checkpoint %s", got, want)
	}
	contributeN(t, n, 5)
	want = n.state.Hash()
	n.Close()

	// The checkpoint of before the last five: as if the node had crashed
	// without saving.
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	n = mustNew(t, testConfig(t, dir))
	if got := n.state.Hash(); got != want || !n.fromCheckpoint {
		t.Fatalf("stale checkpoint and the entries after it: state %s (from it: %v), want %s", got.Short(), n.fromCheckpoint, want.Short())
	}
	if got, _ := n.state.Head(n.self); got.Seq != 26 {
		t.Fatalf("own log at seq %d, want 26 (genesis and 25 contributions)", got.Seq)
	}
	contributeN(t, n, 1) // the log goes on from where the store is
	want = n.state.Hash()
	n.Close()

	// Torn, and of another ledger: the full replay, same state.
	good, _ := os.ReadFile(path)
	other := t.TempDir()
	m := mustNew(t, testConfig(t, other))
	contributeN(t, m, 3)
	m.Close()
	foreign, _ := os.ReadFile(filepath.Join(other, stateFile))
	for name, b := range map[string][]byte{"torn": good[:len(good)/2], "foreign": foreign, "garbage": bytes.Repeat([]byte{7}, 100)} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		n = mustNew(t, testConfig(t, dir))
		if got := n.state.Hash(); got != want || n.fromCheckpoint {
			t.Fatalf("%s checkpoint: state %s (from it: %v), want %s from a full replay", name, got.Short(), n.fromCheckpoint, want.Short())
		}
		// The full replay saved a good checkpoint at once.
		if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, good) {
			t.Fatalf("%s checkpoint: after the replay, the file is not the state's checkpoint (%v)", name, err)
		}
		n.Close()
	}
}
