package ledger_test

// Golden vectors: the exact bytes of one entry of each kind, signed with a
// fixed key, in testdata/golden.json.
//
// A CHANGED GOLDEN FILE IS A PROTOCOL BREAK, NOT A FILE TO REGENERATE.
// Every node ever deployed hashes, signs and verifies these bytes; entries
// signed today must verify and parse the same way forever. If
// TestGoldenSign fails, the encoding of bodies or the signed message
// changed: find out why. If TestGoldenDecode fails, entries already in
// every federation's logs no longer read: that is never acceptable.
//
// The -update flag (go test ./ledger -run Golden -update) exists to write
// the file the first time, and to add vectors for new kinds or fields. A
// diff of golden.json that changes an existing vector must not be merged.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/golden.json (a changed golden file is a protocol break: see golden_test.go)")

var goldenPath = filepath.Join("testdata", "golden.json")

type goldenFile struct {
	Comment      []string          `json:"comment"`
	Seed         string            `json:"seed"`
	Author       string            `json:"author"`
	PseudonymKey string            `json:"pseudonym_key"`
	Pseudonyms   []goldenPseudonym `json:"pseudonyms"`
	Entries      []goldenEntry     `json:"entries"`
}

type goldenPseudonym struct {
	Name      string `json:"name"`
	Pseudonym string `json:"pseudonym"`
}

type goldenEntry struct {
	Kind      string `json:"kind"`
	Body      string `json:"body"`      // the signed EntryBody bytes
	Signature string `json:"signature"` // ed25519 over "caisse/entry/v1\x00" || body
	Hash      string `json:"hash"`      // SHA-256 of body
	Entry     string `json:"entry"`     // Entry.Marshal(): what Decode reads
}

var goldenComment = []string{
	"Golden vectors of caisse entries, written by ledger/golden_test.go.",
	"A changed golden file is a protocol break, not a file to regenerate.",
	"The key's seed is 0x01..0x20; the bodies are defined in golden_test.go.",
}

// goldenSeed is 0x01, 0x02, ..., 0x20.
func goldenSeed() []byte {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	return seed
}

func goldenKey() ed25519.PrivateKey { return ed25519.NewKeyFromSeed(goldenSeed()) }

// goldenPseudonymKey is 32 bytes of 0x07.
func goldenPseudonymKey() []byte { return bytesOf(0x07, ledger.PseudonymKeySize) }

var goldenNames = []string{"Anne Morel", "Karim Benali", "Zoé Lefèvre"}

// The bodies below are frozen: they are what the golden bytes say. They do
// not share builders with other tests, so that no other test can move them.
const (
	goldenWallGenesis      = 1756713600000 // 2025-09-01T08:00:00Z
	goldenWallContribution = 1756921500000 // 2025-09-03T17:45:00Z
	goldenWallLater        = 1756977300000 // 2025-09-04T09:15:00Z
)

