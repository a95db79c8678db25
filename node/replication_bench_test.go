package node

// Replication benchmarks. Each reports, beside its own figures, a baseline
// measured in the same run (STYLE.md, internal/benchcmp): compare the
// ratios with benchstat, not ns/op, on a shared machine.
//
//	go test -run '^$' -bench 'Ingest|AntiEntropy' ./node/
//	go test -run '^$' -bench 'CatchUp/entries=1000$' ./node/            # quick sanity run
//	go test -run '^$' -bench 'CatchUp/entries=100000$' -benchtime=1x ./node/
//
// Nodes run on loopback, with real TLS, gRPC, memberlist and badger on disk.
// Bytes on the wire are counted by a TCP proxy placed in front of each
// node's sync server and advertised as its sync address (Config.AdvertiseSync),
// so all sync-API traffic between two nodes, both directions, goes through
// it: TLS records, HTTP/2 frames, gRPC framing and the messages, not TCP/IP
// headers. Gossip (memberlist) traffic is not counted.

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
	"google.golang.org/protobuf/proto"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/badgerstore"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/caisse-coop/caisse/node/api"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// benchSignContext is ledger's prefix of signed bytes. The ingest baseline
// verifies the entries' real signed messages, and fails if this changes.
const benchSignContext = "caisse/entry/v1\x00"

// benchBatch is the size of a batch: of a Pull (api.MaxBatchEntries), of
// an ingest, of a baseline badger transaction.
const benchBatch = api.MaxBatchEntries

// benchFed is a federation founded by founder with cofounder a member from
// the start, and the chains of contributions both have signed so far. It
// is signed once per test binary and grown on demand (signing 100k entries
// takes seconds), shared by every benchmark.
type benchFed struct {
	mu        sync.Mutex
	founder   *ledgertest.Author
	cofounder *ledgertest.Author
	genesis   ledger.Entry
	fed       ledger.Hash
	gossipKey []byte
}

var (
	benchFedOnce sync.Once
	benchFedVal  *benchFed
)

func benchFederation(tb testing.TB) *benchFed {
	tb.Helper()
	benchFedOnce.Do(func() {
		f := &benchFed{founder: ledgertest.NewAuthor(tb, 1), cofounder: ledgertest.NewAuthor(tb, 2)}
		f.genesis = f.founder.Genesis(tb, "bench federation", f.cofounder)
		f.fed = f.genesis.Hash()
		// The co-founder's first entry comes after the charter.
		f.cofounder.SetNow(ledger.HLC{Wall: f.genesis.Time().Wall + ledgertest.Step})
		f.gossipKey = make([]byte, 32)
		rand.Read(f.gossipKey)
		benchFedVal = f
	})
	if benchFedVal == nil {
		tb.Fatal("bench federation: setup failed earlier")
	}
	return benchFedVal
}

// founderLog returns the founder's log: the genesis and n contributions.
func (f *benchFed) founderLog(tb testing.TB, n int) []ledger.Entry {
	tb.Helper()
	return f.grow(tb, f.founder, n+1)
}

// cofounderLog returns the co-founder's first n entries, contributions.
func (f *benchFed) cofounderLog(tb testing.TB, n int) []ledger.Entry {
	tb.Helper()
	return f.grow(tb, f.cofounder, n)
}

func (f *benchFed) grow(tb testing.TB, a *ledgertest.Author, n int) []ledger.Entry {
	tb.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	for a.Head() == nil || int(a.Head().Seq) < n {
		a.Contribution(tb, f.fed, 100, ledgertest.Period)
	}
	return a.Entries()[:n]
}

func benchSum(entries []ledger.Entry) int {
	sum := 0
	for _, e := range entries {
		sum += e.Size()
	}
	return sum
}

// benchConfig is a node configuration in dir on loopback. Logs are
// dropped, or with -test.v go to standard error from warnings up: nodes
// log from goroutines that may outlive a benchmark, so not to b.Log, and
// memberlist reports peers shutting down as errors.
func benchConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Name = "bench caisse"
	cfg.Found = false
	cfg.SyncAddr, cfg.GossipAddr, cfg.GossipProfile = "127.0.0.1:0", "127.0.0.1:0", "local"
	cfg.AdminAddr, cfg.WebAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Logger = slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return cfg
}

