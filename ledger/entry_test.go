package ledger_test

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// TestSignDecodeRoundTrip signs one entry of each kind and reads it back
// through every way in: Decode, FromProto and DecodeUnverified.
func TestSignDecodeRoundTrip(t *testing.T) {
	a := pub(founderKey)
	g := mustSign(t, founderKey, genesisBody(a))
	fed := g.Hash()
	c := mustSign(t, founderKey, contributionBody(a, fed, 2, g.Hash()))
	d := mustSign(t, founderKey, disbursementBody(a, fed, 3, c.Hash()))
	tests := []struct {
		name string
		body *caissev1.EntryBody
		kind string
		fed  ledger.Hash
		prev ledger.Hash
	}{
		{name: "genesis", body: genesisBody(a), kind: "genesis"},
		{name: "genesis without co-founders or rates", kind: "genesis", body: func() *caissev1.EntryBody {
			b := genesisBody(a)
			g := b.GetGenesis()
			g.Members, g.Rules.Rates, g.Nonce = nil, nil, nil
			return b
		}()},
		{name: "contribution", body: contributionBody(a, fed, 2, g.Hash()), kind: "contribution", fed: fed, prev: g.Hash()},
		{name: "first entry of a joining member", body: contributionBody(a, fed, 1, ledger.Hash{}), kind: "contribution", fed: fed},
		{name: "disbursement", body: disbursementBody(a, fed, 3, c.Hash()), kind: "disbursement", fed: fed, prev: c.Hash()},
		{name: "correction", body: correctionBody(a, fed, 4, d.Hash(), 3, d.Hash()), kind: "correction", fed: fed, prev: d.Hash()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := mustSign(t, founderKey, tc.body)

			want := entryView{
				Author:     authorOf(founderKey),
				Seq:        ledger.Seq(tc.body.GetSeq()),
				Prev:       tc.prev,
				Federation: tc.fed,
				Time:       ledger.HLC{Wall: tc.body.GetTime().GetWallMs(), Logical: tc.body.GetTime().GetLogical()},
				Kind:       tc.kind,
				Hash:       ledger.HashBody(mustMarshal(t, tc.body)),
				BodyBytes:  mustMarshal(t, tc.body),
				Signature:  ed25519.Sign(founderKey, append([]byte(signContext), mustMarshal(t, tc.body)...)),
				Body:       tc.body,
			}
			want.Head = ledger.Head{Seq: want.Seq, Hash: want.Hash, Time: want.Time}
			want.Size = len(e.Marshal())
			if diff := cmp.Diff(want, viewOf(e), protocmp.Transform()); diff != "" {
				t.Fatalf("Sign (-want +got):\n%s", diff)
			}
			if e.IsZero() {
				t.Error("signed entry IsZero")
			}
			if err := e.Verify(); err != nil {
				t.Errorf("Verify: %v", err)
			}
			if !strings.Contains(e.String(), tc.kind) || !strings.Contains(e.String(), e.Hash().Short()) {
				t.Errorf("String() = %q: want kind and short hash", e)
			}

			ways := []struct {
				name   string
				decode func() (ledger.Entry, error)
			}{
				{"Decode", func() (ledger.Entry, error) { return ledger.Decode(e.Marshal()) }},
				{"FromProto", func() (ledger.Entry, error) { return ledger.FromProto(e.Proto()) }},
				{"FromProto of a parsed message", func() (ledger.Entry, error) {
					var p caissev1.Entry
					if err := proto.Unmarshal(e.Marshal(), &p); err != nil {
						return ledger.Entry{}, err
					}
					return ledger.FromProto(&p)
				}},
				{"DecodeUnverified", func() (ledger.Entry, error) { return ledger.DecodeUnverified(e.Marshal()) }},
			}
			for _, w := range ways {
				got, err := w.decode()
				if err != nil {
					t.Fatalf("%s: %v", w.name, err)
				}
				if diff := diffEntries(e, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", w.name, diff)
				}
				if !bytes.Equal(got.Marshal(), e.Marshal()) {
					t.Errorf("%s: Marshal() differs after a round trip", w.name)
				}
			}
		})
	}
}

