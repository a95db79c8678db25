package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHealth(t *testing.T) {
	founded := startNode(t)
	if out := mustCLI(t, founded, "health"); !strings.HasPrefix(out, "ok: member of ") {
		t.Errorf("health of a founded node: %q", out)
	}
	var h healthJSON
	cliJSON(t, founded, &h, "health")
	if !h.OK || !strings.HasPrefix(h.Reason, "member of ") {
		t.Errorf("health --json of a founded node: %+v", h)
	}

	empty := startNode(t, "--found=false")
	_, err := cli(t, empty, "health")
	if err == nil || !strings.Contains(err.Error(), "no federation") || strings.Contains(err.Error(), "\n") {
		t.Errorf("health of a node without federation: %v, want one line saying so", err)
	}
	out, err := cli(t, empty, "--json", "health")
	if !errors.Is(err, errSilent) {
		t.Errorf("health --json of a node without federation: %v, want a silent failure", err)
	}
	if !strings.Contains(out, `"ok": false`) || !strings.Contains(out, "no federation") {
		t.Errorf("health --json of a node without federation printed %q", out)
	}

	// The real binary, as a probe runs it: the exit status says it all.
	for _, tc := range []struct {
		name    string
		dataDir string
		code    int
	}{
		{"founded", founded.DataDir, 0},
		{"no federation", empty.DataDir, 1},
		{"no node", t.TempDir(), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(filepath.Join(bin, "caisse"), "--data-dir", tc.dataDir, "health").CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit status %d, want %d\n%s", code, tc.code, out)
			}
			if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 {
				t.Errorf("printed %q, want one line", out)
			}
		})
	}
}
