package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/caisse-coop/caisse/internal/nodetest"
)

// restoreCLI runs caissed restore-backup, the real binary.
func restoreCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(filepath.Join(bin, "caissed"), append([]string{"restore-backup"}, args...)...).CombinedOutput()
	return string(out), err
}

// TestBackupRestoreRoundTrip backs up a running node with caisse backup,
// restores the file with caissed restore-backup into a new data directory
// holding only the node's keys, starts a node there, and finds the same
// entries and the same state hash; a truncated file restores nothing.
func TestBackupRestoreRoundTrip(t *testing.T) {
	p := startNode(t)
	for _, amount := range []string{"12.50", "7", "0.01"} {
		mustCLI(t, p, "contribute", "--member", "Anne Morel", "--amount", amount, "--period", "2026-11")
	}
	mustCLI(t, p, "disburse", "--to", "Karim Benali", "--amount", "5", "--period", "2026-11", "--category", "strike")
	file := filepath.Join(t.TempDir(), "caisse.backup")
	var res backupResultJSON
	cliJSON(t, p, &res, "backup", file)
	var before statusJSON
	cliJSON(t, p, &before, "status")
	beforeEntries := mustCLI(t, p, "--json", "entries")
	if res.Entries != before.Entries || res.StateHash != before.StateHash || res.Forks != 0 {
		t.Fatalf("backup %+v, node status %+v", res, before)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != res.Bytes {
		t.Fatalf("backup file: %v %v, want mode 0600 and %d bytes", fi, err, res.Bytes)
	}
	p.Stop(t)

	dir := filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("without the keys", func(t *testing.T) {
		out, err := restoreCLI(t, "--data-dir", dir, file)
		if err == nil || !strings.Contains(out, "no node key") {
			t.Fatalf("restore without node.key: %v\n%s", err, out)
		}
	})
	t.Run("truncated backup restores nothing", func(t *testing.T) {
		cut := filepath.Join(t.TempDir(), "cut.backup")
		if err := os.WriteFile(cut, raw[:len(raw)-10], 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := restoreCLI(t, "--data-dir", dir, "--keys", p.DataDir, cut)
		if err == nil || !strings.Contains(out, "truncated") || !strings.Contains(out, "caissed: restore-backup:") {
			t.Fatalf("restore of a truncated backup: %v\n%s", err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "ledger")); err == nil {
			t.Fatal("a truncated backup left a ledger behind")
		}
	})
	// The keys are not in the backup: the operator brings them, here from
	// the old data directory (as from where they were saved).
	out, err := restoreCLI(t, "--data-dir", dir, "--keys", p.DataDir, file)
	if err != nil {
		t.Fatalf("caissed restore-backup: %v\n%s", err, out)
	}
	for _, name := range []string{"node.key", "gossip.key", "pseudonym.key", "register.json"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 || string(mustRead(t, filepath.Join(dir, name))) != string(mustRead(t, filepath.Join(p.DataDir, name))) {
			t.Fatalf("%s after restore: %v %v, want a copy with mode 0600", name, fi, err)
		}
	}
	q := nodetest.Start(t, filepath.Join(bin, "caissed"), dir, "--found=false")
	var after statusJSON
	cliJSON(t, q, &after, "status")
	if after.StateHash != before.StateHash || after.Entries != before.Entries || after.Seq != before.Seq || after.NodeKey != before.NodeKey {
		t.Fatalf("restored node %+v, want %+v", after, before)
	}
	if diff := cmp.Diff(beforeEntries, mustCLI(t, q, "--json", "entries")); diff != "" {
		t.Errorf("restored entries (-want +got):\n%s", diff)
	}
	v := mustCLI(t, q, "verify")
	if !strings.Contains(v, "ok") {
		t.Errorf("caisse verify on the restored node: %s", v)
	}
	// A ledger with entries is never overwritten.
	q.Stop(t)
	out, err = restoreCLI(t, "--data-dir", dir, file)
	if err == nil || !strings.Contains(out, "empty data directory") {
		t.Fatalf("restore over a ledger with entries: %v\n%s", err, out)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