// TestSignCopiesBody: the caller may reuse its body after Sign.
func TestSignCopiesBody(t *testing.T) {
	b := contributionBody(pub(founderKey), ledger.Hash{1}, 2, ledger.Hash{2})
	e := mustSign(t, founderKey, b)
	before := viewOf(e)
	before.Body = proto.CloneOf(before.Body)
	b.GetContribution().Amount = 1
	b.Seq = 99
	if diff := cmp.Diff(before, viewOf(e), protocmp.Transform()); diff != "" {
		t.Errorf("entry changed with the caller's body (-want +got):\n%s", diff)
	}
}

// TestDecodeCopiesInput: the caller may reuse its buffer after Decode.
func TestDecodeCopiesInput(t *testing.T) {
	src := testChain(t, founderKey)[1]
	raw := src.Marshal()
	e, err := ledger.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i] = 0xee
	}
	if err := e.Verify(); err != nil {
		t.Errorf("Verify after the input buffer was overwritten: %v", err)
	}
	if diff := diffEntries(src, e); diff != "" {
		t.Errorf("entry changed with the input buffer (-want +got):\n%s", diff)
	}
}

// TestSignatureContext pins the signed message to entry.proto's
// definition, ed25519(author, "caisse/entry/v1\x00" || body), and checks
// that a signature over the bare body is refused.
func TestSignatureContext(t *testing.T) {
	body := mustMarshal(t, contributionBody(pub(founderKey), ledger.Hash{1}, 2, ledger.Hash{2}))
	tests := []struct {
		name string
		msg  []byte
		err  error
	}{
		{name: "with context", msg: append([]byte(signContext), body...)},
		{name: "bare body", msg: body, err: ledger.ErrBadSignature},
		{name: "context without NUL", msg: append([]byte(strings.TrimSuffix(signContext, "\x00")), body...), err: ledger.ErrBadSignature},
		{name: "other version", msg: append([]byte("caisse/entry/v2\x00"), body...), err: ledger.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := mustMarshal(t, &caissev1.Entry{Body: body, Signature: ed25519.Sign(founderKey, tc.msg)})
			e, err := ledger.Decode(raw)
			wantErr(t, err, tc.err)
			if tc.err != nil {
				return
			}
			signed := mustSign(t, founderKey, contributionBody(pub(founderKey), ledger.Hash{1}, 2, ledger.Hash{2}))
			if diff := diffEntries(signed, e); diff != "" {
				t.Errorf("hand-signed entry vs Sign (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	chain := testChain(t, founderKey)
	e := chain[1]
	body := e.BodyBytes()
	sig := e.Signature()
	entryBytes := func(body, sig []byte) []byte {
		return mustMarshal(t, &caissev1.Entry{Body: body, Signature: sig})
	}
	flip := func(b []byte, i int, bit byte) []byte {
		out := bytes.Clone(b)
		out[i] ^= bit
		return out
	}
	// A byte of the note: flipping its lowest bit keeps the body parseable
	// and valid ('c' becomes 'b'), so only the signature can catch it.
	noteAt := bytes.Index(body, []byte("cotisation"))
	if noteAt < 0 {
		t.Fatal("note not found in the body bytes")
	}

	tests := []struct {
		name string
		raw  []byte
		err  error
	}{
		{name: "nil", raw: nil, err: ledger.ErrMalformed},
		{name: "one byte", raw: []byte{0xff}, err: ledger.ErrMalformed},
		{name: "text", raw: []byte("hello, caisse"), err: ledger.ErrMalformed},
		{name: "zeros", raw: make([]byte, 100), err: ledger.ErrMalformed},
		{name: "body bytes instead of an entry", raw: body, err: ledger.ErrMalformed},
		{name: "no signature", raw: entryBytes(body, nil), err: ledger.ErrMalformed},
		{name: "no body", raw: entryBytes(nil, sig), err: ledger.ErrMalformed},
		{name: "signature of 63 bytes", raw: entryBytes(body, sig[:63]), err: ledger.ErrMalformed},
		{name: "signature of 65 bytes", raw: entryBytes(body, append(bytes.Clone(sig), 0)), err: ledger.ErrMalformed},
		{name: "body is not an EntryBody", raw: entryBytes([]byte{0xff, 0xff, 0xff}, sig), err: ledger.ErrMalformed},
		{name: "oversized zeros", raw: make([]byte, ledger.MaxEntrySize+1), err: ledger.ErrTooLarge},
		{name: "oversized well-formed entry", raw: entryBytes(make([]byte, ledger.MaxEntrySize), sig), err: ledger.ErrTooLarge},
		{name: "flipped bit in the body", raw: entryBytes(flip(body, noteAt, 0x01), sig), err: ledger.ErrBadSignature},
		{name: "flipped bit in the signature", raw: entryBytes(body, flip(sig, 10, 0x20)), err: ledger.ErrBadSignature},
		{name: "re-signed by another key", raw: signBytes(t, otherKey, body), err: ledger.ErrBadSignature},
		{name: "signature of another entry", raw: entryBytes(body, chain[2].Signature()), err: ledger.ErrBadSignature},
		{name: "zero signature", raw: entryBytes(body, make([]byte, 64)), err: ledger.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ledger.Decode(tc.raw)
			wantErr(t, err, tc.err)
			if !got.IsZero() {
				t.Errorf("Decode returned a non-zero entry with its error: %v", got)
			}
			if !strings.HasPrefix(err.Error(), "ledger: ") {
				t.Errorf("error %q does not start with the package name", err)
			}
			var p caissev1.Entry
			if proto.Unmarshal(tc.raw, &p) == nil && len(tc.raw) <= ledger.MaxEntrySize {
				_, err := ledger.FromProto(&p)
				wantErr(t, err, tc.err)
			}
		})
	}
}

// TestDecodeTruncated: no prefix of a valid entry decodes.
func TestDecodeTruncated(t *testing.T) {
	for _, e := range testChain(t, founderKey) {
		t.Run(e.Kind(), func(t *testing.T) {
			raw := e.Marshal()
			for n := range len(raw) {
				_, err := ledger.Decode(raw[:n])
				if !errors.Is(err, ledger.ErrMalformed) {
					t.Fatalf("Decode of the first %d of %d bytes: %v, want ErrMalformed", n, len(raw), err)
				}
				if _, err := ledger.DecodeUnverified(raw[:n]); !errors.Is(err, ledger.ErrMalformed) {
					t.Fatalf("DecodeUnverified of the first %d of %d bytes: %v, want ErrMalformed", n, len(raw), err)
				}
			}
		})
	}
}

// TestDecodeGarbage: random bytes never decode, and fail as malformed.
func TestDecodeGarbage(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		raw := make([]byte, r.IntN(300))
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		if _, err := ledger.Decode(raw); !errors.Is(err, ledger.ErrMalformed) {
			t.Fatalf("garbage %d (%x): %v, want ErrMalformed", i, raw, err)
		}
	}
}

// TestDecodeBitFlips: flipping any one bit of an entry's body or signature
// gives bytes that Decode refuses.
func TestDecodeBitFlips(t *testing.T) {
	for _, e := range testChain(t, founderKey) {
		t.Run(e.Kind(), func(t *testing.T) {
			body, sig := e.BodyBytes(), e.Signature()
			for i := range len(body) * 8 {
				b := bytes.Clone(body)
				b[i/8] ^= 1 << (i % 8)
				raw := mustMarshal(t, &caissev1.Entry{Body: b, Signature: sig})
				if got, err := ledger.Decode(raw); err == nil {
					t.Fatalf("body bit %d flipped: Decode accepted %v", i, got)
				}
			}
			for i := range len(sig) * 8 {
				s := bytes.Clone(sig)
				s[i/8] ^= 1 << (i % 8)
				raw := mustMarshal(t, &caissev1.Entry{Body: body, Signature: s})
				if _, err := ledger.Decode(raw); !errors.Is(err, ledger.ErrBadSignature) {
					t.Fatalf("signature bit %d flipped: %v, want ErrBadSignature", i, err)
				}
			}
		})
	}
}

// TestDecodeUnverified: it parses and checks the shape, not the signature;
// Verify then tells.
func TestDecodeUnverified(t *testing.T) {
	e := testChain(t, founderKey)[1]
	forged := signBytes(t, otherKey, e.BodyBytes())
	got, err := ledger.DecodeUnverified(forged)
	if err != nil {
		t.Fatalf("DecodeUnverified of a forged entry: %v", err)
	}
	if got.Hash() != e.Hash() || got.Author() != e.Author() {
		t.Errorf("DecodeUnverified: hash %v author %v, want %v %v", got.Hash(), got.Author(), e.Hash(), e.Author())
	}
	if err := got.Verify(); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("Verify of a forged entry: %v, want ErrBadSignature", err)
	}
	if _, err := ledger.DecodeUnverified(make([]byte, ledger.MaxEntrySize+1)); !errors.Is(err, ledger.ErrTooLarge) {
		t.Errorf("DecodeUnverified of oversized input: %v, want ErrTooLarge", err)
	}
}

func TestFromProtoRefuses(t *testing.T) {
	e := testChain(t, founderKey)[1]
	tests := []struct {
		name string
		p    *caissev1.Entry
		err  error
	}{
		{name: "nil", p: nil, err: ledger.ErrMalformed},
		{name: "empty", p: &caissev1.Entry{}, err: ledger.ErrMalformed},
		{name: "oversized", p: &caissev1.Entry{Body: make([]byte, ledger.MaxEntrySize), Signature: e.Signature()}, err: ledger.ErrTooLarge},
		{name: "forged", p: &caissev1.Entry{Body: e.BodyBytes(), Signature: ed25519.Sign(otherKey, append([]byte(signContext), e.BodyBytes()...))}, err: ledger.ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ledger.FromProto(tc.p)
			wantErr(t, err, tc.err)
		})
	}
}

