package ledger_test

import (
	"testing"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
)

func TestParsePeriod(t *testing.T) {
	tests := []struct {
		name string
		in   string
		err  error
	}{
		{name: "month", in: "2026-11"},
		{name: "first", in: "2000-01"},
		{name: "last", in: "2199-12"},
		{name: "empty", in: "", err: ledger.ErrInvalidPeriod},
		{name: "one-digit month", in: "2026-1", err: ledger.ErrInvalidPeriod},
		{name: "month 13", in: "2026-13", err: ledger.ErrInvalidPeriod},
		{name: "month 00", in: "2026-00", err: ledger.ErrInvalidPeriod},
		{name: "month 99", in: "2026-99", err: ledger.ErrInvalidPeriod},
		{name: "before 2000", in: "1999-12", err: ledger.ErrInvalidPeriod},
		{name: "after 2199", in: "2200-01", err: ledger.ErrInvalidPeriod},
		{name: "slash", in: "2026/11", err: ledger.ErrInvalidPeriod},
		{name: "day", in: "2026-11-01", err: ledger.ErrInvalidPeriod},
		{name: "letter", in: "2026-1a", err: ledger.ErrInvalidPeriod},
		{name: "sign", in: "+026-11", err: ledger.ErrInvalidPeriod},
		{name: "leading space", in: " 2026-11", err: ledger.ErrInvalidPeriod},
		{name: "trailing space", in: "2026-11 ", err: ledger.ErrInvalidPeriod},
		{name: "month first", in: "11-2026", err: ledger.ErrInvalidPeriod},
		{name: "fullwidth digits", in: "２０２６-11", err: ledger.ErrInvalidPeriod},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ledger.ParsePeriod(tc.in)
			wantErr(t, err, tc.err)
			want := ledger.Period(tc.in)
			if tc.err != nil {
				want = ""
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParsePeriod(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestPeriodOf(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want ledger.Period
	}{
		{name: "utc", t: time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC), want: "2026-11"},
		{name: "last millisecond of the year", t: time.Date(2026, 12, 31, 23, 59, 59, 999e6, time.UTC), want: "2026-12"},
		{name: "local evening is next month in UTC", t: time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("UTC-1", -3600)), want: "2027-01"},
		{name: "local morning is previous month in UTC", t: time.Date(2026, 3, 1, 0, 30, 0, 0, time.FixedZone("UTC+1", 3600)), want: "2026-02"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ledger.PeriodOf(tc.t)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("PeriodOf(%v) (-want +got):\n%s", tc.t, diff)
			}
			if _, err := ledger.ParsePeriod(string(got)); err != nil {
				t.Errorf("PeriodOf(%v) = %q does not parse: %v", tc.t, got, err)
			}
		})
	}
}

func TestPeriodNextAndStart(t *testing.T) {
	for _, c := range []struct{ p, next ledger.Period }{
		{"2026-11", "2026-12"}, {"2026-12", "2027-01"}, {"2000-01", "2000-02"},
	} {
		if got := c.p.Next(); got != c.next {
			t.Errorf("%s.Next() = %s, want %s", c.p, got, c.next)
		}
		if got := ledger.PeriodOfMs(c.p.StartMs()); got != c.p {
			t.Errorf("PeriodOfMs(%s.StartMs()) = %s", c.p, got)
		}
		if got := ledger.PeriodOfMs(c.next.StartMs() - 1); got != c.p {
			t.Errorf("the last millisecond before %s is in %s, want %s", c.next, got, c.p)
		}
	}
}
