package federation_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
)

// refuseOverflow applies bad to s and requires ErrOverflow from Check and
// Apply, and a State unchanged.
func refuseOverflow(t *testing.T, s *federation.State, bad ledger.Entry) {
	t.Helper()
	before, n, balances := s.Hash(), s.Entries(), s.Balances()
	if err := s.Check(bad); !errors.Is(err, ledger.ErrOverflow) {
		t.Errorf("Check(%v) = %v, want ErrOverflow", bad, err)
	}
	err := s.Apply(bad)
	if !errors.Is(err, ledger.ErrOverflow) || !strings.HasPrefix(err.Error(), "federation: apply ") {
		t.Errorf("Apply(%v) = %v, want ErrOverflow", bad, err)
	}
	if s.Hash() != before || s.Entries() != n {
		t.Errorf("Apply(%v) failed but changed the State", bad)
	}
	if diff := cmp.Diff(balances, s.Balances()); diff != "" {
		t.Errorf("Apply(%v) failed but changed Balances (-before +after):\n%s", bad, diff)
	}
}

// TestOverflowEntries signs contributions of ledger.MaxAmount, alternating
// two periods and two categories so that no bucket is near the limit, until
// the caisse's total would pass math.MaxInt64: 9223 fit, the 9224th does
// not.
func TestOverflowEntries(t *testing.T) {
	f := newFixture(t, 1)
	a := f.cofounders[0]
	s := stateOf(t, f.genesis)
	const fit = math.MaxInt64 / int64(ledger.MaxAmount) // 9223
	for i := range fit {
		period, cat := "2026-01", dues
		if i%2 == 1 {
			period, cat = "2026-02", donation
		}
		mustApply(t, s, a.next(t, contrib(ledger.MaxAmount, period, cat)))
	}
	want := ledger.Amount(fit) * ledger.MaxAmount
	if got, _ := s.Balance(a.id); got.Total != (federation.Totals{Contributed: want, Balance: want}) {
		t.Fatalf("after %d contributions: totals %+v, want %d", fit, got.Total, want)
	}
	alt := *a
	refuseOverflow(t, s, a.next(t, contrib(ledger.MaxAmount, "2026-03", fundrais)))
	// The refused entry took no seq: the log goes on from the same head.
	mustApply(t, s, alt.next(t, disburse(ledger.MaxAmount, "2026-03", strike)))
	if got, _ := s.Balance(a.id); got.Total.Balance != want-ledger.MaxAmount {
		t.Errorf("after a disbursement: balance %d, want %d", got.Total.Balance, want-ledger.MaxAmount)
	}
}

// TestOverflowSums brings each sum an entry touches near the limit with
// federation.Preset, then applies the entry that passes it.
func TestOverflowSums(t *testing.T) {
	const near = ledger.Amount(math.MaxInt64 - 10)
	tests := []struct {
		name string
		// preset: period, in, category.
		period ledger.Period
		in     bool
		cat    uint8
		entry  kindFn
		fits   kindFn
	}{
		{
			name:   "one bucket",
			period: "2026-01", in: false, cat: uint8(strike),
			entry: disburse(11, "2026-01", strike),
			fits:  disburse(10, "2026-01", strike),
		},
		{
			name:   "one period, two categories",
			period: "2026-01", in: true, cat: uint8(dues),
			entry: contrib(11, "2026-01", donation),
			fits:  contrib(10, "2026-01", donation),
		},
		{
			name:   "one category, two periods",
			period: "2026-01", in: false, cat: uint8(strike),
			entry: disburse(11, "2026-02", strike),
			fits:  disburse(10, "2026-02", strike),
		},
		{
			name:   "whole caisse",
			period: "2026-01", in: true, cat: uint8(dues),
			entry: contrib(11, "2026-02", caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_OTHER),
			fits:  contrib(10, "2026-02", caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_OTHER),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 1)
			a := f.cofounders[0]
			s := stateOf(t, f.genesis)
			if err := federation.Preset(s, a.id, tc.period, tc.in, tc.cat, near); err != nil {
				t.Fatal(err)
			}
			alt := *a
			refuseOverflow(t, s, a.next(t, tc.entry))
			mustApply(t, s, alt.next(t, tc.fits))
			got, _ := s.Balance(a.id)
			if tot := got.Total.Contributed + got.Total.Disbursed; tot != math.MaxInt64 {
				t.Errorf("after the entry that fits: totals %+v, want one at MaxInt64", got.Total)
			}
		})
	}
}

// TestCorrectionAtTheLimit reverses an entry whose bucket sits at
// math.MaxInt64: taking it out must work.
func TestCorrectionAtTheLimit(t *testing.T) {
	f := newFixture(t, 1)
	a := f.cofounders[0]
	s := stateOf(t, f.genesis)
	if err := federation.Preset(s, a.id, "2026-01", true, uint8(dues), math.MaxInt64-ledger.MaxAmount); err != nil {
		t.Fatal(err)
	}
	a1 := a.next(t, contrib(ledger.MaxAmount, "2026-01", dues))
	mustApply(t, s, a1, a.next(t, correct(a1)))
	got, _ := s.Balance(a.id)
	if want := math.MaxInt64 - ledger.MaxAmount; got.Total.Contributed != want {
		t.Errorf("contributed %d, want %d", got.Total.Contributed, want)
	}
}
