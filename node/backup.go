package node

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/backup"
	"github.com/caisse-coop/caisse/ledger/badgerstore"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// Backup writes a consistent snapshot of the store to w in the portable
// backup format (ledger/backup), while the node goes on serving. The
// snapshot is the store as it stood at one instant: every write holds
// n.mu, so the vector, the fork proofs and the state hash read under it
// agree; logs only grow, so each log is then read up to its head in that
// vector without holding the lock.
func (n *Node) Backup(ctx context.Context, w io.Writer) (backup.Header, error) {
	fid, _, err := n.federationID()
	if err != nil {
		return backup.Header{}, fmt.Errorf("node: backup: %w", err)
	}
	// The vector, the proofs and the state hash at one instant, with no
	// group commit in flight: the state then holds what the store does.
	n.mu.Lock()
	n.inflight.Lock()
	vec, err := n.store.Vector()
	var proofs []ledger.ForkProof
	if err == nil {
		proofs, err = n.store.Forks()
	}
	state := n.state.Hash()
	n.inflight.Unlock()
	n.mu.Unlock()
	if err != nil {
		return backup.Header{}, fmt.Errorf("node: backup: %w", err)
	}
	head := backup.Header{Federation: fid, State: state, Forks: uint64(len(proofs))}
	for _, h := range vec {
		head.Entries += uint64(h.Seq)
	}
	buf := bufio.NewWriterSize(w, 64<<10)
	bw, err := backup.NewWriter(buf, head)
	if err != nil {
		return head, fmt.Errorf("node: backup: %w", err)
	}
	errDone := errors.New("done")
	for _, a := range vec.Authors() {
		last := vec[a].Seq
		err := n.store.Scan(a, 1, func(e ledger.Entry) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if e.Seq() > last {
				return errDone
			}
			return bw.Entry(e)
		})
		if err != nil && !errors.Is(err, errDone) {
			return head, fmt.Errorf("node: backup %s: %w", a.Short(), err)
		}
	}
	for _, p := range proofs {
		if err := bw.Fork(p); err != nil {
			return head, fmt.Errorf("node: backup: %w", err)
		}
	}
	if err := bw.Close(); err != nil {
		return head, fmt.Errorf("node: backup: %w", err)
	}
	if err := buf.Flush(); err != nil {
		return head, fmt.Errorf("node: backup: %w", err)
	}
	return head, nil
}

// Restored is what RestoreBackup loaded.
type Restored struct {
	Header  backup.Header
	Entries uint64
	Forks   uint64
}

