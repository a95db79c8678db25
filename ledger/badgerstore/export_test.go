package badgerstore

import (
	"log/slog"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/dgraph-io/badger/v4"
)

// DB is the store's badger database, for tests that write under its keys
// or break it.
func (s *Store) DB() *badger.DB { return s.db }

// SetFailCommit makes Append call f where it commits; an error from f
// stands for a failed commit. Call it before the store is shared.
func (s *Store) SetFailCommit(f func() error) { s.failCommit = f }

// EntryKey is the key of an entry.
func EntryKey(a ledger.Author, seq ledger.Seq) []byte { return entryKey(a, seq) }

// HeadKey is the key of an author's head.
func HeadKey(a ledger.Author) []byte { return headKey(a) }

// KeyVersion is the key of the format version.
var KeyVersion = keyVersion

// EncodeUint64 encodes a meta value.
var EncodeUint64 = encodeUint64

// NewSlogAdapter returns the badger.Logger that WithLogger installs.
func NewSlogAdapter(l *slog.Logger) badger.Logger { return slogAdapter{l} }

// SetOpenDB replaces badger.Open for Reopen, so that a test can make the
// reopening fail. Call it before the store is shared.
func (s *Store) SetOpenDB(f func(badger.Options) (*badger.DB, error)) { s.openDB = f }
