package ledger

import (
	"fmt"
	"time"
)

// Period names an accounting period: a calendar month, UTC, "YYYY-MM".
type Period string

// ParsePeriod checks that s is a month "YYYY-MM" between 2000-01 and
// 2199-12.
func ParsePeriod(s string) (Period, error) {
	if len(s) != 7 || s[4] != '-' {
		return "", fmt.Errorf("ledger: period %q: want YYYY-MM: %w", s, ErrInvalidPeriod)
	}
	for i, c := range s {
		if i != 4 && (c < '0' || c > '9') {
			return "", fmt.Errorf("ledger: period %q: want YYYY-MM: %w", s, ErrInvalidPeriod)
		}
	}
	year := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	month := int(s[5]-'0')*10 + int(s[6]-'0')
	if month < 1 || month > 12 {
		return "", fmt.Errorf("ledger: period %q: month must be 01 to 12: %w", s, ErrInvalidPeriod)
	}
	if year < 2000 || year > 2199 {
		return "", fmt.Errorf("ledger: period %q: year must be 2000 to 2199: %w", s, ErrInvalidPeriod)
	}
	return Period(s), nil
}

// PeriodOf returns the period that contains t.
func PeriodOf(t time.Time) Period { return Period(t.UTC().Format("2006-01")) }

// PeriodOfMs returns the period that contains the instant ms milliseconds
// after the Unix epoch.
func PeriodOfMs(ms uint64) Period { return PeriodOf(time.UnixMilli(int64(ms))) }

// Start returns the first instant of p, UTC; p must be valid.
func (p Period) Start() time.Time {
	t, _ := time.Parse("2006-01", string(p))
	return t
}

// Next returns the period after p; p must be valid.
func (p Period) Next() Period { return PeriodOf(p.Start().AddDate(0, 1, 0)) }

// StartMs returns Start in milliseconds since the Unix epoch.
func (p Period) StartMs() uint64 { return uint64(p.Start().UnixMilli()) }
