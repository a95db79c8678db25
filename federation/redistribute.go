package federation

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"

	"github.com/caisse-coop/caisse/ledger"
)

// The federal redistribution of one period (DESIGN.md, "Federal rules and
// redistribution"; the exact algorithm is the rules issue's, and
// ../shared/vectors/redistribution.json holds the cases every
// implementation must match to the cent).
//
// Redistribute is a pure function of its input: integer arithmetic only,
// 128-bit intermediates wherever a product or a sum of weights may pass
// int64, no map order (need units are sorted), no clock. Every tie is
// broken by the caisses' tie keys for the period, so the result does not
// depend on the order of the input caisses either.

// ErrInvalidRedistribution: an input that Redistribute refuses: a period
// that is not "YYYY-MM", a levy or reserve over 10000 bp, key weights that
// do not sum to 10000, a negative amount or rate, a need unit with no rate,
// a caisse listed twice, a reserve holder that is not among the caisses.
var ErrInvalidRedistribution = errors.New("invalid redistribution input")

// RedistributionInput is what the redistribution of a period is computed
// from: the rules in force for the period and each caisse's totals.
type RedistributionInput struct {
	// Period names the period; it is part of every tie key.
	Period ledger.Period
	// LevyBP is the share of each caisse's contributions owed to the pool,
	// in basis points (at most 10000).
	LevyBP uint32
	// ReserveBP is the share of the pool kept as a reserve by
	// ReserveHolder, in basis points (at most 10000).
	ReserveBP uint32
	// Weights split what is left of the pool between the three keys.
	Weights KeyWeights
	// Rates is the value, in minor units, of one unit of each need
	// category (a strike day, a legal case).
	Rates map[string]ledger.Amount
	// ReserveHolder is the caisse that keeps the reserve; it must be one of
	// Caisses. With none, nothing is kept: the whole pool is distributed.
	ReserveHolder *ledger.Author
	// Caisses are the caisses that take part in the period, in any order.
	Caisses []CaisseInput
}

// KeyWeights are the weights of the redistribution keys, in basis points
// summing to 10000.
type KeyWeights struct {
	Need, Members, Equal uint32
}

// CaisseInput is one caisse's totals for the period.
type CaisseInput struct {
	// ID is the caisse's key.
	ID ledger.Author
	// Contributions is the caisse's net contributions in the period.
	Contributions ledger.Amount
	// Members is the caisse's member count.
	Members uint64
	// Needs is the caisse's declared need: units of each need category.
	Needs map[string]uint64
}

// Redistribution is the redistribution of one period.
type Redistribution struct {
	Period ledger.Period
	// Pool is the sum of the dues; it is also the sum of the shares.
	Pool ledger.Amount
	// Reserve is the part of the pool kept by the reserve holder, included
	// in its share.
	Reserve ledger.Amount
	// Caisses are in the order of the input's caisses.
	Caisses []CaisseShare
	// Transfers is the settlement plan, in the order it is built: at most
	// one fewer than the caisses, and once all are paid every caisse's net
	// position is zero.
	Transfers []Transfer
}

// CaisseShare is one caisse's part in a redistribution.
type CaisseShare struct {
	ID ledger.Author
	// Due is what the caisse owes the pool: its contributions times the
	// levy, rounded down.
	Due ledger.Amount
	// Need is the caisse's declared need valued at the rates.
	Need ledger.Amount
	// Share is what the caisse receives from the pool: its parts of the
	// three keys, plus the reserve if it holds it.
	Share ledger.Amount
	// Net is Share - Due: positive, the caisse is owed; negative, it owes.
	Net ledger.Amount
}

// Transfer is one payment of the settlement plan.
type Transfer struct {
	From, To ledger.Author
	Amount   ledger.Amount
}

