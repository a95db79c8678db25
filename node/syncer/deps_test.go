package syncer_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps holds the line of STYLE.md sections 2 and 4: the sync core does
// no I/O, reads no clock, starts no goroutine and does not log. It must not
// link the packages that do I/O, nor import the clock, the OS or a logger
// itself. It runs the go command from PATH and fails, never skips, if there
// is none.
func TestDeps(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list syncer's dependencies: %v", err)
	}
	list := func(args ...string) []string {
		t.Helper()
		out, err := exec.Command(gobin, append([]string{"list"}, args...)...).Output()
		if err != nil {
			if ee, ok := err.(*exec.ExitError); ok {
				t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
			}
			t.Fatalf("go list %v: %v", args, err)
		}
		return strings.Fields(string(out))
	}
	deps := list("-deps", ".")
	if !slices.Contains(deps, "github.com/caisse-coop/caisse/ledger") {
		t.Fatalf("go list -deps does not list ledger: is this the syncer package?\n%v", deps)
	}
	for _, bad := range []string{
		"net",
		"net/http",
		"google.golang.org/grpc",
		"github.com/hashicorp/memberlist",
		"github.com/dgraph-io/badger/v4",
		"github.com/caisse-coop/caisse/federation",
	} {
		for _, dep := range deps {
			if dep == bad || (bad != "net" && strings.HasPrefix(dep, bad+"/")) {
				t.Errorf("syncer depends on %s: it must not depend on %s", dep, bad)
			}
		}
	}
	imports := list("-f", `{{join .Imports " "}}`, ".")
	for _, bad := range []string{"time", "os", "log", "log/slog", "sync", "math/rand", "crypto/rand"} {
		if slices.Contains(imports, bad) {
			t.Errorf("syncer imports %s: time, randomness and effects come in through Config, Step and Tick", bad)
		}
	}
}
