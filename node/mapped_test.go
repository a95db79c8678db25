package node

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/internal/nodetest"
	"github.com/caisse-coop/caisse/ledger"
)

// TestReopenStoreWhileAppending reopens a node's store in a loop while
// local appends go on: every append is acknowledged once, the store
// verifies against the live state, and the node restarts to that state.
func TestReopenStoreWhileAppending(t *testing.T) {
	dir := t.TempDir()
	n := mustNew(t, testConfig(t, dir))
	const writers, each = 8, 25
	var wg sync.WaitGroup
	var reopened atomic.Int64
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if n.reopenStore("test", 20*time.Millisecond) {
				reopened.Add(1)
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	var acked sync.Map
	var appended atomic.Int64
	deadline := time.Now().Add(time.Minute)
	var appends sync.WaitGroup
	for range writers {
		appends.Go(func() {
			for i := 0; i < each || reopened.Load() < 2; i++ {
				if time.Now().After(deadline) {
					t.Errorf("reopened %d times in a minute of appends, want 2", reopened.Load())
					return
				}
				e, err := n.append(benchContribution)
				if err != nil {
					t.Errorf("append: %v", err)
					return
				}
				appended.Add(1)
				if _, dup := acked.LoadOrStore(e.Seq(), true); dup {
					t.Errorf("seq %d acknowledged twice", e.Seq())
				}
				time.Sleep(100 * time.Microsecond)
			}
		})
	}
	appends.Wait()
	close(stop)
	wg.Wait()
	for s := ledger.Seq(2); s <= ledger.Seq(1+appended.Load()); s++ {
		if _, ok := acked.Load(s); !ok {
			t.Fatalf("seq %d not acknowledged", s)
		}
		if _, err := n.store.Get(n.self, s); err != nil {
			t.Fatalf("acknowledged seq %d not in the store: %v", s, err)
		}
	}
	verifyAndRestart(t, n, dir)
	t.Logf("reopened %d times during %d appends", reopened.Load(), appended.Load())
}

// TestStartReplayReopens starts a node whose state checkpoint is gone: it
// replays the store, then reopens it, and serves from it as before.
func TestStartReplayReopens(t *testing.T) {
	dir := t.TempDir()
	n := mustNew(t, testConfig(t, dir))
	for range 20 {
		if _, err := n.append(benchContribution); err != nil {
			t.Fatal(err)
		}
	}
	live := n.state.Hash()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, stateFile)); err != nil {
		t.Fatal(err)
	}
	var logs nodetest.LockedBuffer
	cfg := testConfig(t, dir)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n = mustNew(t, cfg)
	defer n.Close()
	if n.fromCheckpoint {
		t.Fatal("started from a checkpoint that was removed")
	}
	if !strings.Contains(logs.String(), "store reopened to unmap its files") {
		t.Errorf("no reopen after the replay; logs:\n%s", logs.String())
	}
	if got := n.state.Hash(); got != live {
		t.Fatalf("state after replay %s, want %s", got.Short(), live.Short())
	}
	if _, err := n.append(benchContribution); err != nil {
		t.Fatalf("append after the reopen: %v", err)
	}
}

func TestRSSFile(t *testing.T) {
	got, ok := rssFile()
	if runtime.GOOS != "linux" {
		if ok {
			t.Fatalf("rssFile on %s = %d, true; there is no /proc/self/status", runtime.GOOS, got)
		}
		return
	}
	// The test binary's own text is mapped from its file.
	if !ok || got <= 0 {
		t.Fatalf("rssFile() = %d, %v; want the resident file pages", got, ok)
	}
}
