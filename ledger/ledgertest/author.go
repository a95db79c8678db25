// Package ledgertest helps test code built on package ledger: test authors
// that sign valid chains of entries (and, on demand, forks, gaps and other
// bad entries), and Store, the conformance suite every ledger.Store
// implementation runs:
//
//	func TestStore(t *testing.T) {
//		ledgertest.Store(t, func(t testing.TB) ledger.Store { return memstore.New() })
//	}
//
// Everything here is deterministic: keys come from a seed byte, and times
// from a fixed epoch (2026-01-01T00:00:00Z) advanced by a fixed step per
// entry. Nothing reads a clock or a random source.
package ledgertest

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

const (
	// Epoch is the wall time of every author's first entry:
	// 2026-01-01T00:00:00Z in milliseconds since the Unix epoch.
	Epoch uint64 = 1767225600000
	// Step is the wall time, in milliseconds, between two consecutive
	// entries of one author.
	Step uint64 = 1000
	// Period is the period of the entries an Author makes by default.
	Period = "2026-01"
)

// Author is a test collective: a deterministic ed25519 key and the chain of
// entries it has signed so far. Next and the kind helpers (Genesis,
// Contribution, ...) sign the next entry of the chain and advance it; Peek,
// Fork and Gap sign entries without advancing it, to feed stores bad input.
//
// Times start at Epoch and advance by Step per entry of the chain, so they
// strictly increase along it as ledger.CheckNext demands; SetNow moves the
// time of the next entry. An Author is not safe for concurrent use.
type Author struct {
	// Key signs the author's entries.
	Key ed25519.PrivateKey
	// ID is the public key: the entries' author.
	ID ledger.Author
	// Name is a public name for the collective: "collective 7" for seed 7.
	Name string

	log   []ledger.Entry // the chain: log[i] has seq i+1
	now   ledger.HLC     // the time of the next entry
	forks int            // number of forks signed, to make each one distinct
}

// NewAuthor returns the author with the key derived from seed: the same
// seed gives the same key in every run. Different seeds give different
// keys, in no particular byte order.
func NewAuthor(tb testing.TB, seed byte) *Author {
	tb.Helper()
	s := sha256.Sum256([]byte{'l', 'e', 'd', 'g', 'e', 'r', 't', 'e', 's', 't', '/', 'k', 'e', 'y', 0, seed})
	key := ed25519.NewKeyFromSeed(s[:])
	a := &Author{Key: key, Name: fmt.Sprintf("collective %d", seed), now: ledger.HLC{Wall: Epoch}}
	copy(a.ID[:], key.Public().(ed25519.PublicKey))
	return a
}

// FederationID returns a fixed federation id for tests that need entries of
// a federation but no charter. Real federation ids are genesis hashes.
func FederationID(seed byte) ledger.Hash {
	return sha256.Sum256([]byte{'l', 'e', 'd', 'g', 'e', 'r', 't', 'e', 's', 't', '/', 'f', 'e', 'd', 0, seed})
}

// Member returns the pseudonym of a member name under a fixed test key.
func Member(name string) ledger.Pseudonym {
	return ledger.PseudonymFor([]byte("ledgertest pseudonym key........"), name)
}

// MustSign signs body with key, failing tb if ledger.Sign refuses it.
func MustSign(tb testing.TB, key ed25519.PrivateKey, body *caissev1.EntryBody) ledger.Entry {
	tb.Helper()
	e, err := ledger.Sign(key, body)
	if err != nil {
		tb.Fatalf("ledgertest: sign: %v", err)
	}
	return e
}

// Sign signs body with the author's key. It does not touch the chain.
func (a *Author) Sign(tb testing.TB, body *caissev1.EntryBody) ledger.Entry {
	tb.Helper()
	return MustSign(tb, a.Key, body)
}

// Head returns the head of the chain signed so far, nil before the first
// entry.
func (a *Author) Head() *ledger.Head {
	if len(a.log) == 0 {
		return nil
	}
	h := a.log[len(a.log)-1].Head()
	return &h
}

// Entries returns the chain signed so far, in seq order.
func (a *Author) Entries() []ledger.Entry { return append([]ledger.Entry(nil), a.log...) }

