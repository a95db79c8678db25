package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/peterbourgon/ff/v3/ffcli"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/caisse-coop/caisse/internal/datadir"
	rpcv1 "github.com/caisse-coop/caisse/proto/caisse/rpc/v1"
)

// formNode is one node that form brings into the federation.
type formNode struct {
	arg, socket string
	c           rpcv1.OperatorClient
	st          *rpcv1.StatusResponse
	outcome     string
}

// formJSON is what form --json prints.
type formJSON struct {
	FederationID string         `json:"federation_id"`
	Nodes        []formNodeJSON `json:"nodes"`
}

type formNodeJSON struct {
	Node    string `json:"node"` // the data directory or socket given
	ID      string `json:"id"`
	Name    string `json:"name"`
	Outcome string `json:"outcome"` // founder, admitted, member (already)
}

func formCmd(g *globals) *ffcli.Command {
	fs := flag.NewFlagSet("caisse federation form", flag.ContinueOnError)
	wait := fs.Duration("wait", 2*time.Minute, "how long to wait for each node to answer, and for each admission")
	return &ffcli.Command{
		Name:       "form",
		ShortUsage: "caisse federation form [--wait 2m] FOUNDER NODE...",
		ShortHelp:  "bring nodes whose sockets are all reachable from here into the founder's federation",
		LongHelp: "Each argument is a node's data directory, or its socket (a path ending in .sock).\n" +
			"The first node must have founded the federation; every other one, started with\n" +
			"--found=false, is invited by the founder, applies with the token, and is voted\n" +
			"in by the members, one after the other: invite, join, admit and vote, done for\n" +
			"nodes that run side by side (a compose file, a test bench). It waits for the\n" +
			"nodes to start answering, and a node already a member is left as it is, so it\n" +
			"can run again at every start. Collectives on separate machines use invite,\n" +
			"join and admit instead, handing the token over by a safe channel.",
		FlagSet: fs,
		Exec: func(ctx context.Context, args []string) error {
			args, err := positional(fs, args)
			if err != nil {
				return err
			}
			if len(args) < 2 {
				return fmt.Errorf("give the founder's data directory (or socket), then those of the nodes to admit")
			}
			if *wait <= 0 {
				return fmt.Errorf("--wait %v: want a positive duration", *wait)
			}
			nodes := make([]*formNode, len(args))
			for i, a := range args {
				sock := a
				if !strings.HasSuffix(a, ".sock") {
					sock = datadir.Socket(a)
				}
				conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
				if err != nil {
					return fmt.Errorf("%s: %w", a, err)
				}
				defer conn.Close()
				nodes[i] = &formNode{arg: a, socket: sock, c: rpcv1.NewOperatorClient(conn)}
			}
			fid, err := form(ctx, g, nodes, *wait)
			if err != nil {
				return err
			}
			if g.json {
				out := formJSON{FederationID: fid}
				for _, n := range nodes {
					out.Nodes = append(out.Nodes, formNodeJSON{n.arg, n.st.GetNodeId(), n.st.GetName(), n.outcome})
				}
				return g.printJSON(out)
			}
			for _, n := range nodes {
				fmt.Fprintf(g.stdout, "%s: %s (%s, %s)\n", n.arg, n.outcome, n.st.GetName(), n.st.GetNodeId())
			}
			return nil
		},
	}
}

// form waits for the founder, then admits the other nodes one by one.
func form(ctx context.Context, g *globals, nodes []*formNode, wait time.Duration) (string, error) {
	founder := nodes[0]
	err := waitUntil(ctx, wait, founder.arg+" founding a federation", func(ctx context.Context) (bool, error) {
		st, err := founder.c.Status(ctx, &rpcv1.StatusRequest{})
		if err != nil {
			return false, errors.New(status.Convert(err).Message())
		}
		founder.st = st
		if st.GetFounded() && !st.GetMember() {
			return false, errors.New("an applicant, not a member: give a member of the federation first")
		}
		return st.GetFounded(), errors.New("no federation yet: found one with caisse init, or start it with --found=true")
	})
	if err != nil {
		return "", err
	}
	fid := founder.st.GetFederationId()
	founder.outcome = "founder"
	members := []*formNode{founder}
	for _, n := range nodes[1:] {
		if err := formAdmit(ctx, g, fid, members, n, wait); err != nil {
			return "", fmt.Errorf("%s: %w", n.arg, err)
		}
		members = append(members, n)
	}
	return fid, nil
}

