package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The admin listener serves, read-only and without authentication (keep
// it on loopback or a private network):
//
//	/metrics        Prometheus metrics (metrics.go)
//	/healthz        200 "ok", or 503 with the reason
//	/debug/pprof/   runtime profiles
//
// Its handlers are on a mux of its own: net/http/pprof also registers
// itself on http.DefaultServeMux, which caissed never serves.

// listenAdmin binds the admin listener; nil when Config.AdminAddr is empty.
func (n *Node) listenAdmin() (*http.Server, net.Listener, error) {
	if n.cfg.AdminAddr == "" {
		return nil, nil, nil
	}
	lis, err := net.Listen("tcp", n.cfg.AdminAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("node: admin listen: %w", err)
	}
	addr := lis.Addr().String()
	n.adminAddr.Store(&addr)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(n.met.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := n.health(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	readOnly := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
			return
		}
		mux.ServeHTTP(w, r)
	})
	srv := &http.Server{Handler: readOnly, ReadHeaderTimeout: 10 * time.Second}
	return srv, lis, nil
}

// serveAdmin serves the admin listener until shutdownAdmin.
func serveAdmin(srv *http.Server, lis net.Listener) error {
	if err := srv.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("node: admin: %w", err)
	}
	return nil
}

func shutdownAdmin(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		srv.Close() // a profile still running
	}
}

// health is nil when the store answers and, once the node has a
// federation, replication runs; otherwise it says what is wrong.
func (n *Node) health() error {
	if _, err := n.store.Count(); err != nil {
		return fmt.Errorf("store does not answer: %w", err)
	}
	if err := n.checkDisk(); err != nil {
		return err
	}
	_, ok, err := n.federationID()
	if err != nil {
		return fmt.Errorf("federation: %w", err)
	}
	if !ok {
		return nil // nothing to replicate yet
	}
	r := n.repl.Load()
	if r == nil {
		return errors.New("replication has not started")
	}
	select {
	case <-r.done:
		return errors.New("replication has stopped")
	default:
	}
	return nil
}
