package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func verifyCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse verify", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "verify",
		ShortUsage: "caisse verify [--json]",
		ShortHelp:  "re-verify every signature and chain in the store",
		LongHelp: "Re-reads every stored entry, verifies its signature over its stored bytes and\n" +
			"its place in its author's hash chain, rebuilds the federation state from\n" +
			"scratch and compares it with the live one. Exits 1 if anything is wrong.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Verify, &rpcv1.VerifyRequest{})
			if err != nil {
				return err
			}
			if g.json {
				problems := resp.GetProblems()
				if problems == nil {
					problems = []string{}
				}
				if err := g.printJSON(struct {
					OK        bool     `json:"ok"`
					Entries   uint64   `json:"entries"`
					Authors   uint32   `json:"authors"`
					Problems  []string `json:"problems"`
					StateHash string   `json:"state_hash"`
				}{resp.GetOk(), resp.GetEntries(), resp.GetAuthors(), problems, resp.GetStateHash()}); err != nil {
					return err
				}
			} else {
				for _, p := range resp.GetProblems() {
					fmt.Fprintln(g.stdout, "problem:", p)
				}
				verdict := "ok"
				if !resp.GetOk() {
					verdict = fmt.Sprintf("%d problems", len(resp.GetProblems()))
				}
				fmt.Fprintf(g.stdout, "verified %d entries of %d logs: %s (state %s)\n",
					resp.GetEntries(), resp.GetAuthors(), verdict, resp.GetStateHash())
			}
			if !resp.GetOk() {
				return errSilent
			}
			return nil
		},
	}
}
