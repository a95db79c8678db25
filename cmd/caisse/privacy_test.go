package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
	"github.com/caisse-coop/caisse/ledger/badgerstore"
)

// TestMemberNamesStayLocal records contributions with a member's name and
// e-mail through the CLI, then searches every byte of the replicated store
// (the badger files, and every stored entry's bytes) for them.
func TestMemberNamesStayLocal(t *testing.T) {
	p := startNode(t)
	const (
		name   = "Anne-Sophie Morel"
		email  = "anne-sophie.morel@example.org"
		marker = "cotisation-zq7x" // a public note: must be found, proving the search sees plain text
	)
	mustCLI(t, p, "contribute", "--member", name, "--email", email, "--amount", "15", "--period", "2026-11", "--note", marker)
	mustCLI(t, p, "contribute", "--member", strings.ToUpper(name), "--amount", "15", "--period", "2026-12")
	mustCLI(t, p, "disburse", "--to", name, "--amount", "7.50", "--period", "2026-12", "--category", "hardship")
	p.Stop(t)

	secrets := [][]byte{}
	for _, s := range []string{name, email, "Morel", "morel", "MOREL", "anne-sophie", "Anne-Sophie", "example.org"} {
		secrets = append(secrets, []byte(s))
	}
	// Every file of the ledger store, raw.
	var raw bytes.Buffer
	err := filepath.WalkDir(filepath.Join(p.DataDir, "ledger"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		raw.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Every stored entry, as it would be sent to a peer.
	store, err := badgerstore.Open(filepath.Join(p.DataDir, "ledger"))
	if err != nil {
		t.Fatal(err)
	}
	var wire bytes.Buffer
	var n int
	err = store.ScanAll(func(e ledger.Entry) error {
		wire.Write(e.Marshal())
		n++
		return nil
	})
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("%d entries in the store, want 4", n)
	}
	for what, hay := range map[string][]byte{"ledger files": raw.Bytes(), "entries": wire.Bytes()} {
		if !bytes.Contains(hay, []byte(marker)) {
			t.Fatalf("%s: the public note %q is not found: the search does not see plain text", what, marker)
		}
		for _, s := range secrets {
			if bytes.Contains(bytes.ToLower(hay), bytes.ToLower(s)) {
				t.Errorf("%s hold %q", what, s)
			}
		}
	}
	// The node did get the name: it is in the local register, and only there.
	reg, err := os.ReadFile(filepath.Join(p.DataDir, "register.json"))
	if err != nil || !bytes.Contains(reg, []byte(name)) || !bytes.Contains(reg, []byte(email)) {
		t.Fatalf("local register does not hold the member (%v):\n%s", err, reg)
	}
}
