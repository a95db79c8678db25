package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/peterbourgon/ff/v3/ffcli"

	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

func federationCmd(g *globals) *ffcli.Command {
	return &ffcli.Command{
		Name:       "federation",
		ShortUsage: "caisse federation <invite|join|admit|exclude|members|form> [flags]",
		ShortHelp:  "invite, join, admit and exclude collectives",
		FlagSet:    flag.NewFlagSet("caisse federation", flag.ContinueOnError),
		Subcommands: []*ffcli.Command{
			inviteCmd(g), joinCmd(g), proposeCmd(g, "admit"), proposeCmd(g, "exclude"), membersCmd(g), formCmd(g),
		},
		Exec: func(context.Context, []string) error { return flag.ErrHelp },
	}
}

func inviteCmd(g *globals) *ffcli.Command {
	return &ffcli.Command{
		Name:       "invite",
		ShortUsage: "caisse federation invite [--json]",
		ShortHelp:  "print a join token for a new collective",
		LongHelp: "The token carries the federation id, the gossip key, addresses of this node and\n" +
			"its id. Give it to the new collective by a safe channel: it holds the gossip key.",
		FlagSet: flag.NewFlagSet("caisse federation invite", flag.ContinueOnError),
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Invite, &rpcv1.InviteRequest{})
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(struct {
					Token        string   `json:"token"`
					FederationID string   `json:"federation_id"`
					InviterID    string   `json:"inviter_id"`
					InviterAddr  string   `json:"inviter_addr"`
					GossipSeeds  []string `json:"gossip_seeds"`
				}{resp.GetToken(), resp.GetFederationId(), resp.GetInviterId(), resp.GetInviterAddr(), resp.GetGossipSeeds()})
			}
			fmt.Fprintln(g.stdout, resp.GetToken())
			fmt.Fprintf(g.stderr, "\nOn the new collective's node (started with --found=false):\n  caisse federation join %s...\nThen admit it here: caisse federation admit <its node id>\n", resp.GetToken()[:24])
			return nil
		},
	}
}

func joinCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse federation join", flag.ContinueOnError)
	name := fs.String("name", "", "this collective's public name (default: the node's configured name)")
	note := fs.String("note", "", "a word to the members, public")
	return &ffcli.Command{
		Name:       "join",
		ShortUsage: "caisse federation join [--name NAME] [--note TEXT] TOKEN",
		ShortHelp:  "apply to join the federation of a join token",
		LongHelp: "Signs an application with this node's key and sends it to the inviting node.\n" +
			"The members then decide; this node syncs the federation meanwhile.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positionalN(fs, args, 1, "give the join token (caisse federation invite prints one)")
			if err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Join, &rpcv1.JoinRequest{Token: args[0], Name: *name, Note: *note})
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(struct {
					FederationID string `json:"federation_id"`
					Application  string `json:"application_hash"`
				}{resp.GetFederationId(), resp.GetApplication().GetHash()})
			}
			fmt.Fprintf(g.stdout, "applied to federation %s; the members now decide (caisse federation members shows it)\n", resp.GetFederationId())
			return nil
		},
	}
}

func proposeCmd(g *globals, action string) *ffcli.Command {
	fs := flag.NewFlagSet("caisse federation "+action, flag.ContinueOnError)
	note := fs.String("note", "", "why, public")
	vote := fs.String("vote", "yes", "this node's own vote: yes, no, abstain, or none")
	return &ffcli.Command{
		Name:       action,
		ShortUsage: fmt.Sprintf("caisse federation %s [--note TEXT] [--vote yes] NODE", action),
		ShortHelp:  fmt.Sprintf("propose to %s a collective, and vote", action),
		LongHelp:   "NODE is the collective's node id (or its short form, or its hex key).",
		FlagSet:    fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positional(fs, args)
			if err != nil {
				return err
			}
			if len(args) != 1 {
				return fmt.Errorf("give the node id of the collective to %s", action)
			}
			v := *vote
			if v == "none" {
				v = ""
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Propose, &rpcv1.ProposeRequest{Action: action, Node: args[0], Note: *note, Vote: v})
			if err != nil {
				return err
			}
			return printProposed(g, resp)
		},
	}
}

