package badgerstore_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/badgerstore"
	"github.com/caisse-coop/caisse/ledger/ledgertest"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
)

// testLogger sends badger's warnings and errors to the test log.
func testLogger(tb testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tb.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func open(tb testing.TB, dir string, opts ...badgerstore.Option) *badgerstore.Store {
	tb.Helper()
	s, err := badgerstore.Open(dir, append([]badgerstore.Option{badgerstore.WithLogger(testLogger(tb))}, opts...)...)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	return s
}

func TestStoreOnDisk(t *testing.T) {
	ledgertest.Store(t, func(t testing.TB) ledger.Store { return open(t, t.TempDir()) })
}

func TestStoreInMemory(t *testing.T) {
	ledgertest.Store(t, func(t testing.TB) ledger.Store { return open(t, "", badgerstore.WithInMemory(true)) })
}

func mustAppend(t *testing.T, s ledger.Store, es ...ledger.Entry) {
	t.Helper()
	if err := s.Append(es...); err != nil {
		t.Fatalf("Append(%d entries): %v", len(es), err)
	}
}

func mustClose(t *testing.T, s ledger.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// snapshot is everything a store shows.
type snapshot struct {
	Count   uint64
	MaxTime ledger.HLC
	Vector  ledger.Vector
	Entries []string // author/seq hash, in ScanAll order
	Bytes   [][]byte // each entry's encoding, in ScanAll order
}

func snap(t *testing.T, s ledger.Store) snapshot {
	t.Helper()
	var sn snapshot
	var err error
	if sn.Count, err = s.Count(); err != nil {
		t.Fatal(err)
	}
	if sn.MaxTime, err = s.MaxTime(); err != nil {
		t.Fatal(err)
	}
	if sn.Vector, err = s.Vector(); err != nil {
		t.Fatal(err)
	}
	err = s.ScanAll(func(e ledger.Entry) error {
		sn.Entries = append(sn.Entries, e.String())
		sn.Bytes = append(sn.Bytes, e.Marshal())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sn
}

// federation makes a founder with a genesis and two more authors.
func federation(t *testing.T) (a, b, c *ledgertest.Author, genesis ledger.Entry) {
	a, b, c = ledgertest.NewAuthor(t, 1), ledgertest.NewAuthor(t, 2), ledgertest.NewAuthor(t, 3)
	return a, b, c, a.Genesis(t, "fédération", b, c)
}

// TestReopen checks that everything survives Close and Open: entries,
// heads, count and max time, and that the logs go on from there.
func TestReopen(t *testing.T) {
	dir := t.TempDir()
	a, b, c, g := federation(t)
	fed := g.Hash()
	s := open(t, dir)
	mustAppend(t, s, g)
	mustAppend(t, s, a.Contribution(t, fed, 1250, "2026-01"), b.Contribution(t, fed, 800, "2026-01"))
	for range 5 {
		mustAppend(t, s, c.Contribution(t, fed, 300, "2026-01"), a.Disbursement(t, fed, 200, "2026-01"))
	}
	mustAppend(t, s, a.Correction(t, fed, a.Entry(t, 2), "montant erroné"))
	want := snap(t, s)
	if want.Count != 14 || len(want.Vector) != 3 {
		t.Fatalf("before Close: %d entries of %d authors, want 14 of 3", want.Count, len(want.Vector))
	}
	mustClose(t, s)

	s = open(t, dir)
	if diff := cmp.Diff(want, snap(t, s)); diff != "" {
		t.Fatalf("after reopening (-want +got):\n%s", diff)
	}
	for _, x := range []*ledgertest.Author{a, b, c} {
		if h, err := s.Head(x.ID); err != nil || h != *x.Head() {
			t.Errorf("Head(%s) = %v, %v; want %v", x.Name, h, err, *x.Head())
		}
		for _, e := range x.Entries() {
			got, err := s.Get(x.ID, e.Seq())
			if err != nil || got.Hash() != e.Hash() || !bytes.Equal(got.Signature(), e.Signature()) {
				t.Errorf("Get(%s/%d) = %v, %v; want %v", x.Name, e.Seq(), got, err, e)
			}
		}
	}
	// The chain checks run against what was stored before the restart.
	if err := s.Append(b.Fork(t, fed, 1)); !errors.Is(err, ledger.ErrFork) {
		t.Errorf("Append of a fork after reopening: error %v, want ErrFork", err)
	}
	if err := s.Append(a.Entry(t, 3)); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("Append of a duplicate after reopening: error %v, want ErrDuplicate", err)
	}
	if err := s.Append(c.Gap(t, fed)); !errors.Is(err, ledger.ErrGap) {
		t.Errorf("Append of a gap after reopening: error %v, want ErrGap", err)
	}
	more := []ledger.Entry{b.Contribution(t, fed, 1, "2026-02"), a.Contribution(t, fed, 2, "2026-02")}
	mustAppend(t, s, more...)
	want = snap(t, s)
	if want.Count != 16 {
		t.Errorf("Count = %d after two more, want 16", want.Count)
	}
	mustClose(t, s)

	s = open(t, dir)
	defer mustClose(t, s)
	if diff := cmp.Diff(want, snap(t, s)); diff != "" {
		t.Errorf("after reopening again (-want +got):\n%s", diff)
	}
}

func TestOpenArguments(t *testing.T) {
	if s, err := badgerstore.Open(""); err == nil {
		s.Close()
		t.Error(`Open("") succeeded, want an error`)
	}
	if s, err := badgerstore.Open(t.TempDir(), badgerstore.WithInMemory(true)); err == nil {
		s.Close()
		t.Error("Open(dir, WithInMemory(true)) succeeded, want an error")
	}
	// A directory is locked by the store that has it open.
	dir := t.TempDir()
	s := open(t, dir)
	defer mustClose(t, s)
	if s2, err := badgerstore.Open(dir, badgerstore.WithLogger(testLogger(t))); err == nil {
		s2.Close()
		t.Error("a second Open of the same directory succeeded")
	}
}

// TestFormat checks the format version: written by the first Open, checked
// by the others.
func TestFormat(t *testing.T) {
	t.Run("written on first open", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir)
		var v []byte
		err := s.DB().View(func(txn *badger.Txn) error {
			item, err := txn.Get(badgerstore.KeyVersion)
			if err != nil {
				return err
			}
			v, err = item.ValueCopy(nil)
			return err
		})
		if err != nil || !bytes.Equal(v, badgerstore.EncodeUint64(1)) {
			t.Errorf("format version %x, %v; want version 1", v, err)
		}
		mustClose(t, s)
		mustClose(t, open(t, dir))
	})
	for _, tc := range []struct {
		name    string
		version []byte
		want    error
		wantMsg string
	}{
		{"unknown version", badgerstore.EncodeUint64(99), badgerstore.ErrFormat, "format version 99"},
		{"version of the wrong size", []byte{1}, badgerstore.ErrCorrupt, "format version of 1 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir)
			if err := s.DB().Update(func(txn *badger.Txn) error { return txn.Set(badgerstore.KeyVersion, tc.version) }); err != nil {
				t.Fatal(err)
			}
			mustClose(t, s)
			s, err := badgerstore.Open(dir, badgerstore.WithLogger(testLogger(t)))
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("Open: error %q, want %v saying %q", err, tc.want, tc.wantMsg)
			}
			// The failed Open released the directory.
			db, err := badger.Open(badgerstore.Options(dir, badgerstore.WithLogger(testLogger(t))))
			if err != nil {
				t.Fatalf("badger.Open after a refused Open: %v", err)
			}
			db.Close()
		})
	}
	t.Run("not a caisse store", func(t *testing.T) {
		dir := t.TempDir()
		db, err := badger.Open(badgerstore.Options(dir, badgerstore.WithLogger(testLogger(t))))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("other"), []byte("data")) }); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if s, err := badgerstore.Open(dir, badgerstore.WithLogger(testLogger(t))); !errors.Is(err, badgerstore.ErrFormat) {
			if err == nil {
				s.Close()
			}
			t.Errorf("Open of another badger database: error %v, want ErrFormat", err)
		}
	})
}

