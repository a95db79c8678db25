package ledger_test

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/google/go-cmp/cmp"
)

func TestParseAmount(t *testing.T) {
	tests := []struct {
		name string
		in   string
		exp  uint32
		want ledger.Amount
		err  error
	}{
		{name: "point", in: "12.50", exp: 2, want: 1250},
		{name: "comma one decimal", in: "12,5", exp: 2, want: 1250},
		{name: "one cent", in: "0.01", exp: 2, want: 1},
		{name: "integer exp 0", in: "7", exp: 0, want: 7},
		{name: "integer exp 2", in: "7", exp: 2, want: 700},
		{name: "integer exp 3", in: "7", exp: 3, want: 7000},
		{name: "fewer decimals than exp", in: "12.50", exp: 3, want: 12500},
		{name: "comma exp 3", in: "12,5", exp: 3, want: 12500},
		{name: "smallest exp 3", in: "0.001", exp: 3, want: 1},
		{name: "smallest exp 8", in: "0.00000001", exp: 8, want: 1},
		{name: "leading zeros", in: "007", exp: 0, want: 7},
		{name: "MaxAmount exp 2", in: "10000000000000.00", exp: 2, want: ledger.MaxAmount},
		{name: "MaxAmount exp 0", in: "1000000000000000", exp: 0, want: ledger.MaxAmount},
		{name: "MaxAmount exp 8", in: "10000000.00000000", exp: 8, want: ledger.MaxAmount},

		{name: "empty", in: "", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "lone point", in: ".", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "lone comma", in: ",", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "trailing point", in: "12.", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "trailing comma", in: "12,", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "minus sign", in: "-3", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "plus sign", in: "+3", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "exponent notation", in: "1e3", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "leading space", in: " 12", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "trailing space", in: "12 ", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "inner space", in: "1 200", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "too many decimals", in: "12.345", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "zero", in: "0", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "zero with decimals", in: "0.00", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "zero with comma", in: "0,0", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "one minor unit over MaxAmount", in: "10000000000000.01", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "over MaxAmount exp 0", in: "1000000000000001", exp: 0, err: ledger.ErrInvalidAmount},
		{name: "over int64", in: "99999999999999999999999999", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "decimals with exp 0", in: "12.5", exp: 0, err: ledger.ErrInvalidAmount},
		{name: "zero decimals with exp 0", in: "12.0", exp: 0, err: ledger.ErrInvalidAmount},
		{name: "two points", in: "1.2.3", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "thousands separator", in: "1,000.50", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "exp over MaxExponent", in: "12", exp: ledger.MaxExponent + 1, err: ledger.ErrInvalidAmount},
		{name: "hex", in: "0x10", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "NaN", in: "NaN", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "arabic-indic digits", in: "١٢", exp: 2, err: ledger.ErrInvalidAmount},
		{name: "fullwidth digits", in: "１２", exp: 2, err: ledger.ErrInvalidAmount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ledger.ParseAmount(tc.in, tc.exp)
			wantErr(t, err, tc.err)
			if tc.err != nil {
				if got != 0 {
					t.Errorf("ParseAmount(%q, %d) = %d with an error, want 0", tc.in, tc.exp, got)
				}
				if !strings.HasPrefix(err.Error(), "ledger: parse amount") {
					t.Errorf("error %q does not name the operation", err)
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseAmount(%q, %d) (-want +got):\n%s", tc.in, tc.exp, diff)
			}
		})
	}
}