func membersCmd(g *globals) *ffcli.Command {
	return &ffcli.Command{
		Name:       "members",
		ShortUsage: "caisse federation members [--json]",
		ShortHelp:  "members, applicants, proposals and forks",
		FlagSet:    flag.NewFlagSet("caisse federation members", flag.ContinueOnError),
		Exec: func(ctx context.Context, args []string) error {
			if err := noArgs(args); err != nil {
				return err
			}
			resp, err := call(ctx, g, rpcv1.OperatorClient.Members, &rpcv1.MembersRequest{})
			if err != nil {
				return err
			}
			if g.json {
				return g.printJSON(membersJSON(resp))
			}
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tENTRIES\tFORK")
			for _, m := range resp.GetMembers() {
				fork := ""
				if m.GetForkSeq() != 0 {
					fork = fmt.Sprintf("forked at %d", m.GetForkSeq())
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", m.GetId(), m.GetName(), m.GetStatus(), m.GetSeq(), fork)
			}
			tw.Flush()
			if len(resp.GetProposals()) > 0 {
				fmt.Fprintln(g.stdout)
				fmt.Fprintln(tw, "PROPOSAL\tACTION\tTARGET\tSTATUS\tYES\tNO\tABSTAIN\tELIGIBLE")
				for _, p := range resp.GetProposals() {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\n", p.GetHash()[:12], p.GetAction(), p.GetTargetName(),
						p.GetStatus(), p.GetYes(), p.GetNo(), p.GetAbstain(), p.GetEligible())
				}
				tw.Flush()
			}
			for _, f := range resp.GetForks() {
				fmt.Fprintf(g.stdout, "FORK: %s signed two entries at seq %d (%s, %s)\n", f.GetAuthor(), f.GetSeq(), f.GetFirst()[:12], f.GetSecond()[:12])
			}
			return nil
		},
	}
}

type memberJSON struct {
	ID      string `json:"id"`
	Key     string `json:"key"`
	Name    string `json:"name"`
	Status  string `json:"status"`
	Founder bool   `json:"founder"`
	ForkSeq uint64 `json:"fork_seq,omitempty"`
	Seq     uint64 `json:"seq"`
}

type proposalJSON struct {
	Hash       string `json:"hash"`
	Author     string `json:"author"`
	Action     string `json:"action"`
	Target     string `json:"target"`
	TargetName string `json:"target_name"`
	Note       string `json:"note,omitempty"`
	Status     string `json:"status"`
	Yes        uint32 `json:"yes"`
	No         uint32 `json:"no"`
	Abstain    uint32 `json:"abstain"`
	Eligible   uint32 `json:"eligible"`
}

type forkJSON struct {
	Author string `json:"author"`
	Seq    uint64 `json:"seq"`
	First  string `json:"first"`
	Second string `json:"second"`
}

func membersJSON(r *rpcv1.MembersResponse) any {
	out := struct {
		Members   []memberJSON   `json:"members"`
		Proposals []proposalJSON `json:"proposals"`
		Forks     []forkJSON     `json:"forks"`
	}{[]memberJSON{}, []proposalJSON{}, []forkJSON{}}
	for _, m := range r.GetMembers() {
		out.Members = append(out.Members, memberJSON{m.GetId(), m.GetKey(), m.GetName(), m.GetStatus(), m.GetFounder(), m.GetForkSeq(), m.GetSeq()})
	}
	for _, p := range r.GetProposals() {
		out.Proposals = append(out.Proposals, proposalJSON{p.GetHash(), p.GetAuthor(), p.GetAction(), p.GetTarget(), p.GetTargetName(),
			p.GetNote(), p.GetStatus(), p.GetYes(), p.GetNo(), p.GetAbstain(), p.GetEligible()})
	}
	for _, f := range r.GetForks() {
		out.Forks = append(out.Forks, forkJSON{f.GetAuthor(), f.GetSeq(), f.GetFirst(), f.GetSecond()})
	}
	return out
}
