package node

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// get fetches an admin URL and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

func TestAdminListener(t *testing.T) {
	n := mustNew(t, testConfig(t, t.TempDir()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		n.Close()
	})

	// Run binds the listener, then starts replication: wait until the node
	// says it is healthy.
	var base string
	deadline := time.Now().Add(30 * time.Second)
	for {
		if a := n.adminAddr.Load(); a != nil {
			base = "http://" + *a
			if code, _ := get(t, base+"/healthz"); code == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("admin listener not healthy in 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}

	b := &backend{n: n}
	if _, err := b.Contribute(ctx, &rpcv1.ContributeRequest{Member: &rpcv1.MemberRef{Ref: &rpcv1.MemberRef_Name{Name: "A"}},
		Amount: "10", Period: "2026-11", Category: "dues"}); err != nil {
		t.Fatal(err)
	}

	code, body := get(t, base+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
	for _, want := range []string{
		`caisse_build_info{version="dev"} 1`,
		`caisse_entries_applied_total{origin="local"} 2`, // the genesis and the contribution
		`caisse_entries_rejected_total{reason="duplicate"} 0`,
		`caisse_state_entries 2`,
		`caisse_gossip_members{state="alive"} 1`,
		`caisse_sync_queue_depth{queue="inbox"}`,
		`caisse_store_commit_duration_seconds_count{origin="local"} 2`,
		`caisse_apply_duration_seconds_count`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q, want 200 ok", code, body)
	}
	if code, body := get(t, base+"/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/: %d", code)
	}
	resp, err := http.Post(base+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d, want 405", resp.StatusCode)
	}
}

func TestAdminDisabled(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.AdminAddr = ""
	n := mustNew(t, cfg)
	defer n.Close()
	srv, lis, err := n.listenAdmin()
	if srv != nil || lis != nil || err != nil {
		t.Fatalf("listenAdmin with no address: %v %v %v", srv, lis, err)
	}
}
