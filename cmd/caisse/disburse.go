package main

import (
	"context"

	"github.com/peterbourgon/ff/v3/ffcli"

	"github.com/caisse-coop/caisse/ledger"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func disburseCmd(g *globals) *ffcli.Command {
	return movementCmd(g, movementSpec{
		name:       "disburse",
		who:        "to",
		categories: ledger.DisbursementCategories(),
		shortUsage: `caisse disburse --to NAME --amount 12.50 --period 2026-11 --category strike [--note TEXT]`,
		shortHelp:  "record money paid out of the caisse",
		longHelp: "Records a disbursement, signed by this node. The beneficiary's name and e-mail\n" +
			"stay in this node's local register; the federation sees a keyed pseudonym only.",
		send: func(ctx context.Context, m *movementFlags) (*rpcv1.RecordResponse, error) {
			return call(ctx, g, rpcv1.OperatorClient.Disburse, &rpcv1.DisburseRequest{
				Beneficiary: m.ref(), Amount: m.amount, Period: m.period, Category: m.category, Note: m.note,
			})
		},
	})
}
