package ledger_test

import (
	"crypto/ed25519"
	"testing"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"google.golang.org/protobuf/proto"
)

// Benchmarks report x-baseline, the ratio to the raw operation measured in
// the same run (internal/benchcmp): compare those with benchstat, not
// ns/op, on a shared machine.

// Sinks keep the compiler from dropping the work.
var (
	sinkEntry ledger.Entry
	sinkBytes []byte
	sinkBool  bool
	sinkErr   error
)

// benchContribution is a typical contribution, the commonest entry.
func benchContribution(b *testing.B) (*caissev1.EntryBody, ledger.Entry) {
	b.Helper()
	chain := testChain(b, founderKey)
	body := contributionBody(pub(founderKey), chain[0].Hash(), 5, chain[3].Hash())
	return body, mustSign(b, founderKey, body)
}

// BenchmarkSign: Signer.Sign (checks, encoding, signature, copy), as the
// node signs, against a raw ed25519.Sign of a message as long as the body.
// The key=each case is ledger.Sign, which also checks the key every time.
func BenchmarkSign(b *testing.B) {
	body, e := benchContribution(b)
	msg := make([]byte, len(e.BodyBytes()))
	signer, err := ledger.NewSigner(founderKey)
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		sign func() (ledger.Entry, error)
	}{
		{"key=once", func() (ledger.Entry, error) { return signer.Sign(body) }},
		{"key=each", func() (ledger.Entry, error) { return ledger.Sign(founderKey, body) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			benchcmp.Run(b,
				func(int) { sinkBytes = ed25519.Sign(founderKey, msg) },
				func(int) {
					e, err := bc.sign()
					if err != nil {
						b.Fatal(err)
					}
					sinkEntry = e
				})
		})
	}
}

// BenchmarkVerify: ledger.Decode of a marshaled entry (parse, checks,
// verification) against a raw ed25519.Verify of a message as long as the
// body.
func BenchmarkVerify(b *testing.B) {
	_, e := benchContribution(b)
	raw := e.Marshal()
	msg := make([]byte, len(e.BodyBytes()))
	sig := ed25519.Sign(founderKey, msg)
	pk := ed25519.PublicKey(pub(founderKey))
	b.ReportAllocs()
	benchcmp.Run(b,
		func(int) {
			if sinkBool = ed25519.Verify(pk, msg, sig); !sinkBool {
				b.Fatal("baseline does not verify")
			}
		},
		func(int) {
			e, err := ledger.Decode(raw)
			if err != nil {
				b.Fatal(err)
			}
			sinkEntry = e
		})
}

// BenchmarkDecodeUnverified: ledger.DecodeUnverified (two parses and the
// body checks) against a proto.Unmarshal of the same bytes into an Entry.
func BenchmarkDecodeUnverified(b *testing.B) {
	_, e := benchContribution(b)
	raw := e.Marshal()
	b.ReportAllocs()
	benchcmp.Run(b,
		func(int) {
			var p caissev1.Entry
			sinkErr = proto.Unmarshal(raw, &p)
			sinkBytes = p.GetBody()
		},
		func(int) {
			e, err := ledger.DecodeUnverified(raw)
			if err != nil {
				b.Fatal(err)
			}
			sinkEntry = e
		})
}
