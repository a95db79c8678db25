package node

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
)

// BenchmarkPropagation times an append on one node until every node of the
// federation holds it, for federations of 5 and 20 nodes in this process,
// on loopback, with real TLS, gRPC, memberlist and badger on disk, and the
// LAN gossip profile and default anti-entropy interval of a deployment.
// All are members from the charter. Each iteration appends on the next
// node in turn, then polls every node's state every half millisecond;
// p50-ms and p99-ms are over the iterations (run with -benchtime 100x or
// more for a p99 worth reading).
func BenchmarkPropagation(b *testing.B) {
	for i, nodes := range []int{5, 20} {
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) { benchPropagation(b, nodes, byte(100+30*i)) })
	}
}

func benchPropagation(b *testing.B, size int, seed byte) {
	authors := make([]*ledgertest.Author, size)
	for i := range authors {
		authors[i] = ledgertest.NewAuthor(b, seed+byte(i))
	}
	genesis := authors[0].Genesis(b, fmt.Sprintf("propagation federation of %d", size), authors[1:]...)
	gossipKey := make([]byte, 32)
	rand.Read(gossipKey)

	nodes := make([]*benchNode, size)
	var seeds []string
	for i, a := range authors {
		dir := b.TempDir()
		benchDataDir(b, dir, a.Key, gossipKey, []ledger.Entry{genesis})
		cfg := benchConfig(dir)
		cfg.GossipProfile = "lan"
		cfg.Join = seeds
		nodes[i] = startBenchNode(b, cfg)
		r := nodes[i].repl(b)
		if i == 0 {
			seeds = []string{r.gossip.LocalAddr().String()}
		}
	}
	defer func() {
		for _, bn := range nodes {
			bn.stop(b)
		}
	}()

	// Every node sees every other up, and may append (a peer told it
	// where its own log stands).
	deadline := time.Now().Add(2 * time.Minute)
	for i, bn := range nodes {
		r := bn.repl(b)
		for {
			up := 0
			r.peersMu.Lock()
			for _, pc := range r.peers {
				if pc.up {
					up++
				}
			}
			r.peersMu.Unlock()
			if up == size-1 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("node %d sees %d peers up of %d after 2 minutes", i, up, size-1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	appendOn := func(i int) ledger.Entry {
		for {
			e, err := nodes[i].n.append(benchContribution)
			if err == nil {
				return e
			}
			if time.Now().After(deadline) {
				b.Fatalf("node %d cannot append: %v", i, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// everywhere waits until every node holds e, and returns the time.
	everywhere := func(e ledger.Entry, start time.Time) time.Duration {
		limit := time.Now().Add(time.Minute)
		for j := 0; j < size; {
			n := nodes[j].n
			n.mu.Lock()
			h, ok := n.state.Head(e.Author())
			n.mu.Unlock()
			if ok && h.Seq >= e.Seq() {
				j++
				continue
			}
			if time.Now().After(limit) {
				b.Fatalf("%s not on node %d after a minute", e, j)
			}
			time.Sleep(500 * time.Microsecond)
		}
		return time.Since(start)
	}
	for i := range nodes {
		everywhere(appendOn(i), time.Now())
	}

	var took []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		e := appendOn(i % size)
		took = append(took, everywhere(e, start))
		i++
	}
	b.ReportMetric(ms(percentile(took, 50)), "p50-ms")
	b.ReportMetric(ms(percentile(took, 99)), "p99-ms")
	b.ReportMetric(ms(percentile(took, 100)), "max-ms")
}
