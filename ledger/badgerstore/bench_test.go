package badgerstore_test

import (
	"testing"

	"github.com/caisse-coop/caisse/internal/benchcmp"
	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/badgerstore"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	"github.com/dgraph-io/badger/v4"
)

// rawDB opens a bare badger database with the store's options, in its own
// directory: the baseline an Append is compared with.
func rawDB(b *testing.B) *badger.DB {
	b.Helper()
	db, err := badger.Open(badgerstore.Options(b.TempDir(), badgerstore.WithLogger(testLogger(b))))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// chain signs n contributions of one author, before any timer runs.
func chain(b *testing.B, n int) (*ledgertest.Author, []ledger.Entry) {
	a := ledgertest.NewAuthor(b, 1)
	fed := ledgertest.FederationID(1)
	es := make([]ledger.Entry, n)
	for i := range es {
		es[i] = a.Contribution(b, fed, 1250, "2026-01")
	}
	return a, es
}

func benchStore(b *testing.B) *badgerstore.Store {
	b.Helper()
	s := open(b, b.TempDir())
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkAppend compares Append of one signed contribution with a raw
// badger transaction writing one value of the same size under a key of
// the same size, both synced to disk.
func BenchmarkAppend(b *testing.B) {
	a, es := chain(b, b.N)
	value := es[0].Marshal()
	db, s := rawDB(b), benchStore(b)
	b.ReportAllocs()
	benchcmp.Run(b, func(i int) {
		key := badgerstore.EntryKey(a.ID, ledger.Seq(i+1))
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) }); err != nil {
			b.Fatal(err)
		}
	}, func(i int) {
		if err := s.Append(es[i]); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(len(value)), "entry-bytes")
}

// BenchmarkAppendBatch100 compares Append of 100 contributions with a raw
// badger transaction of 100 writes of the same sizes.
func BenchmarkAppendBatch100(b *testing.B) {
	const batch = 100
	a, es := chain(b, b.N*batch)
	value := es[0].Marshal()
	db, s := rawDB(b), benchStore(b)
	b.ReportAllocs()
	benchcmp.Run(b, func(i int) {
		err := db.Update(func(txn *badger.Txn) error {
			for j := range batch {
				if err := txn.Set(badgerstore.EntryKey(a.ID, ledger.Seq(i*batch+j+1)), value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}, func(i int) {
		if err := s.Append(es[i*batch : (i+1)*batch]...); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(len(value)), "entry-bytes")
}
