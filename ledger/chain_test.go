package ledger_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
)

func TestCheckNext(t *testing.T) {
	chain := testChain(t, founderKey)
	g, c, d, x := chain[0], chain[1], chain[2], chain[3]
	a := pub(founderKey)
	fed := g.Hash()
	head := func(e ledger.Entry) *ledger.Head { h := e.Head(); return &h }
	// withTime signs the contribution at seq 2 after g, at another time.
	withTime := func(wall uint64, logical uint32) ledger.Entry {
		b := contributionBody(a, fed, 2, g.Hash())
		b.Time = &caissev1.HLC{WallMs: wall, Logical: logical}
		return mustSign(t, founderKey, b)
	}
	badPrev := mustSign(t, founderKey, contributionBody(a, fed, 2, ledger.HashBody([]byte("not the genesis"))))

	tests := []struct {
		name   string
		head   *ledger.Head
		e      ledger.Entry
		want   error
		behind bool
	}{
		{name: "first entry", head: nil, e: g},
		{name: "next entry", head: head(g), e: c},
		{name: "next with the same wall, later logical", head: head(c), e: d},
		{name: "correction after disbursement", head: head(d), e: x},
		{name: "first entry of an empty log is not seq 1", head: nil, e: c, want: ledger.ErrGap},
		{name: "gap of one", head: head(g), e: d, want: ledger.ErrGap},
		{name: "gap of two", head: head(g), e: x, want: ledger.ErrGap},
		{name: "bad prev", head: head(g), e: badPrev, want: ledger.ErrBadPrev},
		{name: "prev of another log", head: &ledger.Head{Seq: 1, Hash: ledger.HashBody([]byte("x")), Time: g.Time()}, e: c, want: ledger.ErrBadPrev},
		{name: "same time as the head", head: head(g), e: withTime(wallGenesis, 0), want: ledger.ErrClockRegressed},
		{name: "time before the head", head: head(g), e: withTime(wallGenesis-1, 99), want: ledger.ErrClockRegressed},
		{name: "same wall, one logical tick later", head: head(g), e: withTime(wallGenesis, 1)},
		{name: "head itself", head: head(c), e: c, behind: true},
		{name: "below the head", head: head(x), e: c, behind: true},
		{name: "seq 1 below the head", head: head(d), e: g, behind: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ledger.CheckNext(tc.head, tc.e)
			if got := ledger.IsBehind(err); got != tc.behind {
				t.Fatalf("IsBehind(%v) = %v, want %v", err, got, tc.behind)
			}
			if tc.behind {
				for _, s := range []error{ledger.ErrGap, ledger.ErrBadPrev, ledger.ErrClockRegressed, ledger.ErrFork, ledger.ErrDuplicate} {
					if errors.Is(err, s) {
						t.Errorf("behind: error %v is also %v", err, s)
					}
				}
				return
			}
			wantErr(t, err, tc.want)
			if err != nil && !strings.HasPrefix(err.Error(), "ledger: "+tc.e.Author().Short()) {
				t.Errorf("error %q does not name the author", err)
			}
		})
	}
}

