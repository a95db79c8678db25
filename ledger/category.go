package ledger

import (
	"fmt"
	"strings"

	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

var contributionCategories = map[string]caissev1.ContributionCategory{
	"dues":        caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES,
	"donation":    caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DONATION,
	"fundraising": caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_FUNDRAISING,
	"other":       caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_OTHER,
}

var disbursementCategories = map[string]caissev1.DisbursementCategory{
	"strike":    caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE,
	"legal":     caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_LEGAL,
	"hardship":  caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_HARDSHIP,
	"equipment": caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_EQUIPMENT,
	"training":  caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_TRAINING,
	"other":     caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_OTHER,
}

// ContributionCategories lists the names accepted by ParseContributionCategory.
func ContributionCategories() []string { return []string{"dues", "donation", "fundraising", "other"} }

// DisbursementCategories lists the names accepted by ParseDisbursementCategory.
func DisbursementCategories() []string {
	return []string{"strike", "legal", "hardship", "equipment", "training", "other"}
}

// ParseContributionCategory maps a name ("dues") to its schema value.
func ParseContributionCategory(s string) (caissev1.ContributionCategory, error) {
	c, ok := contributionCategories[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, fmt.Errorf("ledger: contribution category %q: want one of %s: %w",
			s, strings.Join(ContributionCategories(), ", "), ErrUnknownCategory)
	}
	return c, nil
}

// ParseDisbursementCategory maps a name ("strike") to its schema value.
func ParseDisbursementCategory(s string) (caissev1.DisbursementCategory, error) {
	c, ok := disbursementCategories[strings.ToLower(strings.TrimSpace(s))]
	if !ok {
		return 0, fmt.Errorf("ledger: disbursement category %q: want one of %s: %w",
			s, strings.Join(DisbursementCategories(), ", "), ErrUnknownCategory)
	}
	return c, nil
}

// ContributionCategoryName is the inverse of ParseContributionCategory.
func ContributionCategoryName(c caissev1.ContributionCategory) string {
	for name, v := range contributionCategories {
		if v == c {
			return name
		}
	}
	return fmt.Sprintf("unknown(%d)", c)
}

// DisbursementCategoryName is the inverse of ParseDisbursementCategory.
func DisbursementCategoryName(c caissev1.DisbursementCategory) string {
	for name, v := range disbursementCategories {
		if v == c {
			return name
		}
	}
	return fmt.Sprintf("unknown(%d)", c)
}