// bigBatch signs n entries of about 1.1 kB each.
func bigBatch(t *testing.T, a *ledgertest.Author, fed ledger.Hash, n int) []ledger.Entry {
	note := strings.Repeat("n", ledger.MaxNoteLen)
	es := make([]ledger.Entry, n)
	for i := range es {
		es[i] = a.Next(t, fed, func(b *caissev1.EntryBody) { b.GetContribution().Note = note })
	}
	return es
}

// TestCommitFails checks that an Append that badger cannot commit stores
// nothing and reports the failure.
func TestCommitFails(t *testing.T) {
	t.Run("transaction too big", func(t *testing.T) {
		s := open(t, t.TempDir())
		defer mustClose(t, s)
		a, b, _, g := federation(t)
		fed := g.Hash()
		mustAppend(t, s, g, b.Contribution(t, fed, 1, "2026-01"))
		before := snap(t, s)
		// 15% of an 8 MiB memtable is about 1.2 MiB: 3000 entries of
		// 1.1 kB do not fit. The failure comes after many entries were
		// already written into the transaction.
		batch := append([]ledger.Entry{b.Contribution(t, fed, 1, "2026-01")}, bigBatch(t, a, fed, 3000)...)
		err := s.Append(batch...)
		if !errors.Is(err, badger.ErrTxnTooBig) {
			t.Fatalf("Append of %d entries: error %v, want ErrTxnTooBig", len(batch), err)
		}
		if diff := cmp.Diff(before, snap(t, s)); diff != "" {
			t.Errorf("store changed by a failed Append (-want +got):\n%s", diff)
		}
		// The store goes on working; the same entries fit in smaller batches.
		for i := 0; i < len(batch); i += 500 {
			mustAppend(t, s, batch[i:min(i+500, len(batch))]...)
		}
		if n, err := s.Count(); err != nil || n != 2+3001 {
			t.Errorf("Count() = %d, %v; want %d", n, err, 2+3001)
		}
	})
	t.Run("commit fails", func(t *testing.T) {
		s := open(t, t.TempDir())
		defer mustClose(t, s)
		a, b, _, g := federation(t)
		fed := g.Hash()
		mustAppend(t, s, g)
		before := snap(t, s)
		batch := []ledger.Entry{a.Contribution(t, fed, 1, "2026-01"), b.Contribution(t, fed, 2, "2026-01")}
		s.SetFailCommit(func() error { return syscall.EIO })
		if err := s.Append(batch...); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Append with a failing commit: error %v, want EIO", err)
		}
		if diff := cmp.Diff(before, snap(t, s)); diff != "" {
			t.Errorf("store changed by a failed Append (-want +got):\n%s", diff)
		}
		s.SetFailCommit(nil)
		mustAppend(t, s, batch...)
		if n, err := s.Count(); err != nil || n != 3 {
			t.Errorf("Count() = %d, %v; want 3", n, err)
		}
	})
	t.Run("database closed", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir)
		a, _, _, g := federation(t)
		mustAppend(t, s, g)
		before := snap(t, s)
		// The database goes away under the store, as on an I/O error that
		// makes badger stop accepting writes.
		if err := s.DB().Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Append(a.Contribution(t, g.Hash(), 1, "2026-01")); err == nil {
			t.Fatal("Append on a closed database succeeded")
		}
		s.Close()
		s = open(t, dir)
		defer mustClose(t, s)
		if diff := cmp.Diff(before, snap(t, s)); diff != "" {
			t.Errorf("store changed by a failed Append (-want +got):\n%s", diff)
		}
	})
}