func TestSignRefuses(t *testing.T) {
	a := pub(founderKey)
	// A private key is seed || public key. With the wrong public half (a
	// corrupted key file, another collective's key pasted after our seed),
	// crypto/ed25519 signs anyway, and the entry verifies against nothing.
	mismatched := ed25519.PrivateKey(append(bytes.Clone(founderKey.Seed()), pub(otherKey)...))
	big := genesisBody(a)
	for i := range 100 {
		big.GetGenesis().Members = append(big.GetGenesis().Members, &caissev1.Member{
			Key:  pub(keyFromSeed(byte(0x80 + i))),
			Name: strings.Repeat("n", ledger.MaxNameLen),
		})
	}
	tests := []struct {
		name string
		key  ed25519.PrivateKey
		body *caissev1.EntryBody
		err  error
	}{
		{name: "key is not the author", key: otherKey, body: genesisBody(a), err: ledger.ErrWrongAuthor},
		{name: "body names no author", key: founderKey, body: genesisBody(nil), err: ledger.ErrWrongAuthor},
		{name: "nil body", key: founderKey, body: nil, err: ledger.ErrWrongAuthor},
		{name: "short private key", key: founderKey[:32], body: genesisBody(a), err: ledger.ErrMalformed},
		{name: "no private key", key: nil, body: genesisBody(a), err: ledger.ErrMalformed},
		{name: "entry over MaxEntrySize", key: founderKey, body: big, err: ledger.ErrTooLarge},
		{name: "public half of the key is another's", key: mismatched, body: genesisBody(pub(otherKey)), err: ledger.ErrMalformed},
		{name: "public half of the key is another's, body names the seed's key", key: mismatched, body: genesisBody(a), err: ledger.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := ledger.Sign(tc.key, tc.body)
			if err == nil {
				if verr := e.Verify(); verr != nil {
					t.Errorf("Sign returned an entry that does not verify: %v", verr)
				}
			}
			wantErr(t, err, tc.err)
			if !e.IsZero() {
				t.Errorf("Sign returned a non-zero entry with its error")
			}
		})
	}
}

