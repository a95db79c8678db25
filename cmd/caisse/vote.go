package main

import (
	"context"
	"flag"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func voteCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse vote", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "vote",
		ShortUsage: "caisse vote PROPOSAL yes|no|abstain",
		ShortHelp:  "vote on a proposal (caisse federation members lists them)",
		LongHelp:   "PROPOSAL is the hash of the proposal's entry, or its first 12 characters.",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 2, "give the proposal and yes, no or abstain")
			if err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Vote, &rpcv1.VoteRequest{Proposal: args[0], Choice: args[1]})
			if err != nil {
				return err
			}
			return printRecorded(ctx, g, resp)
		},
	}
}
