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
//     serving-hwm-MiB is A's meanwhile.
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
	bp := nodetest.Start(b, bin, dirB, argsB...)
	bc := bp.Client(b)
	deadline := time.Now().Add(30 * time.Minute)
	// VmHWM is the peak of the whole RSS, the store's mapped files
	// included; the peak of the anonymous part (heap, stacks, badger's
	// memtables) is sampled.
	var anonPeak float64
	for {
		anonPeak = max(anonPeak, procStatus(b, bp.PID())["RssAnon"])
		stB, err := bc.Status(ctx, &rpcv1.StatusRequest{})
		if err == nil && stB.GetEntries() >= uint64(len(entries)) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("B not caught up after 30 minutes: %d of %d entries", stB.GetEntries(), len(entries))
		}
		time.Sleep(100 * time.Millisecond)
	}
	catchup := procStatus(b, bp.PID())
	if heapFile != "" {
		saveHeapProfile(b, "http://"+adminB+"/debug/pprof/heap", heapFile)
	}
	serving := procStatus(b, a.PID())
	bp.Stop(b)
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
	b.ReportMetric(mib(serving["VmHWM"]), "serving-hwm-MiB")
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
