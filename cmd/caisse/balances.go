package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

type BalanceJSON struct {
	Contributed int64 `json:"contributed"`
	Disbursed   int64 `json:"disbursed"`
	Balance     int64 `json:"balance"`
}

type categoryJSON struct {
	Direction string `json:"direction"`
	Category  string `json:"category"`
	Amount    int64  `json:"amount"`
}

type periodJSON struct {
	Period string `json:"period"`
	BalanceJSON
}

type caisseJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	BalanceJSON
	Categories []categoryJSON `json:"categories"`
	Periods    []periodJSON   `json:"periods"`
	// Over all periods only: settlements paid, settlements received and
	// acknowledged, and the funds after them.
	SettledOut int64  `json:"settled_out,omitempty"`
	SettledIn  int64  `json:"settled_in,omitempty"`
	Funds      *int64 `json:"funds,omitempty"`
}

type balancesJSON struct {
	Currency  string       `json:"currency"`
	Exponent  uint32       `json:"exponent"`
	Period    string       `json:"period,omitempty"`
	Caisses   []caisseJSON `json:"caisses"`
	Total     BalanceJSON  `json:"total"`
	StateHash string       `json:"state_hash"`
}

func toBalanceJSON(b *rpcv1.Balance) BalanceJSON {
	return BalanceJSON{Contributed: b.GetContributed(), Disbursed: b.GetDisbursed(), Balance: b.GetBalance()}
}

func balancesCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse balances", flag.ContinueOnError)
	period := fs.String("period", "", `only this period, "YYYY-MM"`)
	return &ffcli.Command{
		Name:       "balances",
		ShortUsage: "caisse balances [--period 2026-11] [--json]",
		ShortHelp:  "balances per caisse, per category and per period",
		LongHelp:   "Amounts in --json are integers in the currency's minor unit (cents).",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Balances, &rpcv1.BalancesRequest{Period: *period})
			if err != nil {
				return err
			}
			cur := resp.GetCurrency()
			if g.json {
				out := balancesJSON{Currency: cur.GetCode(), Exponent: cur.GetExponent(), Period: *period,
					Caisses: []caisseJSON{}, Total: toBalanceJSON(resp.GetTotal()), StateHash: resp.GetStateHash()}
				for _, c := range resp.GetCaisses() {
					cj := caisseJSON{ID: c.GetId(), Name: c.GetName(), BalanceJSON: toBalanceJSON(c.GetTotal()),
						Categories: []categoryJSON{}, Periods: []periodJSON{}, SettledOut: c.GetSettledOut(), SettledIn: c.GetSettledIn()}
					if *period == "" {
						f := c.GetFunds()
						cj.Funds = &f
					}
					for _, cat := range c.GetCategories() {
						cj.Categories = append(cj.Categories, categoryJSON{cat.GetDirection(), cat.GetCategory(), cat.GetAmount()})
					}
					for _, p := range c.GetPeriods() {
						cj.Periods = append(cj.Periods, periodJSON{p.GetPeriod(), toBalanceJSON(p.GetBalance())})
					}
					out.Caisses = append(out.Caisses, cj)
				}
				return g.printJSON(out)
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
			m := func(v int64) string { return money(v, cur) }
			for _, c := range resp.GetCaisses() {
				t := c.GetTotal()
				fmt.Fprintf(g.stdout, "%s (%s…)\n", c.GetName(), c.GetId()[:12])
				fmt.Fprintf(tw, "\tin %s\tout %s\tbalance %s\t\n", m(t.GetContributed()), m(t.GetDisbursed()), m(t.GetBalance()))
				if c.GetSettledOut() != 0 || c.GetSettledIn() != 0 {
					fmt.Fprintf(tw, "\tsettled out %s\tin %s\tfunds %s\t\n", m(c.GetSettledOut()), m(c.GetSettledIn()), m(c.GetFunds()))
				}
				for _, cat := range c.GetCategories() {
					fmt.Fprintf(tw, "\t%s\t%s\t%s\t\n", cat.GetDirection(), cat.GetCategory(), m(cat.GetAmount()))
				}
				for _, p := range c.GetPeriods() {
					b := p.GetBalance()
					fmt.Fprintf(tw, "\t%s\tin %s\tout %s\tbalance %s\t\n", p.GetPeriod(), m(b.GetContributed()), m(b.GetDisbursed()), m(b.GetBalance()))
				}
				tw.Flush()
			}
			t := resp.GetTotal()
			fmt.Fprintf(g.stdout, "total: in %s, out %s, balance %s %s\n", m(t.GetContributed()), m(t.GetDisbursed()), m(t.GetBalance()), cur.GetCode())
			return nil
		},
	}
}
