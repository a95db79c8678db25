// Package badgerstore is the on-disk ledger.Store of a caisse node, on
// badger (github.com/dgraph-io/badger/v4).
//
// Durability: an Append is one badger read-write transaction for the whole
// batch, committed with SyncWrites on, so when Append returns nil the
// entries, their authors' heads, the count and the max time are on disk
// together, and survive kill -9 or a power cut. Appends are serialized by a
// mutex, so transactions never conflict; each re-reads the heads it checks
// against inside its own transaction.
//
// Integrity: badger checksums every table block and verifies the checksums
// when a table is opened and when a block is read. Entries were verified
// before they were stored, so reads decode them with
// ledger.DecodeUnverified, and check that each decoded entry is the one its
// key names; a mismatch, bytes that do not decode, or a hole in a log is
// reported as ErrCorrupt, never returned as an entry.
//
// Sizing: the options target a VPS with 1 vCPU and 1 GB of RAM; see
// badgerOptions. The key layout is described in keys.go.
//
// Limits: a batch must fit in one badger transaction, that is in 15% of the
// memtable (about 1.2 MB of entries, some five thousand small ones); a
// larger batch is refused whole with an error wrapping badger.ErrTxnTooBig.
package badgerstore

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

var (
	// ErrCorrupt: the store holds data that does not make sense: an entry
	// that does not decode or is not the one its key names, a hole in a
	// log, a head or counter of the wrong size.
	ErrCorrupt = errors.New("corrupt store")
	// ErrFormat: the directory holds a store of an unknown format version,
	// or a badger database that is not a caisse store.
	ErrFormat = errors.New("unknown store format")
)

// Store is a ledger.Store on badger. It is safe for concurrent use.
type Store struct {
	db   *badger.DB
	name string // the directory, or "in memory", for errors

	appendMu sync.Mutex // serializes Append
	// failCommit, set by tests only (export_test.go), is called where
	// Append commits; an error from it stands for a commit that badger
	// failed, and the transaction is discarded instead.
	failCommit func() error

	opts   badger.Options                           // to open the database again (Reopen)
	openDB func(badger.Options) (*badger.DB, error) // badger.Open, but for tests (export_test.go)

	mu        sync.Mutex
	cond      *sync.Cond // signalled when active drops to 0 or a reopen ends
	closed    bool       // set by Close; no call starts after it
	reopening bool       // set while Reopen swaps the database; calls wait
	broken    error      // why a reopen failed: every call returns it
	active    int        // calls in progress, which Close and Reopen wait for
	once      sync.Once  // Close closes the database once
}

var _ ledger.Store = (*Store)(nil)

// Option configures Open.
type Option func(*config)

type config struct {
	inMemory bool
	logger   *slog.Logger
}

// WithInMemory keeps everything in memory (badger's InMemory mode), for
// tests: nothing is written to disk, nothing survives Close. Open must then
// be given an empty directory name.
func WithInMemory(on bool) Option { return func(c *config) { c.inMemory = on } }

// WithLogger sends badger's log messages to l, with the attribute
// component=badger: errors at Error, warnings at Warn, and badger's routine
// Info and Debug messages at Debug. Without it, warnings and errors go to
// standard error and the rest is dropped.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Options returns the badger options Open uses for dir: for tests, and
// for benchmarks that measure badger itself beside the store.
func Options(dir string, opts ...Option) badger.Options {
	var c config
	for _, o := range opts {
		o(&c)
	}
	return badgerOptions(dir, c)
}

