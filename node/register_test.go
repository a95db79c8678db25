package node

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/caisse-coop/caisse/ledger"
)

func TestRegister(t *testing.T) {
	path := filepath.Join(t.TempDir(), registerFile)
	r, err := openRegister(path)
	if err != nil {
		t.Fatal(err)
	}
	p := ledger.PseudonymFor([]byte("k"), "Anne Morel")
	if err := r.remember(p, "Anne  Morel", "anne@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := r.remember(p, "Anne Morel", ""); err != nil { // no e-mail given: keep the known one
		t.Fatal(err)
	}
	r2, err := openRegister(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := r2.name(p[:]); got != "Anne Morel" {
		t.Errorf("name after reopen %q", got)
	}
	if got := r2.members[p.String()].Email; got != "anne@example.org" {
		t.Errorf("email after reopen %q", got)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("register mode %v, want 0600", fi.Mode().Perm())
	}
	for _, tc := range []struct {
		text string
		want string
	}{
		{"virement de ANNE MOREL", "Anne Morel"},
		{"anne@example.org a payé", "anne@example.org"},
		{"Anne Morelli", ""}, // another name that starts the same
		{"collecte du 1er mai", ""},
	} {
		if got := r2.mentioned(tc.text); got != tc.want {
			t.Errorf("mentioned(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
	if got := r2.mentioned("pour Li", "Li"); got != "Li" {
		t.Errorf("mentioned with the name at hand: %q", got)
	}
	if got := r2.mentioned("livres", "Li"); got != "" {
		t.Errorf("a short name inside a word: %q", got)
	}
	if err := os.WriteFile(path, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openRegister(path); err == nil {
		t.Error("a torn register opened without error")
	}
}
