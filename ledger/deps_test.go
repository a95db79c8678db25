package ledger_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps holds the dependency line of STYLE.md section 2: ledger does no
// network I/O, so it must not even link the packages that do. It runs the
// go command from PATH and fails, never skips, if there is none: a check
// that silently does not run is no check.
func TestDeps(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list ledger's dependencies: %v", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	// The listing must be real before its absence of packages means anything.
	for _, want := range []string{"github.com/caisse-coop/caisse/ledger", "crypto/ed25519", "github.com/caisse-coop/caisse/proto/caisse/v1"} {
		if !slices.Contains(deps, want) {
			t.Fatalf("go list -deps does not list %s: is this the ledger package?\n%s", want, out)
		}
	}
	// Each forbidden package, and any package under it.
	forbidden := []string{
		"net",
		"net/http",
		"google.golang.org/grpc",
		"github.com/hashicorp/memberlist",
		"github.com/dgraph-io/badger/v4",
	}
	for _, bad := range forbidden {
		for _, dep := range deps {
			if dep == bad || (bad != "net" && strings.HasPrefix(dep, bad+"/")) {
				t.Errorf("ledger depends on %s: ledger must not depend on %s", dep, bad)
			}
		}
	}
}
