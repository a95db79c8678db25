package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/caisse-coop/caisse/internal/nodetest"
)

// caissed is the binary under test, built once by TestMain.
var caissed string

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.fuzz"); f != nil && f.Value.String() != "" {
		os.Exit(m.Run()) // fuzzing runs one fuzz target: no binary to build
	}
	dir, err := os.MkdirTemp("", "caissed-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := nodetest.Build(dir, "caissed"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	caissed = filepath.Join(dir, "caissed")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