// benchDataDir writes what a node finds in its data directory: its key
// (PKCS#8 PEM, 0600), the federation's gossip key and, if entries are
// given, a ledger holding them, appended in batches.
func benchDataDir(tb testing.TB, dir string, key ed25519.PrivateKey, gossipKey []byte, entries []ledger.Entry) {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, keyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, gossipKeyFile), gossipKey, 0o600); err != nil {
		tb.Fatal(err)
	}
	if len(entries) == 0 {
		return
	}
	s, err := badgerstore.Open(filepath.Join(dir, ledgerDir), badgerstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		tb.Fatal(err)
	}
	for lo := 0; lo < len(entries); lo += benchBatch {
		if err := s.Append(entries[lo:min(lo+benchBatch, len(entries))]...); err != nil {
			s.Close()
			tb.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		tb.Fatal(err)
	}
}

// benchJoinInfo writes the join.json of a node that joined through inviter.
func benchJoinInfo(tb testing.TB, dir string, fed ledger.Hash, inviter ledger.Author, inviterSync, inviterGossip string) {
	tb.Helper()
	raw, err := json.Marshal(joinInfo{Federation: fed.String(), Inviter: hex.EncodeToString(inviter[:]),
		InviterAddr: inviterSync, GossipSeeds: []string{inviterGossip}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, joinFile), raw, 0o600); err != nil {
		tb.Fatal(err)
	}
}

// benchNode is a node running in the background.
type benchNode struct {
	n      *Node
	cancel context.CancelFunc
	done   chan struct{} // closed when Run has returned, with err set
	err    error
}

func startBenchNode(tb testing.TB, cfg Config) *benchNode {
	tb.Helper()
	n, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	bn := &benchNode{n: n, cancel: cancel, done: make(chan struct{})}
	go func() {
		bn.err = n.Run(ctx)
		close(bn.done)
	}()
	return bn
}

// repl waits for the node's replication to be up.
func (bn *benchNode) repl(tb testing.TB) *replicator {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if r := bn.n.repl.Load(); r != nil {
			return r
		}
		select {
		case <-bn.done:
			tb.Fatalf("node stopped before replicating: %v", bn.err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatal("node: replication not up after 30s")
		}
	}
}

// stop cancels the node, waits for Run and closes the store. Replication
// stops in its own goroutine after Run returns, gossip first (a leave, then
// shutdown), then the sync server: stop waits, a few seconds at most, until
// the sync server refuses connections, so that the node has left.
func (bn *benchNode) stop(tb testing.TB) {
	tb.Helper()
	bn.cancel()
	<-bn.done
	if bn.err != nil {
		tb.Errorf("node run: %v", bn.err)
	}
	if r := bn.n.repl.Load(); r != nil {
		addr := r.lis.Addr().String()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err != nil {
				break
			}
			c.Close()
		}
	}
	if err := bn.n.Close(); err != nil {
		tb.Errorf("node close: %v", err)
	}
}

// benchVectorsEqual compares two vectors by seq and hash.
func benchVectorsEqual(a, b ledger.Vector) bool {
	if len(a) != len(b) {
		return false
	}
	for k, h := range a {
		if o, ok := b[k]; !ok || o.Seq != h.Seq || o.Hash != h.Hash {
			return false
		}
	}
	return true
}

