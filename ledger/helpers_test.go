package ledger_test

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
)

// signContext is the prefix of every signed message, as entry.proto
// documents it. It is spelled out here, not imported, so that a change to
// it in the package fails the tests: it is part of the protocol.
const signContext = "caisse/entry/v1\x00"

// Fixed keys. The founder's seed is 0x01, 0x02, ..., 0x20: the golden
// vectors are signed with it.
var (
	founderKey = keyFromSeed(0x01)
	nantesKey  = keyFromSeed(0x21)
	lilleKey   = keyFromSeed(0x41)
	otherKey   = keyFromSeed(0x61)
)

// pseudonymKey is a node's local pseudonym key in these tests.
var pseudonymKey = []byte("0123456789abcdef0123456789abcdef")

// Times of the test chain: 2026-01-01T09:00Z, 10:00Z (twice, the second
// with a logical counter), and 2026-01-02T08:30Z.
const (
	wallGenesis      = 1767258000000
	wallContribution = 1767261600000
	wallCorrection   = 1767342600000
)

// keyFromSeed returns the ed25519 key whose seed is first, first+1, ...
func keyFromSeed(first byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = first + byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func pub(k ed25519.PrivateKey) []byte { return []byte(k.Public().(ed25519.PublicKey)) }

func authorOf(k ed25519.PrivateKey) ledger.Author { return ledger.Author(pub(k)) }

func bytesOf(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// genesisBody is a charter with two co-founders, rates and a reserve held
// by the founder.
func genesisBody(author []byte) *caissev1.EntryBody {
	return &caissev1.EntryBody{
		Author: author,
		Seq:    1,
		Time:   &caissev1.HLC{WallMs: wallGenesis},
		Kind: &caissev1.EntryBody_Genesis{Genesis: &caissev1.Genesis{
			Name:         "Fédération des caisses de grève",
			Currency:     &caissev1.Currency{Code: "EUR", Exponent: 2},
			PeriodLength: caissev1.PeriodLength_PERIOD_LENGTH_MONTH_UTC,
			FounderName:  "Caisse de Lyon",
			Members: []*caissev1.Member{
				{Key: pub(nantesKey), Name: "Caisse de Nantes"},
				{Key: pub(lilleKey), Name: "Caisse de Lille"},
			},
			Rules: &caissev1.Rules{
				LevyBp:        1000,
				Weights:       &caissev1.KeyWeights{NeedBp: 5000, MembersBp: 3000, EqualBp: 2000},
				Rates:         []*caissev1.Rate{{Unit: "strike-day", Amount: 8000}, {Unit: "legal-case", Amount: 150000}},
				ReserveBp:     500,
				ReserveHolder: author,
				QuorumBp:      5000,
				MajorityBp:    5001,
			},
			Nonce: bytesOf(0xa5, 16),
		}},
	}
}

func contributionBody(author []byte, fed ledger.Hash, seq ledger.Seq, prev ledger.Hash) *caissev1.EntryBody {
	member := ledger.PseudonymFor(pseudonymKey, "Anne Morel")
	return &caissev1.EntryBody{
		Federation: fed[:],
		Author:     author,
		Seq:        uint64(seq),
		Prev:       prevBytes(seq, prev),
		Time:       &caissev1.HLC{WallMs: wallContribution},
		Kind: &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
			Member:   member[:],
			Amount:   2500,
			Period:   "2026-01",
			Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES,
			Note:     "cotisation de janvier",
		}},
	}
}

func disbursementBody(author []byte, fed ledger.Hash, seq ledger.Seq, prev ledger.Hash) *caissev1.EntryBody {
	who := ledger.PseudonymFor(pseudonymKey, "Karim Benali")
	return &caissev1.EntryBody{
		Federation: fed[:],
		Author:     author,
		Seq:        uint64(seq),
		Prev:       prevBytes(seq, prev),
		Time:       &caissev1.HLC{WallMs: wallContribution, Logical: 1},
		Kind: &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
			Beneficiary: who[:],
			Amount:      16000,
			Period:      "2026-01",
			Category:    caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE,
			Note:        "deux jours de grève\nsemaine 2",
		}},
	}
}

func correctionBody(author []byte, fed ledger.Hash, seq ledger.Seq, prev ledger.Hash, target ledger.Seq, targetHash ledger.Hash) *caissev1.EntryBody {
	return &caissev1.EntryBody{
		Federation: fed[:],
		Author:     author,
		Seq:        uint64(seq),
		Prev:       prevBytes(seq, prev),
		Time:       &caissev1.HLC{WallMs: wallCorrection},
		Kind: &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{
			TargetSeq:  uint64(target),
			TargetHash: targetHash[:],
			Reason:     "montant erroné: un seul jour de grève",
		}},
	}
}

func prevBytes(seq ledger.Seq, prev ledger.Hash) []byte {
	if seq == 1 {
		return nil
	}
	return prev[:]
}

// testChain signs the test chain: a genesis, a contribution, a
// disbursement and a correction of that disbursement, each linked to the
// one before (the hashes of earlier entries are part of later bodies).
func testChain(t testing.TB, key ed25519.PrivateKey) []ledger.Entry {
	t.Helper()
	a := pub(key)
	g := mustSign(t, key, genesisBody(a))
	fed := g.Hash()
	c := mustSign(t, key, contributionBody(a, fed, 2, g.Hash()))
	d := mustSign(t, key, disbursementBody(a, fed, 3, c.Hash()))
	x := mustSign(t, key, correctionBody(a, fed, 4, d.Hash(), 3, d.Hash()))
	return []ledger.Entry{g, c, d, x}
}

func mustSign(t testing.TB, key ed25519.PrivateKey, body *caissev1.EntryBody) ledger.Entry {
	t.Helper()
	e, err := ledger.Sign(key, body)
	if err != nil {
		t.Fatalf("Sign(%s seq %d): %v", ledger.KindName(body), body.GetSeq(), err)
	}
	return e
}

func mustMarshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatalf("marshal %T: %v", m, err)
	}
	return raw
}

// signBytes builds an encoded entry by hand: body bytes as given, signed
// with key under the entry context, bypassing every check of Sign. It is
// how a hostile or buggy peer would produce bytes.
func signBytes(t testing.TB, key ed25519.PrivateKey, body []byte) []byte {
	t.Helper()
	sig := ed25519.Sign(key, append([]byte(signContext), body...))
	return mustMarshal(t, &caissev1.Entry{Body: body, Signature: sig})
}

// entryView is everything an Entry exposes, for cmp.Diff.
type entryView struct {
	Author     ledger.Author
	Seq        ledger.Seq
	Prev       ledger.Hash
	Federation ledger.Hash
	Time       ledger.HLC
	Kind       string
	Hash       ledger.Hash
	Head       ledger.Head
	BodyBytes  []byte
	Signature  []byte
	Size       int
	Body       *caissev1.EntryBody
}

func viewOf(e ledger.Entry) entryView {
	return entryView{
		Author: e.Author(), Seq: e.Seq(), Prev: e.Prev(), Federation: e.Federation(), Time: e.Time(),
		Kind: e.Kind(), Hash: e.Hash(), Head: e.Head(), BodyBytes: e.BodyBytes(), Signature: e.Signature(),
		Size: e.Size(), Body: e.Body(),
	}
}

func diffEntries(want, got ledger.Entry) string {
	return cmp.Diff(viewOf(want), viewOf(got), protocmp.Transform())
}

// wantErr fails t unless err matches want: nil for nil, errors.Is otherwise.
func wantErr(t testing.TB, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("error = %v, want %v", err, want)
	}
}
