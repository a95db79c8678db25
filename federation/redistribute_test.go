package federation

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
)

// The vectors of the rules issue: testdata holds a copy, so that the test
// runs in a clone without ../shared; where the shared file is present, the
// copy must be byte-identical to it.
var (
	rdVectors       = filepath.Join("testdata", "redistribution.json")
	rdSharedVectors = filepath.Join("..", "..", "shared", "vectors", "redistribution.json")
)

// rdCase is one case of redistribution.json.
type rdCase struct {
	Name  string `json:"name"`
	Input struct {
		Period  string `json:"period"`
		LevyBP  uint32 `json:"levy_bp"`
		Weights struct {
			Need    uint32 `json:"need"`
			Members uint32 `json:"members"`
			Equal   uint32 `json:"equal"`
		} `json:"weights"`
		Rates         map[string]int64 `json:"rates"`
		ReserveBP     uint32           `json:"reserve_bp"`
		ReserveHolder *string          `json:"reserve_holder"`
		Caisses       []struct {
			ID            string            `json:"id"`
			Contributions int64             `json:"contributions"`
			Members       uint64            `json:"members"`
			Needs         map[string]uint64 `json:"needs"`
		} `json:"caisses"`
	} `json:"input"`
	Expected struct {
		Period  string `json:"period"`
		Pool    int64  `json:"pool"`
		Reserve int64  `json:"reserve"`
		Caisses []struct {
			ID    string `json:"id"`
			Due   int64  `json:"due"`
			Need  int64  `json:"need"`
			Share int64  `json:"share"`
			Net   int64  `json:"net"`
		} `json:"caisses"`
		Transfers []struct {
			From   string `json:"from"`
			To     string `json:"to"`
			Amount int64  `json:"amount"`
		} `json:"transfers"`
	} `json:"expected"`
}

func rdAuthor(tb testing.TB, hex string) ledger.Author {
	tb.Helper()
	a, err := ledger.ParseAuthor(hex)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// convert returns the case's input and expected result as Redistribute's
// types.
func (c *rdCase) convert(tb testing.TB) (RedistributionInput, Redistribution) {
	tb.Helper()
	ci := c.Input
	in := RedistributionInput{
		Period:    ledger.Period(ci.Period),
		LevyBP:    ci.LevyBP,
		ReserveBP: ci.ReserveBP,
		Weights:   KeyWeights{Need: ci.Weights.Need, Members: ci.Weights.Members, Equal: ci.Weights.Equal},
		Rates:     map[string]ledger.Amount{},
	}
	for unit, r := range ci.Rates {
		in.Rates[unit] = ledger.Amount(r)
	}
	if ci.ReserveHolder != nil {
		h := rdAuthor(tb, *ci.ReserveHolder)
		in.ReserveHolder = &h
	}
	for _, x := range ci.Caisses {
		in.Caisses = append(in.Caisses, CaisseInput{ID: rdAuthor(tb, x.ID),
			Contributions: ledger.Amount(x.Contributions), Members: x.Members, Needs: x.Needs})
	}
	ce := c.Expected
	want := Redistribution{Period: ledger.Period(ce.Period), Pool: ledger.Amount(ce.Pool), Reserve: ledger.Amount(ce.Reserve)}
	for _, x := range ce.Caisses {
		want.Caisses = append(want.Caisses, CaisseShare{ID: rdAuthor(tb, x.ID), Due: ledger.Amount(x.Due),
			Need: ledger.Amount(x.Need), Share: ledger.Amount(x.Share), Net: ledger.Amount(x.Net)})
	}
	for _, x := range ce.Transfers {
		want.Transfers = append(want.Transfers, Transfer{From: rdAuthor(tb, x.From), To: rdAuthor(tb, x.To), Amount: ledger.Amount(x.Amount)})
	}
	return in, want
}

// rdAuthorHex shows keys as hex in diffs.
var rdAuthorHex = gocmp.Transformer("hex", func(a ledger.Author) string { return a.String() })

// TestRedistributeVectors matches every case of the vectors:
// every number and every transfer, in order.
func TestRedistributeVectors(t *testing.T) {
	data, err := os.ReadFile(rdVectors)
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(rdSharedVectors)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		t.Logf("%s is absent: testing against the copy in %s only", rdSharedVectors, rdVectors)
	case err != nil:
		t.Fatal(err)
	case !bytes.Equal(shared, data):
		t.Fatalf("%s differs from %s: the vectors changed; review the change, then copy them", rdSharedVectors, rdVectors)
	}
	var cases []rdCase
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cases); err != nil {
		t.Fatalf("%s: %v", rdVectors, err)
	}
	if len(cases) == 0 {
		t.Fatalf("%s: no cases", rdVectors)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			in, want := c.convert(t)
			got, err := Redistribute(in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty(), rdAuthorHex); diff != "" {
				t.Errorf("case %s: Redistribute (-want +got):\n%s", c.Name, diff)
			}
		})
	}
}