// badgerOptions returns the badger options of a store in dir. Every choice
// that departs from badger's defaults is explained; the defaults target a
// server with tens of GB of RAM, these a VPS with 1 vCPU and 1 GB of RAM,
// where the node, its gRPC and memberlist traffic and the OS share the
// memory, and a ledger that grows by a few thousand small entries a month.
func badgerOptions(dir string, c config) badger.Options {
	logger := c.logger
	if logger == nil {
		logger = defaultLogger()
	}
	return badger.DefaultOptions(dir).
		WithInMemory(c.inMemory).
		WithLogger(slogAdapter{logger}).
		// Durable before acknowledged: every commit is fsynced before it
		// returns (DESIGN.md, invariant 2). Ignored by badger in memory.
		WithSyncWrites(true).
		// Verify the checksum of every block read from disk, so that a
		// flipped bit is an error, not a wrong entry; the block cache below
		// keeps hot blocks verified once. Not every table whole when it is
		// opened: that reads the whole store at each start, which a node
		// starting from its state checkpoint does not otherwise do, and
		// maps it all into memory (caisse verify reads every entry).
		WithChecksumVerificationMode(options.OnBlockRead).
		// Verify checksums of values read from the value log too. Entries
		// live in the LSM tree (see ValueThreshold), so this only guards
		// against a future change of the threshold.
		WithVerifyValueChecksum(true).
		// No compression: entries are small, mostly keys, hashes and
		// signatures that do not compress, and compressing costs CPU on a
		// single vCPU. It also keeps the files greppable, so a test can
		// check that no personal data reaches the disk in clear.
		WithCompression(options.None).
		// Values under the threshold live in the LSM tree with their key.
		// Every entry is at most ledger.MaxEntrySize bytes, so all of them
		// do: one read per Get, no value log to garbage-collect.
		WithValueThreshold(ledger.MaxEntrySize + 1).
		// 8 MiB memtables (default 64), two of them (default 5): one being
		// written, one being flushed. Their arenas and the builder of the
		// table a flush writes are each about a memtable: with 16 MiB ones,
		// a node catching up a million entries peaked at 140 MiB of
		// anonymous memory, too close to the 150 MiB it must fit in. It
		// also sets the largest transaction to 15% of a memtable, about
		// 1.2 MiB of entries.
		WithMemTableSize(8 << 20).
		WithNumMemtables(2).
		// 16 MiB of block cache (default 256) keeps recent blocks
		// decoded and checksum-verified; 16 MiB of index cache (default 0,
		// which keeps every table index and bloom filter in memory
		// without bound) bounds the memory of a store that keeps growing.
		WithBlockCacheSize(16 << 20).
		WithIndexCacheSize(16 << 20).
		// 64 MiB value log files (default 1 GiB): badger preallocates and
		// maps them, and on this store they hold almost nothing.
		WithValueLogFileSize(64 << 20).
		// Compact level 0 after 3 tables (default 5) and stall writes at
		// 8 (default 15): few level-0 tables keep reads cheap and the disk
		// small, and with this write rate the stall is never reached.
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(8).
		// Two compactors, badger's minimum when compaction is on (default
		// 4): one vCPU gains nothing from more.
		WithNumCompactors(2).
		// Badger's expvar metrics are process-wide and unused: the node
		// exports its own Prometheus metrics.
		WithMetricsEnabled(false)
}

// Open opens the store in directory dir, creating it if need be. On a new
// store it writes the format version; on an existing one it checks it, and
// refuses an unknown version with ErrFormat. With WithInMemory(true), dir
// must be "".
func Open(dir string, opts ...Option) (*Store, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	name := dir
	switch {
	case c.inMemory && dir != "":
		return nil, fmt.Errorf("badgerstore: open %s: an in-memory store takes no directory", dir)
	case c.inMemory:
		name = "in memory"
	case dir == "":
		return nil, errors.New("badgerstore: open: no directory")
	}
	bopts := badgerOptions(dir, c)
	db, err := badger.Open(bopts)
	if err != nil {
		return nil, fmt.Errorf("badgerstore: open %s: %w", name, err)
	}
	s := &Store{db: db, name: name, opts: bopts}
	s.cond = sync.NewCond(&s.mu)
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, fmt.Errorf("badgerstore: open %s: %w", name, err)
	}
	return s, nil
}

