package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func settleCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse settle", flag.ContinueOnError)
	to := fs.String("to", "", "node id of the caisse paid")
	amount := fs.String("amount", "", "amount paid, such as 277.64")
	ref := fs.String("reference", "", "the payment's reference (a bank transfer's), public")
	return &ffcli.Command{
		Name:       "settle",
		ShortUsage: "caisse settle PERIOD --to NODE --amount AMOUNT [--reference REF]",
		ShortHelp:  "record that this caisse paid a transfer of a period's settlement plan",
		LongHelp: "The period must be final, the plan must ask this caisse to pay that caisse,\n" +
			"and the amount must not pass what is left to pay. The payee acknowledges the\n" +
			"payment with caisse ack once the money has arrived.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the period settled, as 2026-11")
			if err != nil {
				return err
			}
			if *to == "" || *amount == "" {
				return fmt.Errorf("give the caisse paid (--to) and the amount (--amount)")
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Settle, &rpcv1.SettleRequest{Period: args[0], Payee: *to, Amount: *amount, Reference: *ref})
			if err != nil {
				return err
			}
			return printRecorded(ctx, g, resp)
		},
	}
}

func ackCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse ack", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "ack",
		ShortUsage: "caisse ack SETTLEMENT",
		ShortHelp:  "acknowledge a settlement paid to this caisse",
		LongHelp:   "SETTLEMENT is the hash of the settlement's entry, or its first 12 characters\n(caisse settlements PERIOD lists them).",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the settlement's hash")
			if err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Ack, &rpcv1.AckRequest{Settlement: args[0]})
			if err != nil {
				return err
			}
			return printRecorded(ctx, g, resp)
		},
	}
}

func settlementsCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse settlements", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "settlements",
		ShortUsage: "caisse settlements PERIOD [--json]",
		ShortHelp:  "a period's settlement plan: owed, paid, acknowledged, late",
		LongHelp: "A transfer is late when it is not paid in full once the month after the month\n" +
			"following the period has begun. Amounts in --json are integers in minor units.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the period, as 2026-11")
			if err != nil {
				return err
			}
			r, err := call(ctx, g, rpcv1.OperatorClient.Settlements, &rpcv1.SettlementsRequest{Period: args[0]})
			if err != nil {
				return err
			}
			if g.json {
				return g.printProto(r)
			}
			cur := r.GetCurrency()
			state := "final"
			if !r.GetFinal() {
				state = "provisional: the plan may still change"
			}
			fmt.Fprintf(g.stdout, "settlement plan of %s, %s\n", r.GetPeriod(), state)
			printTransfers(g, r.GetTransfers(), cur)
			if len(r.GetSettlements()) > 0 {
				fmt.Fprintln(g.stdout, "\nsettlements recorded:")
			}
			for _, s := range r.GetSettlements() {
				acked := "not acknowledged"
				if s.GetAcknowledged() {
					acked = "acknowledged"
				}
				fmt.Fprintf(g.stdout, "  %s  %s paid %s %s %s (%s) %s\n", short(s.GetHash()), s.GetFromName(), s.GetToName(),
					money(s.GetAmount(), cur), cur.GetCode(), s.GetReference(), acked)
			}
			return nil
		},
	}
}

// printTransfers prints a settlement plan with where each transfer stands.
func printTransfers(g *globals, ts []*rpcv1.TransferView, cur *rpcv1.Currency) {
	for _, t := range ts {
		state := ""
		switch {
		case t.GetAcknowledged() >= t.GetAmount():
			state = "paid, acknowledged"
		case t.GetPaid() >= t.GetAmount():
			state = "paid, not acknowledged yet"
		case t.GetPaid() > 0:
			state = fmt.Sprintf("%s paid", money(t.GetPaid(), cur))
		default:
			state = "owed"
		}
		if t.GetLate() {
			state += ", LATE"
		}
		fmt.Fprintf(g.stdout, "  %s pays %s %s %s: %s\n", t.GetFromName(), t.GetToName(), money(t.GetAmount(), cur), cur.GetCode(), state)
	}
}