// TestRedistributeWorkedCheck is the worked check of the rules issue.
func TestRedistributeWorkedCheck(t *testing.T) {
	a, b, c := ledger.Author(bytes.Repeat([]byte{0xaa}, 32)), ledger.Author(bytes.Repeat([]byte{0xbb}, 32)), ledger.Author(bytes.Repeat([]byte{0xcc}, 32))
	in := RedistributionInput{
		Period:  "2025-03",
		LevyBP:  850,
		Weights: KeyWeights{Need: 5000, Members: 5000},
		Rates:   map[string]ledger.Amount{"strike_day": 60_00},
		Caisses: []CaisseInput{
			{ID: a, Contributions: 12345_67, Members: 120, Needs: map[string]uint64{"strike_day": 37}},
			{ID: b, Contributions: 8000_05, Members: 45},
			{ID: c, Contributions: 3210_99, Members: 35, Needs: map[string]uint64{"strike_day": 14}},
		},
	}
	want := Redistribution{
		Period: "2025-03",
		Pool:   1049_38 + 680_00 + 272_93,
		Caisses: []CaisseShare{
			{ID: a, Due: 1049_38, Need: 37 * 60_00, Share: 1327_02, Net: 277_64},
			{ID: b, Due: 680_00, Need: 0, Share: 225_26, Net: -454_74},
			{ID: c, Due: 272_93, Need: 14 * 60_00, Share: 450_03, Net: 177_10},
		},
		Transfers: []Transfer{{From: b, To: a, Amount: 277_64}, {From: b, To: c, Amount: 177_10}},
	}
	got, err := Redistribute(in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := gocmp.Diff(want, got, rdAuthorHex); diff != "" {
		t.Errorf("worked check (-want +got):\n%s", diff)
	}
	// The need sub-pool gets the odd cent: 1001.16 against 1001.15, a tie
	// of remainders broken in the order need, members, equal.
	if diff := gocmp.Diff([]ledger.Amount{1001_16, 1001_15, 0}, largestRemainder(want.Pool, []uint64{5000, 5000, 0}, []int{0, 1, 2})); diff != "" {
		t.Errorf("sub-pools (-want +got):\n%s", diff)
	}
}

// TestRedistributeRefused: invalid input is ErrInvalidRedistribution, a
// pool or a need past int64 is ledger.ErrOverflow.
func TestRedistributeRefused(t *testing.T) {
	x, y, z := rdID(1), rdID(2), rdID(3)
	valid := func() RedistributionInput {
		return RedistributionInput{Period: "2026-03", LevyBP: 850, ReserveBP: 500, ReserveHolder: &x,
			Weights: KeyWeights{Need: 5000, Members: 3000, Equal: 2000},
			Rates:   map[string]ledger.Amount{"strike_day": 6000},
			Caisses: []CaisseInput{
				{ID: x, Contributions: 1000, Members: 3, Needs: map[string]uint64{"strike_day": 2}},
				{ID: y, Contributions: 2000, Members: 5},
			}}
	}
	if _, err := Redistribute(valid()); err != nil {
		t.Fatalf("the valid input is refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*RedistributionInput)
		want error
	}{
		{"bad period", func(in *RedistributionInput) { in.Period = "2026-3" }, ErrInvalidRedistribution},
		{"bad period is ErrInvalidPeriod too", func(in *RedistributionInput) { in.Period = "" }, ledger.ErrInvalidPeriod},
		{"levy over 10000", func(in *RedistributionInput) { in.LevyBP = 10001 }, ErrInvalidRedistribution},
		{"reserve over 10000", func(in *RedistributionInput) { in.ReserveBP = 10001 }, ErrInvalidRedistribution},
		{"weights under 10000", func(in *RedistributionInput) { in.Weights.Equal-- }, ErrInvalidRedistribution},
		{"weights over 10000", func(in *RedistributionInput) { in.Weights.Equal++ }, ErrInvalidRedistribution},
		{"weights wrapping uint32", func(in *RedistributionInput) {
			in.Weights = KeyWeights{Need: math.MaxUint32, Members: 10001, Equal: 0}
		}, ErrInvalidRedistribution},
		{"negative rate", func(in *RedistributionInput) { in.Rates["legal_case"] = -1 }, ErrInvalidRedistribution},
		{"negative contributions", func(in *RedistributionInput) { in.Caisses[1].Contributions = -1 }, ErrInvalidRedistribution},
		{"unknown need unit", func(in *RedistributionInput) { in.Caisses[1].Needs = map[string]uint64{"legal_case": 0} }, ErrInvalidRedistribution},
		{"duplicate caisse", func(in *RedistributionInput) { in.Caisses = append(in.Caisses, CaisseInput{ID: y}) }, ErrInvalidRedistribution},
		{"reserve holder not a caisse", func(in *RedistributionInput) { in.ReserveHolder = &z }, ErrInvalidRedistribution},
		{"pool past int64", func(in *RedistributionInput) {
			in.LevyBP = 10000
			in.Caisses[0].Contributions = math.MaxInt64
		}, ledger.ErrOverflow},
		{"need units × rate past int64", func(in *RedistributionInput) {
			in.Caisses[0].Needs["strike_day"] = math.MaxInt64/6000 + 1
		}, ledger.ErrOverflow},
		{"need units × rate past 2^64", func(in *RedistributionInput) {
			in.Caisses[0].Needs["strike_day"] = math.MaxUint64
		}, ledger.ErrOverflow},
		{"need sum past int64", func(in *RedistributionInput) {
			in.Rates["legal_case"] = math.MaxInt64
			in.Caisses[0].Needs["legal_case"] = 1
		}, ledger.ErrOverflow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := valid()
			tc.edit(&in)
			got, err := Redistribute(in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Redistribute = %v, want %v", err, tc.want)
			}
			if got.Caisses != nil || got.Transfers != nil || got.Pool != 0 {
				t.Errorf("a refused input returned a result: %+v", got)
			}
		})
	}
}

// TestRedistributeNoHolder: a reserve with no holder keeps nothing (the
// vectors only have reserve_bp 0 without a holder; the whole pool is
// distributed rather than the period blocked).
func TestRedistributeNoHolder(t *testing.T) {
	in := RedistributionInput{Period: "2026-03", LevyBP: 10000, ReserveBP: 1000,
		Weights: KeyWeights{Equal: 10000},
		Caisses: []CaisseInput{{ID: rdID(1), Contributions: 100}, {ID: rdID(2), Contributions: 0}}}
	got, err := Redistribute(in)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reserve != 0 || got.Caisses[0].Share+got.Caisses[1].Share != 100 {
		t.Errorf("reserve %d, shares %d and %d: want no reserve and the whole pool of 100 shared", got.Reserve, got.Caisses[0].Share, got.Caisses[1].Share)
	}
}

// TestRedistributeEmpty: no caisse, nothing to share.
func TestRedistributeEmpty(t *testing.T) {
	got, err := Redistribute(RedistributionInput{Period: "2026-03", LevyBP: 850, Weights: KeyWeights{Members: 10000}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Pool != 0 || len(got.Caisses) != 0 || len(got.Transfers) != 0 {
		t.Errorf("empty federation: %+v", got)
	}
}

// TestRedistributeSettlementTies: between two caisses owed as much, the
// one with the lower tie key is paid first.
func TestRedistributeSettlementTies(t *testing.T) {
	x, y, z := rdID(1), rdID(2), rdID(3)
	for _, period := range []ledger.Period{"2026-01", "2026-02", "2026-03", "2026-04"} {
		in := RedistributionInput{Period: period, LevyBP: 10000, Weights: KeyWeights{Equal: 10000},
			Caisses: []CaisseInput{{ID: x, Contributions: 300}, {ID: y}, {ID: z}}}
		got, err := Redistribute(in)
		if err != nil {
			t.Fatal(err)
		}
		first, second := y, z
		if ky, kz := sha256.Sum256(append(y[:], period...)), sha256.Sum256(append(z[:], period...)); bytes.Compare(kz[:], ky[:]) < 0 {
			first, second = z, y
		}
		want := []Transfer{{From: x, To: first, Amount: 100}, {From: x, To: second, Amount: 100}}
		if diff := gocmp.Diff(want, got.Transfers, rdAuthorHex); diff != "" {
			t.Errorf("%s: transfers (-want +got):\n%s", period, diff)
		}
	}
}

func rdID(b byte) ledger.Author {
	var a ledger.Author
	a[0] = b
	return a
}

// TestRedistributeProperties runs random federations, from one seed,
// against a model of the algorithm in math/big, and checks conservation,
// the settlement plan and order independence. Amounts reach sums at the
// int64 limit, member counts and needs sums past 2^64 (the 128-bit
// divisions), and past the limit the input must be refused with
// ledger.ErrOverflow.
func TestRedistributeProperties(t *testing.T) {
	const seed = 20261101
	cases := 4000
	if testing.Short() {
		cases = 400
	}
	r := rand.New(rand.NewPCG(seed, seed))
	var overflows, ok int
	for k := range cases {
		in := rdRandom(r)
		where := fmt.Sprintf("seed %d, case %d", seed, k)
		want, overflow := rdModel(in)
		got, err := Redistribute(in)
		if overflow {
			if !errors.Is(err, ledger.ErrOverflow) {
				t.Fatalf("%s: past int64: Redistribute = %+v, %v; want ledger.ErrOverflow", where, got, err)
			}
			overflows++
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", where, err)
		}
		ok++
		if diff := gocmp.Diff(want, got, cmpopts.EquateEmpty(), rdAuthorHex); diff != "" {
			t.Fatalf("%s: Redistribute against the math/big model (-model +got):\n%s", where, diff)
		}
		rdCheckInvariants(t, where, in, got)

		perm := in
		perm.Caisses = slices.Clone(in.Caisses)
		r.Shuffle(len(perm.Caisses), func(i, j int) { perm.Caisses[i], perm.Caisses[j] = perm.Caisses[j], perm.Caisses[i] })
		pgot, err := Redistribute(perm)
		if err != nil {
			t.Fatalf("%s: permuted: %v", where, err)
		}
		byID := func(a, b CaisseShare) int { return bytes.Compare(a.ID[:], b.ID[:]) }
		slices.SortFunc(got.Caisses, byID)
		slices.SortFunc(pgot.Caisses, byID)
		if diff := gocmp.Diff(got, pgot, cmpopts.EquateEmpty(), rdAuthorHex); diff != "" {
			t.Fatalf("%s: the caisses' order changes the result (-in order +permuted):\n%s", where, diff)
		}
	}
	t.Logf("%d federations redistributed, %d refused with ErrOverflow", ok, overflows)
	if overflows < cases/20 || ok < cases/2 {
		t.Errorf("%d redistributed, %d overflows: the generator no longer covers both", ok, overflows)
	}
}

// rdCheckInvariants checks what must hold of any redistribution.
func rdCheckInvariants(t *testing.T, where string, in RedistributionInput, got Redistribution) {
	t.Helper()
	var shares, nets, pool big.Int
	balance := map[ledger.Author]ledger.Amount{}
	for i, c := range got.Caisses {
		if c.ID != in.Caisses[i].ID {
			t.Fatalf("%s: caisse %d is %s, input has %s", where, i, c.ID.Short(), in.Caisses[i].ID.Short())
		}
		if c.Share < 0 || c.Net != c.Share-c.Due {
			t.Fatalf("%s: caisse %s: share %d, due %d, net %d", where, c.ID.Short(), c.Share, c.Due, c.Net)
		}
		shares.Add(&shares, big.NewInt(int64(c.Share)))
		nets.Add(&nets, big.NewInt(int64(c.Net)))
		pool.Add(&pool, big.NewInt(int64(c.Due)))
		balance[c.ID] = c.Net
	}
	if shares.Cmp(big.NewInt(int64(got.Pool))) != 0 || pool.Cmp(&shares) != 0 || nets.Sign() != 0 {
		t.Fatalf("%s: pool %d, dues %s, shares %s, nets %s", where, got.Pool, &pool, &shares, &nets)
	}
	if n := len(got.Caisses); len(got.Transfers) > max(n-1, 0) {
		t.Fatalf("%s: %d transfers for %d caisses", where, len(got.Transfers), n)
	}
	for _, tr := range got.Transfers {
		if tr.Amount <= 0 || balance[tr.From] >= 0 || balance[tr.To] <= 0 || tr.Amount > -balance[tr.From] || tr.Amount > balance[tr.To] {
			t.Fatalf("%s: transfer %s → %s of %d, with nets %d and %d left", where, tr.From.Short(), tr.To.Short(), tr.Amount, balance[tr.From], balance[tr.To])
		}
		balance[tr.From] += tr.Amount
		balance[tr.To] -= tr.Amount
	}
	for id, b := range balance {
		if b != 0 {
			t.Fatalf("%s: caisse %s still at %d once every transfer is paid", where, id.Short(), b)
		}
	}
}

// rdRandom draws a federation whose amounts are small, large, or near the
// int64 limit.
func rdRandom(r *rand.Rand) RedistributionInput {
	n := 1 + r.IntN(20)
	if r.IntN(10) == 0 {
		n = 2 + r.IntN(3)
	}
	scale := func() uint64 {
		switch r.IntN(4) {
		case 0:
			return 1000
		case 1:
			return 10_000_000
		case 2:
			return 1 << 40
		}
		return math.MaxInt64 / uint64(n)
	}
	levies := []uint32{0, 1, 100, 850, 3333, 9999, 10000, uint32(r.IntN(10001))}
	in := RedistributionInput{
		Period: ledger.Period(fmt.Sprintf("%04d-%02d", 2000+r.IntN(200), 1+r.IntN(12))),
		LevyBP: levies[r.IntN(len(levies))],
		Rates:  map[string]ledger.Amount{"strike_day": 6000, "legal_case": 50000, "cent": 1},
	}
	if r.IntN(3) == 0 {
		in.Rates["huge"] = ledger.Amount(r.Int64N(math.MaxInt64))
	}
	units := slices.Sorted(func(yield func(string) bool) {
		for u := range in.Rates {
			if !yield(u) {
				return
			}
		}
	})
	cuts := []uint32{uint32(r.IntN(10001)), uint32(r.IntN(10001))}
	slices.Sort(cuts)
	w := [3]uint32{cuts[0], cuts[1] - cuts[0], 10000 - cuts[1]}
	for i := range w {
		if r.IntN(4) == 0 { // give a key's weight to the next
			j := (i + 1) % 3
			w[j] += w[i]
			w[i] = 0
		}
	}
	in.Weights = KeyWeights{Need: w[0], Members: w[1], Equal: w[2]}

	contribScale, memberScale, unitScale := scale(), scale(), scale()
	if r.IntN(4) == 0 {
		memberScale = math.MaxUint64 // sums past 2^64
	}
	for range n {
		var c CaisseInput
		for i := range c.ID {
			c.ID[i] = byte(r.Uint32())
		}
		if r.IntN(5) > 0 {
			c.Contributions = ledger.Amount(r.Uint64N(contribScale + 1))
		}
		if r.IntN(4) > 0 {
			c.Members = r.Uint64N(memberScale) + 1
		}
		c.Needs = map[string]uint64{}
		for _, u := range units {
			if r.IntN(3) == 0 {
				continue
			}
			if u == "huge" {
				c.Needs[u] = r.Uint64N(3)
			} else {
				c.Needs[u] = r.Uint64N(unitScale/50_000 + 1)
			}
		}
		in.Caisses = append(in.Caisses, c)
	}
	if r.IntN(2) == 0 {
		in.ReserveBP = uint32(r.IntN(10001))
		if r.IntN(5) > 0 {
			in.ReserveHolder = &in.Caisses[r.IntN(n)].ID
		}
	}
	return in
}

// rdModel computes the redistribution in math/big, straight from the
// issue's text; overflow reports a pool or a need past int64.
func rdModel(in RedistributionInput) (out Redistribution, overflow bool) {
	n := len(in.Caisses)
	tie := make([][32]byte, n)
	due := make([]*big.Int, n)
	need := make([]*big.Int, n)
	share := make([]*big.Int, n)
	pool := new(big.Int)
	bp := big.NewInt(10000)
	for i, c := range in.Caisses {
		tie[i] = sha256.Sum256(append(c.ID[:], in.Period...))
		due[i] = new(big.Int).Mul(big.NewInt(int64(c.Contributions)), big.NewInt(int64(in.LevyBP)))
		due[i].Quo(due[i], bp)
		pool.Add(pool, due[i])
		need[i] = new(big.Int)
		for u, k := range c.Needs {
			need[i].Add(need[i], new(big.Int).Mul(new(big.Int).SetUint64(k), big.NewInt(int64(in.Rates[u]))))
		}
		if !need[i].IsInt64() {
			overflow = true
		}
		share[i] = new(big.Int)
	}
	if !pool.IsInt64() || overflow {
		return Redistribution{}, true
	}
	kept := new(big.Int)
	if in.ReserveHolder != nil {
		kept.Mul(pool, big.NewInt(int64(in.ReserveBP))).Quo(kept, bp)
		h := slices.IndexFunc(in.Caisses, func(c CaisseInput) bool { return c.ID == *in.ReserveHolder })
		share[h].Add(share[h], kept)
	}
	dist := new(big.Int).Sub(pool, kept)

	// split is the largest-remainder method; tieLess orders equal remainders.
	split := func(total *big.Int, w []*big.Int, tieLess func(i, j int) int) []*big.Int {
		W := new(big.Int)
		for _, x := range w {
			W.Add(W, x)
		}
		q := make([]*big.Int, len(w))
		rem := make([]*big.Int, len(w))
		left := new(big.Int).Set(total)
		idx := make([]int, len(w))
		for i, x := range w {
			q[i], rem[i] = new(big.Int).QuoRem(new(big.Int).Mul(total, x), W, new(big.Int))
			left.Sub(left, q[i])
			idx[i] = i
		}
		slices.SortFunc(idx, func(i, j int) int {
			if c := rem[j].Cmp(rem[i]); c != 0 {
				return c
			}
			return tieLess(i, j)
		})
		for _, i := range idx[:left.Int64()] {
			q[i].Add(q[i], big.NewInt(1))
		}
		return q
	}
	byTie := func(i, j int) int { return bytes.Compare(tie[i][:], tie[j][:]) }
	add := func(parts []*big.Int) {
		for i, p := range parts {
			share[i].Add(share[i], p)
		}
	}
	sub := split(dist, []*big.Int{big.NewInt(int64(in.Weights.Need)), big.NewInt(int64(in.Weights.Members)), big.NewInt(int64(in.Weights.Equal))}, cmp.Compare[int])

	sumNeed := new(big.Int)
	for _, x := range need {
		sumNeed.Add(sumNeed, x)
	}
	carry := new(big.Int)
	switch {
	case sumNeed.Sign() == 0:
		carry.Set(sub[0])
	case sumNeed.Cmp(sub[0]) <= 0:
		add(need)
		carry.Sub(sub[0], sumNeed)
	default:
		add(split(sub[0], need, byTie))
	}
	carry.Add(carry, sub[1])
	members := make([]*big.Int, n)
	anyMembers := false
	for i, c := range in.Caisses {
		members[i] = new(big.Int).SetUint64(c.Members)
		anyMembers = anyMembers || c.Members > 0
	}
	if anyMembers {
		add(split(carry, members, byTie))
		carry.SetInt64(0)
	}
	carry.Add(carry, sub[2])
	ones := make([]*big.Int, n)
	for i := range ones {
		ones[i] = big.NewInt(1)
	}
	if n > 0 {
		add(split(carry, ones, byTie))
	}

	out = Redistribution{Period: in.Period, Pool: ledger.Amount(pool.Int64()), Reserve: ledger.Amount(kept.Int64())}
	net := make([]int64, n)
	for i, c := range in.Caisses {
		net[i] = share[i].Int64() - due[i].Int64()
		out.Caisses = append(out.Caisses, CaisseShare{ID: c.ID, Due: ledger.Amount(due[i].Int64()),
			Need: ledger.Amount(need[i].Int64()), Share: ledger.Amount(share[i].Int64()), Net: ledger.Amount(net[i])})
	}
	for {
		var debtors, creditors []int
		for i, x := range net {
			if x < 0 {
				debtors = append(debtors, i)
			} else if x > 0 {
				creditors = append(creditors, i)
			}
		}
		if len(debtors) == 0 {
			return out, false
		}
		largest := func(sign int64) func(i, j int) int {
			return func(i, j int) int {
				if c := cmp.Compare(sign*net[j], sign*net[i]); c != 0 {
					return c
				}
				return byTie(i, j)
			}
		}
		slices.SortFunc(debtors, largest(-1))
		slices.SortFunc(creditors, largest(1))
		d, c := debtors[0], creditors[0]
		a := min(-net[d], net[c])
		net[d] += a
		net[c] -= a
		out.Transfers = append(out.Transfers, Transfer{From: in.Caisses[d].ID, To: in.Caisses[c].ID, Amount: ledger.Amount(a)})
	}
}

// TestDivMod checks the 128-bit division against math/big, on edge cases
// and on random operands whose quotient fits in 64 bits.
func TestDivMod(t *testing.T) {
	toBig := func(x uint128) *big.Int {
		b := new(big.Int).SetUint64(x.hi)
		return b.Lsh(b, 64).Or(b, new(big.Int).SetUint64(x.lo))
	}
	fromBig := func(b *big.Int) (uint128, bool) {
		if b.BitLen() > 128 {
			return uint128{}, false
		}
		lo := new(big.Int).And(b, new(big.Int).SetUint64(math.MaxUint64))
		return uint128{new(big.Int).Rsh(b, 64).Uint64(), lo.Uint64()}, true
	}
	check := func(x, y uint128) {
		t.Helper()
		bx, by := toBig(x), toBig(y)
		wq, wr := new(big.Int).QuoRem(bx, by, new(big.Int))
		if !wq.IsUint64() {
			return // outside divMod's contract
		}
		q, rem := x.divMod(y)
		if q != wq.Uint64() || toBig(rem).Cmp(wr) != 0 {
			t.Fatalf("%s / %s = %d rem %s, want %s rem %s", bx, by, q, toBig(rem), wq, wr)
		}
	}
	const m = math.MaxUint64
	edges := []uint128{{0, 1}, {0, 2}, {0, m}, {1, 0}, {1, 1}, {1, m}, {1 << 62, 0}, {1 << 63, 0},
		{m, 0}, {m, m}, {m >> 1, m}, {3, 1 << 63}}
	for _, x := range edges {
		for _, y := range edges {
			check(x, y)
			check(x.sub(uint128{0, 1}), y)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	draw := func() uint128 { return uint128{r.Uint64() >> r.UintN(65), r.Uint64() >> r.UintN(65)} }
	for range 200_000 {
		y := draw()
		if y.isZero() {
			continue
		}
		// x = q*y + rem with rem < y, and rem near 0 or near y.
		q := new(big.Int).SetUint64(r.Uint64() >> r.UintN(65))
		by := toBig(y)
		rem := new(big.Int).Mod(toBig(draw()), by)
		if r.IntN(2) == 0 {
			rem.Sub(by, big.NewInt(1))
		}
		x, ok := fromBig(q.Mul(q, by).Add(q, rem))
		if !ok {
			continue
		}
		check(x, y)
		check(draw(), y)
	}
}

// BenchmarkRedistribute redistributes among 50 caisses, against hashing
// their 50 tie keys, the floor of any implementation.
func BenchmarkRedistribute(b *testing.B) {
	r := rand.New(rand.NewPCG(50, 50))
	in := RedistributionInput{Period: "2026-03", LevyBP: 850, ReserveBP: 500,
		Weights: KeyWeights{Need: 5000, Members: 3000, Equal: 2000},
		Rates:   map[string]ledger.Amount{"strike_day": 6000, "legal_case": 50000, "hardship": 1}}
	for i := range 50 {
		c := CaisseInput{ID: rdID(byte(i)), Contributions: ledger.Amount(r.Int64N(10_000_000)),
			Members: r.Uint64N(500), Needs: map[string]uint64{"strike_day": r.Uint64N(60), "legal_case": r.Uint64N(3)}}
		c.ID[1] = byte(r.Uint32())
		in.Caisses = append(in.Caisses, c)
	}
	in.ReserveHolder = &in.Caisses[7].ID
	buf := make([]byte, 0, 64)
	var sink [32]byte
	b.ReportAllocs()
	benchcmp.Run(b, func(int) {
		for _, c := range in.Caisses {
			buf = append(append(buf[:0], c.ID[:]...), in.Period...)
			sink = sha256.Sum256(buf)
		}
	}, func(int) {
		if _, err := Redistribute(in); err != nil {
			b.Fatal(err)
		}
	})
	_ = sink
}
