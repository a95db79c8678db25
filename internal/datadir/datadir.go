// Package datadir names where a node keeps its data by default, for the
// daemon and for the CLI that finds its socket there.
package datadir

import (
	"os"
	"path/filepath"
)

// Default is $XDG_DATA_HOME/caisse, or ~/.local/share/caisse, or
// ./caisse-data when there is no home directory.
func Default() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "caisse")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		return filepath.Join(home, ".local", "share", "caisse")
	}
	return "caisse-data"
}

// Socket is the operator socket of a node with data directory dir.
func Socket(dir string) string { return filepath.Join(dir, "caissed.sock") }