// Redistribute computes the redistribution of a period:
//
//  1. each caisse's due is floor(contributions × levy / 10000);
//  2. the pool is the sum of the dues; the reserve holder keeps
//     floor(pool × reserve / 10000) of it, and the rest is distributable;
//  3. the distributable pool is split by the key weights (need, members,
//     equal) into three sub-pools, by largest remainder, ties in that order;
//  4. need: with no declared need at all, the need sub-pool carries over to
//     the members key; if the needs fit in it, each caisse receives its
//     need and the rest carries over; otherwise it is split by need;
//  5. members: the members sub-pool and what the need key carried over are
//     split by member counts; if no caisse has members, they carry over to
//     the equal key;
//  6. equal: the equal sub-pool and what the members key carried over are
//     split in equal parts;
//  7. a caisse's share is the sum of its three parts (and the reserve, for
//     its holder); its net position is share - due;
//  8. the settlement plan: while someone owes, the caisse that owes the
//     most pays the caisse owed the most the smaller of the two amounts.
//
// Each split uses the largest-remainder method: with weights w_i summing
// to W > 0, item i first gets floor(T × w_i / W), then the units left over
// go one each to the items with the largest remainders T × w_i mod W.
// Ties, here and in the settlement plan, go to the caisse with the lower
// tie key: SHA-256 of its 32-byte key followed by the period string.
//
// Invalid input is ErrInvalidRedistribution; a due pool or a need that
// does not fit in an Amount is ledger.ErrOverflow. The shares always add up
// to the pool and the net positions to zero.
func Redistribute(in RedistributionInput) (Redistribution, error) {
	p, err := ledger.ParsePeriod(string(in.Period))
	if err != nil {
		return Redistribution{}, fmt.Errorf("federation: redistribute: %w: %w", ErrInvalidRedistribution, err)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("federation: redistribute %s: %s: %w", p, fmt.Sprintf(format, args...), ErrInvalidRedistribution)
	}
	overflow := func(what string, err error) error {
		return fmt.Errorf("federation: redistribute %s: %s: %w", p, what, err)
	}
	switch w := in.Weights; {
	case in.LevyBP > 10000:
		return Redistribution{}, bad("levy of %d bp, over 10000", in.LevyBP)
	case in.ReserveBP > 10000:
		return Redistribution{}, bad("reserve of %d bp, over 10000", in.ReserveBP)
	case uint64(w.Need)+uint64(w.Members)+uint64(w.Equal) != 10000:
		return Redistribution{}, bad("key weights %d+%d+%d bp, not 10000", w.Need, w.Members, w.Equal)
	}
	for _, unit := range slices.Sorted(maps.Keys(in.Rates)) {
		if r := in.Rates[unit]; r < 0 {
			return Redistribution{}, bad("rate of %q is %d, negative", unit, r)
		}
	}

	n := len(in.Caisses)
	out := Redistribution{Period: p, Caisses: make([]CaisseShare, n)}
	keys := make([]ledger.Hash, n)
	index := make(map[ledger.Author]int, n)
	buf := make([]byte, 0, len(ledger.Author{})+len(p))
	for i, c := range in.Caisses {
		if _, dup := index[c.ID]; dup {
			return Redistribution{}, bad("caisse %s listed twice", c.ID.Short())
		}
		index[c.ID] = i
		if c.Contributions < 0 {
			return Redistribution{}, bad("caisse %s: contributions %d, negative", c.ID.Short(), c.Contributions)
		}
		// Cannot fail: the levy is at most 10000 bp of the contributions.
		due, _ := c.Contributions.MulDiv(int64(in.LevyBP), 10000)
		need, err := valueNeeds(c.Needs, in.Rates)
		if err != nil {
			if errors.Is(err, ledger.ErrOverflow) {
				return Redistribution{}, overflow("caisse "+c.ID.Short()+": need", err)
			}
			return Redistribution{}, bad("caisse %s: %v", c.ID.Short(), err)
		}
		if out.Pool, err = out.Pool.Add(due); err != nil {
			return Redistribution{}, overflow("pool", err)
		}
		out.Caisses[i] = CaisseShare{ID: c.ID, Due: due, Need: need}
		buf = append(append(buf[:0], c.ID[:]...), p...)
		keys[i] = sha256.Sum256(buf)
	}
	holder := -1
	if in.ReserveHolder != nil {
		i, ok := index[*in.ReserveHolder]
		if !ok {
			return Redistribution{}, bad("reserve holder %s is not among the caisses", in.ReserveHolder.Short())
		}
		holder = i
	}
	// The caisses in tie order: lower tie key first. Keys differ, as the
	// caisses do, so this order is total.
	byTie := make([]int, n)
	for i := range byTie {
		byTie[i] = i
	}
	slices.SortFunc(byTie, func(a, b int) int { return bytes.Compare(keys[a][:], keys[b][:]) })

	if holder >= 0 {
		// Cannot fail: the reserve is at most 10000 bp of the pool.
		out.Reserve, _ = out.Pool.MulDiv(int64(in.ReserveBP), 10000)
		out.Caisses[holder].Share = out.Reserve
	}
	sub := largestRemainder(out.Pool-out.Reserve,
		[]uint64{uint64(in.Weights.Need), uint64(in.Weights.Members), uint64(in.Weights.Equal)},
		[]int{0, 1, 2})
	credit := func(parts []ledger.Amount) {
		for i, a := range parts {
			out.Caisses[i].Share += a // no overflow: the shares add up to the pool
		}
	}

	weights := make([]uint64, n)
	var sumNeed uint128
	for i, c := range out.Caisses {
		weights[i] = uint64(c.Need)
		sumNeed = sumNeed.add64(weights[i])
	}
	carry := sub[0]
	switch {
	case sumNeed.isZero(): // no need declared: it all carries over
	case sumNeed.cmp(uint128{lo: uint64(carry)}) <= 0:
		for i := range out.Caisses {
			out.Caisses[i].Share += out.Caisses[i].Need
		}
		carry -= ledger.Amount(sumNeed.lo)
	default:
		credit(largestRemainder(carry, weights, byTie))
		carry = 0
	}

	carry += sub[1] // no overflow: both are parts of the pool
	for i, c := range in.Caisses {
		weights[i] = c.Members
	}
	if slices.ContainsFunc(weights, func(w uint64) bool { return w > 0 }) {
		credit(largestRemainder(carry, weights, byTie))
		carry = 0
	}

	carry += sub[2]
	if n > 0 {
		for i := range weights {
			weights[i] = 1
		}
		credit(largestRemainder(carry, weights, byTie))
	}

	for i := range out.Caisses {
		c := &out.Caisses[i]
		c.Net = c.Share - c.Due // no overflow: both are in [0, MaxInt64]
	}
	out.Transfers = settlementPlan(out.Caisses, byTie)
	return out, nil
}