// TestCorruptValues writes bad values under the store's keys and checks
// that reads report ErrCorrupt instead of returning wrong data.
func TestCorruptValues(t *testing.T) {
	a, b, _, g := federation(t)
	fed := g.Hash()
	es := []ledger.Entry{g, a.Contribution(t, fed, 100, "2026-01"), a.Contribution(t, fed, 200, "2026-01"), a.Contribution(t, fed, 300, "2026-01")}
	b1 := b.Contribution(t, fed, 100, "2026-01")
	// Entry 2 with its period changed: it decodes, but its signature does
	// not verify and its hash is not the prev of entry 3.
	tamperedBody := bytes.Replace(es[1].BodyBytes(), []byte("2026-01"), []byte("2026-02"), 1)
	tamperedRaw, err := proto.Marshal(&caissev1.Entry{Body: tamperedBody, Signature: es[1].Signature()})
	if err != nil {
		t.Fatal(err)
	}
	if e, err := ledger.DecodeUnverified(tamperedRaw); err != nil || e.Body().GetContribution().GetPeriod() != "2026-02" {
		t.Fatalf("tampered entry: %v, %v", e, err)
	}

	type check struct {
		name string
		call func(s ledger.Store) error
	}
	get2 := check{"Get", func(s ledger.Store) error { _, err := s.Get(a.ID, 2); return err }}
	scan := check{"Scan", func(s ledger.Store) error { return s.Scan(a.ID, 1, func(ledger.Entry) error { return nil }) }}
	scanAll := check{"ScanAll", func(s ledger.Store) error { return s.ScanAll(func(ledger.Entry) error { return nil }) }}
	dup2 := check{"Append of the same entry", func(s ledger.Store) error { return s.Append(es[1]) }}
	head := check{"Head", func(s ledger.Store) error { _, err := s.Head(a.ID); return err }}
	vector := check{"Vector", func(s ledger.Store) error { _, err := s.Vector(); return err }}
	next := check{"Append of the next entry", func(s ledger.Store) error { return s.Append(a.Peek(t, fed, nil)) }}

	for _, tc := range []struct {
		name   string
		key    []byte
		value  []byte // nil: delete the key
		checks []check
	}{
		{"garbage", badgerstore.EntryKey(a.ID, 2), []byte("not an entry"), []check{get2, scan, scanAll, dup2}},
		{"empty value", badgerstore.EntryKey(a.ID, 2), []byte{}, []check{get2, scan, scanAll, dup2}},
		{"next entry of the log", badgerstore.EntryKey(a.ID, 2), es[2].Marshal(), []check{get2, scan, scanAll, dup2}},
		{"another author's entry", badgerstore.EntryKey(a.ID, 2), b1.Marshal(), []check{get2, scan, scanAll, dup2}},
		{"missing entry", badgerstore.EntryKey(a.ID, 2), nil, []check{scan, scanAll, dup2}},
		{"head of the wrong size", badgerstore.HeadKey(a.ID), []byte{0, 0, 0, 4}, []check{head, vector, next}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, "", badgerstore.WithInMemory(true))
			defer mustClose(t, s)
			mustAppend(t, s, es...)
			mustAppend(t, s, b1)
			err := s.DB().Update(func(txn *badger.Txn) error {
				if tc.value == nil {
					return txn.Delete(tc.key)
				}
				return txn.Set(tc.key, tc.value)
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tc.checks {
				if err := c.call(s); !errors.Is(err, badgerstore.ErrCorrupt) {
					t.Errorf("%s: error %v, want ErrCorrupt", c.name, err)
				}
			}
			// The rest of the store reads as before.
			if e, err := s.Get(b.ID, 1); err != nil || e.Hash() != b1.Hash() {
				t.Errorf("Get of another log = %v, %v", e, err)
			}
		})
	}
	t.Run("tampered body", func(t *testing.T) {
		// A valid encoding of a changed body: Get cannot tell (entries are
		// not re-verified on read), but its hash no longer chains.
		s := open(t, "", badgerstore.WithInMemory(true))
		defer mustClose(t, s)
		mustAppend(t, s, es...)
		err := s.DB().Update(func(txn *badger.Txn) error { return txn.Set(badgerstore.EntryKey(a.ID, 2), tamperedRaw) })
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []check{scan, scanAll} {
			if err := c.call(s); !errors.Is(err, badgerstore.ErrCorrupt) {
				t.Errorf("%s: error %v, want ErrCorrupt", c.name, err)
			}
		}
	})
}

