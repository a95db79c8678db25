// Package node is the caisse daemon: it wires the store, the federation
// state machine and the operator API, and is the only place with
// goroutines, sockets, disks and clocks. Only cmd/caissed imports it.
package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/caisse-coop/caisse/federation"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/badgerstore"
	"github.com/caisse-coop/caisse/node/api"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// Node is one collective's caisse node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	key     ed25519.PrivateKey
	signer  *ledger.Signer
	self    ledger.Author
	pseudo  []byte // local key of member pseudonyms
	reg     *register
	store   ledger.Store
	started time.Time

	// fromCheckpoint is true when the state was loaded from the state
	// checkpoint at start, rather than by replaying the store.
	fromCheckpoint bool

	// mu guards state and clock. Entries from peers are checked and
	// applied, then stored durably, all under mu. Local appends are checked
	// and applied under mu, then stored while a group commit is in flight
	// (groupcommit.go): the state equals the store once no group is in
	// flight, which inflight says.
	mu    sync.Mutex
	state *federation.State
	clock *ledger.Clock
	// held are stored entries the state cannot apply yet (see replay).
	held []ledger.Entry
	// appendQ holds local appends waiting for a group commit (groupcommit.go).
	appendQ chan *appendReq
	// applyTurn is held by the caller applying a group, storeTurn by the
	// one storing a group; inflight is read-locked by a group between its
	// apply and its commit, and locked, n.mu held, by whatever needs the
	// store to equal the state. appendBroken holds the error of a failed
	// group commit until the state is rebuilt from the store.
	applyTurn, storeTurn chan struct{}
	inflight             sync.RWMutex
	appendBroken         atomic.Pointer[error]
	// repl runs replication once the node has a federation.
	repl atomic.Pointer[replicator]
	// fedReady is closed when the node founds or joins a federation.
	fedReady     chan struct{}
	fedReadyOnce sync.Once
	// acking is set while acknowledgeDecisions runs.
	acking atomic.Bool
	// diskLow is set while free space is under Config.MinFreeDisk.
	diskLow atomic.Bool

	// met are the node's metrics; adminAddr, the admin listener's bound
	// address once Run has bound it.
	met       *metrics
	adminAddr atomic.Pointer[string]
	// webAddr is the dashboard listener's bound address (web.go).
	webAddr atomic.Pointer[string]

	closeOnce sync.Once
	closeErr  error
}

// New opens (or creates) the node's data directory, loads its key, replays
// its ledger into the federation state and, if the ledger is empty and
// cfg.Found is set, founds a one-member federation.
func New(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("node: data directory: %w", err)
	}
	n := &Node{cfg: cfg, log: cfg.Logger, started: cfg.Now(), fedReady: make(chan struct{}), appendQ: make(chan *appendReq, appendQueueSize), applyTurn: make(chan struct{}, 1), storeTurn: make(chan struct{}, 1)}
	n.met = newMetrics(n)
	key, created, err := loadOrCreateKey(filepath.Join(cfg.DataDir, keyFile))
	if err != nil {
		return nil, err
	}
	if n.signer, err = ledger.NewSigner(key); err != nil {
		return nil, fmt.Errorf("node: key %s: %w", filepath.Join(cfg.DataDir, keyFile), err)
	}
	n.key, n.self = key, n.signer.Author()
	if created {
		n.log.Info("created node key", "author", n.self.Short(), "file", filepath.Join(cfg.DataDir, keyFile))
	}
	if n.pseudo, err = loadOrCreateSecret(filepath.Join(cfg.DataDir, pseudonymFile), ledger.PseudonymKeySize); err != nil {
		return nil, err
	}
	if n.reg, err = openRegister(filepath.Join(cfg.DataDir, registerFile)); err != nil {
		return nil, err
	}
	store, err := badgerstore.Open(filepath.Join(cfg.DataDir, ledgerDir), badgerstore.WithLogger(n.log))
	if err != nil {
		return nil, fmt.Errorf("node: open ledger: %w", err)
	}
	n.store = store
	if err := n.load(); err != nil {
		store.Close()
		return nil, err
	}
	// Replaying decodes every entry and reads the whole store: unmap the
	// store's files (mapped.go), and hand the garbage back to the system
	// now rather than over minutes, so that an idle node stays small.
	if !n.fromCheckpoint && n.state.Entries() > 0 {
		n.reopenStore("replayed at start", time.Second)
	}
	debug.FreeOSMemory()
	if _, ok := n.state.Federation(); !ok && cfg.Found {
		if _, err := n.found(cfg.Federation, cfg.Name); err != nil {
			store.Close()
			return nil, err
		}
	}
	return n, nil
}