// benchProxy forwards TCP connections to a node's sync server and counts
// the bytes that pass, both ways. Its target can change (a new node behind
// the same advertised address); with no target it refuses connections.
type benchProxy struct {
	lis    net.Listener
	target atomic.Pointer[string]
	bytes  atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

func newBenchProxy(tb testing.TB) *benchProxy {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &benchProxy{lis: lis, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	tb.Cleanup(p.close)
	return p
}

func (p *benchProxy) addr() string { return p.lis.Addr().String() }

func (p *benchProxy) setTarget(addr string) { p.target.Store(&addr) }

func (p *benchProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *benchProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *benchProxy) serve() {
	defer p.wg.Done()
	for {
		in, err := p.lis.Accept()
		if err != nil {
			return
		}
		t := p.target.Load()
		if t == nil || *t == "" {
			in.Close()
			continue
		}
		out, err := net.Dial("tcp", *t)
		if err != nil {
			in.Close()
			continue
		}
		if !p.track(in) || !p.track(out) {
			in.Close()
			out.Close()
			return
		}
		p.wg.Add(2)
		go p.pipe(in, out)
		go p.pipe(out, in)
	}
}

// pipe copies src to dst, counting; when either side ends, both close.
func (p *benchProxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	defer p.untrack(dst)
	defer p.untrack(src)
	buf := make([]byte, 64<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.bytes.Add(int64(n))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *benchProxy) close() {
	p.lis.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// benchPair is a founder node A with its store filled, running behind a
// counting proxy, and what a second node B needs to replicate from it.
type benchPair struct {
	f       *benchFed
	entries []ledger.Entry // A's log
	a       *benchNode
	aRepl   *replicator
	aProxy  *benchProxy
	bProxy  *benchProxy
}

// startBenchPair starts A with the genesis and n contributions in its
// store; antiEntropy is its anti-entropy interval.
func startBenchPair(b *testing.B, n int, antiEntropy time.Duration) *benchPair {
	b.Helper()
	f := benchFederation(b)
	p := &benchPair{f: f, entries: f.founderLog(b, n), aProxy: newBenchProxy(b), bProxy: newBenchProxy(b)}
	dir := b.TempDir()
	benchDataDir(b, dir, f.founder.Key, f.gossipKey, p.entries)
	cfg := benchConfig(dir)
	cfg.AdvertiseSync = p.aProxy.addr()
	cfg.AntiEntropy = antiEntropy
	p.a = startBenchNode(b, cfg)
	p.aRepl = p.a.repl(b)
	p.aProxy.setTarget(p.aRepl.lis.Addr().String())
	b.Cleanup(func() { p.a.stop(b) })
	return p
}

// bConfig prepares a data directory for B, the co-founder, that joined
// through A: its key, the gossip key, join.json and, if given, a ledger.
func (p *benchPair) bConfig(b *testing.B, dir string, entries []ledger.Entry, antiEntropy time.Duration) Config {
	b.Helper()
	benchDataDir(b, dir, p.f.cofounder.Key, p.f.gossipKey, entries)
	benchJoinInfo(b, dir, p.f.fed, p.f.founder.ID, p.aProxy.addr(), p.aRepl.gossip.LocalAddr().String())
	cfg := benchConfig(dir)
	cfg.AdvertiseSync = p.bProxy.addr()
	cfg.AntiEntropy = antiEntropy
	return cfg
}

// waitLeft waits, a few seconds at most, until A no longer counts peer as
// up: a node's gossip leaves after its Run returns, and the next B, with
// the same key at another address, must not find the last one still
// alive in A's memberlist.
func (p *benchPair) waitLeft(peer ledger.Author) {
	id := peerID(peer)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		p.aRepl.peersMu.Lock()
		pc := p.aRepl.peers[id]
		up := pc != nil && pc.up
		p.aRepl.peersMu.Unlock()
		if !up {
			return
		}
	}
}

// wire is the sync traffic between A and B so far, both proxies.
func (p *benchPair) wire() int64 { return p.aProxy.bytes.Load() + p.bProxy.bytes.Load() }

// BenchmarkIngest ingests a co-founder's contributions, signed before the
// timer, the way entries pulled from a peer are: api.VerifyAll (decode and
// verify on every core), then the node's ingest (clock and federation
// checks, apply, one synced badger transaction per batch), in batches of
// 512. The baseline verifies the same signed messages with raw
// ed25519.Verify, in the same batches, on GOMAXPROCS goroutines.
// batchverify-entries/s is the rate of the batch checks ledger makes, in
// batches of 1024, alone: the floor of what ingest costs.
func BenchmarkIngest(b *testing.B) {
	f := benchFederation(b)
	entries := f.cofounderLog(b, b.N)
	protos := make([]*caissev1.Entry, len(entries))
	msgs := make([][]byte, len(entries))
	for i, e := range entries {
		protos[i] = e.Proto()
		msgs[i] = append([]byte(benchSignContext), e.BodyBytes()...)
	}
	pub := ed25519.PublicKey(f.cofounder.ID[:])
	if !ed25519.Verify(pub, msgs[0], entries[0].Signature()) {
		b.Fatal("the baseline's message does not verify: has ledger's signing context changed?")
	}

	dir := b.TempDir()
	benchDataDir(b, dir, f.founder.Key, f.gossipKey, []ledger.Entry{f.genesis})
	n, err := New(benchConfig(dir))
	if err != nil {
		b.Fatal(err)
	}
	defer n.Close()

	// batchAt reports the batch that ends at iteration i, if one does.
	batchAt := func(i int) (lo, hi int, ok bool) {
		if (i+1)%benchBatch != 0 && i != b.N-1 {
			return 0, 0, false
		}
		return i - i%benchBatch, i + 1, true
	}
	workers := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	base, _ := benchcmp.Run(b, func(i int) {
		lo, hi, ok := batchAt(i)
		if !ok {
			return
		}
		var wg sync.WaitGroup
		var bad atomic.Bool
		for w := range workers {
			wg.Go(func() {
				for j := lo + w; j < hi; j += workers {
					if !ed25519.Verify(pub, msgs[j], entries[j].Signature()) {
						bad.Store(true)
					}
				}
			})
		}
		wg.Wait()
		if bad.Load() {
			b.Fatal("baseline: a signature does not verify")
		}
	}, func(i int) {
		lo, hi, ok := batchAt(i)
		if !ok {
			return
		}
		verified, errs := api.VerifyAll(protos[lo:hi])
		if err := errors.Join(errs...); err != nil {
			b.Fatal(err)
		}
		for _, r := range n.ingest(verified) {
			if r.out != stored {
				b.Fatalf("ingest %s: %s: %v", r.e, r.out, r.err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(entries[0].Size()), "entry-bytes")
	b.ReportMetric(float64(b.N)/max(base, 1).Seconds(), "baseline-entries/s")
	b.StopTimer()
	batch := benchBatchVerifyAll(b, entries)
	b.ReportMetric(float64(b.N)/max(batch, 1).Seconds(), "batchverify-entries/s")
}

// BenchmarkCatchUp times a fresh node B catching up with a node A that
// holds a genesis and BENCH_ENTRIES contributions: from node.New for B
// until B's store vector equals A's. Each iteration starts a new B (the
// co-founder, with a join.json naming A) on an empty data directory.
//
// The baseline (baseline-s) is the time to verify every entry's signature
// with raw ed25519.Verify on GOMAXPROCS goroutines, measured just before.
// Ingest verifies in batches, which is faster than that: batchverify-s is
// the time of those batch checks alone, the floor a catch-up cannot beat.
// rawwrite-s, for comparison, is the time to write the same entries to a
// fresh badger database with the store's main options, in synced
// transactions of 512.
// wire-MB is the sync traffic between A and B (both directions, TLS
// included), entries-MB the sum of the entries' encoded sizes. While B
// catches up, its operator Status is read every 50ms: progress-reports
// counts the reads that reported progress (entries left, a percentage
// under 100), and the benchmark fails if none did on a catch-up of more
// than two seconds.
func BenchmarkCatchUp(b *testing.B) {
	n := benchEntries(b)
	b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) { benchCatchUp(b, n) })
}

func benchCatchUp(b *testing.B, n int) {
	p := startBenchPair(b, n, DefaultConfig().AntiEntropy)
	want, err := p.a.n.store.Vector()
	if err != nil {
		b.Fatal(err)
	}
	sum := benchSum(p.entries)
	keys, values := benchRawKV(p.entries)
	base := b.TempDir()

	var baseline, batchBase, rawWrite, took time.Duration
	var wire int64
	var reports int
	var cpu time.Duration // CPU time of the process (both nodes) while B catches up
	for b.Loop() {
		b.StopTimer()
		bDir, err := os.MkdirTemp(base, "b")
		if err != nil {
			b.Fatal(err)
		}
		cfg := p.bConfig(b, bDir, nil, DefaultConfig().AntiEntropy)
		baseline += benchVerifyAll(b, p.entries)
		batchBase += benchBatchVerifyAll(b, p.entries)
		rawDir, err := os.MkdirTemp(base, "raw")
		if err != nil {
			b.Fatal(err)
		}
		rawWrite += benchRawWrite(b, rawDir, keys, values)
		os.RemoveAll(rawDir)
		w0 := p.wire()

		b.StartTimer()
		cpu0 := processCPU(b)
		bn := startBenchNode(b, cfg)
		p.bProxy.setTarget(bn.repl(b).lis.Addr().String())
		r, t := benchWaitCaughtUp(b, bn, want)
		took += t
		cpu += processCPU(b) - cpu0
		reports += r
		b.StopTimer()
		if t > 2*time.Second && r == 0 {
			b.Fatalf("caught up in %v without any progress in Status", t)
		}

		wire += p.wire() - w0
		p.bProxy.setTarget("")
		bn.stop(b)
		p.waitLeft(p.f.cofounder.ID)
		os.RemoveAll(bDir)
		b.StartTimer()
	}
	entries := len(p.entries)
	b.ReportMetric(took.Seconds()/float64(b.N), "catchup-s")
	b.ReportMetric(baseline.Seconds()/float64(b.N), "baseline-s")
	b.ReportMetric(batchBase.Seconds()/float64(b.N), "batchverify-s")
	b.ReportMetric(rawWrite.Seconds()/float64(b.N), "rawwrite-s")
	b.ReportMetric(float64(took)/float64(max(baseline, 1)), "x-baseline")
	b.ReportMetric(float64(entries)*float64(b.N)/took.Seconds(), "entries/s")
	b.ReportMetric(float64(wire)/float64(b.N)/1e6, "wire-MB")
	b.ReportMetric(float64(sum)/1e6, "entries-MB")
	b.ReportMetric(float64(wire)/float64(b.N)/float64(sum), "wire/entries")
	b.ReportMetric(float64(reports)/float64(b.N), "progress-reports")
	// Cores busy on average while catching up, out of GOMAXPROCS: below
	// it, the catch-up waits on something other than the CPU.
	b.ReportMetric(float64(cpu)/float64(max(took, 1)), "cores-busy")
}

// processCPU is the user and system CPU time of this process so far.
func processCPU(b *testing.B) time.Duration {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBatchVerifyAll verifies every entry's signature as ledger does, in
// batches of up to 1024 with expanded keys under ZIP-215, on GOMAXPROCS
// goroutines, and returns the time: the floor of verification as ingest
// does it, a second baseline beside raw ed25519.Verify.
func benchBatchVerifyAll(b *testing.B, entries []ledger.Entry) time.Duration {
	b.Helper()
	opts := &voi.Options{Verify: voi.VerifyOptionsZIP_215}
	keys := map[ledger.Author]*voi.ExpandedPublicKey{}
	for _, e := range entries {
		if a := e.Author(); keys[a] == nil {
			k, err := voi.NewExpandedPublicKey(voi.PublicKey(a[:]))
			if err != nil {
				b.Fatal(err)
			}
			keys[a] = k
		}
	}
	const size = 1024
	workers := runtime.GOMAXPROCS(0)
	var next atomic.Int64
	var bad atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			v := voi.NewBatchVerifierWithCapacity(size)
			for {
				lo := int(next.Add(size)) - size
				if lo >= len(entries) {
					return
				}
				v.Reset()
				for _, e := range entries[lo:min(lo+size, len(entries))] {
					msg := append([]byte(benchSignContext), e.BodyBytes()...)
					v.AddExpandedWithOptions(keys[e.Author()], msg, e.Signature(), opts)
				}
				if ok, _ := v.Verify(nil); !ok {
					bad.Store(true)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if bad.Load() {
		b.Fatal("batch baseline: a signature does not verify")
	}
	return took
}

// benchVerifyAll verifies every entry's signature over its signed message
// with raw ed25519.Verify, on GOMAXPROCS goroutines, and returns the time.
func benchVerifyAll(b *testing.B, entries []ledger.Entry) time.Duration {
	b.Helper()
	workers := runtime.GOMAXPROCS(0)
	var bad atomic.Bool
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			msg := make([]byte, 0, ledger.MaxEntrySize+len(benchSignContext))
			for i := w; i < len(entries); i += workers {
				e := entries[i]
				a := e.Author()
				msg = append(append(msg[:0], benchSignContext...), e.BodyBytes()...)
				if !ed25519.Verify(ed25519.PublicKey(a[:]), msg, e.Signature()) {
					bad.Store(true)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if bad.Load() {
		b.Fatal("baseline: a signature does not verify: has ledger's signing context changed?")
	}
	return took
}

// benchWaitCaughtUp waits until bn's store holds want, reading bn's
// operator Status every 50ms, and returns how many reads reported progress
// and the time taken.
func benchWaitCaughtUp(b *testing.B, bn *benchNode, want ledger.Vector) (reports int, took time.Duration) {
	b.Helper()
	start := time.Now()
	be := &backend{n: bn.n}
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		count := 0
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- count
				return
			case <-tick.C:
			}
			st, err := be.Status(context.Background(), &rpcv1.StatusRequest{})
			if err != nil {
				continue
			}
			for _, c := range st.GetCatchingUp() {
				if c.GetEntriesLeft() > 0 && c.GetPercent() < 100 {
					count++
					break
				}
			}
		}
	}()
	first := benchWaitVector(b, bn, want)
	took = time.Since(start)
	close(stop)
	b.Logf("first entry stored %v after the start, caught up after %v", first.Sub(start), took)
	return <-done, took
}

// benchWaitVector waits until bn's store holds want, and returns when its
// store first held more than when it was called.
func benchWaitVector(b *testing.B, bn *benchNode, want ledger.Vector) (first time.Time) {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	before, err := bn.n.store.Vector()
	if err != nil {
		b.Fatal(err)
	}
	for {
		got, err := bn.n.store.Vector()
		if err != nil {
			b.Fatal(err)
		}
		if first.IsZero() && !benchVectorsEqual(got, before) {
			first = time.Now()
		}
		if benchVectorsEqual(got, want) {
			return first
		}
		select {
		case <-bn.done:
			b.Fatalf("node stopped while catching up: %v", bn.err)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			b.Fatalf("not caught up after 10 minutes: %d of %d logs", len(got), len(want))
		}
	}
}

// benchRawKV are the baseline's keys (author, seq) and values (the encoded
// entries).
func benchRawKV(entries []ledger.Entry) (keys, values [][]byte) {
	for _, e := range entries {
		a := e.Author()
		k := make([]byte, 0, len(a)+9)
		k = append(append(append(k, 'e'), a[:]...), byte(e.Seq()>>56), byte(e.Seq()>>48), byte(e.Seq()>>40),
			byte(e.Seq()>>32), byte(e.Seq()>>24), byte(e.Seq()>>16), byte(e.Seq()>>8), byte(e.Seq()))
		keys, values = append(keys, k), append(values, e.Marshal())
	}
	return keys, values
}

// benchRawWrite opens a fresh badger database in dir with the store's main
// options (see badgerstore's badgerOptions), writes the pairs in synced
// transactions of benchBatch, and returns the time from Open to the last
// commit. Close is not timed, as the node's is not.
func benchRawWrite(b *testing.B, dir string, keys, values [][]byte) time.Duration {
	b.Helper()
	start := time.Now()
	db := openRawBadger(b, dir)
	for lo := 0; lo < len(keys); lo += benchBatch {
		err := db.Update(func(txn *badger.Txn) error {
			for i := lo; i < min(lo+benchBatch, len(keys)); i++ {
				if err := txn.Set(keys[i], values[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			b.Fatal(err)
		}
	}
	took := time.Since(start)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return took
}

// openRawBadger opens a badger database in dir with the store's options
// (badgerstore.Options), synced writes included.
func openRawBadger(b *testing.B, dir string) *badger.DB {
	b.Helper()
	db, err := badger.Open(badgerstore.Options(dir, badgerstore.WithLogger(slog.New(slog.DiscardHandler))))
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// BenchmarkAntiEntropyInSync measures one anti-entropy round between two
// nodes that hold the same entries, at 10k and at BENCH_ENTRIES (at least
// 100k): B's replicator
// exchanges vectors with A (replicator.exchange, the code a round runs),
// and as the vectors are equal nothing follows. A round's cost depends on
// the number of authors, not of entries: the benchmark fails if the large
// figures exceed the 10k ones by more than a few bytes.
//
// proto-bytes/op is the ExchangeRequest and ExchangeResponse as node/sync.go
// and node/api build them; wire-bytes/op is measured between the nodes
// (TLS, HTTP/2 and gRPC included, the connection already open). The
// baseline is one entry's encoded size: x-entry says a round costs as much
// on the wire as that many entries.
func BenchmarkAntiEntropyInSync(b *testing.B) {
	type figures struct {
		proto, wire float64
		rounds      int
	}
	got := map[int]figures{}
	sizes := []int{10_000, max(benchEntries(b), 100_000)}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			pb, wb := benchAntiEntropy(b, n)
			got[n] = figures{pb, wb, b.N}
		})
	}
	small, okSmall := got[sizes[0]]
	large, okLarge := got[sizes[1]]
	if !okSmall || !okLarge {
		b.Logf("anti-entropy: not comparing sizes, only %d of 2 ran", len(got))
		return
	}
	// Seqs are varints: 10001 takes 2 bytes, 1000001 3, once in the
	// request and once in the response.
	const protoSlack = 4
	if large.proto > small.proto+protoSlack {
		b.Fatalf("an in-sync round grows with entries: %.0f bytes of messages at %d entries, %.0f at %d",
			small.proto, sizes[0], large.proto, sizes[1])
	}
	// On the wire, HPACK-coded headers (the grpc-timeout value) and the
	// HTTP/2 pings gRPC sends now and then to estimate bandwidth add a
	// few bytes to some rounds: compare averages over many rounds only.
	const wireSlack, minRounds = 32, 100
	if small.rounds < minRounds || large.rounds < minRounds {
		b.Logf("anti-entropy: %d and %d rounds, too few to compare bytes on the wire (%.1f and %.1f)",
			small.rounds, large.rounds, small.wire, large.wire)
		return
	}
	if large.wire > small.wire+wireSlack {
		b.Fatalf("an in-sync round grows with entries: %.1f bytes on the wire at %d entries, %.1f at %d",
			small.wire, sizes[0], large.wire, sizes[1])
	}
}

// benchAntiEntropy runs the rounds of one size and returns the bytes of a
// round: of its messages and on the wire.
func benchAntiEntropy(b *testing.B, n int) (protoBytes, wireBytes float64) {
	// No background rounds: the only exchanges are the benchmark's.
	const quiet = time.Hour
	p := startBenchPair(b, n, quiet)
	bn := startBenchNode(b, p.bConfig(b, b.TempDir(), p.entries, quiet))
	defer bn.stop(b)
	r := bn.repl(b)
	p.bProxy.setTarget(r.lis.Addr().String())

	vecA, err := p.a.n.store.Vector()
	if err != nil {
		b.Fatal(err)
	}
	vecB, err := bn.n.store.Vector()
	if err != nil {
		b.Fatal(err)
	}
	if !benchVectorsEqual(vecA, vecB) {
		b.Fatal("the two stores differ")
	}
	forksA, err := p.a.n.store.Forks()
	if err != nil {
		b.Fatal(err)
	}
	forksB, err := bn.n.store.Forks()
	if err != nil {
		b.Fatal(err)
	}
	fed := p.f.fed
	req := &rpcv1.ExchangeRequest{Federation: fed[:], Vector: api.VectorProto(vecB), Forks: uint32(len(forksB))}
	resp := &rpcv1.ExchangeResponse{Vector: api.VectorProto(vecA), Forks: uint32(len(forksA))}
	protoBytes = float64(proto.Size(req) + proto.Size(resp))

	// Warm up: the connection is open, HPACK tables are filled, and the
	// round B ran when A came up is over.
	ctx := context.Background()
	a := peerID(p.f.founder.ID)
	for range 3 {
		r.exchange(ctx, a)
	}
	w0, t0 := p.wire(), time.Now()
	for b.Loop() {
		r.exchange(ctx, a)
	}
	wireBytes = float64(p.wire()-w0) / float64(b.N)
	// exchange reports failures to the syncer only: check that the last
	// round went through.
	r.peersMu.Lock()
	last := r.peers[a].lastSync
	r.peersMu.Unlock()
	if last.Before(t0) {
		b.Fatalf("no exchange with A succeeded (last at %v)", last)
	}

	entry := float64(p.entries[len(p.entries)-1].Size())
	b.ReportMetric(protoBytes, "proto-bytes/op")
	b.ReportMetric(wireBytes, "wire-bytes/op")
	b.ReportMetric(entry, "entry-bytes")
	b.ReportMetric(wireBytes/entry, "x-entry")
	return protoBytes, wireBytes
}