// valueNeeds returns the sum of units × rate over needs, in the units'
// byte order; an error for a unit with no rate, ledger.ErrOverflow if the
// sum does not fit in an Amount.
func valueNeeds(needs map[string]uint64, rates map[string]ledger.Amount) (ledger.Amount, error) {
	var sum ledger.Amount
	for _, unit := range slices.Sorted(maps.Keys(needs)) {
		rate, ok := rates[unit]
		if !ok {
			return 0, fmt.Errorf("need unit %q has no rate", unit)
		}
		units := needs[unit]
		hi, lo := bits.Mul64(units, uint64(rate))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, fmt.Errorf("ledger: %d × %d: %w", units, rate, ledger.ErrOverflow)
		}
		var err error
		if sum, err = sum.Add(ledger.Amount(lo)); err != nil {
			return 0, err
		}
	}
	return sum, nil
}

// largestRemainder splits total (>= 0) by weights, whose sum must not be
// zero: item i first gets floor(total × w_i / W), then the units left go
// one each to the items with the largest total × w_i mod W, equal
// remainders in the order of byTie (a permutation of the items' indices).
// The parts add up to total.
func largestRemainder(total ledger.Amount, weights []uint64, byTie []int) []ledger.Amount {
	var sum uint128
	for _, w := range weights {
		sum = sum.add64(w)
	}
	parts := make([]ledger.Amount, len(weights))
	rems := make([]uint128, len(weights))
	left := total
	for i, w := range weights {
		q, r := mul64(uint64(total), w).divMod(sum)
		parts[i], rems[i] = ledger.Amount(q), r // q <= total, since w <= W
		left -= ledger.Amount(q)
	}
	if left == 0 {
		return parts
	}
	// The remainders add up to left × W and each is below W, so more than
	// left items have one: no item gets two units.
	order := slices.Clone(byTie)
	slices.SortStableFunc(order, func(a, b int) int { return rems[b].cmp(rems[a]) })
	for _, i := range order[:left] {
		parts[i]++
	}
	return parts
}

