package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func periodCmd(g *globals) *ffcli.Command {
	return &ffcli.Command{
		Name:        "period",
		ShortUsage:  "caisse period <close|status> PERIOD [flags]",
		ShortHelp:   "close a period, or see who closed it",
		FlagSet:     flag.NewFlagSet("caisse period", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{periodCloseCmd(g), periodStatusCmd(g)},
		Exec:        func(context.Context, []string) error { return flag.ErrHelp },
	}
}

// needFlag is --need unit=units, repeatable or comma-separated.
type needFlag map[string]uint64

func (n needFlag) String() string { return fmt.Sprint(map[string]uint64(n)) }

func (n needFlag) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		unit, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		units, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if !ok || err != nil || strings.TrimSpace(unit) == "" {
			return fmt.Errorf("need %q: want unit=units, as strike_day=37", part)
		}
		n[strings.TrimSpace(unit)] += units
	}
	return nil
}

func periodCloseCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse period close", flag.ContinueOnError)
	members := fs.Uint64("members", 0, "members of the caisse in the period")
	need := needFlag{}
	fs.Var(need, "need", "declared need, unit=units (strike_day=37,legal_case=1); repeatable")
	return &ffcli.Command{
		Name:       "close",
		ShortUsage: "caisse period close PERIOD --members N [--need strike_day=37]",
		ShortHelp:  "close a period: sign its totals, member count and declared need",
		LongHelp: "The totals are computed from this caisse's entries. After the close, the caisse\n" +
			"records nothing more in the period: corrections go in a later one.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the period to close, as 2026-11")
			if err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.ClosePeriod, &rpcv1.ClosePeriodRequest{Period: args[0], Members: *members, Need: need})
			if err != nil {
				return err
			}
			return printRecorded(ctx, g, resp)
		},
	}
}

type periodCaisseJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Closed      bool   `json:"closed"`
	Excused     bool   `json:"excused"`
	Members     uint64 `json:"members"`
	Contributed int64  `json:"contributed"`
	Disbursed   int64  `json:"disbursed"`
}

func periodStatusCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse period status", flag.ContinueOnError)
	return &ffcli.Command{
		Name:       "status",
		ShortUsage: "caisse period status PERIOD [--json]",
		ShortHelp:  "who closed a period, and whether it is final",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the period, as 2026-11")
			if err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.PeriodStatus, &rpcv1.PeriodStatusRequest{Period: args[0]})
			if err != nil {
				return err
			}
			if g.json {
				out := struct {
					Period  string             `json:"period"`
					Final   bool               `json:"final"`
					Caisses []periodCaisseJSON `json:"caisses"`
				}{resp.GetPeriod(), resp.GetFinal(), []periodCaisseJSON{}}
				for _, c := range resp.GetCaisses() {
					out.Caisses = append(out.Caisses, periodCaisseJSON{c.GetId(), c.GetName(), c.GetClosed(), c.GetExcused(), c.GetMembers(), c.GetContributed(), c.GetDisbursed()})
				}
				return g.printJSON(out)
			}
			state := "provisional: not every caisse has closed it"
			if resp.GetFinal() {
				state = "final"
			}
			fmt.Fprintf(g.stdout, "period %s: %s\n", resp.GetPeriod(), state)
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CAISSE\tCLOSED\tMEMBERS")
			for _, c := range resp.GetCaisses() {
				closed := "no"
				switch {
				case c.GetClosed():
					closed = "yes"
				case c.GetExcused():
					closed = "excused"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\n", c.GetName(), closed, c.GetMembers())
			}
			return tw.Flush()
		},
	}
}
