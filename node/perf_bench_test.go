package node

// Benchmarks of the performance goals (README, Performance) that the
// replication benchmarks do not cover: local appends, queries, the size of
// an anti-entropy round by members, and propagation across a federation.
// make bench runs them and prints one table (internal/benchcmp/benchtable).
//
//	BENCH_ENTRIES=1000000 go test -run '^$' -bench 'Queries' -benchtime 200x ./node/

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/node/api"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// benchEntries is the size of the large benchmarks: BENCH_ENTRIES, or
// 100k.
func benchEntries(tb testing.TB) int {
	tb.Helper()
	s := os.Getenv("BENCH_ENTRIES")
	if s == "" {
		return 100_000
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1000 {
		tb.Fatalf("BENCH_ENTRIES=%q: want a number of entries, at least 1000", s)
	}
	return n
}

// percentile returns the p-th percentile (0 < p <= 100) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchContribution is the kind of a local append: dues of 12.50 in the
// benchmarks' period.
func benchContribution(body *caissev1.EntryBody) {
	m := ledgertest.Member("a member")
	body.Kind = &caissev1.EntryBody_Contribution{Contribution: &caissev1.Contribution{
		Member: m[:], Amount: 1250, Period: ledgertest.Period,
		Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES,
	}}
}

// BenchmarkAppend records contributions on a node of a one-member
// federation, as the operator API does (Node.append: signed, checked,
// durable, applied), from 1 and from 64 concurrent clients.
//
// One client: latency-us is an append's time; the baseline is one raw
// synced badger transaction writing one key and a value of an entry's
// size, with the store's options. 64 clients: entries/s; the baseline is
// raw ed25519.Sign of entry-sized messages on one goroutine, as a node's
// own log is a chain and its entries are signed one after the other.
func BenchmarkAppend(b *testing.B) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchAppend(b, clients) })
	}
}

func benchAppend(b *testing.B, clients int) {
	dir := b.TempDir()
	cfg := benchConfig(dir)
	cfg.Found = true
	n, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()
	first, err := n.append(benchContribution)
	if err != nil {
		b.Fatal(err)
	}
	size := first.Size()

	if clients == 1 {
		db := openRawBadger(b, b.TempDir())
		defer db.Close()
		value := make([]byte, size)
		rand.Read(value)
		base, took := benchcmp.Run(b, func(i int) {
			err := db.Update(func(txn *badger.Txn) error {
				return txn.Set([]byte(fmt.Sprintf("e%016d", i)), value)
			})
			if err != nil {
				b.Fatal(err)
			}
		}, func(int) {
			if _, err := n.append(benchContribution); err != nil {
				b.Fatal(err)
			}
		})
		b.ReportMetric(float64(took.Microseconds())/float64(b.N), "latency-us")
		b.ReportMetric(float64(base.Microseconds())/float64(b.N), "baseline-us")
		return
	}

	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, len(benchSignContext)+len(first.BodyBytes()))
	rand.Read(msg)
	var sink []byte
	var base time.Duration
	b.StopTimer()
	start := time.Now()
	for range b.N {
		sink = ed25519.Sign(key, msg)
	}
	base = time.Since(start)
	_ = sink
	b.StartTimer()
	b.ResetTimer()
	start = time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			for i := c; i < b.N; i += clients {
				if _, err := n.append(benchContribution); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	h, _ := n.state.Head(n.self)
	if want := ledger.Seq(b.N + 2); h.Seq != want { // the genesis, the first, b.N
		b.Fatalf("head at seq %d after %d appends, want %d", h.Seq, b.N, want)
	}
	b.ReportMetric(float64(b.N)/took.Seconds(), "entries/s")
	b.ReportMetric(float64(b.N)/max(base, 1).Seconds(), "baseline-entries/s")
}

// queryFed is a federation of two caisses, with n entries between them, all
// in one period that both have closed: what the queries benchmark reads.
type queryFed struct {
	founder, cofounder *ledgertest.Author
	founderLog, other  []ledger.Entry
}

var (
	queryFeds   = map[int]*queryFed{}
	queryFedsMu sync.Mutex
)

