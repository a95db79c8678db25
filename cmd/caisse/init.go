package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func initCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse init", flag.ContinueOnError)
	req := &rpcv1.InitRequest{}
	fs.StringVar(&req.FederationName, "federation", "", "public name of the new federation")
	fs.StringVar(&req.Name, "name", "", "this collective's public name (default: the node's configured name)")
	fs.StringVar(&req.Currency, "currency", "EUR", "ISO 4217 currency code")
	exponent := fs.Uint("exponent", 2, "digits of the currency's minor unit")
	return &ffcli.Command{
		Name:       "init",
		ShortUsage: "caisse init --federation NAME [--name COLLECTIVE] [--currency EUR] [--exponent 2]",
		ShortHelp:  "found a new federation on a node that has none",
		LongHelp: "Signs the charter of a new federation, with this node as its founding member and\n" +
			"the default rules. Needs a node started with --found=false (caissed founds a\n" +
			"one-member federation by itself otherwise).",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			if req.FederationName == "" {
				return fmt.Errorf("give --federation, the new federation's name")
			}
			req.Exponent = uint32(*exponent)
			resp, err := call(ctx, g, rpcv1.OperatorClient.Init, req)
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(struct {
					FederationID string `json:"federation_id"`
					Genesis      string `json:"genesis_hash"`
				}{resp.GetFederationId(), resp.GetGenesis().GetHash()})
			}
			fmt.Fprintf(g.stdout, "founded federation %q: id %s\n", req.FederationName, resp.GetFederationId())
			return nil
		},
	}
}