func TestKindName(t *testing.T) {
	tests := []struct {
		name string
		body *caissev1.EntryBody
		want string
	}{
		{name: "nil", body: nil, want: "none"},
		{name: "no kind", body: &caissev1.EntryBody{}, want: "none"},
		{name: "genesis", body: genesisBody(nil), want: "genesis"},
		{name: "contribution", body: contributionBody(nil, ledger.Hash{}, 2, ledger.Hash{}), want: "contribution"},
		{name: "disbursement", body: disbursementBody(nil, ledger.Hash{}, 2, ledger.Hash{}), want: "disbursement"},
		{name: "correction", body: correctionBody(nil, ledger.Hash{}, 2, ledger.Hash{}, 1, ledger.Hash{}), want: "correction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ledger.KindName(tc.body)); diff != "" {
				t.Errorf("KindName (-want +got):\n%s", diff)
			}
		})
	}
	if !(ledger.Entry{}).IsZero() {
		t.Error("zero Entry: IsZero() = false")
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts verifies,
// passes its own checks again and re-encodes to bytes that decode to the
// same entry.
func FuzzDecode(f *testing.F) {
	for _, e := range testChain(f, founderKey) {
		f.Add(e.Marshal())
		f.Add(e.BodyBytes())
	}
	f.Add([]byte{})
	f.Add([]byte{0x0a, 0x00, 0x12, 0x40})
	f.Fuzz(func(t *testing.T, raw []byte) {
		e, err := ledger.Decode(raw)
		u, uerr := ledger.DecodeUnverified(raw)
		if err != nil {
			if errors.Is(err, ledger.ErrBadSignature) && uerr != nil {
				t.Fatalf("Decode: %v, but DecodeUnverified: %v", err, uerr)
			}
			return
		}
		if uerr != nil {
			t.Fatalf("Decode accepted what DecodeUnverified refused: %v", uerr)
		}
		if diff := diffEntries(e, u); diff != "" {
			t.Fatalf("Decode vs DecodeUnverified (-want +got):\n%s", diff)
		}
		if err := e.Verify(); err != nil {
			t.Fatalf("decoded entry does not verify: %v", err)
		}
		again, err := ledger.Decode(e.Marshal())
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if diff := diffEntries(e, again); diff != "" {
			t.Fatalf("re-encoded entry (-want +got):\n%s", diff)
		}
	})
}

// TestZeroEntry: the zero Entry is not valid, and says so without
// panicking.
func TestZeroEntry(t *testing.T) {
	var e ledger.Entry
	if !e.IsZero() {
		t.Error("IsZero() = false")
	}
	if err := e.Verify(); !errors.Is(err, ledger.ErrBadSignature) {
		t.Errorf("Verify() = %v, want ErrBadSignature", err)
	}
	if got := e.Kind(); got != "none" {
		t.Errorf("Kind() = %q, want none", got)
	}
	if e.Seq() != 0 || !e.Prev().IsZero() || !e.Federation().IsZero() || e.Time() != (ledger.HLC{}) {
		t.Errorf("zero Entry: seq %d prev %v federation %v time %v", e.Seq(), e.Prev(), e.Federation(), e.Time())
	}
	if _, err := ledger.Decode(e.Marshal()); !errors.Is(err, ledger.ErrMalformed) {
		t.Errorf("Decode(zero.Marshal()) = %v, want ErrMalformed", err)
	}
	_ = e.String()
}
