package ledger_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"filippo.io/edwards25519"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"google.golang.org/protobuf/proto"
)

// chainProtos signs n contributions by key, from seq 1, as wire messages.
func chainProtos(t *testing.T, key ed25519.PrivateKey, n int) []*caissev1.Entry {
	t.Helper()
	fed := ledger.Hash{0xfe}
	var out []*caissev1.Entry
	var prev ledger.Hash
	for seq := ledger.Seq(1); len(out) < n; seq++ {
		e := mustSign(t, key, contributionBody(pub(key), fed, seq, prev))
		out = append(out, e.Proto())
		prev = e.Hash()
	}
	return out
}

// TestFromProtosAgreesWithFromProto flips bytes at random in batches of
// entries by three authors and checks that the batch check refuses exactly
// the entries the one-by-one check refuses, with the same error, and
// returns the others as FromProto does.
func TestFromProtosAgreesWithFromProto(t *testing.T) {
	var valid []*caissev1.Entry
	for _, k := range []ed25519.PrivateKey{founderKey, nantesKey, lilleKey} {
		valid = append(valid, chainProtos(t, k, 20)...)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for round := range 30 {
		in := make([]*caissev1.Entry, len(valid))
		for i, p := range valid {
			in[i] = proto.CloneOf(p)
		}
		spoiled := 0
		if round > 0 { // round 0: every entry valid, the batch's fast path
			for range 1 + rng.IntN(4) {
				p := in[rng.IntN(len(in))]
				b := p.Signature
				if rng.IntN(3) == 0 {
					b = p.Body
				}
				b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
				spoiled++
			}
		}
		got, errs := ledger.FromProtos(in)
		refused := 0
		for i, p := range in {
			want, wantErr := ledger.FromProto(p)
			if fmt.Sprint(errs[i]) != fmt.Sprint(wantErr) {
				t.Fatalf("round %d, entry %d: FromProtos error %v, FromProto error %v", round, i, errs[i], wantErr)
			}
			if wantErr != nil {
				refused++
				if got[i].Hash() != (ledger.Hash{}) {
					t.Fatalf("round %d, entry %d: refused, yet an entry is returned", round, i)
				}
				continue
			}
			if d := diffEntries(want, got[i]); d != "" {
				t.Fatalf("round %d, entry %d (-FromProto +FromProtos):\n%s", round, i, d)
			}
		}
		if round == 0 && refused != 0 {
			t.Fatalf("%d valid entries refused", refused)
		}
		if round > 0 && refused == 0 {
			t.Fatalf("round %d: %d entries spoiled, none refused", round, spoiled)
		}
	}
}

// TestFromProtosRefusals puts one entry of each kind of failure among valid
// ones: each is refused with its own sentinel, and nothing else is.
func TestFromProtosRefusals(t *testing.T) {
	in := chainProtos(t, founderKey, 12)
	forged := proto.CloneOf(in[3])
	forged.Signature = ed25519.Sign(otherKey, append([]byte(signContext), forged.Body...))
	short := proto.CloneOf(in[5])
	short.Signature = short.Signature[:63]
	garbage := &caissev1.Entry{Body: []byte{0xff, 0xff, 0xff}, Signature: make([]byte, 64)}
	notAPoint := proto.CloneOf(in[7]) // an author key that no point encodes
	var body caissev1.EntryBody
	if err := proto.Unmarshal(notAPoint.Body, &body); err != nil {
		t.Fatal(err)
	}
	body.Author = append([]byte{0x02}, make([]byte, 31)...) // y = 2 is not on the curve
	notAPoint.Body = mustMarshal(t, &body)
	in[3], in[5], in[7] = forged, short, notAPoint
	in = append(in, garbage)
	want := map[int]error{3: ledger.ErrBadSignature, 5: ledger.ErrMalformed, 7: ledger.ErrBadSignature, len(in) - 1: ledger.ErrMalformed}
	got, errs := ledger.FromProtos(in)
	for i := range in {
		if !errors.Is(errs[i], want[i]) || (want[i] == nil) != (errs[i] == nil) {
			t.Errorf("entry %d: error %v, want %v", i, errs[i], want[i])
		}
		if errs[i] == nil && got[i].Verify() != nil {
			t.Errorf("entry %d: accepted, yet does not verify alone", i)
		}
	}
}

// TestZIP215 signs an entry the way no honest signer does, with a point of
// order 2 added to R. crypto/ed25519's cofactorless check refuses it; the
// ZIP-215 rule caisse uses accepts it, and does so alone and in a batch:
// one rule, whichever way an entry arrives.
func TestZIP215(t *testing.T) {
	body := mustMarshal(t, contributionBody(pub(nantesKey), ledger.Hash{1}, 2, ledger.Hash{2}))
	msg := append([]byte(signContext), body...)
	sig := torsionSign(t, nantesKey, msg)
	if ed25519.Verify(nantesKey.Public().(ed25519.PublicKey), msg, sig) {
		t.Fatal("crypto/ed25519 accepts the signature: it does not exercise the cofactored rule")
	}
	p := &caissev1.Entry{Body: body, Signature: sig}
	e, err := ledger.FromProto(p)
	if err != nil {
		t.Fatalf("FromProto: %v", err)
	}
	if err := e.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	batch := append(chainProtos(t, lilleKey, 20), p)
	_, errs := ledger.FromProtos(batch)
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("FromProtos: %v", err)
	}
}

// torsionSign signs msg with key, choosing R = rB + T where T has order 2.
func torsionSign(t *testing.T, key ed25519.PrivateKey, msg []byte) []byte {
	t.Helper()
	h := sha512.Sum512(key.Seed())
	a, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		t.Fatal(err)
	}
	var wide [64]byte
	for i := range wide {
		wide[i] = byte(i * 7)
	}
	r, err := edwards25519.NewScalar().SetUniformBytes(wide[:])
	if err != nil {
		t.Fatal(err)
	}
	order2 := make([]byte, 32) // y = -1, x = 0
	order2[0] = 0xec
	for i := 1; i < 31; i++ {
		order2[i] = 0xff
	}
	order2[31] = 0x7f
	T, err := new(edwards25519.Point).SetBytes(order2)
	if err != nil {
		t.Fatal(err)
	}
	R := new(edwards25519.Point).ScalarBaseMult(r)
	R.Add(R, T)
	kh := sha512.New()
	kh.Write(R.Bytes())
	kh.Write(key.Public().(ed25519.PublicKey))
	kh.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	S := edwards25519.NewScalar().MultiplyAdd(k, a, r)
	return append(R.Bytes(), S.Bytes()...)
}

// TestSignMatchesStdlib: entries are signed with curve25519-voi, which must
// give exactly the signature crypto/ed25519 gives, for any key and body.
func TestSignMatchesStdlib(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 300 {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(rng.Uint32())
		}
		key := ed25519.NewKeyFromSeed(seed)
		body := contributionBody(pub(key), ledger.Hash{byte(i)}, ledger.Seq(1+rng.IntN(1000)), ledger.Hash{})
		body.GetContribution().Amount = rng.Int64N(1 << 40)
		e, err := ledger.Sign(key, body)
		if err != nil {
			t.Fatal(err)
		}
		want := ed25519.Sign(key, append([]byte(signContext), e.BodyBytes()...))
		if !bytes.Equal(e.Signature(), want) {
			t.Fatalf("key %x: signature %x, crypto/ed25519 gives %x", seed, e.Signature(), want)
		}
	}
}
