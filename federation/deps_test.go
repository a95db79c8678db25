package federation_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestDeps holds the dependency line of STYLE.md: federation pulls in no
// network, RPC, gossip or storage package.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, stderr(err))
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/caisse-coop/caisse/ledger") {
		t.Fatalf("go list -deps does not list ledger: %q", deps)
	}
	for _, bad := range []string{"net", "net/http", "google.golang.org/grpc",
		"github.com/hashicorp/memberlist", "github.com/dgraph-io/badger/v4"} {
		if slices.Contains(deps, bad) {
			t.Errorf("federation must not depend on %s", bad)
		}
	}
}

// TestImports checks what federation imports itself: ledger, the entry
// schema, the protobuf encoding of its messages (a checkpoint holds the
// charter and the rule sets proposed as their own messages) and the
// standard library, minus what would read a clock, draw
// randomness, log, start and synchronize goroutines, or wait on anything;
// and no signature code of its own: fork proofs are verified through
// ledger (Entry.Verify), the one place that knows the signing context.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list -f .Imports: %v\n%s", err, stderr(err))
	}
	imports := strings.Fields(string(out))
	if len(imports) == 0 {
		t.Fatal("go list lists no imports")
	}
	allowed := []string{"github.com/caisse-coop/caisse/ledger", "github.com/caisse-coop/caisse/proto/caisse/v1",
		"google.golang.org/protobuf/proto"}
	forbidden := []string{"time", "math/rand", "math/rand/v2", "crypto/rand", "log", "log/slog", "os", "sync", "sync/atomic", "unsafe",
		"context", "crypto/ed25519"}
	for _, imp := range imports {
		std := !strings.Contains(strings.Split(imp, "/")[0], ".")
		switch {
		case slices.Contains(forbidden, imp):
			t.Errorf("federation imports %s", imp)
		case !std && !slices.Contains(allowed, imp):
			t.Errorf("federation imports %s: only ledger, proto/caisse/v1, protobuf's proto and the standard library", imp)
		}
	}
}

func stderr(err error) []byte {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.Stderr
	}
	return nil
}
