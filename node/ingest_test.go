package node

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// TestIngestLargeBatch ingests a batch of peer entries several times
// larger than the store's largest transaction: it is stored in several
// transactions, every entry stored and applied.
func TestIngestLargeBatch(t *testing.T) {
	founder, cofounder := ledgertest.NewAuthor(t, 1), ledgertest.NewAuthor(t, 2)
	genesis := founder.Genesis(t, "large batches", cofounder)
	cofounder.SetNow(ledger.HLC{Wall: genesis.Time().Wall + ledgertest.Step})
	note := strings.Repeat("n", ledger.MaxNoteLen)
	const count = 4000 // of about 1.1 kB: 4.4 MB, over three times 15% of a memtable
	es := make([]ledger.Entry, count)
	for i := range es {
		es[i] = cofounder.Next(t, genesis.Hash(), func(b *caissev1.EntryBody) { b.GetContribution().Note = note })
	}
	if size := benchSum(es); size < 3*maxIngestTxn {
		t.Fatalf("the batch is %d bytes: too small to need several transactions", size)
	}
	dir := t.TempDir()
	gossipKey := make([]byte, 32)
	rand.Read(gossipKey)
	benchDataDir(t, dir, founder.Key, gossipKey, []ledger.Entry{genesis})
	n := mustNew(t, testConfig(t, dir))
	defer n.Close()
	for i, r := range n.ingest(es) {
		if r.out != stored {
			t.Fatalf("entry %d: %s %v", i, r.out, r.err)
		}
	}
	head, err := n.store.Head(cofounder.ID)
	if err != nil || head.Seq != count {
		t.Fatalf("store head of the co-founder: %v %v, want seq %d", head, err, count)
	}
	n.mu.Lock()
	h, _ := n.state.Head(cofounder.ID)
	n.mu.Unlock()
	if h.Seq != count || h.Hash != es[count-1].Hash() {
		t.Fatalf("state head of the co-founder at %d, want %d", h.Seq, count)
	}
}
