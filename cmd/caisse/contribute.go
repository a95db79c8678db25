package main

import (
	"context"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func contributeCmd(g *globals) *ffcli.Command {
	return movementCmd(g, movementSpec{
		name:       "contribute",
		who:        "member",
		categories: ledger.ContributionCategories(),
		category:   "dues",
		shortUsage: `caisse contribute --member NAME --amount 12.50 --period 2026-11 [--category dues] [--note TEXT]`,
		shortHelp:  "record money paid into the caisse",
		longHelp: "Records a contribution, signed by this node. The member's name and e-mail stay\n" +
			"in this node's local register; the federation sees a keyed pseudonym only.",
		send: func(ctx context.Context, m *movementFlags) (*rpcv1.RecordResponse, error) {
			return call(ctx, g, rpcv1.OperatorClient.Contribute, &rpcv1.ContributeRequest{
				Member: m.ref(), Amount: m.amount, Period: m.period, Category: m.category, Note: m.note,
			})
		},
	})
}
