package syncertest_test

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/caisse-coop/caisse/node/syncer/syncertest"
)

var (
	seedFlag  = flag.Uint64("seed", 0, "replay this simulation seed only, with its trace under -v (env SIM_SEED)")
	seedsFlag = flag.Int("seeds", 0, "number of simulation seeds to run (env SIM_SEEDS; default 200, 30 with -short)")
	baseFlag  = flag.Uint64("seedbase", 0, "first simulation seed (env SIM_SEEDBASE; default 1)")
)

func envUint(name string, def uint64) uint64 {
	if s := os.Getenv(name); s != "" {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n
		}
	}
	return def
}

// seeds returns the seeds to run, from the flags, the environment or the
// defaults.
func seeds() []uint64 {
	if s := *seedFlag; s != 0 {
		return []uint64{s}
	}
	if s := envUint("SIM_SEED", 0); s != 0 {
		return []uint64{s}
	}
	n := uint64(*seedsFlag)
	if n == 0 {
		def := uint64(200)
		if testing.Short() {
			def = 30
		}
		n = envUint("SIM_SEEDS", def)
	}
	base := *baseFlag
	if base == 0 {
		base = envUint("SIM_SEEDBASE", 1)
	}
	out := make([]uint64, n)
	for i := range out {
		out[i] = base + uint64(i)
	}
	return out
}

// TestSim runs the seeded simulation: N nodes over a network that drops,
// duplicates, delays, reorders, forges and partitions, with crashes,
// restores from backups and equivocations, then healing and the
// invariants of DESIGN.md. A failure prints the seed and the command that
// replays it; `make sim SEEDS=n` runs more seeds.
func TestSim(t *testing.T) {
	list := seeds()
	var (
		mu  sync.Mutex
		sum syncertest.Result
	)
	t.Cleanup(func() {
		t.Logf("%d seeds from %d: %d appended, %d acknowledged, %d lost with restored stores, %d forks, "+
			"%d messages (%d dropped, %d duplicated, %d forged, %d refused), %d crashes, %d restores; "+
			"syncers: %d pulls, %d probes, %d timeouts, %d pending, %d buffer drops",
			len(list), list[0], sum.Appended, sum.Acked, sum.Lost, sum.Forks, sum.Messages, sum.Dropped,
			sum.Duplicated, sum.Forged, sum.Refused, sum.Crashes, sum.Restores, sum.Syncers.Pulls,
			sum.Syncers.Probes, sum.Syncers.PullTimeouts, sum.Syncers.Pending, sum.Syncers.Dropped.Buffer)
	})
	for _, seed := range list {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			o := syncertest.Options{Seed: seed}
			if len(list) == 1 {
				o.Logf = t.Logf
			} else {
				t.Parallel()
			}
			r, err := syncertest.Run(t, o)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			sum.Appended += r.Appended
			sum.Acked += r.Acked
			sum.Lost += r.Lost
			sum.Forks += r.Forks
			sum.Messages += r.Messages
			sum.Dropped += r.Dropped
			sum.Duplicated += r.Duplicated
			sum.Forged += r.Forged
			sum.Refused += r.Refused
			sum.Crashes += r.Crashes
			sum.Restores += r.Restores
			sum.Syncers.Pulls += r.Syncers.Pulls
			sum.Syncers.Probes += r.Syncers.Probes
			sum.Syncers.PullTimeouts += r.Syncers.PullTimeouts
			sum.Syncers.Pending += r.Syncers.Pending
			sum.Syncers.Dropped.Buffer += r.Syncers.Dropped.Buffer
		})
	}
}

// TestSimDeterministic checks that a seed names a run: the same seed gives
// the same run.
func TestSimDeterministic(t *testing.T) {
	t.Parallel()
	for _, seed := range []uint64{7, 4831} {
		r1, err1 := syncertest.Run(t, syncertest.Options{Seed: seed})
		r2, err2 := syncertest.Run(t, syncertest.Options{Seed: seed})
		if err1 != nil || err2 != nil {
			t.Fatalf("seed %d: %v, %v", seed, err1, err2)
		}
		if r1 != r2 {
			t.Errorf("seed %d ran twice:\n%+v\n%+v", seed, r1, r2)
		}
	}
}

// TestSimWithoutFaults runs seeds on a network that only delays: nothing
// may be lost, nothing may fork.
func TestSimWithoutFaults(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 5; seed++ {
		r, err := syncertest.Run(t, syncertest.Options{Seed: seed, Faults: &syncertest.Faults{Append: 0.1, MaxDelay: 3}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Forks != 0 || r.Lost != 0 || r.Acked != r.Appended+1 { // the genesis is acknowledged too
			t.Errorf("seed %d: %v", seed, r)
		}
	}
}

// The checker must catch a broken run: these break one on purpose and
// expect the check to fail.

func TestCheckCatchesLostEntry(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 5; seed++ {
		_, err := syncertest.Run(t, syncertest.Options{Seed: seed, LoseAcked: true, Ticks: 100,
			Faults: &syncertest.Faults{Append: 0.1, MaxDelay: 3}})
		if err == nil {
			t.Fatalf("seed %d: a node lost an acknowledged entry and the check passed", seed)
		}
		if !strings.Contains(err.Error(), "replay: go test") {
			t.Errorf("seed %d: the error does not say how to replay it: %v", seed, err)
		}
	}
}

func TestCheckCatchesNoPull(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 5; seed++ {
		_, err := syncertest.Run(t, syncertest.Options{Seed: seed, NeverPull: true, Ticks: 100, HealTicks: 300,
			Faults: &syncertest.Faults{Append: 0.1, Drop: 0.3, Crash: 0.02, Restart: 0.05, MaxDelay: 3}})
		if err == nil {
			t.Fatalf("seed %d: nodes that never pull passed the check", seed)
		}
	}
}