func TestAmountFormat(t *testing.T) {
	tests := []struct {
		name string
		a    ledger.Amount
		exp  uint32
		want string
	}{
		{name: "cents", a: 1250, exp: 2, want: "12.50"},
		{name: "one cent", a: 1, exp: 2, want: "0.01"},
		{name: "zero", a: 0, exp: 2, want: "0.00"},
		{name: "exp 0", a: 7, exp: 0, want: "7"},
		{name: "exp 3", a: 7000, exp: 3, want: "7.000"},
		{name: "exp 8", a: 5, exp: 8, want: "0.00000005"},
		{name: "negative", a: -1250, exp: 2, want: "-12.50"},
		{name: "negative cent", a: -1, exp: 2, want: "-0.01"},
		{name: "negative exp 0", a: -7, exp: 0, want: "-7"},
		{name: "MaxAmount", a: ledger.MaxAmount, exp: 2, want: "10000000000000.00"},
		{name: "MaxInt64", a: math.MaxInt64, exp: 2, want: "92233720368547758.07"},
		{name: "MinInt64", a: math.MinInt64, exp: 2, want: "-92233720368547758.08"},
		{name: "MinInt64 exp 0", a: math.MinInt64, exp: 0, want: "-9223372036854775808"},
		{name: "MinInt64 exp 8", a: math.MinInt64, exp: 8, want: "-92233720368.54775808"},
		{name: "MinInt64 plus one", a: math.MinInt64 + 1, exp: 2, want: "-92233720368547758.07"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.a.Format(tc.exp)); diff != "" {
				t.Errorf("Amount(%d).Format(%d) (-want +got):\n%s", tc.a, tc.exp, diff)
			}
		})
	}
}

// TestAmountFormatRoundTrip: every valid amount survives Format then
// ParseAmount, at every exponent; every int64, negative ones and MinInt64
// included, survives Format then strconv (once the point is taken out).
func TestAmountFormatRoundTrip(t *testing.T) {
	valid := []ledger.Amount{1, 9, 10, 99, 100, 101, 1250, 123456789, ledger.MaxAmount - 1, ledger.MaxAmount}
	all := append([]ledger.Amount{0, -1, -10, -1250, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}, valid...)
	for exp := uint32(0); exp <= ledger.MaxExponent; exp++ {
		t.Run("exp "+strconv.Itoa(int(exp)), func(t *testing.T) {
			for _, a := range valid {
				s := a.Format(exp)
				got, err := ledger.ParseAmount(s, exp)
				if err != nil {
					t.Errorf("ParseAmount(Format(%d) = %q): %v", a, s, err)
					continue
				}
				if got != a {
					t.Errorf("ParseAmount(Format(%d) = %q) = %d", a, s, got)
				}
			}
			for _, a := range all {
				s := a.Format(exp)
				intPart, frac, hasPoint := strings.Cut(s, ".")
				if hasPoint != (exp > 0) || uint32(len(frac)) != exp {
					t.Errorf("Format(%d, %d) = %q: want exactly %d decimals", a, exp, s, exp)
				}
				got, err := strconv.ParseInt(intPart+frac, 10, 64)
				if err != nil || ledger.Amount(got) != a {
					t.Errorf("Format(%d, %d) = %q: reads back as %d, %v", a, exp, s, got, err)
				}
			}
		})
	}
}

