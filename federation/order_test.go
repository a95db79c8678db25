package federation_test

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	gocmp "github.com/google/go-cmp/cmp"
)

// scenario is a federation whose members each signed a log of
// contributions, disbursements and corrections drawn from a seed, and the
// balances those logs must give, computed here independently of the
// package.
type scenario struct {
	seed uint64
	f    *fixture
	logs [][]ledger.Entry // per writer, in chain order; the founder's without the genesis
	want []federation.CaisseBalance
}

type bucketKey struct {
	period    ledger.Period
	direction string
	category  string
}

type movement struct {
	e      ledger.Entry
	key    bucketKey
	amount ledger.Amount
}

// newScenario signs, for a founder and n co-founders, perAuthor entries
// each (the founder's genesis aside).
func newScenario(tb testing.TB, seed uint64, n, perAuthor int) *scenario {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	sc := &scenario{seed: seed, f: newFixture(tb, n)}
	periods := []string{"2026-01", "2026-02", "2026-03"}
	for _, w := range sc.f.writers() {
		var (
			log     []ledger.Entry
			open    []movement // not corrected yet
			buckets = map[bucketKey]ledger.Amount{}
		)
		for range perAuthor {
			amount := ledger.Amount(1 + rng.IntN(100_000))
			period := periods[rng.IntN(len(periods))]
			switch r := rng.IntN(100); {
			case r < 15 && len(open) > 0:
				i := rng.IntN(len(open))
				m := open[i]
				open = slices.Delete(open, i, i+1)
				log = append(log, w.next(tb, correct(m.e)))
				buckets[m.key] -= m.amount
			case r < 65:
				cat := caissev1.ContributionCategory(1 + rng.IntN(4))
				e := w.next(tb, contrib(amount, period, cat))
				key := bucketKey{ledger.Period(period), "in", ledger.ContributionCategoryName(cat)}
				log = append(log, e)
				open = append(open, movement{e, key, amount})
				buckets[key] += amount
			default:
				cat := caissev1.DisbursementCategory(1 + rng.IntN(6))
				e := w.next(tb, disburse(amount, period, cat))
				key := bucketKey{ledger.Period(period), "out", ledger.DisbursementCategoryName(cat)}
				log = append(log, e)
				open = append(open, movement{e, key, amount})
				buckets[key] += amount
			}
		}
		sc.logs = append(sc.logs, log)
		sc.want = append(sc.want, expectBalance(w, buckets))
	}
	slices.SortFunc(sc.want, func(a, b federation.CaisseBalance) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	return sc
}

// expectBalance is what the package should show for these buckets: the
// reference the package is checked against.
func expectBalance(w *writer, buckets map[bucketKey]ledger.Amount) federation.CaisseBalance {
	cb := federation.CaisseBalance{Key: w.id, Name: w.name}
	cats := map[[2]string]ledger.Amount{}
	periods := map[ledger.Period]federation.Totals{}
	for k, a := range buckets {
		if a == 0 {
			continue
		}
		cats[[2]string{k.direction, k.category}] += a
		t := periods[k.period]
		if k.direction == "in" {
			t.Contributed += a
			t.Balance += a
			cb.Total.Contributed += a
			cb.Total.Balance += a
		} else {
			t.Disbursed += a
			t.Balance -= a
			cb.Total.Disbursed += a
			cb.Total.Balance -= a
		}
		periods[k.period] = t
	}
	for k, a := range cats {
		cb.ByCategory = append(cb.ByCategory, federation.CategoryTotal{Direction: k[0], Category: k[1], Amount: a})
	}
	slices.SortFunc(cb.ByCategory, func(a, b federation.CategoryTotal) int {
		return cmp.Or(cmp.Compare(a.Direction, b.Direction), cmp.Compare(a.Category, b.Category))
	})
	for p, t := range periods {
		cb.ByPeriod = append(cb.ByPeriod, federation.PeriodTotals{Period: p, Totals: t})
	}
	slices.SortFunc(cb.ByPeriod, func(a, b federation.PeriodTotals) int { return cmp.Compare(a.Period, b.Period) })
	cb.Funds = cb.Total.Balance // no settlements in these scenarios
	return cb
}

// count is the number of entries, the genesis included.
func (sc *scenario) count() int {
	n := 1
	for _, l := range sc.logs {
		n += len(l)
	}
	return n
}

// interleave returns every entry, the genesis first, then the logs merged
// in an order drawn from (seed, run), each log in chain order.
func (sc *scenario) interleave(run uint64) []ledger.Entry {
	rng := rand.New(rand.NewPCG(sc.seed, run+1))
	out := []ledger.Entry{sc.f.genesis}
	next := make([]int, len(sc.logs))
	var avail []int
	for {
		avail = avail[:0]
		for i, l := range sc.logs {
			if next[i] < len(l) {
				avail = append(avail, i)
			}
		}
		if len(avail) == 0 {
			return out
		}
		i := avail[rng.IntN(len(avail))]
		out = append(out, sc.logs[i][next[i]])
		next[i]++
	}
}

// TestOrderIndependence applies a scenario's entries in 200 orders and
// requires the same State, equal to the reference: a scenario of money
// only, and one of governance with money (applications, proposals, votes,
// an admission and the new member's money, an exclusion, fork proofs),
// where entries wait as pending and are retried, as sync does.
func TestOrderIndependence(t *testing.T) {
	t.Run("money", testOrderIndependenceMoney)
	t.Run("governance", testOrderIndependenceGovernance)
}

func testOrderIndependenceMoney(t *testing.T) {
	const runs = 200
	sc := newScenario(t, 20261101, 3, 50)
	var corrections int
	for _, l := range sc.logs {
		for _, e := range l {
			if e.Kind() == "correction" {
				corrections++
			}
		}
	}
	if corrections < 10 {
		t.Fatalf("scenario has %d corrections, want at least 10", corrections)
	}

	first := stateOf(t, sc.interleave(0)...)
	if diff := gocmp.Diff(sc.want, first.Balances()); diff != "" {
		t.Fatalf("Balances (-want +got):\n%s", diff)
	}
	orders := map[[32]byte]bool{}
	for run := range uint64(runs) {
		entries := sc.interleave(run)
		orders[orderKey(entries)] = true
		s := stateOf(t, entries...)
		if got, want := s.Hash(), first.Hash(); got != want {
			t.Errorf("seed %d run %d: Hash %s, run 0 has %s", sc.seed, run, got.Short(), want.Short())
		}
		if diff := gocmp.Diff(sc.want, s.Balances()); diff != "" {
			t.Errorf("seed %d run %d: Balances (-want +got):\n%s", sc.seed, run, diff)
		}
		if s.Entries() != uint64(sc.count()) {
			t.Errorf("seed %d run %d: Entries() = %d, want %d", sc.seed, run, s.Entries(), sc.count())
		}
	}
	if len(orders) < runs-1 {
		t.Errorf("only %d distinct orders in %d runs: the test does not shuffle", len(orders), runs)
	}
}

func orderKey(entries []ledger.Entry) [32]byte {
	h := sha256.New()
	for _, e := range entries {
		id := e.Hash()
		h.Write(id[:])
	}
	return [32]byte(h.Sum(nil))
}

// TestHashSeesEveryEntry checks that leaving out any author's last entry,
// or the genesis's effect on an empty State, changes the Hash: the hash is
// not trivially constant.
func TestHashSeesEveryEntry(t *testing.T) {
	sc := newScenario(t, 42, 3, 20)
	full := stateOf(t, sc.interleave(0)...).Hash()
	seen := map[ledger.Hash]string{full: "full"}
	for i := range sc.logs {
		var entries []ledger.Entry
		for _, e := range sc.interleave(0) {
			last := sc.logs[i][len(sc.logs[i])-1]
			if e.Hash() != last.Hash() {
				entries = append(entries, e)
			}
		}
		h := stateOf(t, entries...).Hash()
		name := "without the last entry of writer " + sc.f.writers()[i].name
		if other, ok := seen[h]; ok {
			t.Errorf("%s: same Hash as %s", name, other)
		}
		seen[h] = name
	}
}

func sortMembers(ms []federation.Member) {
	slices.SortFunc(ms, func(a, b federation.Member) int { return bytes.Compare(a.Key[:], b.Key[:]) })
}

// TestHashSeesBuckets changes only the sums, through federation.Preset,
// heads staying the same: the Hash must see each bucket, not only the heads.
func TestHashSeesBuckets(t *testing.T) {
	f := newFixture(t, 1)
	a := f.cofounders[0]
	a1 := a.next(t, contrib(100, "2026-01", dues))
	presets := []struct {
		name   string
		period ledger.Period
		in     bool
		cat    caissev1.ContributionCategory // same values used for disbursements
		amount ledger.Amount
	}{
		{"none", "", false, 0, 0},
		{"1 in dues", "2026-01", true, dues, 1},
		{"2 in dues", "2026-01", true, dues, 2},
		{"1 in donation", "2026-01", true, donation, 1},
		{"1 out, category 1", "2026-01", false, 1, 1},
		{"1 in dues next period", "2026-02", true, dues, 1},
	}
	seen := map[ledger.Hash]string{}
	for _, p := range presets {
		s := stateOf(t, f.genesis, a1)
		if p.amount != 0 {
			if err := federation.Preset(s, a.id, p.period, p.in, uint8(p.cat), p.amount); err != nil {
				t.Fatal(err)
			}
		}
		h := s.Hash()
		if other, ok := seen[h]; ok {
			t.Errorf("preset %s: same Hash as preset %s", p.name, other)
		}
		seen[h] = p.name
	}
}

// TestHashSeesHeads compares two States whose sums and seqs are the same
// but whose entries differ (in a note): the Hash must tell them apart.
func TestHashSeesHeads(t *testing.T) {
	f := newFixture(t, 1)
	a := f.cofounders[0]
	alt := *a
	a1 := a.next(t, contrib(100, "2026-01", dues))
	b := alt.body(contrib(100, "2026-01", dues))
	b.GetContribution().Note = "cash"
	other := alt.sign(t, b)
	s, s2 := stateOf(t, f.genesis, a1), stateOf(t, f.genesis, other)
	if diff := gocmp.Diff(s.Balances(), s2.Balances()); diff != "" {
		t.Fatalf("the two States should have the same balances (-one +other):\n%s", diff)
	}
	if s.Hash() == s2.Hash() {
		t.Error("two States with different entries at the same seq have the same Hash")
	}
}
