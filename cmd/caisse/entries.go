package main

import (
	"context"
	"flag"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func entriesCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse entries", flag.ContinueOnError)
	author := fs.String("author", "", "author key (hex) of the log to list; default this node's")
	from := fs.Uint64("from", 1, "first seq to list")
	limit := fs.Uint("limit", 0, "list at most this many entries (default all)")
	return &ffcli.Command{
		Name:       "entries",
		ShortUsage: "caisse entries [--author KEY] [--from SEQ] [--limit N] [--json]",
		ShortHelp:  "list a log's entries in order",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			cur, err := g.currency(ctx)
			if err != nil {
				return err
			}
			var views []*rpcv1.EntryView
			next := *from
			for next != 0 && (*limit == 0 || uint(len(views)) < *limit) {
				page := uint32(1000)
				if *limit != 0 {
					page = uint32(min(uint(page), *limit-uint(len(views))))
				}
				resp, err := call(ctx, g, rpcv1.OperatorClient.ListEntries,
					&rpcv1.ListEntriesRequest{Author: *author, FromSeq: next, Limit: page})
				if err != nil {
					return err
				}
				views = append(views, resp.GetEntries()...)
				next = resp.GetNextSeq()
			}
			if g.json {
				out := struct {
					Entries []entryJSON `json:"entries"`
					NextSeq uint64      `json:"next_seq,omitempty"`
				}{Entries: []entryJSON{}, NextSeq: next}
				for _, v := range views {
					out.Entries = append(out.Entries, toEntryJSON(v, cur))
				}
				return g.printJSON(out)
			}
			printEntries(g.stdout, views, cur)
			return nil
		},
	}
}