// load builds the federation state at start: from the state checkpoint
// and the entries stored after it when it can, else by replaying the
// store.
func (n *Node) load() error {
	ok, err := n.replayFromCheckpoint()
	switch {
	case err != nil:
		return fmt.Errorf("node: load: %w", err)
	case !ok:
		if err := n.replay(); err != nil {
			return err
		}
		// Saved at once, so that a crash before the next clean stop
		// does not mean another full replay.
		n.saveCheckpointLocked()
		return nil
	}
	n.fromCheckpoint = true
	n.settleLocked()
	if fid, ok := n.state.Federation(); ok {
		n.log.Info("ledger loaded from the state checkpoint", "federation", fid.Short(), "entries", n.state.Entries(),
			"held", len(n.held), "state", n.state.Hash().Short())
	}
	return nil
}

// replay rebuilds the federation state from the store: the genesis first,
// then every log, then the fork proofs. Entries that cannot apply yet (an
// applicant's own application before it holds the charter, entries whose
// dependencies are in later logs) are held and settled in rounds.
func (n *Node) replay() error {
	maxTime, err := n.store.MaxTime()
	if err != nil {
		return fmt.Errorf("node: replay: %w", err)
	}
	n.clock = ledger.NewClock(maxTime, uint64(n.cfg.MaxClockAhead.Milliseconds()))
	n.state = federation.New()
	n.held = nil
	genesis, err := findGenesis(n.store)
	if err != nil {
		return err
	}
	if !genesis.IsZero() {
		if err := n.state.Apply(genesis); err != nil {
			return fmt.Errorf("node: replay genesis: %w", err)
		}
	}
	err = n.store.ScanAll(func(e ledger.Entry) error {
		if !genesis.IsZero() && e.Hash() == genesis.Hash() {
			return nil
		}
		switch err := n.state.Apply(e); {
		case err == nil:
		case isPending(err):
			n.held = append(n.held, e)
		default:
			return fmt.Errorf("node: replay %s: %w", e, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	proofs, err := n.store.Forks()
	if err != nil {
		return fmt.Errorf("node: replay: %w", err)
	}
	for _, p := range proofs {
		if err := n.state.ApplyFork(p.A, p.B); err != nil && !errors.Is(err, ledger.ErrDuplicate) && !isPending(err) {
			return fmt.Errorf("node: replay %s: %w", p, err)
		}
	}
	n.settleLocked()
	if fid, ok := n.state.Federation(); ok {
		n.log.Info("ledger loaded", "federation", fid.Short(), "entries", n.state.Entries(), "held", len(n.held), "state", n.state.Hash().Short())
	}
	return nil
}

// settleLocked applies the stored entries held until others arrived, those
// that can apply now. n.mu is held (or the node is not serving yet).
func (n *Node) settleLocked() {
	if len(n.held) == 0 {
		return
	}
	waiting, dropped, err := n.state.Settle(n.held, nil)
	for _, d := range dropped {
		n.log.Warn("stored entry can never apply", "err", d)
	}
	if err != nil {
		n.log.Error("settle held entries", "err", err)
	}
	n.held = waiting
}

// found signs and stores the genesis of a new federation with this node
// as its founding member.
func (n *Node) found(c Charter, name string) (ledger.Entry, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.state.Federation(); ok {
		return ledger.Entry{}, fmt.Errorf("node: this node already belongs to a federation: %w", federation.ErrGenesisExists)
	}
	body, err := c.genesis(name, n.key)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("node: found: %w", errors.Join(err, errInvalidArgument))
	}
	body.Time = n.clock.Now(n.nowMs()).Proto()
	if err := n.createGossipKey(); err != nil {
		return ledger.Entry{}, fmt.Errorf("node: found: gossip key: %w", err)
	}
	e, err := n.commitLocked(body)
	if err != nil {
		return ledger.Entry{}, err
	}
	n.log.Info("founded federation", "federation", e.Hash().Short(), "name", c.Name)
	n.markFederated()
	return e, nil
}

// append signs an entry of this node's log with the given kind and commits
// it: checked, durable, applied.
func (n *Node) append(kind func(*caissev1.EntryBody)) (ledger.Entry, error) {
	r := n.repl.Load()
	switch {
	case r != nil:
		if err := r.checkAppend(); err != nil {
			return ledger.Entry{}, fmt.Errorf("node: not appending: %w: %w", err, errUnavailable)
		}
	case !n.alone():
		// With peers, the node's own frontier must come from them first
		// (a restored backup): wait for replication to start.
		if _, ok, _ := n.federationID(); ok {
			return ledger.Entry{}, fmt.Errorf("node: not appending before replication has started: %w", errUnavailable)
		}
	}
	e, err := n.appendLocked(kind)
	if err == nil && r != nil {
		r.appended(e)
	}
	return e, err
}

// commitLocked signs body, checks it against the state, stores it durably
// and applies it. n.mu is held.
func (n *Node) commitLocked(body *caissev1.EntryBody) (ledger.Entry, error) {
	if err := n.checkDisk(); err != nil {
		return ledger.Entry{}, err
	}
	e, err := n.signer.Sign(body)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("node: sign: %w", err)
	}
	if err := n.state.Check(e); err != nil {
		return ledger.Entry{}, err
	}
	start := time.Now()
	if err := n.store.Append(e); err != nil {
		return ledger.Entry{}, fmt.Errorf("node: store %s: %w", e, err)
	}
	n.met.observeCommit("local", start)
	start = time.Now()
	err = n.state.Apply(e)
	n.met.observeApply(start)
	if err != nil {
		// Check passed a moment ago under the same lock: this is a bug, and
		// the state no longer equals the store. Stop rather than go on.
		panic(fmt.Sprintf("node: apply %s after a successful check: %v", e, err))
	}
	n.met.applied.WithLabelValues("local").Inc()
	n.log.Debug("appended", "author", n.self.Short(), "seq", e.Seq(), "kind", e.Kind())
	return e, nil
}

func (n *Node) nowMs() uint64 { return uint64(n.cfg.Now().UnixMilli()) }

// Run serves the operator API and the admin listener (Config.AdminAddr),
// and replicates with the federation's other nodes until ctx is done, then
// shuts down cleanly.
func (n *Node) Run(ctx context.Context) error {
	admin, adminLis, err := n.listenAdmin()
	if err != nil {
		return err
	}
	dash, dashLis, err := n.listenWeb()
	if err != nil {
		if admin != nil {
			adminLis.Close()
		}
		return err
	}
	srv, err := api.Listen(n.cfg.Socket, &backend{n: n}, n.log)
	if err != nil {
		if admin != nil {
			adminLis.Close()
		}
		if dash != nil {
			dashLis.Close()
		}
		return err
	}
	n.log.Info("serving operator API", "socket", n.cfg.Socket)
	errc := make(chan error, 4)
	go func() { errc <- srv.Serve() }()
	if admin != nil {
		n.log.Info("serving admin HTTP (metrics, health, pprof)", "addr", adminLis.Addr().String())
		go func() {
			if err := serveAdmin(admin, adminLis); err != nil {
				errc <- err
			}
		}()
		defer shutdownAdmin(admin)
	}
	if dash != nil {
		n.log.Info("serving the dashboard and JSON API over HTTP", "addr", dashLis.Addr().String())
		go func() {
			if err := serveAdmin(dash, dashLis); err != nil {
				errc <- err
			}
		}()
		defer shutdownAdmin(dash)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	replDone := make(chan struct{})
	go func() {
		defer close(replDone)
		if err := n.replicate(ctx); err != nil {
			errc <- err
		}
	}()
	select {
	case <-ctx.Done():
		n.log.Info("shutting down")
		srv.Stop(5 * time.Second)
		<-replDone
		return nil
	case err := <-errc:
		cancel()
		srv.Stop(5 * time.Second)
		<-replDone
		return err
	}
}

// Close closes the store. Call it once Run has returned.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.inflight.Lock()
		defer n.inflight.Unlock()
		n.saveCheckpointLocked()
		n.closeErr = n.store.Close()
	})
	return n.closeErr
}

// Author is this node's key.
func (n *Node) Author() ledger.Author { return n.self }

// errInvalidArgument marks errors caused by what the operator asked.
var errInvalidArgument = api.ErrInvalidArgument

// errFailedPrecondition marks what the node's state does not allow yet.
var errFailedPrecondition = api.ErrFailedPrecondition

// findGenesis returns the genesis in the store, the zero Entry if the store
// is empty. The genesis is the first entry of its founder's log.
func findGenesis(store ledger.Store) (ledger.Entry, error) {
	vec, err := store.Vector()
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("node: find genesis: %w", err)
	}
	var genesis ledger.Entry
	for _, a := range vec.Authors() {
		e, err := store.Get(a, 1)
		if err != nil {
			return ledger.Entry{}, fmt.Errorf("node: find genesis %s/1: %w", a.Short(), err)
		}
		if e.Body().GetGenesis() != nil {
			if !genesis.IsZero() {
				return ledger.Entry{}, fmt.Errorf("node: two genesis entries, %s and %s", genesis, e)
			}
			genesis = e
		}
	}
	if genesis.IsZero() && len(vec) > 0 {
		return ledger.Entry{}, fmt.Errorf("node: %d logs but no genesis", len(vec))
	}
	return genesis, nil
}
