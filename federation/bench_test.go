package federation_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
)

// signContext is ledger's prefix of signed bytes; the benchmark checks
// that it still verifies, so a change in ledger shows here.
const signContext = "caisse/entry/v1\x00"

// BenchmarkApply applies b.N contributions, signed before the timer, in
// chain order, against the cost of verifying one entry's signature: the
// ratio says what applying adds to what ingest must pay anyway.
func BenchmarkApply(b *testing.B) {
	f := newFixture(b, 3)
	a := f.cofounders[0]
	periods := []string{"2026-01", "2026-02", "2026-03"}
	entries := make([]ledger.Entry, b.N)
	for i := range entries {
		entries[i] = a.next(b, contrib(ledger.Amount(1000+i%5000), periods[i%len(periods)], dues))
	}
	msg := append([]byte(signContext), entries[0].BodyBytes()...)
	pub, sig := ed25519.PublicKey(a.id[:]), entries[0].Signature()
	if !ed25519.Verify(pub, msg, sig) {
		b.Fatal("the baseline's signature does not verify: has ledger's signing context changed?")
	}
	s := stateOf(b, f.genesis)
	b.ReportAllocs()
	benchcmp.Run(b, func(int) {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify failed")
		}
	}, func(i int) {
		if err := s.Apply(entries[i]); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkHash hashes a State of 10k entries against SHA-256 over 64
// bytes an entry.
func BenchmarkHash(b *testing.B) {
	const n = 10_000
	sc := newScenario(b, 7, 3, n/4)
	s := stateOf(b, sc.interleave(0)...)
	if s.Entries() != n+1 {
		b.Fatalf("%d entries, want %d", s.Entries(), n+1)
	}
	data := make([]byte, n*64)
	var sink [32]byte
	var got ledger.Hash
	b.ReportAllocs()
	benchcmp.Run(b, func(int) { sink = sha256.Sum256(data) }, func(int) { got = s.Hash() })
	_, _ = sink, got
}
