package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

type shareJSON struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Due    int64  `json:"due"`
	Need   int64  `json:"need"`
	Share  int64  `json:"share"`
	Net    int64  `json:"net"`
	Closed bool   `json:"closed"`
}

type transferJSON struct {
	From     string `json:"from"`
	FromName string `json:"from_name"`
	To       string `json:"to"`
	ToName   string `json:"to_name"`
	Amount   int64  `json:"amount"`
	// Paid and Acknowledged sum the settlements recorded for the
	// transfer; Late: not paid in full in time.
	Paid         int64 `json:"paid"`
	Acknowledged int64 `json:"acknowledged"`
	Late         bool  `json:"late"`
}

func redistributionCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse redistribution", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "redistribution",
		ShortUsage: "caisse redistribution PERIOD [--json]",
		ShortHelp:  "the federal redistribution of a period and who pays whom",
		LongHelp: "Per caisse: what it owes the pool (due), its declared need, its share and its\n" +
			"net position; then the settlement plan. Provisional until every caisse closed\n" +
			"the period. Amounts in --json are integers in minor units.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the period, as 2026-11")
			if err != nil {
				return err
			}
			r, err := call(ctx, g, rpcv1.OperatorClient.Redistribution, &rpcv1.RedistributionRequest{Period: args[0]})
			if err != nil {
				return err
			}
			if g.json {
				out := struct {
					Period     string         `json:"period"`
					Final      bool           `json:"final"`
					WaitingFor []string       `json:"waiting_for"`
					Currency   string         `json:"currency"`
					Exponent   uint32         `json:"exponent"`
					Pool       int64          `json:"pool"`
					Reserve    int64          `json:"reserve"`
					Caisses    []shareJSON    `json:"caisses"`
					Transfers  []transferJSON `json:"transfers"`
				}{r.GetPeriod(), r.GetFinal(), append([]string{}, r.GetWaitingFor()...), r.GetCurrency().GetCode(), r.GetCurrency().GetExponent(),
					r.GetPool(), r.GetReserve(), []shareJSON{}, []transferJSON{}}
				for _, c := range r.GetCaisses() {
					out.Caisses = append(out.Caisses, shareJSON{c.GetId(), c.GetName(), c.GetDue(), c.GetNeed(), c.GetShare(), c.GetNet(), c.GetClosed()})
				}
				for _, t := range r.GetTransfers() {
					out.Transfers = append(out.Transfers, transferJSON{t.GetFrom(), t.GetFromName(), t.GetTo(), t.GetToName(), t.GetAmount(),
						t.GetPaid(), t.GetAcknowledged(), t.GetLate()})
				}
				return g.printJSON(out)
			}
			cur := r.GetCurrency()
			m := func(v int64) string { return money(v, cur) }
			state := "FINAL"
			if !r.GetFinal() {
				state = fmt.Sprintf("PROVISIONAL: waiting for %d caisse(s) to close the period", len(r.GetWaitingFor()))
			}
			fmt.Fprintf(g.stdout, "redistribution of %s, %s\npool %s %s, reserve %s\n\n", r.GetPeriod(), state, m(r.GetPool()), cur.GetCode(), m(r.GetReserve()))
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "CAISSE\tDUE\tNEED\tSHARE\tNET\t")
			for _, c := range r.GetCaisses() {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t\n", c.GetName(), m(c.GetDue()), m(c.GetNeed()), m(c.GetShare()), m(c.GetNet()))
			}
			tw.Flush()
			if len(r.GetTransfers()) > 0 {
				fmt.Fprintln(g.stdout, "\nsettlement plan:")
			}
			printTransfers(g, r.GetTransfers(), cur)
			return nil
		},
	}
}
