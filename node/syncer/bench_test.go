package syncer_test

import (
	"math/rand/v2"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/node/syncer"
)

// BenchmarkCatchUp measures the core's own cost per entry when a node
// catches up a log of 4096 entries from one peer: pulls, batches of
// entries, saves, heads. The node's work (verifying, storing, applying) is
// not in it.
func BenchmarkCatchUp(b *testing.B) {
	const n = 4096
	w := newWorld(b)
	author := ledgertest.NewAuthor(b, 9)
	log := chain(b, author, n)
	b.ReportAllocs()
	for b.Loop() {
		cfg := syncer.DefaultConfig()
		cfg.Self, cfg.Rand = w.a.ID, rand.New(rand.NewPCG(1, 1))
		s, err := syncer.New(cfg, nil)
		if err != nil {
			b.Fatal(err)
		}
		step := func(m syncer.Msg) {
			if err := s.Step(m); err != nil {
				b.Fatal(err)
			}
		}
		step(syncer.PeerUp{Peer: "p1"})
		step(syncer.Vector{Peer: "p1", Vector: ledger.Vector{author.ID: log[n-1].Head()}})
		for saved := 0; saved < n; {
			if !s.HasReady() {
				b.Fatalf("stalled at %d", saved)
			}
			rd := s.Ready()
			for _, e := range rd.Save {
				step(syncer.Saved{Entry: e})
				saved++
			}
			for _, p := range rd.Pulls {
				for from := p.From; from <= p.To; from += 64 {
					step(syncer.Entries{Peer: p.Peer, Entries: log[from-1 : min(from+63, p.To)]})
				}
				step(syncer.PullDone{Pull: p})
			}
			s.Advance(rd)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
}
