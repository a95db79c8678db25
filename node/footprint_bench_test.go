package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/internal/nodetest"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/badgerstore"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

var (
	caissedOnce sync.Once
	caissedBin  string
	caissedErr  error
)

// benchCaissed builds caissed once per test binary, in a directory removed
// at the end of the benchmark that asked first.
func benchCaissed(b *testing.B) string {
	b.Helper()
	caissedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "caisse-bench-bin")
		if err != nil {
			caissedErr = err
			return
		}
		caissedErr = nodetest.Build(dir, "caissed")
		caissedBin = filepath.Join(dir, "caissed")
	})
	if caissedErr != nil {
		b.Fatal(caissedErr)
	}
	b.Cleanup(func() { os.RemoveAll(filepath.Dir(caissedBin)) })
	return caissedBin
}

// procStatus reads fields of /proc/PID/status in kB (VmRSS, VmHWM,
// RssAnon, RssFile).
func procStatus(b *testing.B, pid int) map[string]float64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(k, "Vm") && !strings.HasPrefix(k, "Rss") {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 2 && fs[1] == "kB" {
			if x, err := strconv.ParseFloat(fs[0], 64); err == nil {
				out[k] = x
			}
		}
	}
	if _, ok := out["VmRSS"]; !ok {
		b.Fatalf("/proc/%d/status: no VmRSS", pid)
	}
	return out
}

func mib(kB float64) float64 { return kB / 1024 }

// diskBytes is the space files under dir take on disk (allocated blocks:
// badger's value log is a sparse, preallocated file).
func diskBytes(b *testing.B, dir string) int64 {
	b.Helper()
	var sum int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			sum += st.Blocks * 512
		} else {
			sum += info.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return sum
}

// BenchmarkFootprint measures real caissed processes (internal/nodetest)
// around a ledger of BENCH_ENTRIES entries: A, the founder, starts on a
// data directory holding them; B, a member with an empty one, catches up
// from A. Run it with -benchtime 1x.
//
//   - startup-s: from starting A to its operator API answering, on a
//     store written by the benchmark (no state checkpoint: a replay of
//     every entry); the baseline scan-s is the time to read every entry
//     back from the same store in this process. restart-s: the same once
//     A stopped cleanly, from its state checkpoint; restart-idle-rss-MiB
//     its VmRSS three seconds after.
//   - idle-rss-MiB: A's VmRSS three seconds after it answers; idle-anon-MiB
//     its anonymous part (RssAnon), without the store's files that badger
//     maps and the kernel may drop.
//   - catchup-hwm-MiB: B's VmHWM (peak RSS) once it has caught up;
//     serving-hwm-MiB is A's meanwhile. catchup-anon-peak-MiB and
//     catchup-file-peak-MiB: the peaks of B's RssAnon and RssFile (its
//     executable and the store's mapped files), sampled every 100 ms.
//   - disk-bytes/entry: the store's blocks on disk per entry, beside
//     entry-bytes, the mean encoded entry.
func BenchmarkFootprint(b *testing.B) {
	size := benchEntries(b)
	b.Run(fmt.Sprintf("entries=%d", size), func(b *testing.B) {
		bin := benchCaissed(b)
		f := benchFederation(b)
		entries := f.founderLog(b, size-1)
		for b.Loop() {
			benchFootprint(b, bin, f, entries)
		}
	})
}