func queryFederation(tb testing.TB, n int) *queryFed {
	tb.Helper()
	queryFedsMu.Lock()
	defer queryFedsMu.Unlock()
	if q := queryFeds[n]; q != nil {
		return q
	}
	q := &queryFed{founder: ledgertest.NewAuthor(tb, 41), cofounder: ledgertest.NewAuthor(tb, 42)}
	genesis := q.founder.Genesis(tb, "query federation", q.cofounder)
	fed := genesis.Hash()
	q.cofounder.SetNow(ledger.HLC{Wall: genesis.Time().Wall + ledgertest.Step})
	for i, a := range []*ledgertest.Author{q.founder, q.cofounder} {
		count := n/2 - 1
		for j := range count {
			if j%10 == 9 {
				a.Disbursement(tb, fed, 50, ledgertest.Period)
			} else {
				a.Contribution(tb, fed, 100, ledgertest.Period)
			}
		}
		in, out := int64(0), int64(0)
		for _, e := range a.Entries() {
			if c := e.Body().GetContribution(); c != nil {
				in += c.GetAmount()
			}
			if d := e.Body().GetDisbursement(); d != nil {
				out += d.GetAmount()
			}
		}
		a.Next(tb, fed, func(body *caissev1.EntryBody) {
			body.Kind = &caissev1.EntryBody_PeriodClose{PeriodClose: &caissev1.PeriodClose{
				Period: ledgertest.Period, Contributed: in, Disbursed: out, Members: uint64(10 + i),
				Contributions: []*caissev1.ContributionTotal{{Category: caissev1.ContributionCategory_CONTRIBUTION_CATEGORY_DUES, Amount: in}},
				Disbursements: []*caissev1.DisbursementTotal{{Category: caissev1.DisbursementCategory_DISBURSEMENT_CATEGORY_STRIKE, Amount: out}},
			}}
		})
	}
	q.founderLog, q.other = q.founder.Entries(), q.cofounder.Entries()
	queryFeds[n] = q
	return q
}

// BenchmarkQueries times the operator API's reads on a node holding
// BENCH_ENTRIES entries of two caisses in one closed period: balances, the
// period's redistribution, and a page of 100 entries from the middle of a
// log. Each reports the p50 and p99 of its calls; the goal is a p99 under
// 5 ms, which only derived state kept up to date as entries apply can give.
func BenchmarkQueries(b *testing.B) {
	size := benchEntries(b)
	b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
		q := queryFederation(b, size)
		dir := b.TempDir()
		benchDataDir(b, dir, q.founder.Key, benchFederation(b).gossipKey, append(slices.Clone(q.founderLog), q.other...))
		n, err := New(benchConfig(dir))
		if err != nil {
			b.Fatal(err)
		}
		defer n.Close()
		if got, want := n.state.Entries(), uint64(len(q.founderLog)+len(q.other)); got != want {
			b.Fatalf("state holds %d entries, want %d", got, want)
		}
		be := &backend{n: n}
		ctx := context.Background()
		mid := uint64(len(q.founderLog) / 2)
		for _, c := range []struct {
			name string
			call func() error
		}{
			{"balances", func() error {
				r, err := be.Balances(ctx, &rpcv1.BalancesRequest{})
				if err == nil && len(r.GetCaisses()) != 2 {
					err = fmt.Errorf("balances of %d caisses, want 2", len(r.GetCaisses()))
				}
				return err
			}},
			{"redistribution", func() error {
				r, err := be.Redistribution(ctx, &rpcv1.RedistributionRequest{Period: ledgertest.Period})
				if err == nil && (!r.GetFinal() || len(r.GetCaisses()) != 2) {
					err = fmt.Errorf("redistribution final %v of %d caisses, want final, 2", r.GetFinal(), len(r.GetCaisses()))
				}
				return err
			}},
			{"page", func() error {
				r, err := be.ListEntries(ctx, &rpcv1.ListEntriesRequest{FromSeq: mid, Limit: 100})
				if err == nil && len(r.GetEntries()) != 100 {
					err = fmt.Errorf("a page of %d entries, want 100", len(r.GetEntries()))
				}
				return err
			}},
		} {
			b.Run(c.name, func(b *testing.B) {
				var took []time.Duration
				for b.Loop() {
					start := time.Now()
					if err := c.call(); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(start))
				}
				b.ReportMetric(ms(percentile(took, 50)), "p50-ms")
				b.ReportMetric(ms(percentile(took, 99)), "p99-ms")
			})
		}
	})
}

// BenchmarkAntiEntropyMembers sizes the messages of an in-sync
// anti-entropy round (ExchangeRequest and ExchangeResponse, as node/sync.go
// and node/api build them) for federations of 2, 20 and 200 members, each
// log a million entries long: bytes/member should not change with the
// number of members. BenchmarkAntiEntropyInSync measures a round on the
// wire between two real nodes.
func BenchmarkAntiEntropyMembers(b *testing.B) {
	for _, members := range []int{2, 20, 200} {
		b.Run(fmt.Sprintf("members=%d", members), func(b *testing.B) {
			vec := ledger.Vector{}
			for i := range members {
				var a ledger.Author
				var h ledger.Hash
				rand.Read(a[:])
				rand.Read(h[:])
				vec[a] = ledger.Head{Seq: ledger.Seq(1_000_000 + i), Hash: h}
			}
			var fed ledger.Hash
			rand.Read(fed[:])
			var size int
			for b.Loop() {
				req := &rpcv1.ExchangeRequest{Federation: fed[:], Vector: api.VectorProto(vec)}
				resp := &rpcv1.ExchangeResponse{Vector: api.VectorProto(vec)}
				size = proto.Size(req) + proto.Size(resp)
			}
			b.ReportMetric(float64(size), "bytes/round")
			b.ReportMetric(float64(size)/float64(members), "bytes/member")
		})
	}
}
