package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/caisse-coop/caisse/internal/nodetest"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// TestDemo runs the README's first command in-process: three nodes form a
// federation, record sample entries, converge, and stop cleanly.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var out nodetest.LockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runDemo(ctx, dir, slog.New(slog.NewTextHandler(io.Discard, nil)), &out) }()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(out.String(), "Ctrl-C stops") {
		select {
		case err := <-done:
			t.Fatalf("demo stopped early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo not ready after 2 minutes:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var hashes []string
	for time.Now().Before(deadline) {
		hashes = hashes[:0]
		for _, name := range []string{"lyon", "nantes", "lille"} {
			conn, err := grpc.NewClient("unix://"+filepath.Join(dir, name, "caissed.sock"), grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				t.Fatal(err)
			}
			st, err := rpcv1.NewOperatorClient(conn).Status(ctx, &rpcv1.StatusRequest{})
			conn.Close()
			if err != nil {
				t.Fatal(err)
			}
			if st.GetMembers() != 3 || !st.GetMember() {
				t.Fatalf("%s: %d members, member=%v; want 3 and true", name, st.GetMembers(), st.GetMember())
			}
			hashes = append(hashes, st.GetStateHash())
		}
		if hashes[0] == hashes[1] && hashes[1] == hashes[2] {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if hashes[0] != hashes[1] || hashes[1] != hashes[2] {
		t.Fatalf("demo nodes do not converge: %v", hashes)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of the cancel")
	}
}