// goldenBody returns the i-th body of the golden chain; hashes holds the
// hashes of the entries before it.
func goldenBody(t testing.TB, i int, hashes []ledger.Hash) *caissev1.EntryBody {
	t.Helper()
	author := pub(goldenKey())
	cofounder := func(first byte) []byte { return pub(keyFromSeed(first)) }
	pseudonym := func(name string) []byte {
		p := ledger.PseudonymFor(goldenPseudonymKey(), name)
		return p[:]
	}
	if len(hashes) < i {
		t.Fatalf("golden body %d needs %d hashes, got %d", i, i, len(hashes))
	}
	var fed []byte
	if i > 0 {
		fed = hashes[0][:]
	}
	switch i {
	case 0:
		return &caissev1.EntryBody{
			Author: author,
			Seq:    1,
			Time:   &caissev1.HLC{WallMs: goldenWallGenesis},
			Kind: &caissev1.EntryBody_Genesis{Genesis: &caissev1.Genesis{
				Name:         "Fédération des caisses de solidarité",
				Currency:     &caissev1.Currency{Code: "EUR", Exponent: 2},
				PeriodLength: caissev1.PeriodLength_PERIOD_LENGTH_MONTH_UTC,
				FounderName:  "Caisse de grève de Lyon",
				Members: []*caissev1.Member{
					{Key: cofounder(0x21), Name: "Caisse de Nantes"},
					{Key: cofounder(0x41), Name: "Collectif de Lille"},
				},
				Rules: &caissev1.Rules{
					LevyBp:  1000,
					Weights: &caissev1.KeyWeights{NeedBp: 6000, MembersBp: 3000, EqualBp: 1000},
					Rates: []*caissev1.Rate{
						{Unit: "strike-day", Amount: 8500},
						{Unit: "legal-case", Amount: 120000},
					},
					ReserveBp:     500,
					ReserveHolder: cofounder(0x21),
					QuorumBp:      5000,
					MajorityBp:    6667,
				},
				Nonce: []byte("golden-nonce-001"),
			}},
		}
	case 1:
		return &caissev1.EntryBody{
			Federation: fed,
			Author:     author,
			Seq:        2,
			Prev:       hashes[0][:],
			Time:       &caissev1.HLC{WallMs: goldenWallContribution},
			Kind: &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
				Member:   pseudonym("Anne Morel"),
				Amount:   2500,
				Period:   "2025-09",
				Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES,
				Note:     "cotisation de septembre",
			}},
		}
	case 2:
		return &caissev1.EntryBody{
			Federation: fed,
			Author:     author,
			Seq:        3,
			Prev:       hashes[1][:],
			Time:       &caissev1.HLC{WallMs: goldenWallLater},
			Kind: &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
				Beneficiary: pseudonym("Karim Benali"),
				Amount:      17000,
				Period:      "2025-09",
				Category:    caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE,
				Note:        "deux jours de grève\n(piquet du 2 et 3)",
			}},
		}
	case 3:
		return &caissev1.EntryBody{
			Federation: fed,
			Author:     author,
			Seq:        4,
			Prev:       hashes[2][:],
			Time:       &caissev1.HLC{WallMs: goldenWallLater, Logical: 2},
			Kind: &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{
				TargetSeq:  3,
				TargetHash: hashes[2][:],
				Reason:     "saisie en double: un seul jour",
			}},
		}
	}
	t.Fatalf("no golden body %d", i)
	return nil
}

var goldenKinds = []string{"genesis", "contribution", "disbursement", "correction"}

// signGolden signs the golden chain with the golden key.
func signGolden(t testing.TB) goldenFile {
	t.Helper()
	key := goldenKey()
	f := goldenFile{
		Comment:      goldenComment,
		Seed:         hex.EncodeToString(goldenSeed()),
		Author:       hex.EncodeToString(pub(key)),
		PseudonymKey: hex.EncodeToString(goldenPseudonymKey()),
	}
	for _, name := range goldenNames {
		p := ledger.PseudonymFor(goldenPseudonymKey(), name)
		f.Pseudonyms = append(f.Pseudonyms, goldenPseudonym{Name: name, Pseudonym: p.String()})
	}
	var hashes []ledger.Hash
	for i := range goldenKinds {
		e := mustSign(t, key, goldenBody(t, i, hashes))
		hashes = append(hashes, e.Hash())
		f.Entries = append(f.Entries, goldenEntry{
			Kind:      e.Kind(),
			Body:      hex.EncodeToString(e.BodyBytes()),
			Signature: hex.EncodeToString(e.Signature()),
			Hash:      e.Hash().String(),
			Entry:     hex.EncodeToString(e.Marshal()),
		})
	}
	return f
}

func readGolden(t *testing.T) goldenFile {
	t.Helper()
	raw, err := os.ReadFile(goldenPath)
	if err != nil {
		t.Fatalf("%v (the golden file is checked in; -update writes it)", err)
	}
	var f goldenFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("%s: %v", goldenPath, err)
	}
	if len(f.Entries) != len(goldenKinds) {
		t.Fatalf("%s: %d entries, want %d", goldenPath, len(f.Entries), len(goldenKinds))
	}
	return f
}

func unhex(t *testing.T, field, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%s: %s: %v", goldenPath, field, err)
	}
	return b
}

