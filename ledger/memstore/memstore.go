// Package memstore is an in-memory ledger.Store, for tests and simulations.
//
// It keeps the exact semantics of the Store contract (atomic batches, chain
// checks, duplicates and forks, ErrClosed after Close) without any I/O, and
// carries fault switches, FailCommit and FailRead, so that tests can make an
// append fail as a full disk would, or a read fail as a broken disk would:
//
//	s := memstore.New()
//	s.FailCommit = func() error { return syscall.ENOSPC }
//	err := s.Append(e) // wraps ENOSPC; nothing is stored
//
// Nothing survives the process: "durable" here means "visible to every
// later call until Close".
package memstore

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"github.com/caisse-coop/caisse/ledger"
)

// Store is an in-memory ledger.Store. It is safe for concurrent use. The
// zero Store is not usable; call New.
type Store struct {
	// FailCommit, if set, is called by Append once every entry of the batch
	// has passed its checks, just before the batch would be stored. If it
	// returns an error, Append returns it wrapped and stores nothing: this
	// is how a test simulates a full disk or an I/O error on commit.
	//
	// The fault switches are read and called under the store's lock: they
	// must not call the store. Set them before the store is shared, or
	// between calls, never while another goroutine may be calling a method.
	FailCommit func() error
	// FailRead, if set, is called at the start of Get, Head, Vector, Scan,
	// ScanAll, Count and MaxTime (after the ErrClosed check). If it returns
	// an error, the method returns it wrapped and reads nothing.
	FailRead func() error

	mu     sync.Mutex
	closed bool
	logs   map[ledger.Author][]ledger.Entry // each log in seq order: logs[a][i] has seq i+1
	count  uint64
	max    ledger.HLC
	forks  map[forkID]ledger.ForkProof
}

type forkID struct {
	a ledger.Author
	s ledger.Seq
}

var _ ledger.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{logs: make(map[ledger.Author][]ledger.Entry), forks: make(map[forkID]ledger.ForkProof)}
}

// Append implements ledger.Store. Every entry is checked against its
// author's log as stored, extended by the entries before it in the batch;
// the first failure is returned and nothing of the batch is stored.
func (s *Store) Append(entries ...ledger.Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: append: %w", ledger.ErrClosed)
	}
	if len(entries) == 0 {
		return nil
	}
	// pending holds, per author, the entries of this batch that extend the
	// stored log, in order.
	pending := make(map[ledger.Author][]ledger.Entry)
	max := s.max
	for i, e := range entries {
		if e.IsZero() {
			return fmt.Errorf("memstore: append: entry %d of the batch is the zero Entry: %w", i, ledger.ErrMalformed)
		}
		a := e.Author()
		stored, added := s.logs[a], pending[a]
		var head *ledger.Head
		switch {
		case len(added) > 0:
			h := added[len(added)-1].Head()
			head = &h
		case len(stored) > 0:
			h := stored[len(stored)-1].Head()
			head = &h
		}
		err := ledger.CheckNext(head, e)
		if ledger.IsBehind(err) {
			// CheckNext says seq <= head seq, and seqs start at 1.
			at := int(e.Seq() - 1)
			var existing ledger.Entry
			if at < len(stored) {
				existing = stored[at]
			} else {
				existing = added[at-len(stored)]
			}
			err = ledger.CheckStored(existing, e)
		}
		if err != nil {
			return fmt.Errorf("memstore: append %s/%d: %w", a.Short(), e.Seq(), err)
		}
		pending[a] = append(added, e)
		if max.Before(e.Time()) {
			max = e.Time()
		}
	}
	if s.FailCommit != nil {
		if err := s.FailCommit(); err != nil {
			return fmt.Errorf("memstore: append %d entries: commit: %w", len(entries), err)
		}
	}
	for a, added := range pending {
		// A Scan in progress holds a slice of the log up to its old length;
		// append only writes past it, so the scan is undisturbed.
		s.logs[a] = append(s.logs[a], added...)
	}
	s.count += uint64(len(entries))
	s.max = max
	return nil
}

// read takes the lock for a read and runs the checks every read does. On
// success the caller must unlock s.mu.
func (s *Store) read(op string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("memstore: %s: %w", op, ledger.ErrClosed)
	}
	if s.FailRead != nil {
		if err := s.FailRead(); err != nil {
			s.mu.Unlock()
			return fmt.Errorf("memstore: %s: %w", op, err)
		}
	}
	return nil
}