// storeFiles returns the contents of every file in dir.
func storeFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[filepath.Base(path)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestOnDiskBytes checks that entries are written uncompressed (so a test
// can grep the files for data that must not be there), and that a flipped
// bit on disk is caught by badger's checksums instead of returning a
// changed entry.
func TestOnDiskBytes(t *testing.T) {
	dir := t.TempDir()
	a, _, _, g := federation(t)
	fed := g.Hash()
	// A note that any compressor would shrink.
	e := a.Next(t, fed, func(b *caissev1.EntryBody) { b.GetContribution().Note = strings.Repeat("grève ", 100) })
	s := open(t, dir)
	mustAppend(t, s, g, e)
	mustClose(t, s)

	var found []string
	for name, b := range storeFiles(t, dir) {
		if i := bytes.Index(b, e.BodyBytes()); i >= 0 {
			found = append(found, name)
			// Flip a bit in the middle of the entry's body.
			b[i+len(e.BodyBytes())/2] ^= 0x04
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(found) == 0 {
		t.Fatal("the entry's body bytes are in no file of the store: is compression on?")
	}
	t.Logf("entry found in %v", found)

	s, err := badgerstore.Open(dir, badgerstore.WithLogger(testLogger(t)))
	if err != nil {
		t.Logf("Open of the damaged store: %v", err)
		return // refused: good
	}
	defer mustClose(t, s)
	got, err := s.Get(a.ID, 2)
	if err == nil {
		t.Fatalf("Get of a damaged entry returned %v, want an error (changed body: %v)", got, !bytes.Equal(got.BodyBytes(), e.BodyBytes()))
	}
	t.Logf("Get of the damaged entry: %v", err)
}

func TestOptions(t *testing.T) {
	o := badgerstore.Options(t.TempDir())
	for _, c := range []struct {
		name string
		ok   bool
	}{
		{"SyncWrites on", o.SyncWrites},
		{"compression off", o.Compression == options.None},
		{"checksums verified on every block read", o.ChecksumVerificationMode == options.OnBlockRead},
		{"value log checksums verified", o.VerifyValueChecksum},
		{"entries in the LSM tree", o.ValueThreshold > ledger.MaxEntrySize},
		{"memtables of 8 MiB", o.MemTableSize == 8<<20 && o.NumMemtables == 2},
		{"caches of 16 MiB", o.BlockCacheSize == 16<<20 && o.IndexCacheSize == 16<<20},
		{"on disk", !o.InMemory},
	} {
		if !c.ok {
			t.Errorf("option: want %s", c.name)
		}
	}
	if !badgerstore.Options("", badgerstore.WithInMemory(true)).InMemory {
		t.Error("WithInMemory(true) does not set InMemory")
	}
}

// recorder is a slog.Handler that keeps records.
type recorder struct {
	mu      sync.Mutex
	level   slog.Level
	records []string
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	line := rec.Level.String() + " " + rec.Message
	rec.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	r.records = append(r.records, line)
	return nil
}

func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.records...)
}

func TestLogger(t *testing.T) {
	t.Run("levels", func(t *testing.T) {
		for _, tc := range []struct {
			level slog.Level
			want  []string
		}{
			{slog.LevelDebug, []string{
				"ERROR e 1 component=badger", "WARN w 2 component=badger",
				"DEBUG i 3 component=badger", "DEBUG d 4 component=badger",
			}},
			{slog.LevelInfo, []string{"ERROR e 1 component=badger", "WARN w 2 component=badger"}},
		} {
			r := &recorder{level: tc.level}
			l := badgerstore.NewSlogAdapter(slog.New(r))
			l.Errorf("e %d\n", 1)
			l.Warningf("w %d", 2)
			l.Infof("i %d", 3)
			l.Debugf("d %d", 4)
			if diff := cmp.Diff(tc.want, r.lines()); diff != "" {
				t.Errorf("logged at level %v (-want +got):\n%s", tc.level, diff)
			}
		}
	})
	t.Run("WithLogger", func(t *testing.T) {
		r := &recorder{level: slog.LevelDebug}
		s, err := badgerstore.Open(t.TempDir(), badgerstore.WithLogger(slog.New(r)))
		if err != nil {
			t.Fatal(err)
		}
		mustClose(t, s)
		lines := r.lines()
		if len(lines) == 0 {
			t.Fatal("badger logged nothing through WithLogger")
		}
		for _, l := range lines {
			if !strings.HasSuffix(l, "component=badger") {
				t.Errorf("record %q: want component=badger", l)
			}
		}
	})
}

// TestReopenLive reopens the database under a store in use: what it shows
// is unchanged, appends go on from where they were, and a reopen asked
// while a call is in progress does nothing. (What it does to resident
// memory is measured by the node's footprint benchmark.)
func TestReopenLive(t *testing.T) {
	dir := t.TempDir()
	a, b, _, g := federation(t)
	fed := g.Hash()
	s := open(t, dir)
	defer s.Close()
	mustAppend(t, s, g)
	for range 200 {
		mustAppend(t, s, a.Contribution(t, fed, 100, "2026-01"), b.Contribution(t, fed, 50, "2026-01"))
	}
	want := snap(t, s)
	ok, err := s.Reopen()
	if err != nil || !ok {
		t.Fatalf("Reopen with no call in progress = %v, %v; want true, nil", ok, err)
	}
	if diff := cmp.Diff(want, snap(t, s)); diff != "" {
		t.Fatalf("after Reopen (-want +got):\n%s", diff)
	}
	if err := s.Append(a.Entry(t, 3)); !errors.Is(err, ledger.ErrDuplicate) {
		t.Errorf("Append of a duplicate after Reopen: error %v, want ErrDuplicate", err)
	}
	mustAppend(t, s, b.Contribution(t, fed, 7, "2026-02"))
	if n, err := s.Count(); err != nil || n != want.Count+1 {
		t.Errorf("Count after one more = %d, %v; want %d", n, err, want.Count+1)
	}

	// A call in progress: Reopen does not wait for it and does nothing,
	// even when the call is the caller's own Scan.
	err = s.Scan(a.ID, 1, func(ledger.Entry) error {
		ok, err := s.Reopen()
		if ok || err != nil {
			t.Errorf("Reopen inside a Scan = %v, %v; want false, nil", ok, err)
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("Scan: %v", err)
	}
}

var errStop = errors.New("stop")

// TestReopenConcurrent reopens in a loop while appends and reads go on,
// until it has reopened a few times between them: every call succeeds, and
// the store ends with every entry appended.
func TestReopenConcurrent(t *testing.T) {
	dir := t.TempDir()
	a, b, c, g := federation(t)
	fed := g.Hash()
	s := open(t, dir)
	defer s.Close()
	mustAppend(t, s, g)
	const wantReopens = 3
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var reopened, appended atomic.Int64
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			ok, err := s.Reopen()
			if err != nil {
				t.Errorf("Reopen: %v", err)
				return
			}
			if ok {
				reopened.Add(1)
			}
			time.Sleep(time.Millisecond)
		}
	})
	deadline := time.Now().Add(time.Minute)
	var appenders sync.WaitGroup
	for _, x := range []*ledgertest.Author{a, b, c} {
		appenders.Go(func() {
			for i := 0; i < 30 || reopened.Load() < wantReopens; i++ {
				if time.Now().After(deadline) {
					t.Errorf("reopened %d times in a minute of appends, want %d", reopened.Load(), wantReopens)
					return
				}
				e := x.Contribution(t, fed, 10, "2026-01")
				if err := s.Append(e); err != nil {
					t.Errorf("Append(%s): %v", e, err)
					return
				}
				appended.Add(1)
				if got, err := s.Get(x.ID, e.Seq()); err != nil || got.Hash() != e.Hash() {
					t.Errorf("Get(%s) = %v, %v", e, got, err)
					return
				}
				time.Sleep(100 * time.Microsecond) // gaps between calls, as a node has
			}
		})
	}
	appenders.Wait()
	close(stop)
	wg.Wait()
	if n, err := s.Count(); err != nil || n != uint64(1+appended.Load()) {
		t.Errorf("Count = %d, %v; want %d", n, err, 1+appended.Load())
	}
	t.Logf("reopened %d times during %d appends", reopened.Load(), appended.Load())
}

// TestReopenFails makes the reopening fail: Reopen says so, and every call
// after it fails with that reason instead of touching a closed database.
func TestReopenFails(t *testing.T) {
	dir := t.TempDir()
	a, _, _, g := federation(t)
	s := open(t, dir)
	mustAppend(t, s, g)
	s.SetOpenDB(func(badger.Options) (*badger.DB, error) { return nil, errors.New("disk gone") })
	ok, err := s.Reopen()
	if ok || err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Fatalf("Reopen = %v, %v; want false and the reason", ok, err)
	}
	if _, err := s.Count(); !errors.Is(err, ledger.ErrClosed) || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("Count after a failed reopen: %v; want ErrClosed with the reason", err)
	}
	if err := s.Append(a.Contribution(t, g.Hash(), 1, "2026-01")); !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Append after a failed reopen: %v; want ErrClosed", err)
	}
	if err := s.Close(); err == nil || !strings.Contains(err.Error(), "disk gone") {
		t.Errorf("Close after a failed reopen: %v; want the reason", err)
	}
	// Nothing was lost: the directory opens as it was.
	s = open(t, dir)
	defer mustClose(t, s)
	if n, err := s.Count(); err != nil || n != 1 {
		t.Errorf("Count after opening again = %d, %v; want 1", n, err)
	}
}

// TestReopenInMemoryOrClosed: a store in memory is left as it is, entries
// and all; a closed store says it is closed.
func TestReopenInMemoryOrClosed(t *testing.T) {
	_, _, _, g := federation(t)
	mem := open(t, "", badgerstore.WithInMemory(true))
	mustAppend(t, mem, g)
	if ok, err := mem.Reopen(); !ok || err != nil {
		t.Errorf("Reopen in memory = %v, %v; want true, nil", ok, err)
	}
	if n, err := mem.Count(); err != nil || n != 1 {
		t.Errorf("Count in memory after Reopen = %d, %v; want 1", n, err)
	}
	mustClose(t, mem)

	s := open(t, t.TempDir())
	mustClose(t, s)
	if ok, err := s.Reopen(); ok || !errors.Is(err, ledger.ErrClosed) {
		t.Errorf("Reopen after Close = %v, %v; want false, ErrClosed", ok, err)
	}
}
