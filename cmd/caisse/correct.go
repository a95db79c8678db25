package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func correctCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse correct", flag.ContinueOnError)
	seq := fs.Uint64("seq", 0, "seq of the entry to reverse (see caisse entries)")
	reason := fs.String("reason", "", "why, visible to the whole federation: no names")
	return &ffcli.Command{
		Name:       "correct",
		ShortUsage: `caisse correct --seq N --reason "typed 120.00 for 12.00"`,
		ShortHelp:  "reverse one earlier contribution or disbursement",
		LongHelp: "Entries are never edited or deleted: a correction is a new entry that reverses\n" +
			"an earlier one of this node's log. Record the right amount afterwards.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if *seq == 0 || *reason == "" {
				return fmt.Errorf("give --seq and --reason")
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Correct, &rpcv1.CorrectRequest{Seq: *seq, Reason: *reason})
			if err != nil {
				return err
			}
			return printRecorded(ctx, g, resp)
		},
	}
}
