package ledger

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Amount is money in the currency's minor unit (cents for EUR). There are no
// floats anywhere near money.
type Amount int64

// MaxAmount bounds one entry's amount: 10^15 minor units (ten trillion
// euros), far above any real caisse and far enough below the int64 limit
// that sums fail loudly long before they could wrap.
const MaxAmount Amount = 1_000_000_000_000_000

// MaxExponent bounds a currency's minor-unit digits.
const MaxExponent = 8

// Add returns a+b, or ErrOverflow.
func (a Amount) Add(b Amount) (Amount, error) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, fmt.Errorf("ledger: %d + %d: %w", a, b, ErrOverflow)
	}
	return s, nil
}

// Sub returns a-b, or ErrOverflow.
func (a Amount) Sub(b Amount) (Amount, error) {
	s := a - b
	if (b > 0 && s > a) || (b < 0 && s < a) {
		return 0, fmt.Errorf("ledger: %d - %d: %w", a, b, ErrOverflow)
	}
	return s, nil
}

// Neg returns -a, or ErrOverflow for the one int64 that has no negation.
func (a Amount) Neg() (Amount, error) {
	if a == math.MinInt64 {
		return 0, fmt.Errorf("ledger: -(%d): %w", a, ErrOverflow)
	}
	return -a, nil
}

// MulDiv returns floor(a*num/den) for a >= 0, num >= 0, den > 0, computed
// on 128 bits so that the product may exceed int64; ErrOverflow if the
// result does not fit.
func (a Amount) MulDiv(num, den int64) (Amount, error) {
	if a < 0 || num < 0 || den <= 0 {
		return 0, fmt.Errorf("ledger: muldiv(%d, %d, %d): negative operand: %w", a, num, den, ErrOverflow)
	}
	hi, lo := bits.Mul64(uint64(a), uint64(num))
	if hi >= uint64(den) {
		return 0, fmt.Errorf("ledger: %d*%d/%d: %w", a, num, den, ErrOverflow)
	}
	q, _ := bits.Div64(hi, lo, uint64(den))
	if q > math.MaxInt64 {
		return 0, fmt.Errorf("ledger: %d*%d/%d: %w", a, num, den, ErrOverflow)
	}
	return Amount(q), nil
}

// CheckAmount reports whether a is a valid amount for one entry: strictly
// positive and at most MaxAmount.
func CheckAmount(a Amount) error {
	if a <= 0 {
		return fmt.Errorf("ledger: amount %d: must be positive: %w", a, ErrInvalidAmount)
	}
	if a > MaxAmount {
		return fmt.Errorf("ledger: amount %d: over the limit of %d: %w", a, MaxAmount, ErrInvalidAmount)
	}
	return nil
}

// ParseAmount parses an amount as people type it, "12.50" or "12,50" or
// "12", into minor units of a currency with exp decimal digits. It refuses
// signs, exponents, spaces, more decimals than the currency has, zero and
// anything over MaxAmount.
func ParseAmount(s string, exp uint32) (Amount, error) {
	if exp > MaxExponent {
		return 0, fmt.Errorf("ledger: parse amount %q: currency exponent %d over %d: %w", s, exp, MaxExponent, ErrInvalidAmount)
	}
	intPart, frac, hasPoint := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	bad := func(why string) (Amount, error) {
		return 0, fmt.Errorf("ledger: parse amount %q: %s: %w", s, why, ErrInvalidAmount)
	}
	switch {
	case s == "":
		return bad("empty")
	case intPart == "" && frac == "":
		return bad("no digits")
	case hasPoint && frac == "":
		return bad("no digits after the decimal point")
	case uint32(len(frac)) > exp:
		if exp == 0 {
			return bad("this currency has no minor unit")
		}
		return bad(fmt.Sprintf("at most %d decimals", exp))
	}
	var v Amount
	digits := intPart + frac + strings.Repeat("0", int(exp)-len(frac))
	for _, c := range digits {
		if c < '0' || c > '9' {
			return bad("not a positive decimal number")
		}
		if v > (MaxAmount-Amount(c-'0'))/10 {
			return bad(fmt.Sprintf("over the limit of %s", MaxAmount.Format(exp)))
		}
		v = v*10 + Amount(c-'0')
	}
	if v == 0 {
		return bad("must be more than zero")
	}
	return v, nil
}

// Format renders a in major units with exp decimals: 1250 with exp 2 is
// "12.50".
func (a Amount) Format(exp uint32) string {
	neg := a < 0
	u := uint64(a)
	if neg {
		u = uint64(-(a + 1)) + 1 // no overflow at MinInt64
	}
	s := fmt.Sprintf("%0*d", int(exp)+1, u)
	if exp > 0 {
		s = s[:len(s)-int(exp)] + "." + s[len(s)-int(exp):]
	}
	if neg {
		s = "-" + s
	}
	return s
}