// checkFormat writes the format version into a new store, or checks the
// version of an existing one.
func (s *Store) checkFormat() error {
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keyVersion)
		if err == nil {
			raw, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("read format version: %w", err)
			}
			v, err := decodeUint64("format version", raw)
			if err != nil {
				return err
			}
			if v != formatVersion {
				return fmt.Errorf("format version %d, this build reads version %d: %w", v, formatVersion, ErrFormat)
			}
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("read format version: %w", err)
		}
		it := txn.NewIterator(badger.IteratorOptions{})
		it.Rewind()
		used := it.Valid()
		it.Close()
		if used {
			return fmt.Errorf("a badger database with no format version: not a caisse store: %w", ErrFormat)
		}
		return txn.Set(keyVersion, encodeUint64(formatVersion))
	})
}

// enter starts a call, or returns ErrClosed. It waits while the database
// is being reopened. A call that entered must call s.exit when it ends.
func (s *Store) enter(op string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.reopening {
		s.cond.Wait()
	}
	if s.broken != nil {
		return fmt.Errorf("badgerstore: %s: %w", op, s.broken)
	}
	if s.closed {
		return fmt.Errorf("badgerstore: %s: %w", op, ledger.ErrClosed)
	}
	s.active++
	return nil
}

// exit ends a call that entered.
func (s *Store) exit() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active--; s.active == 0 {
		s.cond.Broadcast()
	}
}

// Close implements ledger.Store. It waits for the calls in progress, then
// closes the database. A Scan's fn must not call Close.
func (s *Store) Close() error {
	err := fmt.Errorf("badgerstore: close: %w", ledger.ErrClosed)
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		for s.active > 0 || s.reopening {
			s.cond.Wait()
		}
		broken := s.broken
		s.mu.Unlock()
		err = nil
		if broken != nil { // the database is not open
			err = fmt.Errorf("badgerstore: close: %w", broken)
			return
		}
		if cerr := s.db.Close(); cerr != nil {
			err = fmt.Errorf("badgerstore: close %s: %w", s.name, cerr)
		}
	})
	return err
}

