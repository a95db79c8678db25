package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/caisse-coop/caisse/ledger/backup"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

type backupResultJSON struct {
	Output       string `json:"output"`
	Bytes        int64  `json:"bytes"`
	Entries      uint64 `json:"entries"`
	Forks        uint64 `json:"forks"`
	FederationID string `json:"federation_id"`
	StateHash    string `json:"state_hash"`
}

// maxBackupTime bounds a backup, whatever --timeout says: a large ledger
// takes longer than one call.
const maxBackupTime = 30 * time.Minute

func backupCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse backup", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "backup",
		ShortUsage: "caisse backup FILE",
		ShortHelp:  "write a consistent snapshot of the node's ledger to FILE, while it runs",
		LongHelp: "Writes every signed entry and fork proof the node holds, as they stood at one\n" +
			"instant, in caisse's portable backup format (versioned, with a checksum), then\n" +
			"reads the file back and verifies every signature and the checksum. The file\n" +
			"appears whole or not at all, readable by its owner only.\n\n" +
			"The backup holds no key and no member name: it holds what the federation\n" +
			"replicates anyway. Keep node.key, pseudonym.key and register.json apart, once,\n" +
			"somewhere safe: node.key is the collective's identity.\n\n" +
			"Restore on a stopped node, into an empty data directory holding node.key:\n" +
			"caissed restore-backup FILE.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the file to write the backup to")
			if err != nil {
				return err
			}
			path := args[0]
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, max(g.timeout, maxBackupTime))
			defer cancel()
			stream, err := c.Backup(ctx, &rpcv1.BackupRequest{})
			if err != nil {
				return g.streamErr(err)
			}
			n, err := writeExport(path, backupChunks{stream})
			if err != nil {
				return g.streamErr(err)
			}
			head, entries, forks, err := checkBackup(path)
			if err != nil {
				os.Remove(path)
				return fmt.Errorf("the backup written to %s does not read back: %w (removed)", path, err)
			}
			if g.json {
				return g.printJSON(backupResultJSON{Output: path, Bytes: n, Entries: entries, Forks: forks,
					FederationID: head.Federation.String(), StateHash: head.State.String()})
			}
			fmt.Fprintf(g.stdout, "wrote %s (%d bytes): %d entries, %d fork proofs, state %s\n", path, n, entries, forks, head.State.Short())
			return nil
		},
	}
}

// backupChunks lets writeExport read the Backup stream.
type backupChunks struct {
	s interface {
		Recv() (*rpcv1.BackupChunk, error)
	}
}

func (b backupChunks) Recv() (*rpcv1.ExportChunk, error) {
	c, err := b.s.Recv()
	if err != nil {
		return nil, err
	}
	return &rpcv1.ExportChunk{Data: c.GetData()}, nil
}

// checkBackup reads a backup file through, verifying it.
func checkBackup(path string) (backup.Header, uint64, uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return backup.Header{}, 0, 0, err
	}
	defer f.Close()
	r, err := backup.NewReader(f)
	if err != nil {
		return backup.Header{}, 0, 0, err
	}
	var entries, forks uint64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Header(), entries, forks, nil
		}
		if err != nil {
			return r.Header(), entries, forks, err
		}
		if rec.IsFork() {
			forks++
		} else {
			entries++
		}
	}
}
