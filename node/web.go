package node

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/node/api"
	"github.com/caisse-coop/caisse/node/web"
)

// The dashboard listener (Config.WebAddr) serves node/web: the dashboard's
// pages and the JSON API, read-only, from the same operator service the
// socket serves.

// listenWeb binds the dashboard listener; nil when Config.WebAddr is empty.
func (n *Node) listenWeb() (*http.Server, net.Listener, error) {
	if n.cfg.WebAddr == "" {
		return nil, nil, nil
	}
	h, err := n.webHandler()
	if err != nil {
		return nil, nil, err
	}
	lis, err := net.Listen("tcp", n.cfg.WebAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("node: dashboard listen: %w", err)
	}
	addr := lis.Addr().String()
	n.webAddr.Store(&addr)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	return srv, lis, nil
}

// webHandler is the dashboard's handler over this node.
func (n *Node) webHandler() (*web.Handler, error) {
	h, err := web.New(web.Config{
		Operator:     api.NewOperator(&backend{n: n}),
		Entries:      storeEntries{n.store},
		AllowOrigins: n.cfg.WebOrigins,
		Logger:       n.log,
		Now:          n.cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	return h, nil
}

// storeEntries reads signed entries for the dashboard.
type storeEntries struct{ s ledger.Store }

func (s storeEntries) Entry(a ledger.Author, seq ledger.Seq) (ledger.Entry, error) {
	return s.s.Get(a, seq)
}

// WebAddr is the dashboard listener's bound address once Run has bound
// it, empty before or when it is disabled.
func (n *Node) WebAddr() string {
	if a := n.webAddr.Load(); a != nil {
		return *a
	}
	return ""
}