// Reopen closes the database and opens it again, if no call is in
// progress; calls that start meanwhile wait for it. It reports whether it
// reopened: false, at once, if a call was in progress. A store in memory,
// which maps no file and would lose everything, is left as it is and
// reports true.
//
// Badger maps its files into memory, and every page of them that was read
// or written stays in the process's resident memory until the file is
// unmapped. After a replay or a catch-up that went through the whole
// store, that is about the size of the store; reopening unmaps it all,
// and the pages stay in the page cache, where the kernel can reclaim them.
//
// If the database cannot be opened again, every later call, Close
// included, fails with that error.
func (s *Store) Reopen() (bool, error) {
	s.mu.Lock()
	switch {
	case s.broken != nil:
		s.mu.Unlock()
		return false, fmt.Errorf("badgerstore: reopen: %w", s.broken)
	case s.closed:
		s.mu.Unlock()
		return false, fmt.Errorf("badgerstore: reopen: %w", ledger.ErrClosed)
	case s.opts.InMemory:
		s.mu.Unlock()
		return true, nil
	case s.active > 0 || s.reopening:
		s.mu.Unlock()
		return false, nil
	}
	s.reopening = true
	s.mu.Unlock()

	var err error
	if err = s.db.Close(); err == nil {
		var db *badger.DB
		open := badger.Open
		if s.openDB != nil {
			open = s.openDB
		}
		if db, err = open(s.opts); err == nil {
			s.db = db // no call is in progress, and none starts until reopening is false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reopening = false
	s.cond.Broadcast()
	if err != nil {
		s.broken = fmt.Errorf("reopening %s failed: %v: %w", s.name, err, ledger.ErrClosed)
		return false, fmt.Errorf("badgerstore: %w", s.broken)
	}
	return true, nil
}

// entryID names an entry of the batch being appended.
type entryID struct {
	a ledger.Author
	s ledger.Seq
}

// Append implements ledger.Store: one transaction for the batch, in which
// each entry is checked against its author's head as stored (read in the
// transaction) or as extended by the entries before it in the batch. It
// returns nil only once the transaction is committed and synced.
func (s *Store) Append(entries ...ledger.Entry) error {
	if err := s.enter("append"); err != nil {
		return err
	}
	defer s.exit()
	if len(entries) == 0 {
		return nil
	}
	s.appendMu.Lock()
	defer s.appendMu.Unlock()

	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	count, err := getCount(txn)
	if err != nil {
		return fmt.Errorf("badgerstore: append: %w", err)
	}
	maxTime, err := getMaxTime(txn)
	if err != nil {
		return fmt.Errorf("badgerstore: append: %w", err)
	}
	heads := make(map[ledger.Author]*ledger.Head) // as extended by the batch; nil for an empty log
	batch := make(map[entryID]ledger.Entry, len(entries))
	for i, e := range entries {
		if e.IsZero() {
			return fmt.Errorf("badgerstore: append: entry %d of the batch is the zero Entry: %w", i, ledger.ErrMalformed)
		}
		a, seq := e.Author(), e.Seq()
		head, ok := heads[a]
		if !ok {
			if head, err = getHead(txn, a); err != nil {
				return fmt.Errorf("badgerstore: append %s/%d: %w", a.Short(), seq, err)
			}
		}
		err := ledger.CheckNext(head, e)
		if ledger.IsBehind(err) {
			existing, ok := batch[entryID{a, seq}]
			if !ok {
				if existing, err = getEntry(txn, a, seq); err != nil {
					if errors.Is(err, ledger.ErrNotFound) {
						// The head is at or past seq: the entry must be there.
						err = fmt.Errorf("no entry below head %d: %w", head.Seq, ErrCorrupt)
					}
					return fmt.Errorf("badgerstore: append %s/%d: %w", a.Short(), seq, err)
				}
			}
			err = ledger.CheckStored(existing, e)
		}
		if err != nil {
			return fmt.Errorf("badgerstore: append %s/%d: %w", a.Short(), seq, err)
		}
		if err := txn.Set(entryKey(a, seq), e.Marshal()); err != nil {
			if errors.Is(err, badger.ErrTxnTooBig) {
				return fmt.Errorf("badgerstore: append %s/%d: a batch of %d entries does not fit in one transaction: %w", a.Short(), seq, len(entries), err)
			}
			return fmt.Errorf("badgerstore: append %s/%d: %w", a.Short(), seq, err)
		}
		h := e.Head()
		heads[a] = &h
		batch[entryID{a, seq}] = e
		count++
		if maxTime.Before(e.Time()) {
			maxTime = e.Time()
		}
	}
	// Every author in heads got at least one entry: the batch would have
	// failed otherwise. The order of Sets does not matter in a transaction.
	for a, h := range heads {
		if err := txn.Set(headKey(a), encodeHead(*h)); err != nil {
			return fmt.Errorf("badgerstore: append %d entries: head of %s: %w", len(entries), a.Short(), err)
		}
	}
	if err := txn.Set(keyCount, encodeUint64(count)); err != nil {
		return fmt.Errorf("badgerstore: append %d entries: count: %w", len(entries), err)
	}
	if err := txn.Set(keyMaxTime, appendHLC(nil, maxTime)); err != nil {
		return fmt.Errorf("badgerstore: append %d entries: max time: %w", len(entries), err)
	}
	err = nil
	if s.failCommit != nil {
		err = s.failCommit()
	}
	if err == nil {
		err = txn.Commit()
	}
	if err != nil {
		return fmt.Errorf("badgerstore: append %d entries: commit: %w", len(entries), err)
	}
	return nil
}

// getValue returns a copy of the value at key, or badger.ErrKeyNotFound.
func getValue(txn *badger.Txn, key []byte) ([]byte, error) {
	item, err := txn.Get(key)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// getHead returns the stored head of a's log, nil if a has no entry.
func getHead(txn *badger.Txn, a ledger.Author) (*ledger.Head, error) {
	raw, err := getValue(txn, headKey(a))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	h, err := decodeHead(raw)
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// getEntry returns the stored entry at a and seq, or ledger.ErrNotFound.
func getEntry(txn *badger.Txn, a ledger.Author, seq ledger.Seq) (ledger.Entry, error) {
	raw, err := getValue(txn, entryKey(a, seq))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ledger.Entry{}, ledger.ErrNotFound
	}
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("read entry: %w", err)
	}
	return decodeEntry(a, seq, raw)
}

// decodeEntry decodes the value stored under the key of a and seq, and
// checks that it is the entry that key names.
func decodeEntry(a ledger.Author, seq ledger.Seq, raw []byte) (ledger.Entry, error) {
	e, err := ledger.DecodeUnverified(raw)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("stored entry does not decode: %w: %w", ErrCorrupt, err)
	}
	if e.Author() != a || e.Seq() != seq {
		return ledger.Entry{}, fmt.Errorf("key %s/%d holds entry %s/%d: %w", a.Short(), seq, e.Author().Short(), e.Seq(), ErrCorrupt)
	}
	return e, nil
}

func getCount(txn *badger.Txn) (uint64, error) {
	raw, err := getValue(txn, keyCount)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read count: %w", err)
	}
	return decodeUint64("count", raw)
}

