// Command caissed runs a caisse node.
//
// With no arguments on a fresh machine it creates its data directory, a
// node key, a commented config file and a one-member federation, then
// serves the operator API on a unix socket in the data directory. Settings
// come from flags, then CAISSE_* environment variables, then the config
// file (<data-dir>/caissed.toml), then defaults.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/caisse-coop/caisse/node"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// defaultMemoryLimit is the Go runtime's soft memory limit unless
// GOMEMLIMIT sets one: a node is meant to run on a 1 GB VPS, and without a
// limit the heap grows to twice what is live before the collector runs.
// The limit is soft: a live heap above it is kept, at the cost of more
// frequent collections.
const defaultMemoryLimit = 128 << 20

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "caissed: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "restore-backup" {
		return restoreBackup(args[1:], os.Stdout, stderr, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	cfg, logCfg, err := parseConfig(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(logCfg, stderr)
	if err != nil {
		return err
	}
	if logCfg.demo {
		dir := filepath.Join(os.TempDir(), "caisse-demo")
		return runDemo(ctx, dir, log, stderr)
	}
	cfg.Logger = log
	cfg.Version = buildVersion()
	if err := writeDefaultConfig(cfg.DataDir); err != nil {
		return err
	}
	n, err := node.New(cfg)
	if err != nil {
		return err
	}
	socket := cfg.Socket
	if socket == "" {
		socket = node.SocketPath(cfg.DataDir)
	}
	stopNotify := notifySystemd(ctx, socket, log)
	runErr := n.Run(ctx)
	stopNotify()
	if err := n.Close(); err != nil && runErr == nil {
		runErr = err
	}
	if runErr == nil {
		log.Info("stopped")
	}
	return runErr
}

func newLogger(c logConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.level)); err != nil {
		return nil, fmt.Errorf("log-level %q: want debug, info, warn or error", c.level)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log-format %q: want text or json", c.format)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "dev"
}
