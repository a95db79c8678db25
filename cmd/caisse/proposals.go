package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func proposalsCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse proposals", flag.ContinueOnError)
	open := fs.Bool("open", false, "only the proposals still open")
	return &ffcli.Command{
		Name:       "proposals",
		ShortUsage: "caisse proposals [--open] [--json]",
		ShortHelp:  "proposals with their counts, by caisses and by members represented",
		LongHelp: "Each caisse's vote weighs, in the second count, the member count of its latest\n" +
			"period close before the proposal. A proposal is adopted once both counts reach\n" +
			"quorum and majority; rejected once they no longer can: at the latest when every\n" +
			"member voted or closed the proposal's deadline period.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			r, err := call(ctx, g, rpcv1.OperatorClient.Proposals, &rpcv1.ProposalsRequest{Open: *open})
			if err != nil {
				return err
			}
			if g.json {
				return g.printProto(r)
			}
			if len(r.GetProposals()) == 0 {
				fmt.Fprintln(g.stdout, "no proposals")
				return nil
			}
			for _, p := range r.GetProposals() {
				fmt.Fprintf(g.stdout, "%s  %s  %s\n", short(p.GetHash()), p.GetStatus(), describeProposal(p))
				if p.GetStatus() == "void" {
					continue
				}
				tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
				fmt.Fprintln(tw, "\tYES\tNO\tABSTAIN\tOF\t")
				fmt.Fprintf(tw, "caisses\t%d\t%d\t%d\t%d\t\n", p.GetYes(), p.GetNo(), p.GetAbstain(), p.GetEligible())
				fmt.Fprintf(tw, "members\t%d\t%d\t%d\t%d\t\n", p.GetYesMembers(), p.GetNoMembers(), p.GetAbstainMembers(), p.GetEligibleMembers())
				tw.Flush()
				fmt.Fprintf(g.stdout, "  quorum %s, majority %s", bp(p.GetQuorumBp()), bp(p.GetMajorityBp()))
				if p.GetDeadline() != "" {
					fmt.Fprintf(g.stdout, "; deadline %s (%d closed it without voting)", p.GetDeadline(), p.GetClosed())
				}
				if p.GetDecided() != "" {
					fmt.Fprintf(g.stdout, "; decided %s", p.GetDecided())
				}
				fmt.Fprintln(g.stdout)
				for _, b := range p.GetBallots() {
					fmt.Fprintf(g.stdout, "  %s: %s\n", orID(b.GetVoterName(), b.GetVoter()), b.GetChoice())
				}
				if p.GetStatus() == "open" && len(p.GetNotVoted()) > 0 {
					fmt.Fprintf(g.stdout, "  not voted: %s", strings.Join(p.GetNotVoted(), ", "))
					if n := len(p.GetClosedWithout()); n > 0 {
						fmt.Fprintf(g.stdout, " (%d closed the deadline period and can no longer vote)", n)
					}
					fmt.Fprintln(g.stdout)
				}
				if p.GetAction() == "rules" {
					printRules(g, p.GetRules(), r.GetCurrency(), "  ")
				}
			}
			return nil
		},
	}
}

func orID(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

func describeProposal(p *rpcv1.ProposalView) string {
	target := p.GetTargetName()
	if target == "" {
		target = p.GetTarget()
	}
	switch p.GetAction() {
	case "rules":
		return fmt.Sprintf("new rules from %s", p.GetEffective())
	case "excuse":
		return fmt.Sprintf("excuse %s from closing %s", target, p.GetPeriod())
	}
	return fmt.Sprintf("%s %s", p.GetAction(), target)
}

// proposeGroupCmd gathers the proposals a member can put to the vote.
func proposeGroupCmd(g *globals) *ffcli.Command {
	return &ffcli.Command{
		Name:       "propose",
		ShortUsage: "caisse propose <rules|admit|exclude|excuse> [flags]",
		ShortHelp:  "put a rule change, an admission, an exclusion or an excuse to the vote",
		FlagSet:    flag.NewFlagSet("caisse propose", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{
			proposeRulesCmd(g), proposeCmd(g, "admit"), proposeCmd(g, "exclude"), proposeExcuseCmd(g),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
}

func proposeExcuseCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse propose excuse", flag.ContinueOnError)
	note := fs.String("note", "", "why, public")
	vote := fs.String("vote", "yes", "this node's own vote: yes, no, abstain, or none")
	deadline := fs.String("deadline", "", "period whose close ends a member's vote, YYYY-MM (optional)")
	return &ffcli.Command{
		Name:       "excuse",
		ShortUsage: "caisse propose excuse NODE PERIOD [--note TEXT] [--vote yes]",
		ShortHelp:  "propose to excuse a member from closing a period",
		LongHelp: "Once adopted, the period can be final without that member's close; the member\n" +
			"takes no part in the period's redistribution unless it closes it after all.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 2, "give the node id of the member and the period, as 2026-11")
			if err != nil {
				return err
			}
			v := *vote
			if v == "none" {
				v = ""
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Propose, &rpcv1.ProposeRequest{Action: "excuse", Node: args[0],
				Period: args[1], Deadline: *deadline, Note: *note, Vote: v})
			if err != nil {
				return err
			}
			return printProposed(g, resp)
		},
	}
}
