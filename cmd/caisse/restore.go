package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func restoreCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse restore", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "restore",
		ShortUsage: "caisse restore TOKEN",
		ShortHelp:  "rebuild a lost node's ledger from the federation, with only its key",
		LongHelp: "Start caissed --found=false on a data directory holding only the collective's\n" +
			"node.key, then give it a join token from any member (caisse federation invite).\n" +
			"The node pulls every log, its own included, and refuses to record anything\n" +
			"until its peers have told it where its own log stands. Member names are not\n" +
			"restored: they never left the lost node (keep backups of register.json and\n" +
			"pseudonym.key).",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give a join token (caisse federation invite prints one on any member)")
			if err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Join, &rpcv1.JoinRequest{Token: args[0], Restore: true})
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(struct {
					FederationID string `json:"federation_id"`
				}{resp.GetFederationId()})
			}
			fmt.Fprintf(g.stdout, "restoring from federation %s: caisse status shows the progress\n", resp.GetFederationId())
			return nil
		},
	}
}
