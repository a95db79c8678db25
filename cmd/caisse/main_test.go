package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caisse-coop/caisse/internal/nodetest"
)

// bin holds caissed and caisse, built once by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "caisse-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := nodetest.Build(dir, "caissed", "caisse"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	bin = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// startNode runs a real caissed on a fresh data directory.
func startNode(t *testing.T, args ...string) *nodetest.Proc {
	t.Helper()
	return nodetest.Start(t, filepath.Join(bin, "caissed"), t.TempDir(), args...)
}

// cli runs the caisse CLI in-process against p and returns its output.
func cli(t *testing.T, p *nodetest.Proc, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), append([]string{"--data-dir", p.DataDir}, args...), &out, &errb)
	return out.String(), err
}

// mustCLI runs the CLI and fails the test on an error.
func mustCLI(t *testing.T, p *nodetest.Proc, args ...string) string {
	t.Helper()
	out, err := cli(t, p, args...)
	if err != nil {
		if how, gone := p.Exited(); gone {
			t.Fatalf("caisse %s: %v\n%s", strings.Join(args, " "), err, how)
		}
		t.Fatalf("caisse %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// cliJSON runs the CLI with --json and decodes its output into v.
func cliJSON(t *testing.T, p *nodetest.Proc, v any, args ...string) {
	t.Helper()
	out := mustCLI(t, p, append([]string{"--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		t.Fatalf("caisse %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}
