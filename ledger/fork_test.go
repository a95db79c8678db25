package ledger_test

import (
	"errors"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
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