// Get implements ledger.Store.
func (s *Store) Get(a ledger.Author, seq ledger.Seq) (ledger.Entry, error) {
	if err := s.read("get"); err != nil {
		return ledger.Entry{}, err
	}
	defer s.mu.Unlock()
	log := s.logs[a]
	if seq < 1 || seq > ledger.Seq(len(log)) {
		return ledger.Entry{}, fmt.Errorf("memstore: get %s/%d: %w", a.Short(), seq, ledger.ErrNotFound)
	}
	return log[seq-1], nil
}

// Head implements ledger.Store.
func (s *Store) Head(a ledger.Author) (ledger.Head, error) {
	if err := s.read("head"); err != nil {
		return ledger.Head{}, err
	}
	defer s.mu.Unlock()
	log := s.logs[a]
	if len(log) == 0 {
		return ledger.Head{}, fmt.Errorf("memstore: head %s: %w", a.Short(), ledger.ErrNotFound)
	}
	return log[len(log)-1].Head(), nil
}

// Vector implements ledger.Store. The map is the caller's.
func (s *Store) Vector() (ledger.Vector, error) {
	if err := s.read("vector"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	v := make(ledger.Vector, len(s.logs))
	for a, log := range s.logs {
		v[a] = log[len(log)-1].Head()
	}
	return v, nil
}

// Scan implements ledger.Store. fn is called without the store's lock held,
// so it may call the store; it sees the log as it was when Scan began.
func (s *Store) Scan(a ledger.Author, from ledger.Seq, fn func(ledger.Entry) error) error {
	if err := s.read("scan"); err != nil {
		return err
	}
	log := s.logs[a]
	s.mu.Unlock()
	if from < 1 {
		from = 1
	}
	if from > ledger.Seq(len(log)) {
		return nil
	}
	for _, e := range log[from-1:] {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// ScanAll implements ledger.Store, with the same snapshot semantics as
// Scan.
func (s *Store) ScanAll(fn func(ledger.Entry) error) error {
	if err := s.read("scan all"); err != nil {
		return err
	}
	authors := make([]ledger.Author, 0, len(s.logs))
	for a := range s.logs {
		authors = append(authors, a)
	}
	slices.SortFunc(authors, func(x, y ledger.Author) int { return bytes.Compare(x[:], y[:]) })
	logs := make([][]ledger.Entry, len(authors))
	for i, a := range authors {
		logs[i] = s.logs[a]
	}
	s.mu.Unlock()
	for _, log := range logs {
		for _, e := range log {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// Count implements ledger.Store.
func (s *Store) Count() (uint64, error) {
	if err := s.read("count"); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	return s.count, nil
}

// MaxTime implements ledger.Store.
func (s *Store) MaxTime() (ledger.HLC, error) {
	if err := s.read("max time"); err != nil {
		return ledger.HLC{}, err
	}
	defer s.mu.Unlock()
	return s.max, nil
}

// AddFork implements ledger.Store.
func (s *Store) AddFork(p ledger.ForkProof) error {
	if _, err := ledger.NewForkProof(p.A, p.B); err != nil {
		return fmt.Errorf("memstore: add fork: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: add fork: %w", ledger.ErrClosed)
	}
	id := forkID{p.Author(), p.Seq()}
	if old, ok := s.forks[id]; ok {
		low, changed, err := old.Lowest(p)
		if err != nil || !changed {
			return err
		}
		p = low
	}
	if s.FailCommit != nil {
		if err := s.FailCommit(); err != nil {
			return fmt.Errorf("memstore: add fork: %w", err)
		}
	}
	s.forks[id] = p
	return nil
}

// Forks implements ledger.Store.
func (s *Store) Forks() ([]ledger.ForkProof, error) {
	if err := s.read("forks"); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := make([]ledger.ForkProof, 0, len(s.forks))
	for _, p := range s.forks {
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y ledger.ForkProof) int {
		xa, ya := x.Author(), y.Author()
		if c := bytes.Compare(xa[:], ya[:]); c != 0 {
			return c
		}
		return cmpSeq(x.Seq(), y.Seq())
	})
	return out, nil
}

func cmpSeq(a, b ledger.Seq) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Close implements ledger.Store. It drops the entries.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memstore: close: %w", ledger.ErrClosed)
	}
	s.closed = true
	s.logs = nil
	return nil
}
