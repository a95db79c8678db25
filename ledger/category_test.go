package ledger_test

import (
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/google/go-cmp/cmp"
)

func TestContributionCategories(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want caissev1.ContributionCategory
		err  error
	}{
		{name: "dues", in: "dues", want: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES},
		{name: "donation", in: "donation", want: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DONATION},
		{name: "fundraising", in: "fundraising", want: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_FUNDRAISING},
		{name: "other", in: "other", want: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_OTHER},
		{name: "case and space", in: "  Dues\t", want: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES},
		{name: "unknown", in: "bananas", err: ledger.ErrUnknownCategory},
		{name: "empty", in: "", err: ledger.ErrUnknownCategory},
		{name: "unspecified", in: "unspecified", err: ledger.ErrUnknownCategory},
		{name: "enum name", in: "CONTRIBUTION_CATEGORY_DUES", err: ledger.ErrUnknownCategory},
		{name: "disbursement name", in: "strike", err: ledger.ErrUnknownCategory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ledger.ParseContributionCategory(tc.in)
			wantErr(t, err, tc.err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseContributionCategory(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestDisbursementCategories(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want caissev1.DisbursementCategory
		err  error
	}{
		{name: "strike", in: "strike", want: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE},
		{name: "legal", in: "legal", want: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_LEGAL},
		{name: "hardship", in: "hardship", want: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_HARDSHIP},
		{name: "equipment", in: "equipment", want: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_EQUIPMENT},
		{name: "training", in: "training", want: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_TRAINING},
		{name: "other", in: "other", want: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_OTHER},
		{name: "case and space", in: " LEGAL ", want: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_LEGAL},
		{name: "unknown", in: "holidays", err: ledger.ErrUnknownCategory},
		{name: "empty", in: "", err: ledger.ErrUnknownCategory},
		{name: "contribution name", in: "dues", err: ledger.ErrUnknownCategory},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ledger.ParseDisbursementCategory(tc.in)
			wantErr(t, err, tc.err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseDisbursementCategory(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

// TestCategoryRoundTrip: every listed name parses and names itself back,
// and every value of the schema but UNSPECIFIED has a name, so that a
// category added to entry.proto cannot be forgotten here.
func TestCategoryRoundTrip(t *testing.T) {
	t.Run("contribution names", func(t *testing.T) {
		for _, name := range ledger.ContributionCategories() {
			c, err := ledger.ParseContributionCategory(name)
			if err != nil {
				t.Fatalf("ParseContributionCategory(%q): %v", name, err)
			}
			if got := ledger.ContributionCategoryName(c); got != name {
				t.Errorf("ContributionCategoryName(%v) = %q, want %q", c, got, name)
			}
		}
	})
	t.Run("contribution schema values", func(t *testing.T) {
		var named []string
		for v := range caissev1.ContributionCategory_name {
			c := caissev1.ContributionCategory(v)
			name := ledger.ContributionCategoryName(c)
			if c == caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_UNSPECIFIED {
				if name != "unknown(0)" {
					t.Errorf("ContributionCategoryName(UNSPECIFIED) = %q, want unknown(0)", name)
				}
				continue
			}
			if strings.HasPrefix(name, "unknown") {
				t.Errorf("schema value %v has no name", c)
			}
			named = append(named, name)
		}
		if diff := cmp.Diff(len(ledger.ContributionCategories()), len(named)); diff != "" {
			t.Errorf("number of names vs schema values (-want +got):\n%s", diff)
		}
	})
	t.Run("disbursement names", func(t *testing.T) {
		for _, name := range ledger.DisbursementCategories() {
			c, err := ledger.ParseDisbursementCategory(name)
			if err != nil {
				t.Fatalf("ParseDisbursementCategory(%q): %v", name, err)
			}
			if got := ledger.DisbursementCategoryName(c); got != name {
				t.Errorf("DisbursementCategoryName(%v) = %q, want %q", c, got, name)
			}
		}
	})
	t.Run("disbursement schema values", func(t *testing.T) {
		var named []string
		for v := range caissev1.DisbursementCategory_name {
			c := caissev1.DisbursementCategory(v)
			name := ledger.DisbursementCategoryName(c)
			if c == caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_UNSPECIFIED {
				if name != "unknown(0)" {
					t.Errorf("DisbursementCategoryName(UNSPECIFIED) = %q, want unknown(0)", name)
				}
				continue
			}
			if strings.HasPrefix(name, "unknown") {
				t.Errorf("schema value %v has no name", c)
			}
			named = append(named, name)
		}
		if diff := cmp.Diff(len(ledger.DisbursementCategories()), len(named)); diff != "" {
			t.Errorf("number of names vs schema values (-want +got):\n%s", diff)
		}
	})
	t.Run("values outside the schema", func(t *testing.T) {
		if got := ledger.ContributionCategoryName(99); got != "unknown(99)" {
			t.Errorf("ContributionCategoryName(99) = %q", got)
		}
		if got := ledger.DisbursementCategoryName(-1); got != "unknown(-1)" {
			t.Errorf("DisbursementCategoryName(-1) = %q", got)
		}
	})
}