// RestoreBackup loads a backup into the empty ledger of a stopped node's
// data directory. The node's keys must be there already (node.key, and
// gossip.key for a federation): the backup holds none, and a node
// restored under another key would be another collective; the key's own
// log must be in the backup.
//
// Every signature and chain is verified while loading, the federation
// state is rebuilt from the loaded store and its hash compared with the
// backup's, and only then does the ledger take its place: a truncated,
// altered or inconsistent backup leaves the data directory as it was.
// A ledger that holds entries is never touched.
func RestoreBackup(dataDir string, r io.Reader, log *slog.Logger) (Restored, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var res Restored
	keyPath := filepath.Join(dataDir, keyFile)
	if _, err := os.Stat(keyPath); err != nil {
		return res, fmt.Errorf("node: restore: no node key at %s: put the collective's node.key there first (mode 0600), or pass --keys: %w", keyPath, err)
	}
	key, _, err := loadOrCreateKey(keyPath)
	if err != nil {
		return res, fmt.Errorf("node: restore: %w", err)
	}
	self := ledger.Author(key.Public().(ed25519.PublicKey))
	final := filepath.Join(dataDir, ledgerDir)
	if err := checkEmptyLedger(final); err != nil {
		return res, err
	}
	tmp := filepath.Join(dataDir, ledgerDir+".restoring")
	if err := os.RemoveAll(tmp); err != nil {
		return res, fmt.Errorf("node: restore: %w", err)
	}
	store, err := badgerstore.Open(tmp, badgerstore.WithLogger(log))
	if err != nil {
		return res, fmt.Errorf("node: restore: %w", err)
	}
	fail := func(err error) (Restored, error) {
		store.Close()
		os.RemoveAll(tmp)
		return res, err
	}
	br, err := backup.NewReader(r)
	if err != nil {
		return fail(fmt.Errorf("node: restore: %w", err))
	}
	res.Header = br.Header()
	if !res.Header.Federation.IsZero() {
		if _, err := os.Stat(filepath.Join(dataDir, gossipKeyFile)); err != nil {
			return fail(fmt.Errorf("node: restore: no gossip key at %s: put the federation's gossip.key there too (mode 0600): %w", filepath.Join(dataDir, gossipKeyFile), err))
		}
	}
	const batchSize = 256
	var batch []ledger.Entry
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := store.Append(batch...)
		batch = batch[:0]
		return err
	}
	for {
		rec, err := br.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("node: restore: %w: nothing was restored", err))
		}
		if rec.IsFork() {
			if err := flush(); err != nil {
				return fail(fmt.Errorf("node: restore: %w: nothing was restored", err))
			}
			if err := store.AddFork(rec.Fork); err != nil {
				return fail(fmt.Errorf("node: restore %s: %w: nothing was restored", rec.Fork, err))
			}
			res.Forks++
			continue
		}
		batch = append(batch, rec.Entry)
		res.Entries++
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return fail(fmt.Errorf("node: restore: %w: nothing was restored", err))
			}
		}
	}
	if err := flush(); err != nil {
		return fail(fmt.Errorf("node: restore: %w: nothing was restored", err))
	}
	if _, err := store.Head(self); err != nil {
		return fail(fmt.Errorf("node: restore: the backup holds no log of this node's key %s: it is another collective's backup, or the wrong node.key: nothing was restored", self.ID().Short()))
	}
	// The state the loaded ledger gives must be the one the backup was
	// taken at.
	check := &Node{cfg: Config{MaxClockAhead: DefaultConfig().MaxClockAhead}, log: log, store: store}
	if err := check.replay(); err != nil {
		return fail(fmt.Errorf("node: restore: rebuild the state: %w: nothing was restored", err))
	}
	if got := check.state.Hash(); got != res.Header.State {
		return fail(fmt.Errorf("node: restore: state hash %s, the backup was taken at %s: nothing was restored", got.Short(), res.Header.State.Short()))
	}
	if err := store.Close(); err != nil {
		os.RemoveAll(tmp)
		return res, fmt.Errorf("node: restore: %w", err)
	}
	if err := os.RemoveAll(final); err != nil {
		os.RemoveAll(tmp)
		return res, fmt.Errorf("node: restore: %w", err)
	}
	// A checkpoint of another ledger would be refused at start; it is
	// simply stale now.
	if err := os.Remove(filepath.Join(dataDir, stateFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		os.RemoveAll(tmp)
		return res, fmt.Errorf("node: restore: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		return res, fmt.Errorf("node: restore: %w", err)
	}
	if err := syncDir(final); err != nil {
		return res, fmt.Errorf("node: restore: %w", err)
	}
	return res, nil
}

// checkEmptyLedger refuses a ledger directory that holds entries. An empty
// store (a node started once with --found=false) may be replaced.
func checkEmptyLedger(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	store, err := badgerstore.Open(dir)
	if err != nil {
		return fmt.Errorf("node: restore: the ledger at %s: %w (is the node still running?)", dir, err)
	}
	defer store.Close()
	c, err := store.Count()
	if err != nil {
		return fmt.Errorf("node: restore: the ledger at %s: %w", dir, err)
	}
	if c > 0 {
		return fmt.Errorf("node: restore: the ledger at %s holds %d entries: restore only into an empty data directory", dir, c)
	}
	return nil
}

// Backup implements api.Backend.
func (b *backend) Backup(ctx context.Context, _ *rpcv1.BackupRequest, w io.Writer) error {
	_, err := b.n.Backup(ctx, w)
	return err
}