// formAdmit has n join the federation fid and the members vote it in,
// skipping what is already done.
func formAdmit(ctx context.Context, g *globals, fid string, members []*formNode, n *formNode, wait time.Duration) error {
	founder := members[0]
	err := waitUntil(ctx, wait, "the node answering", func(ctx context.Context) (bool, error) {
		st, err := n.c.Status(ctx, &rpcv1.StatusRequest{})
		if err != nil {
			return false, errors.New(status.Convert(err).Message())
		}
		n.st = st
		return true, nil
	})
	if err != nil {
		return err
	}
	st := n.st
	switch {
	case st.GetFounded() && st.GetFederationId() != fid:
		return fmt.Errorf("belongs to another federation (%s): start it with --found=false on an empty data directory", st.GetFederationId())
	case st.GetFounded() && st.GetMember():
		n.outcome = "member"
		return nil
	case !st.GetFounded() && st.GetSyncAddr() == "":
		cctx, cancel := context.WithTimeout(ctx, g.timeout)
		defer cancel()
		inv, err := founder.c.Invite(cctx, &rpcv1.InviteRequest{})
		if err != nil {
			return fmt.Errorf("invite on %s: %s", founder.arg, status.Convert(err).Message())
		}
		if _, err := n.c.Join(cctx, &rpcv1.JoinRequest{Token: inv.GetToken(), Note: "formed with caisse federation form"}); err != nil {
			return fmt.Errorf("join: %s", status.Convert(err).Message())
		}
	}
	key := st.GetNodeKey()
	var proposal string
	err = waitUntil(ctx, wait, "its application reaching "+founder.arg, func(ctx context.Context) (bool, error) {
		m, err := founder.c.Members(ctx, &rpcv1.MembersRequest{})
		if err != nil {
			return false, err
		}
		listed := false
		for _, x := range m.GetMembers() {
			listed = listed || x.GetKey() == key
		}
		for _, p := range m.GetProposals() {
			if p.GetAction() == "admit" && p.GetTarget() == key && p.GetStatus() == "open" {
				proposal = p.GetHash()
			}
		}
		return listed, errors.New("not listed as an applicant yet")
	})
	if err != nil {
		return err
	}
	if proposal == "" {
		cctx, cancel := context.WithTimeout(ctx, g.timeout)
		defer cancel()
		resp, err := founder.c.Propose(cctx, &rpcv1.ProposeRequest{Action: "admit", Node: key, Vote: "yes", Note: "formed with caisse federation form"})
		if err != nil {
			return fmt.Errorf("propose to admit on %s: %s", founder.arg, status.Convert(err).Message())
		}
		proposal = resp.GetEntry().GetHash()
	}
	voted := map[*formNode]bool{founder: true}
	err = waitUntil(ctx, wait, "its admission", func(ctx context.Context) (bool, error) {
		var errs []error
		for _, m := range members {
			if voted[m] {
				continue
			}
			// The proposal may not have reached m yet: try again next round.
			if _, err := m.c.Vote(ctx, &rpcv1.VoteRequest{Proposal: proposal, Choice: "yes"}); err != nil {
				errs = append(errs, fmt.Errorf("vote on %s: %s", m.arg, status.Convert(err).Message()))
			} else {
				voted[m] = true
			}
		}
		st, err := n.c.Status(ctx, &rpcv1.StatusRequest{})
		if err != nil {
			return false, err
		}
		n.st = st
		return st.GetMember(), errors.Join(append(errs, errors.New("not a member yet"))...)
	})
	if err != nil {
		return err
	}
	n.outcome = "admitted"
	return nil
}

// waitUntil polls cond until it holds, ctx ends or wait passes; then the
// error is the last reason cond gave.
func waitUntil(ctx context.Context, wait time.Duration, what string, cond func(context.Context) (bool, error)) error {
	deadline := time.Now().Add(wait)
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := cond(cctx)
		cancel()
		if ok {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %s: %v", wait, what, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
