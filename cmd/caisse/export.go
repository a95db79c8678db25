package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/peterbourgon/ff/v3/ffcli"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

type exportResultJSON struct {
	Output string `json:"output"`
	Format string `json:"format"`
	Bytes  int64  `json:"bytes"`
}

func exportCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse export", flag.ContinueOnError)
	format := fs.String("format", "csv", "csv, json (JSON Lines), hledger or beancount")
	period := fs.String("period", "", `only this period, "YYYY-MM"`)
	caisse := fs.String("caisse", "", "only this caisse: its node id (or its first block) or its hex key")
	output := fs.String("output", "", "write to this file instead of standard output")
	return &ffcli.Command{
		Name:       "export",
		ShortUsage: "caisse export [--format csv|json|hledger|beancount] [--period 2026-11] [--caisse NODE] [--output FILE]",
		ShortHelp:  "export the accounts for a spreadsheet, an auditor or an accounting tool",
		LongHelp: "Writes the contributions, disbursements and corrections that count in the\n" +
			"balances, one per row or transaction, by caisse then seq, each with its entry\n" +
			"id and signer. Amounts are signed for the caisse (in positive, out negative),\n" +
			"exact, in major units. Members appear as pseudonyms only, never by name.\n\n" +
			"  csv        a header line, then one record per entry\n" +
			"  json       JSON Lines: one object per entry, amount_minor in minor units\n" +
			"  hledger    a journal: hledger -f FILE balance\n" +
			"  beancount  a ledger: bean-check FILE\n\n" +
			"With --output, the file appears whole or not at all, readable by its owner only.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(ctx, g.timeout)
			defer cancel()
			stream, err := c.Export(ctx, &rpcv1.ExportRequest{Format: *format, Period: *period, Caisse: *caisse})
			if err != nil {
				return g.streamErr(err)
			}
			if *output == "" {
				_, err := copyStream(g.stdout, stream)
				return g.streamErr(err)
			}
			n, err := writeExport(*output, stream)
			if err != nil {
				return g.streamErr(err)
			}
			if g.json {
				return g.printJSON(exportResultJSON{Output: *output, Format: strings.ToLower(strings.TrimSpace(*format)), Bytes: n})
			}
			fmt.Fprintf(g.stdout, "wrote %s (%d bytes)\n", *output, n)
			return nil
		},
	}
}

// chunks is what copyStream reads: the Export stream.
type chunks interface {
	Recv() (*rpcv1.ExportChunk, error)
}

// copyStream writes the chunks to w until the stream ends.
func copyStream(w io.Writer, s chunks) (int64, error) {
	var n int64
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		k, err := w.Write(c.GetData())
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
}

// writeExport writes the stream to a temporary file beside path and
// renames it to path once the stream has ended well: a failed export
// leaves no partial file behind.
func writeExport(path string, s chunks) (int64, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return 0, err
	}
	n, err := copyStream(f, s)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return 0, err
	}
	return n, nil
}

// streamErr turns an error of the Export stream into one clear line, as
// call does for the other commands.
func (g *globals) streamErr(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if st.Code() == codes.Unavailable && (strings.Contains(st.Message(), "connection error") || strings.Contains(st.Message(), "dial")) {
		return fmt.Errorf("the node at %s does not answer: is caissed running? (%s)", g.socketPath(), st.Message())
	}
	return errors.New(st.Message())
}