func getMaxTime(txn *badger.Txn) (ledger.HLC, error) {
	raw, err := getValue(txn, keyMaxTime)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return ledger.HLC{}, nil
	}
	if err != nil {
		return ledger.HLC{}, fmt.Errorf("read max time: %w", err)
	}
	if len(raw) != hlcLen {
		return ledger.HLC{}, fmt.Errorf("max time of %d bytes, want %d: %w", len(raw), hlcLen, ErrCorrupt)
	}
	return decodeHLC(raw), nil
}

// view runs fn in a read-only transaction, if the store is open.
func (s *Store) view(op string, fn func(txn *badger.Txn) error) error {
	if err := s.enter(op); err != nil {
		return err
	}
	defer s.exit()
	return s.db.View(fn)
}

// Get implements ledger.Store.
func (s *Store) Get(a ledger.Author, seq ledger.Seq) (ledger.Entry, error) {
	var e ledger.Entry
	err := s.view("get", func(txn *badger.Txn) error {
		var err error
		if e, err = getEntry(txn, a, seq); err != nil {
			return fmt.Errorf("badgerstore: get %s/%d: %w", a.Short(), seq, err)
		}
		return nil
	})
	return e, err
}

// Head implements ledger.Store.
func (s *Store) Head(a ledger.Author) (ledger.Head, error) {
	var h ledger.Head
	err := s.view("head", func(txn *badger.Txn) error {
		p, err := getHead(txn, a)
		switch {
		case err != nil:
			return fmt.Errorf("badgerstore: head %s: %w", a.Short(), err)
		case p == nil:
			return fmt.Errorf("badgerstore: head %s: %w", a.Short(), ledger.ErrNotFound)
		}
		h = *p
		return nil
	})
	return h, err
}

