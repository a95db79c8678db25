package node

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/backup"
	caissev1 "github.com/caisse-coop/caisse/proto/caisse/v1"
)

// storeDump is a store's content, to compare two stores.
type storeDump struct {
	Entries []string // author/seq/hash
	Forks   []string
}

func dump(t *testing.T, s ledger.Store) storeDump {
	t.Helper()
	var d storeDump
	if err := s.ScanAll(func(e ledger.Entry) error {
		d.Entries = append(d.Entries, e.String()+"/"+e.Hash().String())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	proofs, err := s.Forks()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range proofs {
		d.Forks = append(d.Forks, p.A.Hash().String()+"+"+p.B.Hash().String())
	}
	return d
}

// forkedFixture is the export fixture with a fork proof: the other caisse
// signs a second entry at a seq it has used.
func forkedFixture(t *testing.T) *exportFixture {
	t.Helper()
	f := newExportFixture(t)
	a := f.other.Author()
	twin := f.log[2]
	body := &caissev1.EntryBody{Federation: f.fid[:], Author: a[:], Seq: uint64(twin.Seq()), Prev: twin.Body().GetPrev(),
		Time: twin.Body().GetTime(), Kind: contribution(ledger.Pseudonym{5}, 123456, "2026-11", "dues", "l'autre version")}
	e, err := f.other.Sign(body)
	if err != nil {
		t.Fatal(err)
	}
	f.ingest(t, forked, e)
	return f
}

// newRestoreDir is an empty data directory holding the fixture's keys, as
// an operator lays it out before caissed restore-backup.
func newRestoreDir(t *testing.T, from string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{keyFile, pseudonymFile, gossipKeyFile} {
		raw, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBackupRoundTrip(t *testing.T) {
	f := forkedFixture(t)
	var buf bytes.Buffer
	head, err := f.n.Backup(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	want := dump(t, f.n.store)
	if len(want.Forks) != 1 || uint64(len(want.Entries)) != head.Entries || head.Forks != 1 {
		t.Fatalf("fixture: %d entries, %d forks; header %+v", len(want.Entries), len(want.Forks), head)
	}
	wantState := snap(t, f.n).state
	if head.State != wantState || head.Federation != f.fid {
		t.Fatalf("header %+v, want state %s federation %s", head, wantState, f.fid)
	}

	dir := newRestoreDir(t, f.dir)
	res, err := RestoreBackup(dir, bytes.NewReader(buf.Bytes()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries != head.Entries || res.Forks != 1 {
		t.Fatalf("restored %+v, want %d entries and 1 fork proof", res, head.Entries)
	}
	if _, err := os.Stat(filepath.Join(dir, ledgerDir+".restoring")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the staging directory is left behind: %v", err)
	}
	cfg := testConfig(t, dir)
	cfg.Found = false
	n := mustNew(t, cfg)
	defer n.Close()
	if diff := cmp.Diff(want, dump(t, n.store)); diff != "" {
		t.Errorf("restored store (-want +got):\n%s", diff)
	}
	if got := snap(t, n).state; got != wantState {
		t.Errorf("restored state hash %s, want %s", got, wantState)
	}
	if n.Author() != f.n.Author() {
		t.Errorf("restored node is %s, want %s", n.Author().Short(), f.n.Author().Short())
	}
	// A second restore into the now full directory is refused, and
	// changes nothing.
	n.Close()
	_, err = RestoreBackup(dir, bytes.NewReader(buf.Bytes()), nil)
	if err == nil || !strings.Contains(err.Error(), "restore only into an empty data directory") {
		t.Fatalf("restore over a full ledger: %v", err)
	}
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	f := forkedFixture(t)
	var buf bytes.Buffer
	if _, err := f.n.Backup(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x01
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, "truncated"},
		{"not a backup", []byte("name,amount\nAnne,12.50\n"), "magic"},
		{"truncated in the header", good[:20], "truncated"},
		{"truncated mid-way", good[:len(good)/2], "truncated"},
		{"truncated before the checksum", good[:len(good)-32], "truncated"},
		{"last byte missing", good[:len(good)-1], "truncated"},
		{"a byte of an entry flipped", flip(len(good) / 3), ""},
		{"the checksum altered", flip(len(good) - 1), "checksum"},
		{"the state hash altered", flip(len("CAISSEBK") + 1 + 40), ""},
		{"trailing bytes", append(bytes.Clone(good), 0), "after the checksum"},
		{"another version", append([]byte("CAISSEBK\x02"), good[9:]...), "version 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := newRestoreDir(t, f.dir)
			_, err := RestoreBackup(dir, bytes.NewReader(tc.data), nil)
			if err == nil {
				t.Fatal("restored a bad backup")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to mention %q", err, tc.want)
			}
			t.Log(err)
			for _, name := range []string{ledgerDir, ledgerDir + ".restoring"} {
				if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists after a failed restore: half-restored", name)
				}
			}
		})
	}
	t.Run("records that do not give the state of the header", func(t *testing.T) {
		// Intact and re-checksummed, but the header's state hash is not the
		// one its entries rebuild: the state check catches it.
		br, err := backup.NewReader(bytes.NewReader(good))
		if err != nil {
			t.Fatal(err)
		}
		head := br.Header()
		head.State[0] ^= 1
		var out bytes.Buffer
		bw, err := backup.NewWriter(&out, head)
		if err != nil {
			t.Fatal(err)
		}
		for {
			rec, err := br.Next()
			if err != nil {
				break
			}
			if rec.IsFork() {
				err = bw.Fork(rec.Fork)
			} else {
				err = bw.Entry(rec.Entry)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := bw.Close(); err != nil {
			t.Fatal(err)
		}
		dir := newRestoreDir(t, f.dir)
		_, err = RestoreBackup(dir, &out, nil)
		if err == nil || !strings.Contains(err.Error(), "state hash") {
			t.Fatalf("restore of a backup whose state hash does not match: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, ledgerDir)); !errors.Is(err, os.ErrNotExist) {
			t.Error("a ledger was left after a failed restore")
		}
	})
	t.Run("no key", func(t *testing.T) {
		dir := t.TempDir()
		_, err := RestoreBackup(dir, bytes.NewReader(good), nil)
		if err == nil || !strings.Contains(err.Error(), "no node key") {
			t.Fatalf("restore without node.key: %v", err)
		}
	})
	t.Run("another collective's key", func(t *testing.T) {
		dir := t.TempDir()
		cfg := testConfig(t, dir)
		cfg.Found = false
		mustNew(t, cfg).Close() // creates a key of its own and an empty ledger
		raw, err := os.ReadFile(filepath.Join(f.dir, gossipKeyFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, gossipKeyFile), raw, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err = RestoreBackup(dir, bytes.NewReader(good), nil)
		if err == nil || !strings.Contains(err.Error(), "no log of this node's key") {
			t.Fatalf("restore under another key: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, ledgerDir+".restoring")); !errors.Is(err, os.ErrNotExist) {
			t.Error("the staging directory is left behind")
		}
	})
}

// TestBackupIsConsistentUnderWrites takes backups while entries are
// appended: each is a snapshot that restores to its own state hash.
func TestBackupIsConsistentUnderWrites(t *testing.T) {
	dir := t.TempDir()
	n := mustNew(t, testConfig(t, dir))
	defer n.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			if err := appendContribution(n, int64(100+i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var backups [][]byte
	for range 5 {
		var buf bytes.Buffer
		if _, err := n.Backup(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		backups = append(backups, buf.Bytes())
		time.Sleep(time.Millisecond)
	}
	<-done
	for i, b := range backups {
		to := newRestoreDir(t, dir)
		if _, err := RestoreBackup(to, bytes.NewReader(b), nil); err != nil {
			t.Fatalf("backup %d taken under writes: %v", i, err)
		}
	}
}
