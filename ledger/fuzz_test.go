package ledger_test

// Fuzz targets for the decoders of ledger, seeded with real encodings
// (the golden vectors and entries signed by ledgertest); FuzzDecode and
// FuzzParseAmount sit beside their code. make fuzz runs each for FUZZTIME;
// go test runs the seeds. Invariants: no panic, and what a decoder
// accepts round-trips.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"google.golang.org/protobuf/proto"
)

// seedEntries are real encoded entries: the golden vectors, and a small
// federation's genesis, contributions and a vote-free fork.
func seedEntries(f *testing.F) []ledger.Entry {
	f.Helper()
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		f.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		f.Fatal(err)
	}
	var out []ledger.Entry
	for _, v := range g.Entries {
		b, err := hex.DecodeString(v.Entry)
		if err != nil {
			f.Fatal(err)
		}
		e, err := ledger.Decode(b)
		if err != nil {
			f.Fatalf("golden %s: %v", v.Kind, err)
		}
		out = append(out, e)
	}
	a, b := ledgertest.NewAuthor(f, 1), ledgertest.NewAuthor(f, 2)
	gen := a.Genesis(f, "fédération", b)
	out = append(out, gen, a.Contribution(f, gen.Hash(), 1250, ledgertest.Period), b.Contribution(f, gen.Hash(), 1_000_000_000_000_000, ledgertest.Period))
	return out
}

// seedFork is a real fork proof: two entries of one author at one seq.
func seedFork(f *testing.F) ledger.ForkProof {
	f.Helper()
	a := ledgertest.NewAuthor(f, 3)
	gen := a.Genesis(f, "fourche")
	x := a.Peek(f, gen.Hash(), nil)
	y := a.Peek(f, gen.Hash(), func(b *caissev1.EntryBody) { b.GetContribution().Amount++ })
	p, err := ledger.NewForkProof(x, y)
	if err != nil {
		f.Fatal(err)
	}
	return p
}

// FuzzFromProto checks FromProto, and that FromProtos agrees with it.
func FuzzFromProto(f *testing.F) {
	for _, e := range seedEntries(f) {
		f.Add(e.BodyBytes(), e.Signature())
	}
	valid := seedEntries(f)[0].Proto()
	f.Fuzz(func(t *testing.T, body, sig []byte) {
		e, err := ledger.FromProto(&caissev1.Entry{Body: body, Signature: sig})
		// The batch check decides as the single check does, with a valid
		// entry beside it or alone.
		for _, in := range [][]*caissev1.Entry{{{Body: body, Signature: sig}}, {valid, {Body: body, Signature: sig}}} {
			got, errs := ledger.FromProtos(in)
			last := len(in) - 1
			if (errs[last] == nil) != (err == nil) {
				t.Fatalf("FromProtos of %d entries: %v; FromProto: %v", len(in), errs[last], err)
			}
			if err == nil && got[last].Hash() != e.Hash() {
				t.Fatal("FromProtos and FromProto return different entries")
			}
			if errs[0] != nil && last > 0 {
				t.Fatalf("FromProtos refuses the valid entry beside it: %v", errs[0])
			}
		}
		if err != nil {
			return
		}
		if !bytes.Equal(e.BodyBytes(), body) {
			t.Fatal("FromProto changed the body bytes")
		}
		if err := e.Verify(); err != nil {
			t.Fatalf("FromProto accepted an entry that does not verify: %v", err)
		}
		if _, err := ledger.Decode(e.Marshal()); err != nil {
			t.Fatalf("FromProto accepts what Decode refuses: %v", err)
		}
	})
}

func FuzzDecodeForkProof(f *testing.F) {
	p := seedFork(f)
	f.Add(p.Marshal())
	es := seedEntries(f)
	same, _ := proto.Marshal(&caissev1.ForkProof{First: es[0].Proto(), Second: es[0].Proto()})
	f.Add(same)
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := ledger.DecodeForkProof(raw)
		u, uerr := ledger.DecodeForkProofUnverified(raw)
		if err != nil {
			return
		}
		if uerr != nil || u.A.Hash() != p.A.Hash() || u.B.Hash() != p.B.Hash() {
			t.Fatalf("DecodeForkProof accepts what the unverified decoder does not: %v", uerr)
		}
		if p.A.Author() != p.B.Author() || p.A.Seq() != p.B.Seq() || p.A.Hash() == p.B.Hash() {
			t.Fatalf("accepted a proof that is no equivocation: %s", p)
		}
		again, err := ledger.DecodeForkProof(p.Marshal())
		if err != nil || again.A.Hash() != p.A.Hash() || again.B.Hash() != p.B.Hash() {
			t.Fatalf("a decoded proof does not round-trip: %v", err)
		}
	})
}

func FuzzParseNodeID(f *testing.F) {
	a := ledgertest.NewAuthor(f, 1)
	id := string(a.ID.ID())
	f.Add(id)
	f.Add(string(a.ID.ID().Short()))
	f.Add(bytesToLower(id))
	f.Add("")
	f.Add("0000000-1111111-8888888")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ledger.ParseNodeID(s)
		if err != nil {
			return
		}
		back, err := ledger.ParseNodeID(string(got.ID()))
		if err != nil || back != got {
			t.Fatalf("ParseNodeID(%q) = %s, whose id does not parse back: %v", s, got, err)
		}
	})
}

func bytesToLower(s string) string { return string(bytes.ToLower([]byte(s))) }

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-11", "2026-13", "1999-01", "2199-12", "20261-1", "", "2026-1a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ledger.ParsePeriod(s)
		if err != nil {
			return
		}
		if string(p) != s {
			t.Fatalf("ParsePeriod(%q) = %q", s, p)
		}
	})
}

func FuzzParseHex(f *testing.F) {
	a := ledgertest.NewAuthor(f, 1)
	f.Add(a.ID.String())
	f.Add(a.ID.String()[:63])
	f.Add(a.ID.String() + "00")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if h, err := ledger.ParseHash(s); err == nil {
			if back, err := ledger.ParseHash(h.String()); err != nil || back != h {
				t.Fatalf("ParseHash(%q) does not round-trip: %v", s, err)
			}
		}
		if a, err := ledger.ParseAuthor(s); err == nil {
			if back, err := ledger.ParseAuthor(a.String()); err != nil || back != a {
				t.Fatalf("ParseAuthor(%q) does not round-trip: %v", s, err)
			}
		}
	})
}