// TestGoldenSign signs the golden bodies and compares every byte with the
// golden file: it pins the body encoding, the signed message and the hash
// (ed25519 signatures are deterministic).
func TestGoldenSign(t *testing.T) {
	got := signGolden(t)
	if *updateGolden {
		raw, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(goldenPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goldenPath, append(raw, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: a changed golden file is a protocol break, review the diff", goldenPath)
	}
	want := readGolden(t)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("signing the golden bodies no longer gives the golden bytes: the protocol changed (-golden +now):\n%s", diff)
	}
}

// TestGoldenDecode reads the golden entries as a node receiving them would,
// and checks every field. It must pass forever, whatever else changes.
func TestGoldenDecode(t *testing.T) {
	f := readGolden(t)
	wantKey := ed25519.NewKeyFromSeed(unhex(t, "seed", f.Seed))
	author := ledger.Author(unhex(t, "author", f.Author))
	if !bytes.Equal(pub(wantKey), author[:]) {
		t.Fatalf("author %s is not the public key of seed %s", f.Author, f.Seed)
	}

	var hashes []ledger.Hash
	var entries []ledger.Entry
	for i, ge := range f.Entries {
		t.Run(goldenKinds[i], func(t *testing.T) {
			raw := unhex(t, "entry", ge.Entry)
			body := unhex(t, "body", ge.Body)
			sig := unhex(t, "signature", ge.Signature)
			hash, err := ledger.ParseHash(ge.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if got := ledger.HashBody(body); got != hash {
				t.Fatalf("golden hash %s is not SHA-256 of the golden body (%s)", hash, got)
			}
			if !ed25519.Verify(pub(wantKey), append([]byte(signContext), body...), sig) {
				t.Fatal("golden signature does not verify with crypto/ed25519 over the documented message")
			}

			e, err := ledger.Decode(raw)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			wantBody := goldenBody(t, i, hashes)
			want := entryView{
				Author:    author,
				Seq:       ledger.Seq(i + 1),
				Kind:      goldenKinds[i],
				Hash:      hash,
				BodyBytes: body,
				Signature: sig,
				Size:      len(raw),
				Body:      wantBody,
				Time:      ledger.HLC{Wall: wantBody.GetTime().GetWallMs(), Logical: wantBody.GetTime().GetLogical()},
			}
			if i > 0 {
				want.Federation = hashes[0]
				want.Prev = hashes[i-1]
			}
			want.Head = ledger.Head{Seq: want.Seq, Hash: hash, Time: want.Time}
			if diff := cmp.Diff(want, viewOf(e), protocmp.Transform()); diff != "" {
				t.Errorf("decoded golden entry (-want +got):\n%s", diff)
			}
			if !bytes.Equal(e.Marshal(), raw) {
				t.Errorf("Marshal() of the decoded entry differs from the golden bytes")
			}
			u, err := ledger.DecodeUnverified(raw)
			if err != nil {
				t.Fatalf("DecodeUnverified: %v", err)
			}
			if diff := diffEntries(e, u); diff != "" {
				t.Errorf("DecodeUnverified (-Decode +DecodeUnverified):\n%s", diff)
			}
			if err := ledger.CheckFederation(hashes0(hashes, hash), e); err != nil {
				t.Errorf("CheckFederation: %v", err)
			}
			var head *ledger.Head
			if i > 0 {
				h := entries[i-1].Head()
				head = &h
			}
			if err := ledger.CheckNext(head, e); err != nil {
				t.Errorf("CheckNext after the previous golden entry: %v", err)
			}
			hashes = append(hashes, hash)
			entries = append(entries, e)
		})
		if len(hashes) != i+1 {
			t.Fatalf("golden entry %d failed: the later ones depend on it", i)
		}
	}

	t.Run("pseudonyms", func(t *testing.T) {
		key := unhex(t, "pseudonym_key", f.PseudonymKey)
		var got []goldenPseudonym
		for _, p := range f.Pseudonyms {
			got = append(got, goldenPseudonym{Name: p.Name, Pseudonym: ledger.PseudonymFor(key, p.Name).String()})
		}
		if diff := cmp.Diff(f.Pseudonyms, got); diff != "" {
			t.Errorf("pseudonyms in entries already recorded would no longer match their names (-golden +now):\n%s", diff)
		}
	})
}

// hashes0 is the federation id: the genesis hash, which is own for the
// genesis itself.
func hashes0(hashes []ledger.Hash, own ledger.Hash) ledger.Hash {
	if len(hashes) == 0 {
		return own
	}
	return hashes[0]
}
