package node

import (
	"context"
	"io"
	"testing"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
)

// BenchmarkAppendDiskFloor is a durable local append with the free-space
// check (a statfs of the data directory), against the same append with the
// check off.
func BenchmarkAppendDiskFloor(b *testing.B) {
	cfg := DefaultConfig()
	cfg.DataDir, cfg.Logger = b.TempDir(), nil
	cfg.SyncAddr, cfg.GossipAddr, cfg.AdminAddr = "127.0.0.1:0", "127.0.0.1:0", ""
	n, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	appendOne := func(floor uint64) {
		n.cfg.MinFreeDisk = floor
		if err := appendContribution(n, 100); err != nil {
			b.Fatal(err)
		}
	}
	benchcmp.Run(b, func(int) { appendOne(0) }, func(int) { appendOne(1 << 20) })
}

// BenchmarkBackup is a backup of a 2,000-entry store into io.Discard, in
// the portable format (encoding, checksum), against a raw scan of the same
// store.
func BenchmarkBackup(b *testing.B) {
	m := newMemNode(b)
	for i := range 2000 {
		if err := appendContribution(m.n, int64(100+i)); err != nil {
			b.Fatal(err)
		}
	}
	var sink int
	benchcmp.Run(b, func(int) {
		if err := m.n.store.ScanAll(func(e ledger.Entry) error { sink += len(e.Marshal()); return nil }); err != nil {
			b.Fatal(err)
		}
	}, func(int) {
		if _, err := m.n.Backup(context.Background(), io.Discard); err != nil {
			b.Fatal(err)
		}
	})
	_ = sink
}
