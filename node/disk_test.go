package node

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/api"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// snapshot is what must not change when a write is refused.
type snapshot struct {
	state  ledger.Hash
	stored uint64
}

func snap(t *testing.T, n *Node) snapshot {
	t.Helper()
	c, err := n.store.Count()
	if err != nil {
		t.Fatal(err)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return snapshot{state: n.state.Hash(), stored: c}
}

func contributeReq(amount string) *rpcv1.ContributeRequest {
	return &rpcv1.ContributeRequest{Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "Anne Morel"}},
		Amount: amount, Period: "2026-11", Category: "dues"}
}

// appendContribution records a contribution in n's own log (without the
// wait for replication a node with peers has).
func appendContribution(n *Node, amount int64) error {
	_, err := n.appendLocked(func(b *caissev1.EntryBody) {
		b.Kind = contribution(ledger.Pseudonym{7}, amount, "2026-11", "dues", "")
	})
	return err
}

// TestDiskFloorInjected drives the free-space probe: under the floor a
// local write is refused with ResourceExhausted and a remote entry is put
// off (pending), nothing changes; once space returns both go through.
func TestDiskFloorInjected(t *testing.T) {
	f := newExportFixture(t)
	var free atomic.Uint64
	free.Store(1 << 40)
	f.n.cfg.MinFreeDisk = 100 << 20
	f.n.cfg.FreeDisk = func(dir string) (uint64, error) {
		if dir != f.dir {
			t.Errorf("probe of %s, want the data directory %s", dir, f.dir)
		}
		return free.Load(), nil
	}
	ctx := context.Background()
	if err := appendContribution(f.n, 100); err != nil {
		t.Fatalf("with room: %v", err)
	}
	free.Store(99 << 20)
	if err := f.n.health(); !errors.Is(err, api.ErrDiskFull) {
		t.Errorf("health on a nearly full disk: %v, want the disk's reason", err)
	}
	for name, want := range map[string]float64{"caisse_disk_free_bytes": 99 << 20, "caisse_disk_min_free_bytes": 100 << 20} {
		if got := gauge(t, f.n, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	before := snap(t, f.n)
	err := appendContribution(f.n, 200)
	if !errors.Is(err, api.ErrDiskFull) || api.Status(err).Code() != codes.ResourceExhausted ||
		!strings.Contains(err.Error(), "99 MiB free in "+f.dir) || !strings.Contains(err.Error(), "keeps 100 MiB free") {
		t.Fatalf("contribute on a nearly full disk: %v (%v)", err, api.Status(err).Code())
	}
	remote := f.otherEntry(t, contribution(ledger.Pseudonym{9}, 100, "2026-11", "dues", ""))
	f.ingest(t, pending, remote)
	if got := snap(t, f.n); got != before {
		t.Fatalf("refused writes changed the node: %+v -> %+v", before, got)
	}
	// Reads go on.
	if _, err := f.b.Balances(ctx, &rpcv1.BalancesRequest{}); err != nil {
		t.Fatalf("balances on a nearly full disk: %v", err)
	}
	free.Store(101 << 20)
	if err := appendContribution(f.n, 200); err != nil {
		t.Fatalf("once space returned: %v", err)
	}
	f.ingest(t, stored, remote)
	// 0 turns the check off.
	f.n.cfg.MinFreeDisk = 0
	free.Store(0)
	if err := appendContribution(f.n, 300); err != nil {
		t.Fatalf("with the floor off: %v", err)
	}
}

// TestDiskFloorTmpfs runs the real statfs probe on a small tmpfs, filled
// by a file: the node refuses to write below the floor and writes again
// once the file is gone. It needs root (mount); without it, it says so.
func TestDiskFloorTmpfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: mounting a tmpfs needs root; TestDiskFloorInjected covers the logic")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=192m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs as root: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", mnt, err, out)
		}
	})
	dir := filepath.Join(mnt, "data")
	cfg := testConfig(t, dir)
	cfg.MinFreeDisk = 32 << 20
	n := mustNew(t, cfg)
	defer n.Close()
	b := &backend{n: n}
	ctx := context.Background()
	if _, err := b.Contribute(ctx, contributeReq("1.00")); err != nil {
		t.Fatalf("with room: %v", err)
	}
	have, err := freeDisk(dir)
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(mnt, "filler")
	fill, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fill.Write(make([]byte, have-(16<<20))); err != nil { // leaves 16 MiB: under the floor
		t.Fatal(err)
	}
	fill.Close()
	before := snap(t, n)
	_, err = b.Contribute(ctx, contributeReq("2.00"))
	if api.Status(err).Code() != codes.ResourceExhausted || !strings.Contains(err.Error(), "disk nearly full") {
		t.Fatalf("contribute with 16 MiB free and a 32 MiB floor: %v", err)
	}
	if got := snap(t, n); got != before {
		t.Fatalf("a refused write changed the node: %+v -> %+v", before, got)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Contribute(ctx, contributeReq("2.00")); err != nil {
		t.Fatalf("once space returned: %v", err)
	}
}

// gauge reads the value of a gauge without labels from the node's metrics.
func gauge(t *testing.T, n *Node, name string) float64 {
	t.Helper()
	mfs, err := n.met.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}
