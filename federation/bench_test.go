package federation_test

import (
	"crypto/ed25519"
	"crypto/sha256"
	"testing"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
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

// BenchmarkApplyCounted is BenchmarkApply for a caisse that keeps sums of
// its own for the entries that count (an admitted member with an entry
// dated before its admission): each contribution updates both sums.
func BenchmarkApplyCounted(b *testing.B) {
	f := newFixture(b, 0)
	f.shareClock()
	x := f.applicant(50, "Caisse X")
	app := x.next(b, application("Caisse X"))
	early := x.next(b, contrib(5, "2026-01", dues)) // before its admission: counts for nothing
	p := f.founder.next(b, admit(x.id))
	v := f.founder.next(b, vote(p, yes))
	periods := []string{"2026-01", "2026-02", "2026-03"}
	entries := make([]ledger.Entry, b.N)
	for i := range entries {
		entries[i] = x.next(b, contrib(ledger.Amount(1000+i%5000), periods[i%len(periods)], dues))
	}
	msg := append([]byte(signContext), entries[0].BodyBytes()...)
	pub, sig := ed25519.PublicKey(x.id[:]), entries[0].Signature()
	s := stateOf(b, f.genesis, app, p, v, early)
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

// BenchmarkCatchUpGovernance applies 300 proposals and votes of three
// members author by author, as a node catching up pulls them, through
// Settle (votes wait for their proposals): most come out of the canonical
// order and make the fold start again. The baseline verifies their 300
// signatures, which ingest pays anyway.
func BenchmarkCatchUpGovernance(b *testing.B) {
	f := newFixture(b, 2)
	f.shareClock()
	var props []ledger.Entry
	var logs [3][]ledger.Entry
	for i := range 100 {
		for j, w := range f.writers() {
			var e ledger.Entry
			if i%4 == 0 && j == i%3 {
				e = w.next(b, exclude(f.writers()[(j+1)%3].id))
				props = append(props, e)
			} else if len(props) > 0 {
				e = w.next(b, vote(props[len(props)-1], []caissev1.Choice{yes, no, abstain}[(i+j)%3]))
			} else {
				e = w.next(b, contrib(1, "2026-01", dues))
			}
			logs[j] = append(logs[j], e)
		}
	}
	var all []ledger.Entry
	for _, l := range logs {
		all = append(all, l...)
	}
	b.ReportAllocs()
	benchcmp.Run(b, func(int) {
		for _, e := range all {
			if err := e.Verify(); err != nil {
				b.Fatal(err)
			}
		}
	}, func(int) {
		s := stateOf(b, f.genesis)
		if waiting, dropped, err := s.Settle(all, nil); len(waiting) != 0 || len(dropped) != 0 || err != nil {
			b.Fatalf("Settle: %d waiting, dropped %v, %v", len(waiting), dropped, err)
		}
	})
}