// Entry returns the chain's entry at seq s, failing tb if there is none.
func (a *Author) Entry(tb testing.TB, s ledger.Seq) ledger.Entry {
	tb.Helper()
	if s < 1 || s > ledger.Seq(len(a.log)) {
		tb.Fatalf("ledgertest: %s has no entry %d (chain at %d)", a.Name, s, len(a.log))
	}
	return a.log[s-1]
}

// Now returns the time the next entry will get.
func (a *Author) Now() ledger.HLC { return a.now }

// SetNow sets the time of the next entry; later entries follow it by Step.
// A time not after the head's makes Next fail: use Peek for such entries.
func (a *Author) SetNow(t ledger.HLC) { a.now = t }

// NextBody returns the body of the next entry of the chain in federation
// fed: its seq, prev and time, and by default a contribution of 100 minor
// units for Period by Member("member of "+a.Name). The caller may change
// anything before signing it. It does not advance the chain.
func (a *Author) NextBody(fed ledger.Hash) *caissev1.EntryBody {
	b := &caissev1.EntryBody{
		Federation: bytes.Clone(fed[:]),
		Author:     bytes.Clone(a.ID[:]),
		Seq:        uint64(len(a.log)) + 1,
		Time:       a.now.Proto(),
	}
	if h := a.Head(); h != nil {
		b.Prev = bytes.Clone(h.Hash[:])
	}
	setContribution(b, a.member(), 100, Period)
	return b
}

func (a *Author) member() ledger.Pseudonym { return Member("member of " + a.Name) }

func setContribution(b *caissev1.EntryBody, m ledger.Pseudonym, amount ledger.Amount, period string) {
	b.Kind = &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
		Member:   bytes.Clone(m[:]),
		Amount:   int64(amount),
		Period:   period,
		Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES,
	}}
}

// Next signs the next entry of the chain: NextBody(fed), changed by edit
// if edit is not nil (to set the kind, say), then signed. The entry must
// extend the chain (ledger.CheckNext), or tb fails; the chain then
// advances to it and the next time is its time plus Step.
func (a *Author) Next(tb testing.TB, fed ledger.Hash, edit func(*caissev1.EntryBody)) ledger.Entry {
	tb.Helper()
	e := a.Peek(tb, fed, edit)
	if err := ledger.CheckNext(a.Head(), e); err != nil {
		tb.Fatalf("ledgertest: %s: Next does not extend the chain (use Peek for bad entries): %v", a.Name, err)
	}
	a.log = append(a.log, e)
	a.now = ledger.HLC{Wall: e.Time().Wall + Step}
	return e
}

// Peek signs what Next would, changed by edit, without advancing the
// chain. With an edit that breaks the chain (a wrong Prev, a Time not after
// the head's) it makes entries a store must refuse.
func (a *Author) Peek(tb testing.TB, fed ledger.Hash, edit func(*caissev1.EntryBody)) ledger.Entry {
	tb.Helper()
	b := a.NextBody(fed)
	if edit != nil {
		edit(b)
	}
	return a.Sign(tb, b)
}

// DefaultRules returns a valid rule set: a 10% levy, keys weighted need
// 50%, members 30%, equal 20%, a strike-day rate of 80.00, no reserve,
// quorum 50% and majority 50.01%.
func DefaultRules() *caissev1.Rules {
	return &caissev1.Rules{
		LevyBp:     1000,
		Weights:    &caissev1.KeyWeights{NeedBp: 5000, MembersBp: 3000, EqualBp: 2000},
		Rates:      []*caissev1.Rate{{Unit: "strike-day", Amount: 8000}},
		QuorumBp:   5000,
		MajorityBp: 5001,
	}
}