func benchFootprint(b *testing.B, bin string, f *benchFed, entries []ledger.Entry) {
	dirA := b.TempDir()
	benchDataDir(b, dirA, f.founder.Key, f.gossipKey, entries)
	disk := diskBytes(b, filepath.Join(dirA, ledgerDir))

	s, err := badgerstore.Open(filepath.Join(dirA, ledgerDir), badgerstore.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	read := 0
	if err := s.ScanAll(func(ledger.Entry) error { read++; return nil }); err != nil {
		b.Fatal(err)
	}
	scan := time.Since(start)
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	if read != len(entries) {
		b.Fatalf("scanned %d entries, stored %d", read, len(entries))
	}

	start = time.Now()
	a := nodetest.Start(b, bin, dirA, "--found=false", "--log-level", "info")
	startup := time.Since(start)
	ctx := context.Background()
	st, err := a.Client(b).Status(ctx, &rpcv1.StatusRequest{})
	if err != nil {
		b.Fatal(err)
	}
	if st.GetEntries() != uint64(len(entries)) {
		b.Fatalf("A holds %d entries, want %d", st.GetEntries(), len(entries))
	}
	time.Sleep(3 * time.Second)
	idle := procStatus(b, a.PID())

	dirB := b.TempDir()
	benchDataDir(b, dirB, f.cofounder.Key, f.gossipKey, nil)
	benchJoinInfo(b, dirB, f.fed, f.founder.ID, st.GetSyncAddr(), st.GetGossipAddr())
	// BENCH_HEAPPROFILE=FILE saves B's live heap once it has caught up,
	// from its admin listener's pprof, for go tool pprof.
	heapFile := os.Getenv("BENCH_HEAPPROFILE")
	argsB := []string{"--found=false", "--log-level", "info"}
	adminB := ""
	if heapFile != "" {
		adminB = nodetest.FreeAddr(b)
		argsB = append(argsB, "--admin-addr", adminB)
	}
	start = time.Now()
	bp := nodetest.Start(b, bin, dirB, argsB...)
	// VmHWM is the peak of the whole RSS, the store's mapped files
	// included; the peak of the anonymous part (heap, stacks, badger's
	// memtables) is sampled.
	var anonPeak, filePeak float64
	if err := waitCaughtUp(b, bp, len(entries), 30*time.Minute, func() {
		st := procStatus(b, bp.PID())
		anonPeak, filePeak = max(anonPeak, st["RssAnon"]), max(filePeak, st["RssFile"])
	}); err != nil {
		b.Fatal(err)
	}
	catchupTime := time.Since(start)
	catchup := procStatus(b, bp.PID())
	if heapFile != "" {
		saveHeapProfile(b, "http://"+adminB+"/debug/pprof/heap", heapFile)
	}
	serving := procStatus(b, a.PID())
	bp.Stop(b)
	waitPeerGone(b, a, f.cofounder.ID)
	limited := limitedCatchUp(b, bin, f, st, len(entries), max(5*catchupTime, time.Minute))
	a.Stop(b)

	// A stopped cleanly and saved its state: it starts again from it.
	start = time.Now()
	a = nodetest.Start(b, bin, dirA, "--found=false", "--log-level", "info")
	restart := time.Since(start)
	if !strings.Contains(a.Logs(), "from the state checkpoint") {
		b.Fatalf("A did not start from its state checkpoint:\n%s", a.Logs())
	}
	time.Sleep(3 * time.Second)
	idleAgain := procStatus(b, a.PID())
	a.Stop(b)

	b.ReportMetric(startup.Seconds(), "startup-s")
	b.ReportMetric(scan.Seconds(), "scan-s")
	b.ReportMetric(restart.Seconds(), "restart-s")
	b.ReportMetric(mib(idleAgain["VmRSS"]), "restart-idle-rss-MiB")
	b.ReportMetric(mib(idleAgain["RssAnon"]), "restart-idle-anon-MiB")
	b.ReportMetric(mib(idle["VmRSS"]), "idle-rss-MiB")
	b.ReportMetric(mib(idle["RssAnon"]), "idle-anon-MiB")
	b.ReportMetric(mib(idle["VmHWM"]), "startup-hwm-MiB")
	b.ReportMetric(mib(catchup["RssAnon"]), "caughtup-anon-MiB")
	b.ReportMetric(mib(catchup["VmHWM"]), "catchup-hwm-MiB")
	b.ReportMetric(mib(max(anonPeak, catchup["RssAnon"])), "catchup-anon-peak-MiB")
	b.ReportMetric(mib(max(filePeak, catchup["RssFile"])), "catchup-file-peak-MiB")
	b.ReportMetric(mib(serving["VmHWM"]), "serving-hwm-MiB")
	b.ReportMetric(catchupTime.Seconds(), "catchup-s")
	if limited.ran {
		b.ReportMetric(float64(limited.peak)/(1<<20), "limited-peak-MiB")
		caughtUp := 0.0
		if limited.ok {
			caughtUp = 1
			b.ReportMetric(limited.took.Seconds(), "limited-catchup-s")
		}
		b.ReportMetric(caughtUp, "limited-caughtup")
	}
	b.ReportMetric(float64(disk)/float64(len(entries)), "disk-bytes/entry")
	b.ReportMetric(float64(benchSum(entries))/float64(len(entries)), "entry-bytes")
}

// saveHeapProfile saves the heap profile served at url into file.
func saveHeapProfile(b *testing.B, url, file string) {
	b.Helper()
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("heap profile from %s: %v %s", url, err, resp.Status)
	}
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		b.Fatal(err)
	}
}

