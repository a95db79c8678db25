package node

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func testConfig(t *testing.T, dir string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = dir
	cfg.Name = "Caisse de test"
	cfg.SyncAddr, cfg.GossipAddr, cfg.GossipProfile = "127.0.0.1:0", "127.0.0.1:0", "local"
	cfg.AdminAddr, cfg.WebAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(tWriter{t}, nil))
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { now = now.Add(time.Millisecond); return now }
	return cfg
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func mustNew(t *testing.T, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestKeyCreatedOnceNeverOverwritten(t *testing.T) {
	dir := t.TempDir()
	n := mustNew(t, testConfig(t, dir))
	first := n.Author()
	n.Close()
	for _, f := range []string{keyFile, pseudonymFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", f, fi.Mode().Perm())
		}
	}
	n = mustNew(t, testConfig(t, dir))
	if n.Author() != first {
		t.Fatalf("restart changed the node key: %s -> %s", first, n.Author())
	}
	n.Close()

	if err := os.Chmod(filepath.Join(dir, keyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := New(testConfig(t, dir)); err == nil || !strings.Contains(err.Error(), "others can read") {
		t.Fatalf("New with a world-readable key: %v, want a refusal", err)
	}
}

func TestReplayAfterRestart(t *testing.T) {
	dir := t.TempDir()
	n := mustNew(t, testConfig(t, dir))
	b := &backend{n: n}
	ctx := context.Background()
	for i, amount := range []string{"10", "20.5", "0.01"} {
		_, err := b.Contribute(ctx, &rpcv1.ContributeRequest{
			Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "Anne"}}, Amount: amount, Period: "2026-11", Category: "dues",
		})
		if err != nil {
			t.Fatalf("contribution %d: %v", i, err)
		}
	}
	if _, err := b.Correct(ctx, &rpcv1.CorrectRequest{Seq: 3, Reason: "twice"}); err != nil {
		t.Fatal(err)
	}
	before, _ := b.Status(ctx, nil)
	balBefore, _ := b.Balances(ctx, &rpcv1.BalancesRequest{})
	if got := balBefore.GetTotal().GetContributed(); got != 1001 {
		t.Fatalf("contributed %d, want 1001", got)
	}
	n.Close()
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	n = mustNew(t, testConfig(t, dir))
	defer n.Close()
	b = &backend{n: n}
	after, _ := b.Status(ctx, nil)
	if after.GetStateHash() != before.GetStateHash() || after.GetSeq() != 5 || after.GetFederationId() != before.GetFederationId() {
		t.Fatalf("after restart: %+v, before %+v", after, before)
	}
	v, err := b.Verify(ctx, nil)
	if err != nil || !v.GetOk() || v.GetEntries() != 5 {
		t.Fatalf("verify after restart: %v %+v", err, v)
	}
	// The restarted clock continues after the last stored entry.
	resp, err := b.Contribute(ctx, &rpcv1.ContributeRequest{
		Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "Anne"}}, Amount: "1", Period: "2026-11", Category: "dues",
	})
	if err != nil || resp.GetEntry().GetSeq() != 6 {
		t.Fatalf("append after restart: %v %+v", err, resp)
	}
}

// TestClockBehindStillAppends: a node whose wall clock jumped back still
// appends, with hybrid logical clock readings after its last entry.
func TestClockBehindStillAppends(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	cfg.Now = func() time.Time { return now }
	n := mustNew(t, cfg)
	defer n.Close()
	b := &backend{n: n}
	req := &rpcv1.ContributeRequest{Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "A"}}, Amount: "1", Period: "2026-11", Category: "dues"}
	first, err := b.Contribute(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(-time.Hour)
	second, err := b.Contribute(context.Background(), req)
	if err != nil {
		t.Fatalf("append with the clock an hour back: %v", err)
	}
	f, s := first.GetEntry(), second.GetEntry()
	if !(ledger.HLC{Wall: f.GetTimeMs(), Logical: f.GetTimeLogical()}).Before(ledger.HLC{Wall: s.GetTimeMs(), Logical: s.GetTimeLogical()}) {
		t.Fatalf("times %d.%d then %d.%d: not increasing", f.GetTimeMs(), f.GetTimeLogical(), s.GetTimeMs(), s.GetTimeLogical())
	}
}

func TestNoFederationUntilInit(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.Found = false
	n := mustNew(t, cfg)
	defer n.Close()
	b := &backend{n: n}
	ctx := context.Background()
	_, err := b.Contribute(ctx, &rpcv1.ContributeRequest{Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "A"}}, Amount: "1", Period: "2026-11", Category: "dues"})
	if !errors.Is(err, federation.ErrNoGenesis) {
		t.Fatalf("contribute before init: %v, want ErrNoGenesis", err)
	}
	for _, bad := range []*rpcv1.InitRequest{
		{FederationName: ""},
		{FederationName: "F", Currency: "euro"},
		{FederationName: "F", Exponent: 9},
		{FederationName: "F", Rules: &rpcv1.Rules{NeedBp: 5000, MajorityBp: 5001}},
	} {
		if _, err := b.Init(ctx, bad); err == nil {
			t.Errorf("Init(%v): no error", bad)
		}
	}
	if st, _ := b.Status(ctx, nil); st.GetFounded() || st.GetEntries() != 0 {
		t.Fatalf("refused inits changed the node: %+v", st)
	}
	if _, err := b.Init(ctx, &rpcv1.InitRequest{FederationName: "Fédération", Currency: "JPY", Exponent: 0}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Init(ctx, &rpcv1.InitRequest{FederationName: "Again"}); !errors.Is(err, federation.ErrGenesisExists) {
		t.Fatalf("second Init: %v, want ErrGenesisExists", err)
	}
	if _, err := b.Contribute(ctx, &rpcv1.ContributeRequest{Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "A"}}, Amount: "1.5", Period: "2026-11", Category: "dues"}); !errors.Is(err, ledger.ErrInvalidAmount) {
		t.Fatalf("decimals in a currency without minor unit: %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"no data dir", func(c *Config) { c.DataDir = "" }, "data directory"},
		{"clock offset", func(c *Config) { c.MaxClockAhead = 0 }, "clock"},
		{"bad currency", func(c *Config) { c.Federation.Currency = "E" }, "currency"},
		{"bad weights", func(c *Config) { c.Federation.Rules.EqualBP = 0 }, "weights"},
		{"no name", func(c *Config) { c.Name = "" }, "name"},
		{"long socket", func(c *Config) { c.Socket = strings.Repeat("s", 120) }, "socket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t, t.TempDir())
			tc.change(&cfg)
			if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error about %s", err, tc.want)
			}
		})
	}
}
