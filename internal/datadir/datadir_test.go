package datadir

import (
	"path/filepath"
	"testing"
)

func TestDefault(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/srv/data")
	if got := Default(); got != "/srv/data/caisse" {
		t.Errorf("Default with XDG_DATA_HOME = %q", got)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/tresoriere")
	if got := Default(); got != filepath.Join("/home/tresoriere", ".local", "share", "caisse") {
		t.Errorf("Default with HOME = %q", got)
	}
	if got := Socket("/d"); got != "/d/caissed.sock" {
		t.Errorf("Socket = %q", got)
	}
}