func TestIsBehind(t *testing.T) {
	g := testChain(t, founderKey)[0]
	h := g.Head()
	behind := ledger.CheckNext(&h, g)
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "gap", err: ledger.ErrGap, want: false},
		{name: "behind", err: behind, want: true},
		{name: "behind, wrapped", err: fmt.Errorf("store: append: %w", behind), want: true},
		{name: "same text", err: errors.New(behind.Error()), want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ledger.IsBehind(tc.err); got != tc.want {
				t.Errorf("IsBehind(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestCheckStored(t *testing.T) {
	chain := testChain(t, founderKey)
	c := chain[1]
	// The same author says something else at the same seq: an equivocation.
	other := contributionBody(pub(founderKey), chain[0].Hash(), 2, chain[0].Hash())
	other.GetContribution().Amount = 250000
	fork := mustSign(t, founderKey, other)
	// The very same entry, received again as bytes.
	again, err := ledger.Decode(c.Marshal())
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name             string
		stored, incoming ledger.Entry
		want             error
		fork             bool
	}{
		{name: "duplicate", stored: c, incoming: c, want: ledger.ErrDuplicate},
		{name: "duplicate received again", stored: c, incoming: again, want: ledger.ErrDuplicate},
		{name: "fork", stored: c, incoming: fork, want: ledger.ErrFork, fork: true},
		{name: "fork the other way", stored: fork, incoming: c, want: ledger.ErrFork, fork: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ledger.CheckStored(tc.stored, tc.incoming)
			wantErr(t, err, tc.want)
			var fe *ledger.ForkError
			if got := errors.As(err, &fe); got != tc.fork {
				t.Fatalf("errors.As(%v, *ForkError) = %v, want %v", err, got, tc.fork)
			}
			if !tc.fork {
				if errors.Is(err, ledger.ErrFork) {
					t.Errorf("duplicate %v is also ErrFork", err)
				}
				return
			}
			if errors.Is(err, ledger.ErrDuplicate) {
				t.Errorf("fork %v is also ErrDuplicate", err)
			}
			if diff := diffEntries(tc.stored, fe.Existing); diff != "" {
				t.Errorf("ForkError.Existing (-want +got):\n%s", diff)
			}
			if diff := diffEntries(tc.incoming, fe.Incoming); diff != "" {
				t.Errorf("ForkError.Incoming (-want +got):\n%s", diff)
			}
			// The proof must stand by itself: both entries verify, with
			// the same author and seq and different hashes.
			for _, e := range []ledger.Entry{fe.Existing, fe.Incoming} {
				if err := e.Verify(); err != nil {
					t.Errorf("fork proof %v does not verify: %v", e, err)
				}
			}
			if fe.Existing.Author() != fe.Incoming.Author() || fe.Existing.Seq() != fe.Incoming.Seq() || fe.Existing.Hash() == fe.Incoming.Hash() {
				t.Errorf("fork proof: %v and %v", fe.Existing, fe.Incoming)
			}
			for _, s := range []string{tc.stored.Hash().Short(), tc.incoming.Hash().Short()} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name entry %s", err, s)
				}
			}
			if wrapped := fmt.Errorf("store: %w", err); !errors.As(wrapped, &fe) || !errors.Is(wrapped, ledger.ErrFork) {
				t.Errorf("wrapped fork error lost its type or sentinel: %v", wrapped)
			}
		})
	}
}

func TestCheckFederation(t *testing.T) {
	chain := testChain(t, founderKey)
	fed := chain[0].Hash()
	otherFed := mustSign(t, otherKey, genesisBody(pub(otherKey)))
	tests := []struct {
		name string
		fed  ledger.Hash
		e    ledger.Entry
		want error
	}{
		{name: "genesis founds its federation", fed: fed, e: chain[0]},
		{name: "contribution", fed: fed, e: chain[1]},
		{name: "correction", fed: fed, e: chain[3]},
		{name: "genesis of another federation", fed: fed, e: otherFed, want: ledger.ErrWrongFederation},
		{name: "entry of another federation", fed: otherFed.Hash(), e: chain[2], want: ledger.ErrWrongFederation},
		{name: "zero federation id", fed: ledger.Hash{}, e: chain[0], want: ledger.ErrWrongFederation},
		{name: "zero federation id, not a genesis", fed: ledger.Hash{}, e: chain[1], want: ledger.ErrWrongFederation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, ledger.CheckFederation(tc.fed, tc.e), tc.want)
		})
	}
}

// TestChainWalk appends the test chain to a log kept as heads, the way a
// store does, and checks every head.
func TestChainWalk(t *testing.T) {
	var head *ledger.Head
	var got []ledger.Head
	for _, e := range testChain(t, founderKey) {
		if err := ledger.CheckNext(head, e); err != nil {
			t.Fatalf("CheckNext(%v): %v", e, err)
		}
		h := e.Head()
		head = &h
		got = append(got, h)
	}
	want := []ledger.Head{
		{Seq: 1, Time: ledger.HLC{Wall: wallGenesis}},
		{Seq: 2, Time: ledger.HLC{Wall: wallContribution}},
		{Seq: 3, Time: ledger.HLC{Wall: wallContribution, Logical: 1}},
		{Seq: 4, Time: ledger.HLC{Wall: wallCorrection}},
	}
	for i := range got {
		want[i].Hash = got[i].Hash // hashes are pinned by the golden test
		if i > 0 && got[i].Hash == got[i-1].Hash {
			t.Errorf("heads %d and %d share a hash", i, i-1)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("heads (-want +got):\n%s", diff)
	}
}
