package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/internal/nodetest"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// TestSystemdNotify runs caissed as systemd runs a Type=notify service with
// a watchdog, and checks what it says on NOTIFY_SOCKET: READY=1 only once
// the operator API answers, WATCHDOG=1 while it runs, STOPPING=1 on SIGTERM.
func TestSystemdNotify(t *testing.T) {
	dir := t.TempDir()
	addr := &net.UnixAddr{Name: filepath.Join(dir, "notify"), Net: "unixgram"}
	l, err := net.ListenUnixgram("unixgram", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := l.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	t.Setenv("NOTIFY_SOCKET", addr.Name)
	t.Setenv("WATCHDOG_USEC", "400000") // 0.4s: a ping every 0.2s

	dataDir := filepath.Join(dir, "node")
	p := nodetest.Start(t, caissed, dataDir)

	next := func(what string) string {
		t.Helper()
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("notify socket closed waiting for %s", what)
			}
			return m
		case <-time.After(30 * time.Second):
			t.Fatalf("no %s on NOTIFY_SOCKET within 30s\n%s", what, p.Logs())
		}
		return ""
	}
	ready := next("READY=1")
	if !strings.HasPrefix(ready, "READY=1\n") || !strings.Contains(ready, "STATUS=serving the operator API") {
		t.Fatalf("first notification %q, want READY=1 with a STATUS", ready)
	}
	// READY=1 comes after the operator API answers: it answers now.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.Client(t).Status(ctx, &rpcv1.StatusRequest{}); err != nil {
		t.Fatalf("Status right after READY=1: %v", err)
	}
	for i := 0; i < 3; i++ {
		if m := next("WATCHDOG=1"); m != "WATCHDOG=1" {
			t.Fatalf("notification %q, want WATCHDOG=1", m)
		}
	}
	p.Stop(t)
	for {
		m := next("STOPPING=1")
		if m == "STOPPING=1" {
			break
		}
		if m != "WATCHDOG=1" {
			t.Fatalf("notification %q while stopping, want WATCHDOG=1 or STOPPING=1", m)
		}
	}
}

// TestSystemdNotifyOff checks that caissed runs as before without
// NOTIFY_SOCKET.
func TestSystemdNotifyOff(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	p := nodetest.Start(t, caissed, t.TempDir())
	p.Stop(t)
}