// Vector implements ledger.Store.
func (s *Store) Vector() (ledger.Vector, error) {
	v := ledger.Vector{}
	err := s.view("vector", func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixHead}})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			a, err := parseHeadKey(item.Key())
			if err != nil {
				return fmt.Errorf("badgerstore: vector: %w", err)
			}
			raw, err := item.ValueCopy(nil)
			if err != nil {
				return fmt.Errorf("badgerstore: vector: head of %s: %w", a.Short(), err)
			}
			if v[a], err = decodeHead(raw); err != nil {
				return fmt.Errorf("badgerstore: vector: head of %s: %w", a.Short(), err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// scanner walks entry keys in order and checks that each log it sees is
// whole: seqs contiguous from where the walk started, each prev the hash of
// the entry before.
type scanner struct {
	a    ledger.Author
	next ledger.Seq // the seq the next entry of a must have
	prev ledger.Hash
	any  bool // a is set
}

// entry decodes the iterator's current item.
func (sc *scanner) entry(item *badger.Item, first ledger.Seq) (ledger.Entry, error) {
	a, seq, err := parseEntryKey(item.Key())
	if err != nil {
		return ledger.Entry{}, err
	}
	newLog := !sc.any || a != sc.a
	if newLog {
		sc.a, sc.next, sc.any = a, first, true
	}
	if seq != sc.next {
		return ledger.Entry{}, fmt.Errorf("log %s holds %d where %d was expected: %w", a.Short(), seq, sc.next, ErrCorrupt)
	}
	raw, err := item.ValueCopy(nil)
	if err != nil {
		return ledger.Entry{}, fmt.Errorf("read entry %s/%d: %w", a.Short(), seq, err)
	}
	e, err := decodeEntry(a, seq, raw)
	if err != nil {
		return ledger.Entry{}, err
	}
	if !newLog && e.Prev() != sc.prev {
		return ledger.Entry{}, fmt.Errorf("entry %s/%d does not chain to %d: %w", a.Short(), seq, seq-1, ErrCorrupt)
	}
	sc.next, sc.prev = seq+1, e.Hash()
	return e, nil
}

// Scan implements ledger.Store. fn runs inside a read-only transaction: it
// sees the log as it was when Scan began, and may call the store, but not
// Close.
func (s *Store) Scan(a ledger.Author, from ledger.Seq, fn func(ledger.Entry) error) error {
	from = max(from, 1)
	return s.view("scan", func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: entryPrefix(a)})
		defer it.Close()
		var sc scanner
		for it.Seek(entryKey(a, from)); it.Valid(); it.Next() {
			e, err := sc.entry(it.Item(), from)
			if err != nil {
				return fmt.Errorf("badgerstore: scan %s from %d: %w", a.Short(), from, err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// ScanAll implements ledger.Store, with the same transaction as Scan.
func (s *Store) ScanAll(fn func(ledger.Entry) error) error {
	return s.view("scan all", func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixEntry}})
		defer it.Close()
		var sc scanner
		for it.Rewind(); it.Valid(); it.Next() {
			e, err := sc.entry(it.Item(), 1)
			if err != nil {
				return fmt.Errorf("badgerstore: scan all: %w", err)
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// Count implements ledger.Store.
func (s *Store) Count() (uint64, error) {
	var n uint64
	err := s.view("count", func(txn *badger.Txn) error {
		var err error
		if n, err = getCount(txn); err != nil {
			return fmt.Errorf("badgerstore: count: %w", err)
		}
		return nil
	})
	return n, err
}

// AddFork implements ledger.Store.
func (s *Store) AddFork(p ledger.ForkProof) error {
	if _, err := ledger.NewForkProof(p.A, p.B); err != nil {
		return fmt.Errorf("badgerstore: add fork: %w", err)
	}
	if err := s.enter("add fork"); err != nil {
		return err
	}
	defer s.exit()
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	key := forkKey(p.Author(), p.Seq())
	err := s.db.Update(func(txn *badger.Txn) error {
		raw, err := getValue(txn, key)
		switch {
		case err == nil:
			old, err := ledger.DecodeForkProofUnverified(raw)
			if err != nil {
				return fmt.Errorf("stored proof: %w: %w", err, ErrCorrupt)
			}
			low, changed, err := old.Lowest(p)
			if err != nil || !changed {
				return err // the place keeps its lowest proof
			}
			p = low
		case !errors.Is(err, badger.ErrKeyNotFound) && !errors.Is(err, ledger.ErrNotFound):
			return err
		}
		if s.failCommit != nil {
			if err := s.failCommit(); err != nil {
				return err
			}
		}
		return txn.Set(key, p.Marshal())
	})
	if err != nil {
		return fmt.Errorf("badgerstore: add fork %s: %w", p, err)
	}
	return nil
}

// Forks implements ledger.Store.
func (s *Store) Forks() ([]ledger.ForkProof, error) {
	var out []ledger.ForkProof
	err := s.view("forks", func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte{prefixFork}, PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			raw, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			p, err := ledger.DecodeForkProofUnverified(raw)
			if err != nil {
				return fmt.Errorf("badgerstore: fork proof under %x: %w: %w", it.Item().Key(), err, ErrCorrupt)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// MaxTime implements ledger.Store.
func (s *Store) MaxTime() (ledger.HLC, error) {
	var t ledger.HLC
	err := s.view("max time", func(txn *badger.Txn) error {
		var err error
		if t, err = getMaxTime(txn); err != nil {
			return fmt.Errorf("badgerstore: max time: %w", err)
		}
		return nil
	})
	return t, err
}
