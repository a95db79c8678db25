package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// notifySystemd speaks systemd's notify protocol when caissed runs as a
// Type=notify service (NOTIFY_SOCKET is set; otherwise it does nothing):
// READY=1 once the operator API answers on socket, WATCHDOG=1 at half the
// unit's WatchdogSec for as long as it keeps answering (a wedged node is
// then restarted), and STOPPING=1 when ctx ends and the node shuts down.
// The returned function stops it; call it once the node has stopped.
func notifySystemd(ctx context.Context, socket string, log *slog.Logger) (stop func()) {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := notifyLoop(ctx, socket); err != nil {
			log.Warn("systemd notify", "err", err)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

func notifyLoop(ctx context.Context, socket string) error {
	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	c := rpcv1.NewOperatorClient(conn)
	answers := func() bool {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := c.Status(cctx, &rpcv1.StatusRequest{})
		return err == nil
	}
	for !answers() {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(50 * time.Millisecond):
		}
	}
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady+"\nSTATUS=serving the operator API on "+socket); err != nil {
		return fmt.Errorf("READY: %w", err)
	}
	var tick <-chan time.Time
	if every, err := daemon.SdWatchdogEnabled(false); err == nil && every > 0 {
		t := time.NewTicker(every / 2)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			// The node is shutting down (or already has): say so, so that
			// systemd waits for a clean stop rather than counting a failure.
			_, err := daemon.SdNotify(false, daemon.SdNotifyStopping)
			return err
		case <-tick:
			if answers() {
				daemon.SdNotify(false, daemon.SdNotifyWatchdog)
			}
		}
	}
}