// settlementPlan builds the transfers that zero every net position: while
// some caisse owes, the one that owes the most pays the one owed the most
// the smaller of the two amounts, ties to the lower tie key. Each transfer
// zeroes at least one of the two, and the last zeroes both, so there are
// at most n-1.
func settlementPlan(caisses []CaisseShare, byTie []int) []Transfer {
	net := make([]ledger.Amount, len(caisses))
	for i, c := range caisses {
		net[i] = c.Net
	}
	plan := make([]Transfer, 0, max(len(caisses)-1, 0))
	for {
		from, to := -1, -1
		for _, i := range byTie { // strict comparisons: a tie keeps the lower key
			if net[i] < 0 && (from < 0 || net[i] < net[from]) {
				from = i
			}
			if net[i] > 0 && (to < 0 || net[i] > net[to]) {
				to = i
			}
		}
		if from < 0 || to < 0 { // the nets add up to zero: both or neither
			return plan
		}
		amount := min(-net[from], net[to]) // net >= -MaxInt64: share >= 0, due <= MaxInt64
		net[from] += amount
		net[to] -= amount
		plan = append(plan, Transfer{From: caisses[from].ID, To: caisses[to].ID, Amount: amount})
	}
}

// uint128 is an unsigned 128-bit integer, for the products and the sums of
// weights of the largest-remainder splits.
type uint128 struct{ hi, lo uint64 }

func mul64(a, b uint64) uint128 {
	hi, lo := bits.Mul64(a, b)
	return uint128{hi, lo}
}

func (x uint128) isZero() bool { return x == uint128{} }

// add64 returns x+y; the callers add at most one uint64 per caisse, far
// from 2^128.
func (x uint128) add64(y uint64) uint128 {
	lo, carry := bits.Add64(x.lo, y, 0)
	return uint128{x.hi + carry, lo}
}

func (x uint128) sub(y uint128) uint128 {
	lo, borrow := bits.Sub64(x.lo, y.lo, 0)
	hi, _ := bits.Sub64(x.hi, y.hi, borrow)
	return uint128{hi, lo}
}

func (x uint128) cmp(y uint128) int {
	if x.hi != y.hi {
		if x.hi < y.hi {
			return -1
		}
		return 1
	}
	switch {
	case x.lo < y.lo:
		return -1
	case x.lo > y.lo:
		return 1
	}
	return 0
}

// divMod returns x / y and x % y, for y > 0 and a quotient that fits in 64
// bits (x / y < 2^64). With a divisor of 64 bits or more it is the
// doubleword division of Hacker's Delight (2nd ed., 9-5): divide x/2 by
// the normalized top 64 bits of y, undo the normalization, and the
// estimate is the quotient or one below.
func (x uint128) divMod(y uint128) (uint64, uint128) {
	if y.hi == 0 {
		q, r := bits.Div64(x.hi, x.lo, y.lo) // x.hi < y.lo: the quotient fits
		return q, uint128{lo: r}
	}
	s := uint(bits.LeadingZeros64(y.hi))
	v1 := y.hi<<s | y.lo>>(64-s) // y.lo >> 64 is 0 in Go
	q1, _ := bits.Div64(x.hi>>1, x.lo>>1|x.hi<<63, v1)
	q := q1 >> (63 - s)
	if q != 0 {
		q--
	}
	// q*y fits in 128 bits: q is at most the quotient.
	hi1, lo := bits.Mul64(y.lo, q)
	r := x.sub(uint128{y.hi*q + hi1, lo})
	if r.cmp(y) >= 0 {
		q++
		r = r.sub(y)
	}
	return q, r
}