// Genesis signs the charter of a federation named name, in EUR with
// monthly periods and DefaultRules, founded by a with the co-founders
// given. It must be the author's first entry. The federation id is the
// returned entry's Hash.
func (a *Author) Genesis(tb testing.TB, name string, cofounders ...*Author) ledger.Entry {
	tb.Helper()
	g := &caissev1.Genesis{
		Name:         name,
		Currency:     &caissev1.Currency{Code: "EUR", Exponent: 2},
		PeriodLength: caissev1.PeriodLength_PERIOD_LENGTH_MONTH_UTC,
		FounderName:  a.Name,
		Rules:        DefaultRules(),
		Nonce:        []byte(name),
	}
	for _, c := range cofounders {
		g.Members = append(g.Members, &caissev1.Member{Key: bytes.Clone(c.ID[:]), Name: c.Name})
	}
	return a.GenesisWith(tb, g)
}

// GenesisWith signs g as the author's first entry.
func (a *Author) GenesisWith(tb testing.TB, g *caissev1.Genesis) ledger.Entry {
	tb.Helper()
	if len(a.log) != 0 {
		tb.Fatalf("ledgertest: %s: a genesis must be the first entry, the chain is at %d", a.Name, len(a.log))
	}
	return a.Next(tb, ledger.Hash{}, func(b *caissev1.EntryBody) {
		b.Federation = nil
		b.Kind = &caissev1.EntryBody_Genesis{Genesis: g}
	})
}

// Contribution signs the next entry: a contribution (dues) of amount for
// period by Member("member of "+a.Name).
func (a *Author) Contribution(tb testing.TB, fed ledger.Hash, amount ledger.Amount, period string) ledger.Entry {
	tb.Helper()
	return a.Next(tb, fed, func(b *caissev1.EntryBody) { setContribution(b, a.member(), amount, period) })
}

// Disbursement signs the next entry: strike pay of amount for period to
// Member("member of "+a.Name).
func (a *Author) Disbursement(tb testing.TB, fed ledger.Hash, amount ledger.Amount, period string) ledger.Entry {
	tb.Helper()
	m := a.member()
	return a.Next(tb, fed, func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Disbursement{Disbursement: &caissev1.Disbursement{
			Beneficiary: m[:],
			Amount:      int64(amount),
			Period:      period,
			Category:    caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE,
		}}
	})
}

// Correction signs the next entry: a correction reversing target, an
// earlier entry of the same author.
func (a *Author) Correction(tb testing.TB, fed ledger.Hash, target ledger.Entry, reason string) ledger.Entry {
	tb.Helper()
	h := target.Hash()
	return a.Next(tb, fed, func(b *caissev1.EntryBody) {
		b.Kind = &caissev1.EntryBody_Correction{Correction: &caissev1.Correction{
			TargetSeq:  uint64(target.Seq()),
			TargetHash: h[:],
			Reason:     reason,
		}}
	})
}

// Fork signs an equivocation: a valid entry at seq s, which the chain
// already holds, with the same prev as the chain's entry s but a different
// body (a contribution, a later time, a note "fork n"). Each call makes a
// different entry. It does not advance the chain.
func (a *Author) Fork(tb testing.TB, fed ledger.Hash, s ledger.Seq) ledger.Entry {
	tb.Helper()
	orig := a.Entry(tb, s)
	a.forks++
	b := &caissev1.EntryBody{
		Federation: bytes.Clone(fed[:]),
		Author:     bytes.Clone(a.ID[:]),
		Seq:        uint64(s),
		Time:       ledger.HLC{Wall: orig.Time().Wall, Logical: orig.Time().Logical + uint32(a.forks)}.Proto(),
	}
	if s > 1 {
		prev := a.log[s-2].Hash()
		b.Prev = prev[:]
	}
	setContribution(b, a.member(), 100, Period)
	b.GetContribution().Note = fmt.Sprintf("fork %d", a.forks)
	return a.Sign(tb, b)
}

// Gap signs an entry one seq past the next one, as if an entry were
// missing: seq head+2, prev the head's hash (zero on an empty chain). It
// does not advance the chain.
func (a *Author) Gap(tb testing.TB, fed ledger.Hash) ledger.Entry {
	tb.Helper()
	return a.Peek(tb, fed, func(b *caissev1.EntryBody) {
		b.Seq++
		var prev ledger.Hash
		if h := a.Head(); h != nil {
			prev = h.Hash
		}
		b.Prev = prev[:]
	})
}
