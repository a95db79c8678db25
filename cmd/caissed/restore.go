package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/peterbourgon/ff/v3"

	"github.com/caisse-coop/caisse/node"
)

// restoreBackup is caissed restore-backup: it loads a backup written by
// caisse backup into the empty ledger of a stopped node.
func restoreBackup(args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	fset := flag.NewFlagSet("caissed restore-backup", flag.ContinueOnError)
	fset.SetOutput(stderr)
	dataDir := fset.String("data-dir", node.DefaultDataDir(), "data directory of the node to restore (empty, or holding only its keys and config)")
	keysDir := fset.String("keys", "", "a directory holding the node's saved node.key, gossip.key, pseudonym.key and register.json, copied into the data directory (mode 0600)")
	fset.Usage = func() {
		fmt.Fprintf(stderr, "Usage: caissed restore-backup [--data-dir DIR] [--keys DIR] FILE\n\n"+
			"Loads FILE, written by caisse backup, into the ledger of a stopped node whose\n"+
			"ledger is empty. Every signature and chain is verified, and the state rebuilt\n"+
			"and compared with the backup's, before the ledger takes its place: a bad file\n"+
			"leaves the directory as it was. The backup holds no key: the collective's\n"+
			"node.key and the federation's gossip.key must be in the data directory, or\n"+
			"in the --keys directory (with pseudonym.key and register.json). Then start\n"+
			"caissed; it records nothing until a peer has told it where its log stands.\n\n")
		fset.PrintDefaults()
	}
	if err := ff.Parse(fset, args, ff.WithEnvVarPrefix("CAISSE")); err != nil {
		return fmt.Errorf("restore-backup: %w", err)
	}
	if fset.NArg() != 1 {
		fset.Usage()
		return errors.New("restore-backup: give the backup file")
	}
	if err := os.MkdirAll(*dataDir, 0o700); err != nil {
		return fmt.Errorf("restore-backup: data directory: %w", err)
	}
	if *keysDir != "" {
		for _, name := range keyFiles {
			src := filepath.Join(*keysDir, name)
			if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err := installKey(src, filepath.Join(*dataDir, name)); err != nil {
				return fmt.Errorf("restore-backup: %w", err)
			}
		}
	}
	f, err := os.Open(fset.Arg(0))
	if err != nil {
		return fmt.Errorf("restore-backup: %w", err)
	}
	defer f.Close()
	res, err := node.RestoreBackup(*dataDir, f, log)
	if err != nil {
		return fmt.Errorf("restore-backup: %w", err)
	}
	fmt.Fprintf(stdout, "restored %d entries and %d fork proofs of federation %s into %s (state %s)\n",
		res.Entries, res.Forks, res.Header.Federation.Short(), *dataDir, res.Header.State.Short())
	return nil
}

// keyFiles are the files of a data directory that no backup holds: the
// node's secrets and its local register.
var keyFiles = []string{"node.key", "gossip.key", "pseudonym.key", "register.json"}

// installKey copies a secret file to dst with mode 0600. An existing dst
// is kept if it is the same, and is an error otherwise: a key is never
// overwritten.
func installKey(src, dst string) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	have, err := os.ReadFile(dst)
	switch {
	case err == nil && bytes.Equal(have, raw):
		return nil
	case err == nil:
		return fmt.Errorf("%s differs from %s: a key is never overwritten", dst, src)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", src, err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if _, err := out.Write(raw); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("%s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		os.Remove(dst)
		return fmt.Errorf("%s: %w", src, err)
	}
	return out.Close()
}