func TestAmountArithmetic(t *testing.T) {
	const (
		maxI = ledger.Amount(math.MaxInt64)
		minI = ledger.Amount(math.MinInt64)
	)
	type op func() (ledger.Amount, error)
	tests := []struct {
		name string
		op   op
		want ledger.Amount
		err  error
	}{
		{name: "add", op: func() (ledger.Amount, error) { return ledger.Amount(1).Add(2) }, want: 3},
		{name: "add negative", op: func() (ledger.Amount, error) { return ledger.Amount(1).Add(-2) }, want: -1},
		{name: "add zero to max", op: func() (ledger.Amount, error) { return maxI.Add(0) }, want: maxI},
		{name: "add max and min", op: func() (ledger.Amount, error) { return maxI.Add(minI) }, want: -1},
		{name: "add min and max", op: func() (ledger.Amount, error) { return minI.Add(maxI) }, want: -1},
		{name: "add min to zero", op: func() (ledger.Amount, error) { return ledger.Amount(0).Add(minI) }, want: minI},
		{name: "add one to max", op: func() (ledger.Amount, error) { return maxI.Add(1) }, err: ledger.ErrOverflow},
		{name: "add max to max", op: func() (ledger.Amount, error) { return maxI.Add(maxI) }, err: ledger.ErrOverflow},
		{name: "add minus one to min", op: func() (ledger.Amount, error) { return minI.Add(-1) }, err: ledger.ErrOverflow},
		{name: "add min to minus one", op: func() (ledger.Amount, error) { return ledger.Amount(-1).Add(minI) }, err: ledger.ErrOverflow},
		{name: "add min to min", op: func() (ledger.Amount, error) { return minI.Add(minI) }, err: ledger.ErrOverflow},

		{name: "sub", op: func() (ledger.Amount, error) { return ledger.Amount(5).Sub(3) }, want: 2},
		{name: "sub to negative", op: func() (ledger.Amount, error) { return ledger.Amount(3).Sub(5) }, want: -2},
		{name: "sub max from zero", op: func() (ledger.Amount, error) { return ledger.Amount(0).Sub(maxI) }, want: -maxI},
		{name: "sub min from minus one", op: func() (ledger.Amount, error) { return ledger.Amount(-1).Sub(minI) }, want: maxI},
		{name: "sub min from min", op: func() (ledger.Amount, error) { return minI.Sub(minI) }, want: 0},
		{name: "sub max from max", op: func() (ledger.Amount, error) { return maxI.Sub(maxI) }, want: 0},
		{name: "sub min from zero", op: func() (ledger.Amount, error) { return ledger.Amount(0).Sub(minI) }, err: ledger.ErrOverflow},
		{name: "sub one from min", op: func() (ledger.Amount, error) { return minI.Sub(1) }, err: ledger.ErrOverflow},
		{name: "sub minus one from max", op: func() (ledger.Amount, error) { return maxI.Sub(-1) }, err: ledger.ErrOverflow},
		{name: "sub max from minus two", op: func() (ledger.Amount, error) { return ledger.Amount(-2).Sub(maxI) }, err: ledger.ErrOverflow},
		{name: "sub min from max", op: func() (ledger.Amount, error) { return maxI.Sub(minI) }, err: ledger.ErrOverflow},

		{name: "neg", op: func() (ledger.Amount, error) { return ledger.Amount(5).Neg() }, want: -5},
		{name: "neg zero", op: func() (ledger.Amount, error) { return ledger.Amount(0).Neg() }, want: 0},
		{name: "neg max", op: func() (ledger.Amount, error) { return maxI.Neg() }, want: -maxI},
		{name: "neg min plus one", op: func() (ledger.Amount, error) { return (minI + 1).Neg() }, want: maxI},
		{name: "neg min", op: func() (ledger.Amount, error) { return minI.Neg() }, err: ledger.ErrOverflow},

		{name: "muldiv levy", op: func() (ledger.Amount, error) { return ledger.Amount(123456).MulDiv(1000, 10000) }, want: 12345},
		{name: "muldiv floors", op: func() (ledger.Amount, error) { return ledger.Amount(7).MulDiv(1, 2) }, want: 3},
		{name: "muldiv zero", op: func() (ledger.Amount, error) { return ledger.Amount(0).MulDiv(math.MaxInt64, 1) }, want: 0},
		{name: "muldiv zero num", op: func() (ledger.Amount, error) { return maxI.MulDiv(0, 1) }, want: 0},
		{name: "muldiv product over 64 bits fits", op: func() (ledger.Amount, error) { return maxI.MulDiv(10000, 10000) }, want: maxI},
		{name: "muldiv max squared over max", op: func() (ledger.Amount, error) { return maxI.MulDiv(math.MaxInt64, math.MaxInt64) }, want: maxI},
		{name: "muldiv MaxAmount squared", op: func() (ledger.Amount, error) {
			return ledger.MaxAmount.MulDiv(int64(ledger.MaxAmount), int64(ledger.MaxAmount))
		}, want: ledger.MaxAmount},
		{name: "muldiv product exactly 2^64", op: func() (ledger.Amount, error) { return ledger.Amount(1<<62).MulDiv(4, 4) }, want: 1 << 62},
		{name: "muldiv result 2^63-1 from 128 bits", op: func() (ledger.Amount, error) { return maxI.MulDiv(3, 3) }, want: maxI},
		{name: "muldiv result 2^63", op: func() (ledger.Amount, error) { return ledger.Amount(1<<62).MulDiv(4, 2) }, err: ledger.ErrOverflow},
		{name: "muldiv result over int64, fits uint64", op: func() (ledger.Amount, error) { return maxI.MulDiv(3, 2) }, err: ledger.ErrOverflow},
		{name: "muldiv result over 64 bits", op: func() (ledger.Amount, error) { return maxI.MulDiv(math.MaxInt64, 1) }, err: ledger.ErrOverflow},
		{name: "muldiv negative amount", op: func() (ledger.Amount, error) { return ledger.Amount(-1).MulDiv(1, 1) }, err: ledger.ErrOverflow},
		{name: "muldiv negative num", op: func() (ledger.Amount, error) { return ledger.Amount(1).MulDiv(-1, 1) }, err: ledger.ErrOverflow},
		{name: "muldiv zero den", op: func() (ledger.Amount, error) { return ledger.Amount(1).MulDiv(1, 0) }, err: ledger.ErrOverflow},
		{name: "muldiv negative den", op: func() (ledger.Amount, error) { return ledger.Amount(1).MulDiv(1, -1) }, err: ledger.ErrOverflow},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.op()
			wantErr(t, err, tc.err)
			if tc.err != nil && got != 0 {
				t.Errorf("got %d with an error, want 0", got)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckAmount(t *testing.T) {
	tests := []struct {
		name string
		a    ledger.Amount
		err  error
	}{
		{name: "one", a: 1},
		{name: "MaxAmount", a: ledger.MaxAmount},
		{name: "zero", a: 0, err: ledger.ErrInvalidAmount},
		{name: "negative", a: -1, err: ledger.ErrInvalidAmount},
		{name: "MinInt64", a: math.MinInt64, err: ledger.ErrInvalidAmount},
		{name: "over MaxAmount", a: ledger.MaxAmount + 1, err: ledger.ErrInvalidAmount},
		{name: "MaxInt64", a: math.MaxInt64, err: ledger.ErrInvalidAmount},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, ledger.CheckAmount(tc.a), tc.err)
		})
	}
}

// FuzzParseAmount: whatever the input, an accepted amount is valid and
// reads back the same after Format.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"12.50", "12,5", "0.01", "7", "", ".", "12.", "-3", "1e3", "0.00", "10000000000000.00", "10000000000000.01", "١٢"} {
		f.Add(s, uint32(2))
	}
	f.Add("7", uint32(0))
	f.Add("0.00000001", uint32(8))
	f.Fuzz(func(t *testing.T, s string, exp uint32) {
		a, err := ledger.ParseAmount(s, exp)
		if err != nil {
			if !errors.Is(err, ledger.ErrInvalidAmount) {
				t.Fatalf("ParseAmount(%q, %d): %v, not ErrInvalidAmount", s, exp, err)
			}
			return
		}
		if err := ledger.CheckAmount(a); err != nil {
			t.Fatalf("ParseAmount(%q, %d) = %d: %v", s, exp, a, err)
		}
		back, err := ledger.ParseAmount(a.Format(exp), exp)
		if err != nil || back != a {
			t.Fatalf("ParseAmount(%q, %d) = %d, formats as %q, reads back as %d, %v", s, exp, a, a.Format(exp), back, err)
		}
	})
}