// waitCaughtUp polls p's Status until it holds n entries, calling sample
// at each poll. It fails if the process exits or the timeout passes; then
// the process is killed.
func waitCaughtUp(b *testing.B, p *nodetest.Proc, n int, timeout time.Duration, sample func()) error {
	b.Helper()
	c := p.Client(b)
	deadline := time.Now().Add(timeout)
	for {
		if how, gone := p.Exited(); gone {
			return fmt.Errorf("caissed exited while catching up: %s", how)
		}
		sample()
		st, err := c.Status(context.Background(), &rpcv1.StatusRequest{})
		if err == nil && st.GetEntries() >= uint64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			p.Kill(b)
			return fmt.Errorf("not caught up after %v: %d of %d entries (last status: %v)", timeout, st.GetEntries(), n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// footprintLimit is the memory goal of a node (README, Performance).
const footprintLimit = 150 << 20

type limitedRun struct {
	ran  bool // a cgroup could be made
	ok   bool // caught up, and no process was killed for memory
	took time.Duration
	peak int64
}

// limitedCatchUp catches up a fresh node from A (whose status is st) inside
// a memory cgroup limited to footprintLimit with no swap, as systemd's
// MemoryMax would hold it: the kernel reclaims page cache (the store's
// mapped files) to stay under the limit, and kills the node if what it
// cannot reclaim goes over. Where no cgroup can be made, it says so and
// measures nothing.
func limitedCatchUp(b *testing.B, bin string, f *benchFed, st *rpcv1.StatusResponse, n int, timeout time.Duration) limitedRun {
	b.Helper()
	cg, err := nodetest.NewMemoryCgroup(fmt.Sprintf("caisse-bench-%d", os.Getpid()), footprintLimit)
	if err != nil {
		b.Logf("NOT MEASURED: catch-up under a %d MiB memory limit: %v", footprintLimit>>20, err)
		return limitedRun{}
	}
	// Removed at the end once the node is gone; if the benchmark stops
	// early, by a cleanup, which runs after the node's own has killed it.
	removed := false
	remove := func() {
		if removed {
			return
		}
		removed = true
		if err := cg.Remove(); err != nil {
			b.Errorf("remove the benchmark's cgroup: %v", err)
		}
	}
	b.Cleanup(remove)
	dir := b.TempDir()
	benchDataDir(b, dir, f.cofounder.Key, f.gossipKey, nil)
	benchJoinInfo(b, dir, f.fed, f.founder.ID, st.GetSyncAddr(), st.GetGossipAddr())
	start := time.Now()
	p := nodetest.StartIn(b, cg, bin, dir, "--found=false", "--log-level", "info")
	r := limitedRun{ran: true, ok: true}
	if err := waitCaughtUp(b, p, n, timeout, func() {}); err != nil {
		b.Logf("FAILED: catch-up under a %d MiB memory limit: %v", footprintLimit>>20, err)
		r.ok = false
	} else {
		r.took = time.Since(start)
		p.Stop(b)
	}
	if kills, err := cg.OOMKills(); err != nil || kills > 0 {
		b.Logf("FAILED: catch-up under a %d MiB memory limit: %d processes killed for memory (%v)", footprintLimit>>20, kills, err)
		r.ok = false
	}
	if r.peak, err = cg.Peak(); err != nil {
		b.Fatal(err)
	}
	remove()
	return r
}

// waitPeerGone waits until p no longer sees the node with key id alive, so
// that a node with the same key can join again.
func waitPeerGone(b *testing.B, p *nodetest.Proc, a ledger.Author) {
	id := string(a.ID())
	b.Helper()
	c := p.Client(b)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := c.Peers(context.Background(), &rpcv1.PeersRequest{})
		if err != nil {
			b.Fatal(err)
		}
		alive := false
		for _, peer := range resp.GetPeers() {
			alive = alive || (peer.GetId() == id && peer.GetState() == "alive")
		}
		if !alive {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("node %s still alive to A 30 s after it stopped", id)
		}
	}
}
