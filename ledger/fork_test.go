package ledger_test

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

func TestForkProof(t *testing.T) {
	key := keyFromSeed(7)
	chain := testChain(t, key)
	fed := chain[0].Hash()
	body := contributionBody(pub(key), fed, 2, chain[0].Hash())
	body.GetContribution().Amount++
	x := mustSign(t, key, body)
	y := chain[1]
	if x.Hash() == y.Hash() {
		t.Fatal("test entries are the same")
	}
	p1, err := ledger.NewForkProof(x, y)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := ledger.NewForkProof(y, x)
	if err != nil {
		t.Fatal(err)
	}
	if string(p1.Marshal()) != string(p2.Marshal()) {
		t.Error("a proof's encoding depends on which entry came first")
	}
	if p1.Author() != authorOf(key) || p1.Seq() != 2 {
		t.Errorf("proof of %s/%d", p1.Author().Short(), p1.Seq())
	}
	back, err := ledger.DecodeForkProof(p1.Marshal())
	if err != nil || back.A.Hash() != p1.A.Hash() || back.B.Hash() != p1.B.Hash() {
		t.Fatalf("round trip: %v", err)
	}
	// Tampered bytes: the signature of an entry no longer verifies.
	raw := p1.Marshal()
	raw[len(raw)-1] ^= 1
	if _, err := ledger.DecodeForkProof(raw); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("tampered proof: %v, want ErrBadSignature", err)
	}
	for _, tc := range []struct {
		name string
		a, b ledger.Entry
	}{
		{"same entry", y, y},
		{"different seqs", chain[1], chain[2]},
		{"different authors", y, testChain(t, keyFromSeed(9))[1]},
		{"zero", ledger.Entry{}, y},
	} {
		if _, err := ledger.NewForkProof(tc.a, tc.b); !errors.Is(err, ledger.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", tc.name, err)
		}
	}
	var fe *ledger.ForkError
	if err := ledger.CheckStored(y, x); !errors.As(err, &fe) {
		t.Fatalf("CheckStored of a fork: %v", err)
	}
	if p, err := fe.Proof(); err != nil || p.A.Hash() != p1.A.Hash() {
		t.Errorf("ForkError.Proof: %v", err)
	}
}

func TestForkProofLowest(t *testing.T) {
	key := keyFromSeed(7)
	chain := testChain(t, key)
	fed := chain[0].Hash()
	var es []ledger.Entry
	for i := range 4 {
		body := contributionBody(pub(key), fed, 2, chain[0].Hash())
		body.GetContribution().Amount += int64(i + 1)
		es = append(es, mustSign(t, key, body))
	}
	es = append(es, chain[1])
	sorted := slices.Clone(es)
	slices.SortFunc(sorted, func(x, y ledger.Entry) int { h1, h2 := x.Hash(), y.Hash(); return bytes.Compare(h1[:], h2[:]) })
	// Whatever the order proofs come in, the lowest pair wins.
	for _, order := range [][2][2]int{{{0, 1}, {2, 3}}, {{2, 3}, {0, 1}}, {{4, 0}, {1, 2}}, {{3, 4}, {0, 4}}} {
		p, err := ledger.NewForkProof(es[order[0][0]], es[order[0][1]])
		if err != nil {
			t.Fatal(err)
		}
		q, err := ledger.NewForkProof(es[order[1][0]], es[order[1][1]])
		if err != nil {
			t.Fatal(err)
		}
		low, _, err := p.Lowest(q)
		if err != nil {
			t.Fatal(err)
		}
		want := map[ledger.Hash]bool{}
		for _, i := range []int{order[0][0], order[0][1], order[1][0], order[1][1]} {
			want[es[i].Hash()] = true
		}
		var lows []ledger.Hash
		for _, e := range sorted {
			if want[e.Hash()] {
				lows = append(lows, e.Hash())
			}
		}
		if low.A.Hash() != lows[0] || low.B.Hash() != lows[1] {
			t.Errorf("order %v: Lowest kept %s and %s, want the two lowest", order, low.A.Hash().Short(), low.B.Hash().Short())
		}
		if _, changed, _ := low.Lowest(p); changed {
			t.Errorf("order %v: the lowest proof changed against one of its sources", order)
		}
	}
	other := testChain(t, keyFromSeed(9))
	p, _ := ledger.NewForkProof(es[0], es[1])
	q, err := ledger.NewForkProof(other[1], mustSign(t, keyFromSeed(9), func() *caissev1.EntryBody {
		b := contributionBody(pub(keyFromSeed(9)), other[0].Hash(), 2, other[0].Hash())
		b.GetContribution().Amount += 9
		return b
	}()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Lowest(q); !errors.Is(err, ledger.ErrMalformed) {
		t.Errorf("Lowest of proofs at different places: %v", err)
	}
}
